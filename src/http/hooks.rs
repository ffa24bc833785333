//! `/hooks/{channel_id}`: platform webhooks, handed to the channel's connector, which
//! answers only after the update is committed. `GET` carries a platform's verification
//! handshake (WhatsApp's `hub.challenge`), `POST` its updates.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_sdk::WebhookRequest;

use super::error::{ApiError, ApiResult, AppBytes, AppPath, AppQuery, ErrorBody};
use crate::app::App;

// The body and the answer are the platform's own (Telegram's update, a webhook
// channel's signed JSON): the connector checks the signature or secret header.
#[utoipa::path(post, path = "/hooks/{channel_id}", tag = "webhooks",
    params(("channel_id" = i64, Path, description = "The channel the platform posts to")),
    request_body(content = serde_json::Value, description = "The platform's update, as it sends it"),
    responses(
        (status = 200, description = "Committed; the body is what the connector answers the platform"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Bad signature or secret (as the connector answers)"),
        (status = 404, description = "No such channel, or its kind takes no webhooks", body = ErrorBody),
    ))]
pub async fn receive(
    State(app): State<App>,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<HashMap<String, String>>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> ApiResult<Response> {
    hand_over(app, id, Method::POST, query, headers, body).await
}

// WhatsApp's subscription check: `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
#[utoipa::path(get, path = "/hooks/{channel_id}", tag = "webhooks",
    params(("channel_id" = i64, Path, description = "The channel the platform verifies")),
    responses(
        (status = 200, description = "The challenge, echoed (as the connector answers)"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 403, description = "Wrong verify token (as the connector answers)"),
        (status = 404, description = "No such channel, or its kind takes no webhooks", body = ErrorBody),
    ))]
pub async fn verify(
    State(app): State<App>,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    hand_over(app, id, Method::GET, query, headers, Bytes::new()).await
}

async fn hand_over(
    app: App,
    id: i64,
    method: Method,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let stored = app
        .channel_cache
        .get(&app.store, id)
        .await
        .map_err(|_| ApiError::not_found(format!("channel {id} does not exist")))?;
    let connector = app
        .connectors
        .get(&stored.channel.kind)
        .ok_or_else(|| ApiError::not_found("this channel's kind takes no webhooks"))?;
    let headers: HashMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let request = WebhookRequest { headers, body: body.to_vec(), method: method.as_str().to_owned(), query };
    let answer = connector.handle_webhook(&stored.channel, request, crate::hub::handle(&app)).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok(platform_answer(status, answer.body))
}

/// What the connector answered, in the API's shape: a JSON body goes as JSON, an error
/// whose body is not already `{"error": …}` gets that shape, and plain text stays text
/// for the platforms that expect it ("ok").
fn platform_answer(status: StatusCode, body: String) -> Response {
    let failed = status.is_client_error() || status.is_server_error();
    // A success is sent as JSON when it looks like JSON; only an error body is parsed,
    // to see whether it already has the API's shape (this is on every webhook's path).
    let looks_json = body.trim_start().starts_with(['{', '[']);
    if !failed {
        return match looks_json {
            true => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
            false => (status, body).into_response(),
        };
    }
    let shaped =
        looks_json && serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| v["error"]["code"].is_string());
    if shaped {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        ApiError::from_status(status, body).into_response()
    }
}
