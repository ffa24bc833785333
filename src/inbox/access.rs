//! What a viewer may see of the inbox: a chat, and the chat an event is about. In
//! "own chats" visibility an operator sees unassigned chats and their own only.

use super::Viewer;
use super::views;
use crate::error::{Result, not_found};
use crate::model::{Chat, ChatStatus};
use crate::params;
use crate::store::{Db, EventRow};

/// The chat as the viewer may see it; one they may not (or a merged one) is not found.
pub fn chat(db: &mut Db, viewer: &Viewer, chat_id: i64) -> Result<Chat> {
    let chat = views::chat(db, chat_id)?;
    if chat.status == ChatStatus::Merged || !viewer.may_see(chat.assignee_id()) {
        return Err(not_found("chat", chat_id));
    }
    Ok(chat)
}

/// The assignee of the chat an event carries: `Some` when it carries the chat (most do,
/// so the socket reads nothing), `None` when it must be read ([`assignee`]).
pub fn assignee_in_event(e: &EventRow) -> Option<Option<i64>> {
    let event = e.decode().ok()?;
    event.chat().map(|chat| chat.assignee_id())
}

/// The chat's assignee as stored now; `None` for an unassigned chat and for no such chat.
pub fn assignee(db: &mut Db, chat_id: i64) -> Result<Option<i64>> {
    match db.query_opt("SELECT assignee_id FROM chats WHERE id = $1", params![chat_id])? {
        Some(r) => Ok(r.get("assignee_id")?),
        None => Ok(None),
    }
}
