//! Replies, notes and history. A reply is stored `queued` in the outbox; the outbox
//! worker sends it after commit. Notes never leave Parley.

use parley_sdk::Content;
use serde_json::{Value as Json, json};

use super::Viewer;
use super::access;
use super::views::{self, MESSAGE_SELECT};
use crate::error::{Error, Result};
use crate::outbox::Lane;
use crate::params;
use crate::store::{Db, events};

/// Who is sending an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Operator(i64),
    Bot,
    Broadcast,
    System,
}

impl Author {
    fn kind(self) -> &'static str {
        match self {
            Author::Operator(_) => "operator",
            Author::Bot => "bot",
            Author::Broadcast => "broadcast",
            Author::System => "system",
        }
    }
    /// Which outbox lane its messages take.
    fn lane(self) -> Lane {
        match self {
            Author::Operator(_) | Author::System => Lane::Live,
            Author::Bot => Lane::Bot,
            Author::Broadcast => Lane::Broadcast,
        }
    }
    fn operator_id(self) -> Option<i64> {
        match self {
            Author::Operator(id) => Some(id),
            _ => None,
        }
    }
}

fn check_text(text: &str, max_chars: usize) -> Result<&str> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return Err(Error::Invalid("the text is empty".into()));
    }
    if text.chars().count() > max_chars {
        return Err(Error::Invalid(format!("the text is longer than {max_chars} characters")));
    }
    Ok(text)
}

/// An operator's reply, through the chat's active channel or the chosen one.
pub fn reply(
    db: &mut Db,
    viewer: &Viewer,
    chat_id: i64,
    text: &str,
    channel_id: Option<i64>,
    max_chars: usize,
    now: i64,
) -> Result<Json> {
    access::chat(db, viewer, chat_id)?;
    let text = check_text(text, max_chars)?;
    let id = enqueue(db, chat_id, channel_id, &Content::text(text), Author::Operator(viewer.operator_id), now)?;
    views::message(db, id)
}

/// Stores an outbound message as `queued` and puts it in the outbox (which wakes after
/// commit), with its event. Serves operators, bots and broadcasts alike.
pub fn enqueue(
    db: &mut Db,
    chat_id: i64,
    channel_id: Option<i64>,
    content: &Content,
    author: Author,
    now: i64,
) -> Result<i64> {
    let chat = db
        .query_opt("SELECT contact_id, active_channel_id, conversation_id FROM chats WHERE id = $1", params![chat_id])?
        .ok_or_else(|| crate::error::not_found("chat", chat_id))?;
    let channel_id = channel_id
        .or(chat.opt_i64(1))
        .ok_or_else(|| Error::Invalid("the chat has no channel to reply through".into()))?;
    let identity = db
        .query_opt(
            "SELECT id FROM identities WHERE contact_id = $1 AND channel_id = $2 ORDER BY id DESC LIMIT 1",
            params![chat.i64(0), channel_id],
        )?
        .ok_or_else(|| Error::Invalid(format!("the contact has no identity on channel {channel_id}")))?;
    let attachments = (!content.attachments.is_empty()).then(|| json!(content.attachments).to_string());
    let buttons = (!content.buttons.is_empty()).then(|| json!(content.buttons).to_string());
    let id = db
        .query_one(
            "INSERT INTO messages (chat_id, conversation_id, kind, direction, author_kind, operator_id, channel_id, \
             identity_id, text, attachments, buttons, state, created_at) \
             VALUES ($1, $2, 'message', 'out', $3, $4, $5, $6, $7, $8, $9, 'queued', $10) RETURNING id",
            params![
                chat_id,
                chat.opt_i64(2),
                author.kind(),
                author.operator_id(),
                channel_id,
                identity.i64(0),
                content.text.as_deref(),
                attachments,
                buttons,
                now
            ],
        )?
        .i64(0);
    crate::outbox::queue::message(db, id, chat_id, channel_id, author.lane(), now)?;
    if let (Author::Operator(_), Some(conversation)) = (author, chat.opt_i64(2)) {
        db.exec(
            "UPDATE conversations SET first_reply_at = $1 WHERE id = $2 AND first_reply_at IS NULL",
            params![now, conversation],
        )?;
    }
    db.exec(
        "UPDATE chats SET last_message_id = $1, last_message_at = $2, updated_at = $2 WHERE id = $3",
        params![id, now, chat_id],
    )?;
    let message = views::message(db, id)?;
    let chat = views::chat_knowing(db, chat_id, Some(message))?;
    announce(db, chat_id, views::MessageAndChat::last_of(&chat), now)?;
    Ok(id)
}

/// An internal note: only operators see it.
pub fn note(db: &mut Db, viewer: &Viewer, chat_id: i64, text: &str, now: i64) -> Result<Json> {
    let chat = access::chat(db, viewer, chat_id)?;
    let text = check_text(text, 20_000)?;
    let id = db
        .query_one(
            "INSERT INTO messages (chat_id, conversation_id, kind, direction, author_kind, operator_id, text, created_at) \
             SELECT id, conversation_id, 'note', 'out', 'operator', $1, $2, $3 FROM chats WHERE id = $4 RETURNING id",
            params![viewer.operator_id, text, now, chat_id],
        )?
        .i64(0);
    let message = views::message(db, id)?;
    announce(db, chat_id, views::MessageAndChat { message: &message, chat: &chat }, now)?;
    Ok(message)
}

/// Appends `message.created`: the consoles add the message and update the chat's row.
pub fn announce(db: &mut Db, chat_id: i64, data: views::MessageAndChat, now: i64) -> Result<()> {
    events::append(db, "message.created", Some(chat_id), &data, now)?;
    Ok(())
}

/// A page of history, oldest first, ending before message `before` (or at the newest).
pub fn history(db: &mut Db, viewer: &Viewer, chat_id: i64, before: Option<i64>, limit: i64) -> Result<Json> {
    access::chat(db, viewer, chat_id)?;
    let limit = limit.clamp(1, 200);
    let rows = db.query(
        &format!("{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"),
        params![chat_id, before.unwrap_or(i64::MAX), limit + 1],
    )?;
    let has_more = rows.len() as i64 > limit;
    let mut messages: Vec<Json> = rows.iter().take(limit as usize).map(views::message_json).collect();
    messages.reverse();
    Ok(json!({ "messages": messages, "has_more": has_more }))
}
