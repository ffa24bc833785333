//! A broadcast as the API and its events show it (docs/API.md → Broadcasts), and the
//! closed sets of states of a broadcast and of each of its recipients.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::Time;

stored_enum! {
    /// Where a broadcast stands (CHECK in migration 0013).
    pub enum BroadcastState: "broadcast state" {
        /// Written, not started: its audience is only a filter.
        Draft = "draft",
        /// Starts by itself at `send_at`.
        Scheduled = "scheduled",
        /// Recipients written; their messages go out.
        Sending = "sending",
        /// Nothing more goes out until it is resumed.
        Paused = "paused",
        /// Every recipient has an end state (delivered and read may still come).
        Done = "done",
        Cancelled = "cancelled",
    }
}

stored_enum! {
    /// One recipient's state (CHECK in migration 0013).
    pub enum RecipientState: "recipient state" {
        /// Not sent yet (waiting for its turn, or in the outbox).
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        /// The platform refused it, or it kept failing; `reason` says why.
        Failed = "failed",
        /// The contact blocked the bot: their identity is now unreachable.
        Blocked = "blocked",
        /// In flight when Parley stopped: it may or may not have arrived. Never sent again
        /// by itself ("resend unknown" does, on the author's word).
        Unknown = "unknown",
        /// Left out when the broadcast started: unsubscribed, or no reachable identity.
        Skipped = "skipped",
        /// The broadcast was cancelled before it was sent.
        Cancelled = "cancelled",
    }
}

impl BroadcastState {
    /// A state nothing more happens in.
    pub fn is_over(self) -> bool {
        matches!(self, BroadcastState::Done | BroadcastState::Cancelled)
    }
}

// Fields in alphabetical order: see the module docs of [`crate::model`].

/// What a broadcast sends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastContent {
    /// Files by address (`{kind: "photo"|"document"|..., url, name?}`).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<parley_sdk::Attachment>,
    #[serde(default)]
    pub buttons: Vec<BroadcastButton>,
    pub text: Option<String>,
}

/// A button under a broadcast. Pressing it comes back as a button press with `data`;
/// `flow` starts that bot flow for the contact who pressed it; `unsubscribe` opts them out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastButton {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    pub label: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsubscribe: bool,
}

/// Who a broadcast reaches: every contact (`{}`), or those matching every filter given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Contacts with an identity on one of these channels, reached there (not on the
    /// channel they were last active on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<i64>,
    /// Exactly these contacts (the console's CSV upload fills it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<Vec<i64>>,
    /// Attributes equal to these values (`null`: the attribute is not set).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Json>,
    /// Contact fields (`first_name`, `last_name`, `username`, `phone`, `email`,
    /// `start_payload`): a string matches case-blind, `true` means set, `false` not set.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub fields: Map<String, Json>,
    /// When the contact first wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Between>,
    /// When the contact last wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<Between>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagFilter>,
}

/// Tags: any of, all of, none of (each list optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub none: Vec<String>,
}

/// A time range; either end may be left open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Between {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Time>,
}

impl Between {
    pub fn holds(&self, t: Option<i64>) -> bool {
        let Some(t) = t else { return self.after.is_none() && self.before.is_none() };
        self.after.is_none_or(|a| t > a.0) && self.before.is_none_or(|b| t < b.0)
    }
}

/// How many recipients are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub blocked: i64,
    pub cancelled: i64,
    pub delivered: i64,
    pub failed: i64,
    pub queued: i64,
    pub read: i64,
    pub sent: i64,
    pub skipped: i64,
    pub total: i64,
    pub unknown: i64,
}

impl Figures {
    pub fn add(&mut self, state: RecipientState, n: i64) {
        let slot = match state {
            RecipientState::Queued => &mut self.queued,
            RecipientState::Sent => &mut self.sent,
            RecipientState::Delivered => &mut self.delivered,
            RecipientState::Read => &mut self.read,
            RecipientState::Failed => &mut self.failed,
            RecipientState::Blocked => &mut self.blocked,
            RecipientState::Unknown => &mut self.unknown,
            RecipientState::Skipped => &mut self.skipped,
            RecipientState::Cancelled => &mut self.cancelled,
        };
        *slot += n;
        self.total += n;
    }
}

/// How many recipients ended in `state` for `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReasonCount {
    pub count: i64,
    pub reason: String,
    pub state: RecipientState,
}

/// A broadcast with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Broadcast {
    pub audience: Audience,
    pub content: BroadcastContent,
    pub created_at: Time,
    pub figures: Figures,
    pub finished_at: Option<Time>,
    pub id: i64,
    pub name: String,
    pub rate_per_second: Option<i64>,
    /// The most frequent reasons of failed, blocked, unknown and skipped recipients.
    pub reasons: Vec<ReasonCount>,
    pub send_at: Option<Time>,
    pub started_at: Option<Time>,
    pub state: BroadcastState,
    pub time_zone: Option<String>,
}
