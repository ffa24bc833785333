//! `GET /api/v1/channels/{id}/files/{file_id}`: an inbound attachment fetched from its
//! platform (Telegram's `getFile`) and streamed to an authenticated operator.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use parley_sdk::FileError;

use super::auth::Auth;
use super::error::{ApiError, ApiResult, AppPath, ErrorBody};
use crate::app::App;

#[utoipa::path(get, path = "/api/v1/channels/{id}/files/{file_id}", tag = "channels",
    params(("id" = i64, Path, description = "Channel id"), ("file_id" = String, Path, description = "The platform's file id, from a message's attachments")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The file, streamed with its type (sandboxed, never sniffed)",
            content(("application/octet-stream"))),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such channel or file, or its kind serves no files", body = ErrorBody),
        (status = 502, description = "The platform cannot serve the file now", body = ErrorBody),
    ))]
pub async fn fetch(
    State(app): State<App>,
    _auth: Auth,
    AppPath((id, file_id)): AppPath<(i64, String)>,
) -> ApiResult<Response> {
    let stored = app.store.read(move |db| crate::channels::get(db, id)).await?;
    let connector = app
        .connectors
        .get(&stored.channel.kind)
        .ok_or_else(|| ApiError::not_found("this channel's kind serves no files"))?;
    let file = connector.fetch_file(&stored.channel, &file_id).await.map_err(|e| match e {
        FileError::NotFound(m) => ApiError::not_found(format!("no such file: {m}")),
        FileError::Unsupported => ApiError::not_found("this channel's kind serves no files"),
        FileError::Unavailable(m) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "platform_unavailable",
            format!("the platform cannot serve the file now: {m}"),
        ),
    })?;
    let body =
        Body::from_stream(file.body.map(|chunk| chunk.map(axum::body::Bytes::from).map_err(std::io::Error::other)));
    let mut res = body.into_response();
    let headers = res.headers_mut();
    let mime = file.mime.as_deref().unwrap_or("application/octet-stream");
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Never let a browser run what a contact sent.
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    if let Some(name) = file.name.as_deref().filter(|n| n.chars().all(|c| c.is_ascii_graphic() && c != '"'))
        && let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
