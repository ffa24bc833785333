//! What every Parley connector implements, and all it may know of the hub.
//!
//! A connector turns one platform's events into [`Inbound`] messages handed to the
//! [`Hub`], and turns [`Outbound`] messages into platform calls. It never sees the
//! database, the HTTP router or the app state: adding a platform means adding one
//! crate that depends on this one only.

mod background;
mod content;
mod error;
pub mod text;
mod validation;

use std::collections::HashMap;
use std::sync::Arc;

pub use background::{FileDownload, FileError, LockGuard};
pub use content::{Attachment, Button, Content, TEMPLATE_KIND, Template, TextEntity};
pub use error::{HubError, SendError};
pub use validation::{Refusal, plain as validation_plain, refusal};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
pub use tokio_util::sync::CancellationToken;

/// One configured connection to a platform, as a connector sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Channel {
    pub id: i64,
    pub kind: String,
    pub name: String,
    /// Kind-specific settings (tokens, URLs, widget colours). Secrets included:
    /// the app redacts them before showing a channel to anyone.
    pub settings: serde_json::Value,
}

impl Channel {
    /// A string setting, if present and non-empty.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty())
    }
}

/// What a contact is known as on the platform. Empty fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// What happened on the platform.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundKind {
    /// A new message from the contact.
    Message,
    /// The contact edited the message with this platform id.
    Edit,
    /// The contact pressed an inline button carrying `data`.
    ButtonPress { data: String },
    /// The contact reacted with `emoji` to the message with platform id `to` (theirs or
    /// ours); an empty `emoji` takes their reaction back.
    Reaction { to: String, emoji: String },
    /// The platform reports what became of an outbound message (platform id `to`): the
    /// console's ticks. A status for a message the hub does not know is acknowledged
    /// and ignored.
    Status { to: String, state: DeliveryState, reason: Option<String> },
    /// The contact deleted the message with this platform id: it is kept, marked deleted.
    Delete,
    /// The contact blocked the bot (`true`: nothing can reach them on this channel, so
    /// broadcasts skip them) or unblocked it (`false`). No message is stored.
    Blocked { blocked: bool },
}

/// Where an outbound message is on its way to the contact, as the platform reports it.
/// A later state never goes back to an earlier one (a late `delivered` after `read`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
    /// Refused after it was accepted; the reason says why.
    Failed,
}

/// One normalized event from a contact, ready for ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inbound {
    pub channel_id: i64,
    /// The contact's id on the platform (e.g. a Telegram user id).
    pub external_id: String,
    /// The platform's id for this message; a second delivery with the same id is a no-op.
    pub platform_message_id: String,
    pub kind: InboundKind,
    pub profile: Profile,
    pub content: Content,
    /// The platform id of the message this one replies to.
    pub reply_to: Option<String>,
    /// A deep-link payload (`/start PAYLOAD`), kept on the contact for flows.
    pub start_payload: Option<String>,
}

/// What the hub answers once an inbound event is committed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Receipt {
    pub chat_id: i64,
    pub message_id: i64,
    /// False when this platform message had been ingested before.
    pub created: bool,
}

/// One outbound message for a connector to deliver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outbound {
    pub message_id: i64,
    pub chat_id: i64,
    /// The contact's id on the platform.
    pub external_id: String,
    pub content: Content,
    /// `operator`, `bot`, `broadcast` or `system`.
    pub author_kind: String,
    /// The operator's name, for platforms that show who answered.
    pub author_name: Option<String>,
    /// When the message was written (RFC 3339).
    pub created_at: String,
    /// Parts of this message the platform already took in an earlier attempt (see
    /// [`SendError::Partial`]); 0 on the first attempt.
    pub parts_sent: u32,
}

impl Outbound {
    /// Bots' and broadcasts' traffic. A connector that queues sends of its own (a pacer
    /// under a platform's rate limit) lets everything else go first, as the hub's outbox
    /// does: an operator's reply never waits behind a broadcast.
    pub fn is_bulk(&self) -> bool {
        matches!(self.author_kind.as_str(), "bot" | "broadcast")
    }
}

/// What the platform answered to a successful send.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sent {
    pub platform_message_id: Option<String>,
}

