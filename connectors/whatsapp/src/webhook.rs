//! Meta's two webhook requests: the subscription check (`GET`) and signed updates
//! (`POST`), answered 200 only after everything in the body is committed.

use std::sync::Arc;

use parley_sdk::{Hub, HubError, WebhookRequest, WebhookResponse};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::normalize::{self, Normalized};
use crate::settings::Settings;
use crate::signature;

pub fn error_body(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

/// `hub.mode=subscribe` with the channel's verify token: echo `hub.challenge`.
pub fn verify(s: &Settings, request: &WebhookRequest) -> WebhookResponse {
    let q = |k: &str| request.query.get(k).map(String::as_str).unwrap_or_default();
    let token_ok = bool::from(q("hub.verify_token").as_bytes().ct_eq(s.verify_token.as_bytes()));
    if q("hub.mode") != "subscribe" || !token_ok {
        return WebhookResponse::status(403, error_body("bad_verify_token", "hub.verify_token is wrong"));
    }
    WebhookResponse::status(200, q("hub.challenge"))
}

pub async fn receive(s: &Settings, channel_id: i64, request: &WebhookRequest, hub: &Arc<dyn Hub>) -> WebhookResponse {
    let header = request.headers.get(signature::HEADER).map(String::as_str);
    if !signature::verify(&s.app_secret, &request.body, header) {
        return WebhookResponse::status(401, error_body("bad_signature", "X-Hub-Signature-256 is missing or wrong"));
    }
    let items = match normalize::body(channel_id, &s.phone_number_id, &request.body) {
        Ok(items) => items,
        Err(why) => return WebhookResponse::status(400, error_body("bad_request", &why)),
    };
    // In order, one by one: a contact's messages keep their order, and if one cannot be
    // stored now Meta delivers the whole body again (what was stored is then a no-op).
    for item in items {
        let mut inbound = match item {
            Normalized::Inbound(i) => *i,
            Normalized::Ignored(why) => {
                tracing::info!(channel.id = channel_id, %why, "WhatsApp webhook item acknowledged and dropped");
                continue;
            }
        };
        for a in &mut inbound.content.attachments {
            if let (None, Some(id)) = (&a.url, &a.file_id) {
                a.url = hub.file_url(channel_id, id);
            }
        }
        match hub.ingest(inbound).await {
            Ok(_) => {}
            Err(HubError::Rejected(why)) => {
                tracing::info!(channel.id = channel_id, %why, "WhatsApp webhook item refused by ingest");
            }
            Err(HubError::Unavailable(why)) => {
                return WebhookResponse::status(500, error_body("unavailable", &why));
            }
        }
    }
    WebhookResponse::ok()
}
