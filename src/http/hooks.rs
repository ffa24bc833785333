//! `POST /hooks/{channel_id}`: platform webhooks, handed to the channel's connector,
//! which answers only after the update is committed.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_sdk::WebhookRequest;

use super::error::{ApiError, ApiResult, AppPath};
use crate::app::App;

pub async fn receive(
    State(app): State<App>,
    AppPath(id): AppPath<i64>,
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
    let request = WebhookRequest { headers, body: body.to_vec() };
    let answer = connector.handle_webhook(&stored.channel, request, crate::hub::handle(&app)).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok((status, answer.body).into_response())
}
