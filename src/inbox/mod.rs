//! Chats: ingest, listing, replies and notes, open/close/reopen, transfer, contacts,
//! merge and search. Plain functions over a [`Db`](crate::store::Db); they know
//! nothing of HTTP.

pub mod access;
pub mod assignments;
pub mod chats;
pub mod contacts;
pub mod door;
pub mod figures;
pub mod ingest;
pub mod merge;
pub mod messages;
pub mod receipts;
pub mod search;
pub mod views;

use crate::config::Visibility;

/// Who is looking, and what they may see.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub operator_id: i64,
    pub admin: bool,
    pub visibility: Visibility,
}

impl Viewer {
    /// Whether this viewer is limited to their own and unassigned chats.
    pub fn sees_own_only(&self) -> bool {
        !self.admin && self.visibility == Visibility::Own
    }

    /// Whether a chat with this assignee is visible to the viewer.
    pub fn may_see(&self, assignee: Option<i64>) -> bool {
        !self.sees_own_only() || assignee.is_none_or(|a| a == self.operator_id)
    }
}
