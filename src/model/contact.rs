//! A contact as the API and the events show it (docs/API.md → Contact).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::{ChannelRef, Time};

// Fields in alphabetical order: see the module docs of [`crate::model`].
/// A person, with their addresses on each channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// Free-form attributes an operator or integration set.
    pub attributes: Map<String, Json>,
    pub chat_id: Option<i64>,
    pub created_at: Time,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub id: i64,
    pub identities: Vec<Identity>,
    pub last_name: Option<String>,
    /// See [`crate::inbox::views::display_name`].
    pub name: String,
    pub phone: Option<String>,
    /// The deep-link payload the contact first came with (`/start <payload>`).
    pub start_payload: Option<String>,
    pub tags: Vec<String>,
    /// The contact asked for no broadcasts (`/stop`, or the contact card's switch).
    /// Events stored before it existed read as subscribed.
    #[serde(default)]
    pub unsubscribed: bool,
    pub username: Option<String>,
}

/// A contact's address on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    pub channel: ChannelRef,
    pub external_id: String,
    pub id: i64,
    /// Set when the platform refused for good (the user blocked the bot).
    pub unreachable_reason: Option<String>,
    pub username: Option<String>,
}
