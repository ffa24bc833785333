//! The generic webhook channel: any system can write to Parley by POSTing signed JSON
//! to `/hooks/{channel_id}`, and receives replies as signed JSON POSTed to its URL.
//!
//! Both directions carry `X-Parley-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use parley_sdk::{
    Attachment, Channel, Connector, Content, Hub, HubError, Inbound, InboundKind, Outbound, Profile, SendError, Sent,
    TextEntity, WebhookRequest, WebhookResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-parley-signature";

/// `sha256=<hex>` for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

fn verify(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(given) = hex::decode(hex_sig) else { return false };
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(body);
    m.verify_slice(&given).is_ok()
}

/// What a sender POSTs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Incoming {
    user_id: String,
    message_id: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    /// Formatting and links inside `text`, as Telegram's entities (UTF-16 offsets).
    #[serde(default)]
    entities: Vec<TextEntity>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// Set when the sender edits a message it sent before (same `message_id`).
    #[serde(default)]
    edited: bool,
}

pub struct WebhookConnector {
    http: reqwest::Client,
}

impl WebhookConnector {
    pub fn new() -> Self {
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("a default HTTP client builds");
        Self { http }
    }
}

impl Default for WebhookConnector {
    fn default() -> Self {
        Self::new()
    }
}

fn secret(channel: &Channel) -> &str {
    channel.setting("secret").unwrap_or_default()
}

#[async_trait]
impl Connector for WebhookConnector {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn secret_settings(&self) -> &'static [&'static str] {
        &["secret"]
    }

    async fn prepare_settings(&self, settings: Value) -> Result<Value, String> {
        let mut s = settings;
        let map = s.as_object_mut().ok_or("settings must be an object")?;
        for key in map.keys() {
            if key != "secret" && key != "url" {
                return Err(format!("unknown webhook setting {key:?}; use secret and url"));
            }
        }
        match map.get("secret").and_then(Value::as_str) {
            Some(s) if s.len() >= 16 => {}
            Some(_) => return Err("secret must have at least 16 characters".into()),
            None => return Err("a webhook channel needs a secret (at least 16 characters)".into()),
        }
        if let Some(url) = map.get("url") {
            let url = url.as_str().ok_or("url must be a string")?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err("url must start with http:// or https://".into());
            }
        }
        Ok(s)
    }

    async fn send(&self, channel: &Channel, out: &Outbound) -> Result<Sent, SendError> {
        let Some(url) = channel.setting("url") else {
            return Err(SendError::Permanent {
                reason: "this webhook channel has no url to send to".into(),
                unreachable: false,
            });
        };
        let body = json!({
            "message_id": out.message_id,
            "chat_id": out.chat_id,
            "user_id": out.external_id,
            "text": out.content.text,
            "attachments": out.content.attachments,
            "buttons": out.content.buttons,
            "author_kind": out.author_kind,
            "author_name": out.author_name,
            "created_at": out.created_at,
        })
        .to_string();
        let res = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sign(secret(channel), body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("cannot reach {url}: {e}")))?;
        let status = res.status();
        if status.is_success() {
            let answer: Value = res.json().await.unwrap_or(Value::Null);
            let id = answer.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            return Ok(Sent { platform_message_id: id });
        }
        let retry_after =
            res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let text = res.text().await.unwrap_or_default();
        let reason = format!("{url} answered {status}: {}", text.chars().take(200).collect::<String>());
        match status.as_u16() {
            429 => Err(SendError::RateLimited(Duration::from_secs(retry_after.unwrap_or(1)))),
            500..=599 | 408 => Err(SendError::Transient(reason)),
            410 => Err(SendError::Permanent { reason, unreachable: true }),
            _ => Err(SendError::Permanent { reason, unreachable: false }),
        }
    }

    async fn handle_webhook(&self, channel: &Channel, request: WebhookRequest, hub: Arc<dyn Hub>) -> WebhookResponse {
        let signature = request.headers.get(SIGNATURE_HEADER).map(String::as_str);
        if !verify(secret(channel), &request.body, signature) {
            return WebhookResponse::status(
                401,
                r#"{"error":{"code":"bad_signature","message":"X-Parley-Signature does not match the body"}}"#,
            );
        }
        let incoming: Incoming = match serde_json::from_slice(&request.body) {
            Ok(i) => i,
            Err(e) => {
                // 400 for what is not JSON, 422 for a missing or mistyped field, as the API.
                let r = parley_sdk::refusal(&e, None);
                let body = json!({"error": {"code": r.code, "message": r.message}});
                return WebhookResponse::status(r.status, body.to_string());
            }
        };
        let inbound = Inbound {
            channel_id: channel.id,
            external_id: incoming.user_id,
            platform_message_id: incoming.message_id,
            kind: if incoming.edited { InboundKind::Edit } else { InboundKind::Message },
            profile: Profile {
                first_name: incoming.first_name,
                last_name: incoming.last_name,
                username: incoming.username,
                phone: incoming.phone,
                email: incoming.email,
            },
            content: Content {
                text: incoming.text,
                attachments: incoming.attachments,
                entities: incoming.entities,
                ..Content::default()
            },
            reply_to: None,
            start_payload: None,
        };
        match hub.ingest(inbound).await {
            Ok(r) => WebhookResponse::ok_json(
                json!({"chat_id": r.chat_id, "message_id": r.message_id, "created": r.created}),
            ),
            Err(HubError::Rejected(m)) => {
                WebhookResponse::status(422, json!({"error": {"code": "invalid", "message": m}}).to_string())
            }
            Err(HubError::Unavailable(m)) => {
                WebhookResponse::status(503, json!({"error": {"code": "unavailable", "message": m}}).to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_verify_only_the_signed_body() {
        let sig = super::sign("0123456789abcdef", b"{\"a\":1}");
        assert!(super::verify("0123456789abcdef", b"{\"a\":1}", Some(&sig)));
        assert!(!super::verify("0123456789abcdef", b"{\"a\":2}", Some(&sig)));
        assert!(!super::verify("another-secret-16", b"{\"a\":1}", Some(&sig)));
        assert!(!super::verify("0123456789abcdef", b"{\"a\":1}", None));
    }
}
