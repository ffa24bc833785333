//! The console and the widget, embedded in the binary; `/demo`, `/healthz`, `/metrics`
//! and the OpenAPI description.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use super::error::{ApiError, ApiResult, AppPath};
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

pub async fn console_index(headers: HeaderMap) -> Response {
    file("console/index.html", &headers)
}

pub async fn console_file(AppPath(path): AppPath<String>, headers: HeaderMap) -> Response {
    file(&format!("console/{path}"), &headers)
}

pub async fn widget_js(headers: HeaderMap) -> Response {
    file("widget/widget.js", &headers)
}

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

pub async fn healthz(State(app): State<App>) -> ApiResult<axum::Json<serde_json::Value>> {
    app.store.ping().await?;
    Ok(axum::Json(serde_json::json!({"status": "ok"})))
}

pub async fn metrics() -> Response {
    let body = crate::metrics::render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}
