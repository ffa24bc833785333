//! A chat as the API and the events show it (docs/API.md → Chat).

use serde::{Deserialize, Serialize};

use super::{ChannelRef, ChatStatus, Handler, Message, Status, Time};

// Fields in alphabetical order: see the module docs of [`crate::model`].
/// A conversation with one contact, across its channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chat {
    /// Where replies go unless the operator picks another channel.
    pub active_channel: Option<ChannelRef>,
    pub assignee: Option<Assignee>,
    /// The contact's channels, each once, the active one included.
    pub channels: Vec<ChannelRef>,
    pub contact: ChatContact,
    pub created_at: Time,
    pub handler: Handler,
    pub id: i64,
    pub last_message: Option<Message>,
    pub last_message_at: Time,
    pub status: ChatStatus,
    pub unread_count: i64,
    pub updated_at: Time,
}

/// The operator a chat is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assignee {
    pub id: i64,
    pub name: String,
    pub status: Status,
}

/// The chat's contact, as much as a chat list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatContact {
    pub email: Option<String>,
    pub id: i64,
    /// See [`crate::inbox::views::display_name`].
    pub name: String,
    pub phone: Option<String>,
    pub username: Option<String>,
}

impl Chat {
    pub fn assignee_id(&self) -> Option<i64> {
        self.assignee.as_ref().map(|a| a.id)
    }

    /// Whether replies may go through `channel_id` (the contact has an identity there).
    pub fn reaches_through(&self, channel_id: i64) -> bool {
        self.channels.iter().any(|c| c.id == channel_id)
    }
}