/// A platform's HTTP request to `/hooks/{channel_id}`, stripped of the web framework.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// `POST` for updates; `GET` for a verification handshake (WhatsApp's `hub.challenge`).
    pub method: String,
    /// The query string's parameters, decoded.
    pub query: HashMap<String, String>,
}

/// The answer to a webhook request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    pub body: String,
}

impl WebhookResponse {
    pub fn ok() -> Self {
        Self::status(200, "ok")
    }
    pub fn ok_json(body: serde_json::Value) -> Self {
        Self::status(200, body.to_string())
    }
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self { status, body: body.into() }
    }
}

/// The hub as a connector sees it: the one door into ingest.
#[async_trait]
pub trait Hub: Send + Sync {
    /// Ingests one inbound event. Returns only after it is committed, so a connector
    /// acknowledges the platform only when nothing can be lost.
    async fn ingest(&self, inbound: Inbound) -> Result<Receipt, HubError>;

    /// The address at which the platform reaches `POST /hooks/{channel_id}`.
    fn webhook_url(&self, channel_id: i64) -> String;

    /// Where an operator opens a file the platform holds (an inbound attachment's
    /// `file_id`), through [`Connector::fetch_file`]; relative to the console.
    fn file_url(&self, _channel_id: i64, _file_id: &str) -> Option<String> {
        None
    }

    /// Takes the lock called `name` if no node holds it; `Ok(None)` when another node
    /// does. Work that must run on one node at a time (long polling) holds the guard.
    async fn try_lock(&self, _name: &str) -> Result<Option<LockGuard>, HubError> {
        Ok(Some(Box::new(())))
    }

    /// A small value the connector keeps for channel `channel_id` across restarts (e.g.
    /// how far it has read a platform's history), as it last saved it.
    async fn load_state(&self, _channel_id: i64) -> Result<Option<serde_json::Value>, HubError> {
        Ok(None)
    }

    /// Replaces what [`Hub::load_state`] returns for the channel.
    async fn save_state(&self, _channel_id: i64, _state: serde_json::Value) -> Result<(), HubError> {
        Ok(())
    }
}

/// The code for one platform kind.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The channel kind this connector serves, e.g. `"telegram"`.
    fn kind(&self) -> &'static str;

    /// Checks and completes a channel's settings before the channel is saved
    /// (e.g. calls the platform to verify a token). Returns the settings to store.
    async fn prepare_settings(&self, settings: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(settings)
    }

    /// Names of settings that are secrets and must never be shown back in full.
    fn secret_settings(&self) -> &'static [&'static str] {
        &[]
    }

    /// How long after the contact's last inbound message the platform still takes
    /// free-form messages (WhatsApp's 24-hour customer-service window); `None`: always.
    /// Outside it the outbox fails a message at once, without calling [`Connector::send`],
    /// unless it is a [`Template`].
    fn reply_window(&self) -> Option<std::time::Duration> {
        None
    }

    /// The message templates the platform has approved for this channel, as it
    /// describes them (`name`, `language`, `status`, `components`...), to send outside
    /// the reply window. Fails as fetching a file does: the kind has none, or the
    /// platform cannot answer now.
    async fn templates(&self, _channel: &Channel) -> Result<Vec<serde_json::Value>, FileError> {
        Err(FileError::Unsupported)
    }

    /// Delivers one outbound message.
    async fn send(&self, channel: &Channel, outbound: &Outbound) -> Result<Sent, SendError>;

    /// Handles a platform webhook. Must call [`Hub::ingest`] and answer success only
    /// after it returned, so an update is never acknowledged and lost.
    async fn handle_webhook(
        &self,
        _channel: &Channel,
        _request: WebhookRequest,
        _hub: Arc<dyn Hub>,
    ) -> WebhookResponse {
        WebhookResponse::status(404, "this channel kind takes no webhooks")
    }

    /// Background work for one channel (e.g. long polling, registering a webhook), from
    /// launch or the channel's creation until `stop` is cancelled. Most kinds have none.
    async fn run(&self, _channel: Channel, _hub: Arc<dyn Hub>, _stop: CancellationToken) {}

    /// Fetches a file the platform holds (an inbound attachment's `file_id`), for the
    /// console's authenticated proxy.
    async fn fetch_file(&self, _channel: &Channel, _file_id: &str) -> Result<FileDownload, FileError> {
        Err(FileError::Unsupported)
    }
}
