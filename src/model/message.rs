//! A message or note of a chat, as the API and the events show it (docs/API.md →
//! Message).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{AuthorKind, ChannelRef, Direction, MessageKind, MessageState, Time};

// Fields in alphabetical order: see the module docs of [`crate::model`].
/// A message of a chat, or a note only operators see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// What the platform sent along: kept as the JSON it was stored as, since its
    /// `extra` is the platform's own.
    pub attachments: Vec<Json>,
    /// The operator, for operator messages and notes.
    pub author: Option<AuthorRef>,
    pub author_kind: AuthorKind,
    pub buttons: Vec<Json>,
    pub channel: Option<ChannelRef>,
    pub chat_id: i64,
    pub conversation_id: Option<i64>,
    pub created_at: Time,
    /// When the contact deleted it on the platform; the text is kept for operators.
    pub deleted_at: Option<Time>,
    pub direction: Direction,
    pub edited_at: Option<Time>,
    pub entities: Vec<Json>,
    pub failure_reason: Option<String>,
    pub id: i64,
    pub kind: MessageKind,
    /// The contact's reaction to this message (`{emoji, by}`); left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Json>,
    /// Outbound messages only.
    pub state: Option<MessageState>,
    pub text: Option<String>,
}

/// `{id, name}` of the operator who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuthorRef {
    pub id: i64,
    pub name: String,
}

/// Who is sending an outbound message: the author kind, and the operator if one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Operator(i64),
    Bot,
    Broadcast,
    System,
}

impl Author {
    pub fn kind(self) -> AuthorKind {
        match self {
            Author::Operator(_) => AuthorKind::Operator,
            Author::Bot => AuthorKind::Bot,
            Author::Broadcast => AuthorKind::Broadcast,
            Author::System => AuthorKind::System,
        }
    }

    pub fn operator_id(self) -> Option<i64> {
        match self {
            Author::Operator(id) => Some(id),
            _ => None,
        }
    }
}

impl Message {
    /// A message the contact wrote (not an operator's, a bot's or a note).
    pub fn is_from_contact(&self) -> bool {
        self.direction == Direction::In && self.author_kind == AuthorKind::Contact
    }
}
