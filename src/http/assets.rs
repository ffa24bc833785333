//! The console and the widget, embedded in the binary; `/demo`, `/healthz`, `/metrics`
//! and the OpenAPI description.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use serde::Serialize;

use super::error::{ApiError, ApiResult, AppPath, ErrorBody};
use crate::app::App;

#[derive(Embed)]
#[folder = "web/"]
struct Web;

/// How a file may be kept by the browser.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caching {
    /// Asked again each time; answered 304 while its ETag holds.
    Revalidate,
    /// Under a versioned URL ([`console_version`]): kept for a year, never asked again.
    Immutable,
}

/// The console's page may run only its own scripts and styles, talk only to this
/// origin, and be framed by no one; the widget (another path) stays embeddable.
const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob: https:; media-src 'self' blob: https:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A version of the console's files, from their contents: the console's page loads its
/// modules and styles from `/console/v/<version>/…`, so a reload reuses every one of
/// them from the browser's cache until a new build changes any file.
pub fn console_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let mut paths: Vec<_> = Web::iter().filter(|p| p.starts_with("console/")).collect();
        paths.sort();
        let mut all = <sha2::Sha256 as sha2::Digest>::new();
        for p in paths {
            if let Some(f) = Web::get(&p) {
                sha2::Digest::update(&mut all, p.as_bytes());
                sha2::Digest::update(&mut all, f.metadata.sha256_hash());
            }
        }
        hex::encode(&sha2::Digest::finalize(all)[..6])
    })
}

/// The console's page, pointing at the versioned URLs of its files.
fn console_page() -> &'static [u8] {
    static PAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| {
        let raw = Web::get("console/index.html").map(|f| f.data.into_owned()).unwrap_or_default();
        let prefix = format!("/console/v/{}/", console_version());
        String::from_utf8_lossy(&raw).replace("\"/console/", &format!("\"{prefix}")).into_bytes()
    })
}

