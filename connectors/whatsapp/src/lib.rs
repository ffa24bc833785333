//! The WhatsApp channel, on the Cloud API (Graph API over reqwest). A channel is one
//! business phone number: its access token is checked with the number's Graph call
//! when the channel is saved; Meta verifies the webhook with `GET /hooks/{id}`
//! (`hub.verify_token`, echo `hub.challenge`) and POSTs updates signed with
//! `X-Hub-Signature-256`; replies go to `/{phone_number_id}/messages`. Free-form
//! messages are allowed only within 24 hours of the contact's last message
//! ([`Connector::reply_window`]); outside it, templates.

mod errors;
mod graph;
pub mod normalize;
mod payload;
mod send;
mod settings;
mod signature;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use parley_sdk::{
    Channel, Connector, FileDownload, FileError, Hub, Outbound, SendError, Sent, WebhookRequest, WebhookResponse,
};
use serde_json::{Value, json};

pub use send::{plan, split_text};
pub use settings::{DEFAULT_API_URL, Settings};
pub use signature::{HEADER as SIGNATURE_HEADER, sign};

use graph::{CallError, Graph};

/// The customer-service window: free-form messages only this long after the contact wrote.
pub const REPLY_WINDOW: Duration = Duration::from_secs(24 * 3600);

#[derive(Default)]
pub struct WhatsAppConnector {
    graph: Graph,
}

impl WhatsAppConnector {
    pub fn new() -> Self {
        Self::default()
    }
}

fn settings_of(channel: &Channel) -> Result<Settings, SendError> {
    Settings::read(&channel.settings)
        .map_err(|reason| SendError::Permanent { reason: format!("channel settings: {reason}"), unreachable: false })
}

fn send_error(e: CallError) -> SendError {
    match e {
        CallError::Refused { status, body, retry_after } => errors::classify(status, &body, retry_after),
        CallError::Unreachable(why) => SendError::Transient(format!("cannot reach the Graph API: {why}")),
    }
}

#[async_trait]
impl Connector for WhatsAppConnector {
    fn kind(&self) -> &'static str {
        "whatsapp"
    }

    fn secret_settings(&self) -> &'static [&'static str] {
        &["access_token", "app_secret", "verify_token"]
    }

    fn reply_window(&self) -> Option<Duration> {
        Some(REPLY_WINDOW)
    }

    /// Checks the token with the phone number's Graph call and keeps what it says.
    async fn prepare_settings(&self, settings: Value) -> Result<Value, String> {
        let (parsed, mut map) = settings::complete(settings)?;
        let fields = [("fields", "display_phone_number,verified_name")];
        let number = self.graph.get(&parsed, &parsed.phone_number_id, &fields).await.map_err(|e| match e {
            CallError::Refused { .. } => format!("WhatsApp refused the phone number id or access token: {e}"),
            CallError::Unreachable(why) => format!("cannot reach the Graph API at {}: {why}", parsed.api_url),
        })?;
        map.insert("display_phone_number".into(), number["display_phone_number"].clone());
        map.insert("verified_name".into(), number["verified_name"].clone());
        Ok(Value::Object(map))
    }

    async fn send(&self, channel: &Channel, out: &Outbound) -> Result<Sent, SendError> {
        let s = settings_of(channel)?;
        let messages = plan(out)?;
        // Each message is one part: parts taken in an earlier attempt are skipped, and a
        // failure after some reports how many went, so the contact never sees one twice.
        let mut first = None;
        for (part, message) in messages.iter().enumerate().skip(out.parts_sent as usize) {
            match self.graph.send(&s, message).await {
                Ok(wamid) => {
                    first.get_or_insert(wamid);
                }
                Err(e) if part == 0 => return Err(send_error(e)),
                Err(e) => return Err(SendError::Partial { parts_sent: part as u32, error: Box::new(send_error(e)) }),
            }
        }
        // The first part's id: statuses and reactions find the message by it.
        Ok(Sent { platform_message_id: first })
    }

    async fn handle_webhook(&self, channel: &Channel, request: WebhookRequest, hub: Arc<dyn Hub>) -> WebhookResponse {
        let Ok(s) = Settings::read(&channel.settings) else {
            return WebhookResponse::status(
                500,
                webhook::error_body("misconfigured", "the channel's settings are broken"),
            );
        };
        match request.method.as_str() {
            "GET" => webhook::verify(&s, &request),
            _ => webhook::receive(&s, channel.id, &request, &hub).await,
        }
    }

    /// Media id → its short-lived URL → the bytes, both with the token.
    async fn fetch_file(&self, channel: &Channel, file_id: &str) -> Result<FileDownload, FileError> {
        let s = Settings::read(&channel.settings).map_err(FileError::Unavailable)?;
        if file_id.is_empty() || !file_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FileError::NotFound(format!("{file_id:?} is not a WhatsApp media id")));
        }
        let media = self.graph.get(&s, file_id, &[]).await.map_err(|e| match e {
            CallError::Refused { status: 400 | 404, .. } => FileError::NotFound(e.to_string()),
            other => FileError::Unavailable(other.to_string()),
        })?;
        let url = media["url"].as_str().ok_or_else(|| FileError::Unavailable("the media has no URL".into()))?;
        let res = self.graph.download(&s, url).await.map_err(|e| FileError::Unavailable(e.to_string()))?;
        let body = res.bytes_stream().map(|chunk| chunk.map(|b| b.to_vec()).map_err(|e| e.to_string()));
        Ok(FileDownload {
            name: None,
            mime: media["mime_type"].as_str().map(str::to_owned),
            size: media["file_size"].as_u64().or_else(|| media["file_size"].as_str()?.parse().ok()),
            body: Box::pin(body),
        })
    }

    /// The business account's approved templates, every page of them.
    async fn templates(&self, channel: &Channel) -> Result<Vec<Value>, FileError> {
        let s = Settings::read(&channel.settings).map_err(FileError::Unavailable)?;
        let path = format!("{}/message_templates", s.business_account_id);
        let query = [("fields", "name,language,status,category,components"), ("limit", "100")];
        let unavailable = |e: CallError| FileError::Unavailable(e.to_string());
        let mut page = self.graph.get(&s, &path, &query).await.map_err(unavailable)?;
        let mut all = Vec::new();
        // A bound on pages, so a paging loop on Meta's side cannot hold a request forever.
        for _ in 0..20 {
            let data = page["data"].as_array().cloned().unwrap_or_default();
            all.extend(data.into_iter().filter(|t| t["status"] == json!("APPROVED")));
            match page["paging"]["next"].as_str() {
                Some(next) => page = self.graph.get_url(&s, next).await.map_err(unavailable)?,
                None => break,
            }
        }
        Ok(all)
    }
}
