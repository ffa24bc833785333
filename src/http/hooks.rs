//! `/hooks/{channel_id}`: platform webhooks, handed to the channel's connector, which
//! answers only after the update is committed. `GET` carries a platform's verification
//! handshake (WhatsApp's `hub.challenge`), `POST` its updates.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_sdk::WebhookRequest;

use super::error::{ApiError, ApiResult, AppPath, ErrorBody};
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
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
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
    Query(query): Query<HashMap<String, String>>,
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
    Ok((status, answer.body).into_response())
}
