//! What a viewer may see of the inbox: a chat, and the chat an event is about. In
//! "own chats" visibility an operator sees unassigned chats and their own only.

use serde_json::Value as Json;

use super::Viewer;
use super::views;
use crate::error::{Result, not_found};
use crate::params;
use crate::store::Db;

/// The chat as the viewer may see it; one they may not is not found.
pub fn chat(db: &mut Db, viewer: &Viewer, chat_id: i64) -> Result<Json> {
    let chat = views::chat(db, chat_id)?;
    if chat["status"] == "merged" || !viewer.may_see(chat["assignee"]["id"].as_i64()) {
        return Err(not_found("chat", chat_id));
    }
    Ok(chat)
}

/// The assignee of the chat an event's data carries: `Some` when it carries the chat
/// (most do, so the socket reads nothing), `None` when it must be read ([`assignee`]).
pub fn assignee_in_event(data: &str) -> Option<Option<i64>> {
    let data: Json = serde_json::from_str(data).unwrap_or_default();
    data.pointer("/chat/assignee").map(|a| a.get("id").and_then(Json::as_i64))
}

/// The chat's assignee as stored now.
pub fn assignee(db: &mut Db, chat_id: i64) -> Result<Option<i64>> {
    Ok(db.query_opt("SELECT assignee_id FROM chats WHERE id = $1", params![chat_id])?.and_then(|r| r.opt_i64(0)))
}

#[cfg(test)]
mod tests {
    use super::assignee_in_event;

    #[test]
    fn an_event_that_carries_its_chat_names_the_assignee_or_none() {
        assert_eq!(assignee_in_event(r#"{"chat":{"assignee":{"id":7}}}"#), Some(Some(7)));
        assert_eq!(assignee_in_event(r#"{"chat":{"assignee":null}}"#), Some(None));
        assert_eq!(assignee_in_event(r#"{"message":{"id":1}}"#), None);
        assert_eq!(assignee_in_event("not json"), None);
    }
}
