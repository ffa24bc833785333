//! The JSON frames between the widget and the server (docs/WIDGET.md).

use serde::{Deserialize, Serialize};

/// What a visitor's browser sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Message { text: String, client_id: String },
    Prechat { name: Option<String>, email: Option<String>, phone: Option<String> },
    Typing,
    Read { up_to: i64 },
}

/// A message as the visitor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct WidgetMessage {
    pub id: i64,
    /// `in` from the visitor, `out` from an operator or bot.
    pub direction: String,
    pub author_kind: String,
    pub author_name: Option<String>,
    pub text: Option<String>,
    pub attachments: serde_json::Value,
    /// A bot's buttons: pressing one sends its label as the visitor's message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<parley_sdk::Button>,
    pub client_id: Option<String>,
    pub created_at: String,
    pub read: bool,
}
