//! The Cloud API's webhook body, as typed as it needs to be: the envelope, and each
//! message and status kept as JSON until it is read on its own, so that one message of
//! a shape we do not know costs only itself (it is stored as unreadable, never dropped).
//! Everything numeric Meta sends as strings; unknown fields are ignored.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: ChangeValue,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<WaContact>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub statuses: Vec<Value>,
    /// Errors about the webhook itself, with no message to hang them on.
    #[serde(default)]
    pub errors: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub phone_number_id: String,
}

/// Who wrote: `wa_id` is their number in international form without `+`.
#[derive(Debug, Default, Deserialize)]
pub struct WaContact {
    #[serde(default)]
    pub wa_id: String,
    #[serde(default)]
    pub profile: Option<ProfileName>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProfileName {
    #[serde(default)]
    pub name: Option<String>,
}

/// One message from a contact.
#[derive(Debug, Deserialize)]
pub struct Message {
    pub from: String,
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub context: Option<Context>,
    #[serde(default)]
    pub text: Option<Body>,
    #[serde(default)]
    pub image: Option<Media>,
    #[serde(default)]
    pub video: Option<Media>,
    #[serde(default)]
    pub document: Option<Media>,
    #[serde(default)]
    pub sticker: Option<Media>,
    #[serde(default)]
    pub audio: Option<Media>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub contacts: Option<Vec<Value>>,
    #[serde(default)]
    pub interactive: Option<Interactive>,
    /// A template's quick-reply button.
    #[serde(default)]
    pub button: Option<QuickReply>,
    #[serde(default)]
    pub reaction: Option<Reaction>,
    #[serde(default)]
    pub referral: Option<Value>,
    #[serde(default)]
    pub order: Option<Value>,
    #[serde(default)]
    pub system: Option<System>,
    #[serde(default)]
    pub unsupported: Option<Value>,
    #[serde(default)]
    pub errors: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Context {
    /// The message this one answers (absent on a forwarded message).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub forwarded: bool,
    #[serde(default)]
    pub frequently_forwarded: bool,
}

#[derive(Debug, Deserialize)]
pub struct Body {
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Media {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    /// An audio message recorded in the app rather than a file.
    #[serde(default)]
    pub voice: bool,
    #[serde(default)]
    pub animated: bool,
}

#[derive(Debug, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Interactive {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub button_reply: Option<Choice>,
    #[serde(default)]
    pub list_reply: Option<Choice>,
    /// A WhatsApp Flow's answer.
    #[serde(default)]
    pub nfm_reply: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Choice {
    pub id: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Deserialize)]
pub struct QuickReply {
    #[serde(default)]
    pub payload: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    /// Empty or absent: the reaction was taken back.
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct System {
    #[serde(default)]
    pub body: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// What became of a message we sent.
#[derive(Debug, Deserialize)]
pub struct Status {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub recipient_id: String,
    #[serde(default)]
    pub errors: Vec<Value>,
}