/// Answers `body` of type `mime` with its ETag and caching, or 304 when the browser has it.
fn respond(body: Vec<u8>, mime: &str, etag: &str, caching: Caching, headers: &HeaderMap) -> Response {
    let etag = format!("\"{etag}\"");
    let mut res = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = (StatusCode::OK, body).into_response();
        if let Ok(v) = HeaderValue::from_str(mime) {
            res.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        res
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match caching {
            Caching::Revalidate => "no-cache",
            Caching::Immutable => "public, max-age=31536000, immutable",
        }),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Serves `web/<path>` with its type and an ETag.
fn file(path: &str, caching: Caching, headers: &HeaderMap) -> Response {
    let Some(f) = Web::get(path) else {
        return ApiError::not_found(format!("no file {path}")).into_response();
    };
    let etag = hex::encode(&f.metadata.sha256_hash()[..12]);
    respond(f.data.into_owned(), f.metadata.mimetype(), &etag, caching, headers)
}

/// The console's page, with the headers that keep it from being framed or injected into.
fn console_html(headers: &HeaderMap) -> Response {
    let etag = format!("index-{}", console_version());
    let mut res = respond(console_page().to_vec(), "text/html; charset=utf-8", &etag, Caching::Revalidate, headers);
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONSOLE_CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

#[utoipa::path(get, path = "/", tag = "console",
    responses((status = 200, description = "The console's page", content_type = "text/html"),
        (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn console_index(headers: HeaderMap) -> Response {
    console_html(&headers)
}

// The console is one page; `/login` and `/setup` are its routes, served the same page
// so a reload or a set-up link lands there (one handler per path, so each is documented).
#[utoipa::path(get, path = "/login", tag = "console",
    responses((status = 200, description = "The console's page, on its login screen", content_type = "text/html"),
        (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn console_login(headers: HeaderMap) -> Response {
    console_index(headers).await
}

#[utoipa::path(get, path = "/setup", tag = "console",
    responses((status = 200, description = "The console's page, on its set-up screen", content_type = "text/html"),
        (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn console_setup(headers: HeaderMap) -> Response {
    console_index(headers).await
}

#[utoipa::path(get, path = "/console/{path}", tag = "console",
    params(("path" = String, Path, description = "A file of the console (scripts, styles, images); under `v/<version>/` (as the console's page links them) it is cached for good")),
    responses((status = 200, description = "The file, with its type and an ETag; `Cache-Control: immutable` under this build's `v/<version>/`"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn console_file(AppPath(path): AppPath<String>, headers: HeaderMap) -> Response {
    // `v/<version>/app.js` is `app.js`, kept for good when the version is this build's
    // (an older page's version gets today's file, asked again next time).
    if let Some((version, rest)) = path.strip_prefix("v/").and_then(|p| p.split_once('/')) {
        let caching = if version == console_version() { Caching::Immutable } else { Caching::Revalidate };
        return file(&format!("console/{rest}"), caching, &headers);
    }
    file(&format!("console/{path}"), Caching::Revalidate, &headers)
}

#[utoipa::path(get, path = "/widget.js", tag = "widget",
    responses((status = 200, description = "The widget's script, to embed in a site", content_type = "text/javascript"),
        (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn widget_js(headers: HeaderMap) -> Response {
    file("widget/widget.js", Caching::Revalidate, &headers)
}

#[utoipa::path(get, path = "/demo", tag = "widget",
    responses((status = 200, description = "A sample page embedding the first widget channel", content_type = "text/html"),
        (status = 404, description = "There is no widget channel", body = ErrorBody)))]
/// A sample page that embeds the widget of the first widget channel.
pub async fn demo(State(app): State<App>) -> ApiResult<Response> {
    let channel = app.store.read(|db| crate::channels::first_of_kind(db, "widget")).await?;
    let Some(channel) = channel else {
        return Err(ApiError::not_found("there is no widget channel; create one in the console first"));
    };
    let page = Web::get("widget/demo.html").ok_or_else(|| ApiError::not_found("demo page missing"))?;
    let html = String::from_utf8_lossy(&page.data).replace("{{CHANNEL_KEY}}", &channel.key);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// `{"status": "ok"}` while the database answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The database answers", body = Health),
        (status = 500, description = "The database does not answer", body = ErrorBody)))]
pub async fn healthz(State(app): State<App>) -> ApiResult<axum::Json<Health>> {
    app.store.ping().await?;
    Ok(axum::Json(Health { status: "ok" }))
}

/// `{"status": "ready"}` when this node may take traffic.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    pub status: &'static str,
}

/// For load balancers: the database answers and has every migration this build needs
/// (a node started beside an older schema waits for the one that migrates it), and the
/// node is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready for traffic", body = Ready),
        (status = 503, description = "The database does not answer, lacks migrations, or the node is stopping", body = ErrorBody)))]
pub async fn readyz(State(app): State<App>) -> ApiResult<axum::Json<Ready>> {
    let unavailable = |why: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", why);
    if app.shutdown.is_cancelled() {
        return Err(unavailable("the node is shutting down".into()));
    }
    let missing = app.store.missing_migrations().await.map_err(|e| unavailable(e.to_string()))?;
    if !missing.is_empty() {
        return Err(unavailable(format!("the database lacks migrations {missing:?}; run parley migrate")));
    }
    Ok(axum::Json(Ready { status: "ready" }))
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(app): State<App>) -> Response {
    // What only the database knows is read now; a database that does not answer
    // leaves those figures as they were, and the rest is still served.
    if let Err(e) = crate::metrics::observe_store(&app.store, app.now()).await {
        tracing::warn!(error = %e, "cannot read the outbox and consumer figures for /metrics");
    }
    let body = crate::metrics::render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "This document, generated from the code (OpenAPI 3.1)",
        content_type = "application/json", body = Object)))]
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::openapi::json()).into_response()
}
