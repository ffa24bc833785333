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

/// Serves `web/<path>` with its type and an ETag, so browsers revalidate cheaply.
fn file(path: &str, headers: &HeaderMap) -> Response {
    let Some(f) = Web::get(path) else {
        return ApiError::not_found(format!("no file {path}")).into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&f.metadata.sha256_hash()[..12]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = f.metadata.mimetype().to_owned();
    let mut res = (StatusCode::OK, f.data.into_owned()).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

#[utoipa::path(get, path = "/", tag = "console",
    responses((status = 200, description = "The console's page", content_type = "text/html"),
        (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn console_index(headers: HeaderMap) -> Response {
    file("console/index.html", &headers)
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
    params(("path" = String, Path, description = "A file of the console (scripts, styles, images)")),
    responses((status = 200, description = "The file, with its type and an ETag"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such file", body = ErrorBody)))]
pub async fn console_file(AppPath(path): AppPath<String>, headers: HeaderMap) -> Response {
    file(&format!("console/{path}"), &headers)
}

#[utoipa::path(get, path = "/widget.js", tag = "widget",
    responses((status = 200, description = "The widget's script, to embed in a site", content_type = "text/javascript"),
        (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn widget_js(headers: HeaderMap) -> Response {
    file("widget/widget.js", &headers)
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
pub async fn metrics() -> Response {
    let body = crate::metrics::render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "This document, generated from the code (OpenAPI 3.1)",
        content_type = "application/json", body = Object)))]
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::openapi::json()).into_response()
}
