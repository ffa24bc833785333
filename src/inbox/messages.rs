//! Replies, notes and history. A reply is stored `queued` and put in the outbox; the
//! outbox worker sends it after commit. Notes never leave Parley.

use std::borrow::Cow;

use parley_sdk::{Content, Template};
use serde::Serialize;
use serde_json::json;

use super::Viewer;
use super::access;
use super::views::{self, MESSAGE_SELECT};
use crate::error::{Error, Result};
pub use crate::model::Author;
use crate::model::{Chat, Direction, Message, MessageKind, MessageState};
use crate::outbox::Lane;
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event, kinds};

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
) -> Result<Message> {
    access::chat(db, viewer, chat_id)?;
    let text = check_text(text, max_chars)?;
    take_over(db, chat_id, now)?;
    let id = enqueue(db, chat_id, channel_id, &Content::text(text), Author::Operator(viewer.operator_id), now)?;
    views::message(db, id)
}

/// An operator who answers a chat a bot has takes it over: the bot stays quiet in it
/// until it is closed (its run is left behind with the conversation; see `flows::hook`).
fn take_over(db: &mut Db, chat_id: i64, now: i64) -> Result<()> {
    let n = db.exec(
        "UPDATE chats SET handler = $1, updated_at = $2 WHERE id = $3 AND handler = $4",
        params![crate::model::Handler::Human, now, chat_id, crate::model::Handler::Bot],
    )?;
    if n > 0 {
        let chat = views::chat(db, chat_id)?;
        events::append(db, Some(chat_id), Event::chat_updated(&chat), now)?;
    }
    Ok(())
}

/// An operator's approved template (WhatsApp's, outside its 24-hour window). It is
/// stored as the message's one attachment, so history and the outbox read it back as
/// any content; the platform checks that the name and language exist.
pub fn reply_template(
    db: &mut Db,
    viewer: &Viewer,
    chat_id: i64,
    template: &Template,
    channel_id: Option<i64>,
    now: i64,
) -> Result<Message> {
    access::chat(db, viewer, chat_id)?;
    let name_ok = |s: &str, max: usize| !s.is_empty() && s.len() <= max && !s.contains(char::is_whitespace);
    if !name_ok(&template.name, 512) || !name_ok(&template.language, 16) {
        return Err(Error::Invalid("a template needs its name and language code (e.g. en_US)".into()));
    }
    if template.parameters.len() > 50 || template.parameters.iter().any(|p| p.trim().is_empty() || p.len() > 1024) {
        return Err(Error::Invalid("template parameters must be 1 to 1,024 characters each, 50 at most".into()));
    }
    let content = Content { attachments: vec![template.to_attachment()], ..Content::default() };
    let id = enqueue(db, chat_id, channel_id, &content, Author::Operator(viewer.operator_id), now)?;
    views::message(db, id)
}

/// Which outbox lane an author's messages take.
fn lane(author: Author) -> Lane {
    match author {
        Author::Operator(_) | Author::System => Lane::Live,
        Author::Bot => Lane::Bot,
        Author::Broadcast => Lane::Broadcast,
    }
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
    let conversation_id: Option<i64> = chat.get("conversation_id")?;
    let channel_id = channel_id
        .or(chat.get("active_channel_id")?)
        .ok_or_else(|| Error::Invalid("the chat has no channel to reply through".into()))?;
    let identity = db
        .query_opt(
            "SELECT id FROM identities WHERE contact_id = $1 AND channel_id = $2 ORDER BY id DESC LIMIT 1",
            params![chat.get::<i64>("contact_id")?, channel_id],
        )?
        .ok_or_else(|| Error::Invalid(format!("the contact has no identity on channel {channel_id}")))?;
    let attachments = (!content.attachments.is_empty()).then(|| json!(content.attachments).to_string());
    let buttons = (!content.buttons.is_empty()).then(|| json!(content.buttons).to_string());
    let id = db
        .query_one(
            "INSERT INTO messages (chat_id, conversation_id, kind, direction, author_kind, operator_id, channel_id, \
             identity_id, text, attachments, buttons, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            params![
                chat_id,
                conversation_id,
                MessageKind::Message,
                Direction::Out,
                author.kind(),
                author.operator_id(),
                channel_id,
                identity.get::<i64>("id")?,
                content.text.as_deref(),
                attachments,
                buttons,
                MessageState::Queued,
                now
            ],
        )?
        .get("id")?;
    crate::outbox::queue::message(db, id, chat_id, channel_id, lane(author), now)?;
    if let (Author::Operator(_), Some(conversation)) = (author, conversation_id) {
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
    announce_last(db, chat, now)?;
    Ok(id)
}

/// An internal note: only operators see it.
pub fn note(db: &mut Db, viewer: &Viewer, chat_id: i64, text: &str, now: i64) -> Result<Message> {
    let chat = access::chat(db, viewer, chat_id)?;
    let text = check_text(text, 20_000)?;
    let id = insert_note(db, chat_id, Author::Operator(viewer.operator_id), text, now)?;
    let message = views::message(db, id)?;
    announce(db, &message, &chat, now)?;
    Ok(message)
}

/// Stores a note in the chat's current conversation; returns its id.
pub fn insert_note(db: &mut Db, chat_id: i64, author: Author, text: &str, now: i64) -> Result<i64> {
    Ok(db
        .query_one(
            "INSERT INTO messages (chat_id, conversation_id, kind, direction, author_kind, operator_id, text, created_at) \
             SELECT id, conversation_id, CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS BIGINT), \
             CAST($5 AS TEXT), CAST($6 AS BIGINT) FROM chats WHERE id = $7 RETURNING id",
            params![MessageKind::Note, Direction::Out, author.kind(), author.operator_id(), text, now, chat_id],
        )?
        .get("id")?)
}

/// Appends `message.created`: the consoles add the message and update the chat's row.
pub fn announce(db: &mut Db, message: &Message, chat: &Chat, now: i64) -> Result<()> {
    events::append(db, Some(chat.id), Event::message_created(message, chat), now)?;
    Ok(())
}

/// [`announce`] for a chat built with its new message as its last one; the event takes
/// the chat over (ingest's hot path: only the message is copied for it).
pub fn announce_last(db: &mut Db, chat: Chat, now: i64) -> Result<()> {
    let message =
        chat.last_message.clone().ok_or_else(|| Error::Invalid(format!("chat {} has no last message", chat.id)))?;
    let chat_id = Some(chat.id);
    let event = Event::MessageCreated(kinds::MessageCreated { chat: Cow::Owned(chat), message: Cow::Owned(message) });
    events::append(db, chat_id, event, now)?;
    Ok(())
}

/// A page of history, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct History {
    pub has_more: bool,
    pub messages: Vec<Message>,
}

/// A page of history, oldest first, ending before message `before` (or at the newest).
pub fn history(db: &mut Db, viewer: &Viewer, chat_id: i64, before: Option<i64>, limit: i64) -> Result<History> {
    access::chat(db, viewer, chat_id)?;
    let limit = limit.clamp(1, 200);
    let rows = db.query(
        &format!("{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"),
        params![chat_id, before.unwrap_or(i64::MAX), limit + 1],
    )?;
    let has_more = rows.len() as i64 > limit;
    let mut messages = rows.iter().take(limit as usize).map(views::message_from).collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(History { has_more, messages })
}
