//! Ingest: one inbound event from a connector, in one transaction (DESIGN.md → "How a
//! message travels"): dedupe → identity and contact → the contact's chat, reopened if
//! closed → the message → its events. The caller answers the platform after commit.

use parley_sdk::{Attachment, Inbound, InboundKind, Profile, Receipt};
use serde_json::json;

use std::borrow::Cow;

use super::contacts::{email_key, index_terms, phone_key};
use super::views;
use crate::error::{Error, Result};
use crate::model::{AuthorKind, ChatStatus, Direction, MessageKind};
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event, kinds};

/// Longest deep-link payload kept on a contact (Telegram's limit).
const MAX_START_PAYLOAD: usize = 64;

pub fn ingest(db: &mut Db, inbound: &Inbound, now: i64) -> Result<Receipt> {
    if inbound.external_id.is_empty() || inbound.platform_message_id.is_empty() {
        return Err(Error::Invalid("an inbound event needs a sender and a message id".into()));
    }
    match &inbound.kind {
        InboundKind::Edit => return edit(db, inbound, now),
        InboundKind::Delete => return delete(db, inbound, now),
        InboundKind::Reaction { to, emoji } => {
            return super::receipts::react(db, inbound.channel_id, &inbound.external_id, to, emoji, now);
        }
        InboundKind::Status { to, state, reason } => {
            return super::receipts::report(db, inbound.channel_id, to, *state, reason.as_deref(), now);
        }
        InboundKind::Blocked { blocked } => {
            return super::receipts::blocked(db, inbound.channel_id, &inbound.external_id, *blocked, now);
        }
        InboundKind::Message | InboundKind::ButtonPress { .. } => {}
    }
    if let Some(r) = db.query_opt(
        "SELECT id, chat_id FROM messages WHERE channel_id = $1 AND platform_message_id = $2 AND direction = 'in'",
        params![inbound.channel_id, inbound.platform_message_id.as_str()],
    )? {
        return Ok(Receipt { chat_id: r.get("chat_id")?, message_id: r.get("id")?, created: false });
    }
    let content = match &inbound.kind {
        InboundKind::ButtonPress { data } => {
            let mut c = inbound.content.clone();
            c.attachments.push(Attachment {
                kind: "button_press".into(),
                extra: json!({ "data": data }),
                ..Attachment::default()
            });
            if c.text.is_none() {
                c.text = Some(data.clone());
            }
            c
        }
        _ => inbound.content.clone(),
    };
    if content.is_empty() {
        return Err(Error::Invalid("the message has neither text nor attachments".into()));
    }
    let payload = inbound.start_payload.as_deref().filter(|s| {
        s.len() <= MAX_START_PAYLOAD && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    let (identity_id, contact_id) =
        identity_for(db, inbound.channel_id, &inbound.external_id, &inbound.profile, payload, now)?;
    super::receipts::keep_referral(db, contact_id, &content.attachments)?;
    let chat = open_chat(db, contact_id, inbound.channel_id, now)?;

    let attachments = (!content.attachments.is_empty()).then(|| json!(content.attachments).to_string());
    let message_id = db
        .query_one(
            "INSERT INTO messages (chat_id, conversation_id, kind, direction, author_kind, channel_id, \
             identity_id, text, attachments, entities, reply_to, platform_message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            params![
                chat.id,
                chat.conversation_id,
                MessageKind::Message,
                Direction::In,
                AuthorKind::Contact,
                inbound.channel_id,
                identity_id,
                content.text.as_deref(),
                attachments,
                entities_json(&content.entities),
                inbound.reply_to.as_deref(),
                inbound.platform_message_id.as_str(),
                now
            ],
        )?
        .get("id")?;
    db.exec(
        // A chat in a bot's hands is not unread for the operators.
        "UPDATE chats SET unread_count = unread_count + CASE WHEN handler = 'bot' THEN 0 ELSE 1 END, last_message_id = $1, last_message_at = $2, \
         active_channel_id = $3, updated_at = $2 WHERE id = $4",
        params![message_id, now, inbound.channel_id, chat.id],
    )?;
    let message = views::message(db, message_id)?;
    let chat_now = views::chat_knowing(db, chat.id, Some(message))?;
    if chat.opened {
        let opened = Event::ChatOpened(kinds::ChatOpened { chat: Cow::Borrowed(&chat_now), reopened: chat.reopened });
        events::append(db, Some(chat.id), opened, now)?;
    }
    super::messages::announce_last(db, chat_now, now)?;
    Ok(Receipt { chat_id: chat.id, message_id, created: true })
}

/// The identity for (channel, external id), creating it and a new contact on first
/// contact; fills the contact's empty fields from the profile.
pub fn identity_for(
    db: &mut Db,
    channel_id: i64,
    external_id: &str,
    p: &Profile,
    payload: Option<&str>,
    now: i64,
) -> Result<(i64, i64)> {
    if let Some(r) = db.query_opt(
        "SELECT id, contact_id, username FROM identities WHERE channel_id = $1 AND external_id = $2",
        params![channel_id, external_id],
    )? {
        let (identity_id, contact_id): (i64, i64) = (r.get("id")?, r.get("contact_id")?);
        if p.username.is_some() && p.username != r.get::<Option<String>>("username")? {
            db.exec("UPDATE identities SET username = $1 WHERE id = $2", params![p.username.as_deref(), identity_id])?;
        }
        if (*p != Profile::default() || payload.is_some()) && fill_contact(db, contact_id, p, payload, now)? {
            // A console showing the contact's card learns of the phone or email it now has.
            let contact = views::contact(db, contact_id)?;
            events::append(db, contact.chat_id, Event::contact_updated(&contact), now)?;
        }
        return Ok((identity_id, contact_id));
    }
    let contact_id = db
        .query_one("INSERT INTO contacts (created_at, updated_at) VALUES ($1, $1) RETURNING id", params![now])?
        .get("id")?;
    fill_contact(db, contact_id, p, payload, now)?;
    let identity_id = db
        .query_one(
            "INSERT INTO identities (contact_id, channel_id, external_id, username, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            params![contact_id, channel_id, external_id, p.username.as_deref(), now],
        )?
        .get("id")?;
    Ok((identity_id, contact_id))
}

/// Fills the contact's empty fields from the platform's profile: what an operator
/// typed in is never overwritten by the platform. Whether anything changed.
pub fn fill_contact(db: &mut Db, contact_id: i64, p: &Profile, payload: Option<&str>, now: i64) -> Result<bool> {
    let phone_key = p.phone.as_deref().and_then(phone_key);
    let email = p.email.as_deref().and_then(email_key);
    let changed = db.exec(
        "UPDATE contacts SET first_name = COALESCE(first_name, $2), last_name = COALESCE(last_name, $3), \
         username = COALESCE(username, $4), phone = COALESCE(phone, $5), phone_e164 = COALESCE(phone_e164, $6), \
         email = COALESCE(email, $7), email_lc = COALESCE(email_lc, $8), \
         start_payload = COALESCE($9, start_payload), updated_at = $10 \
         WHERE id = $1 AND (first_name IS NULL AND CAST($2 AS TEXT) IS NOT NULL OR last_name IS NULL AND CAST($3 AS TEXT) IS NOT NULL \
         OR username IS NULL AND CAST($4 AS TEXT) IS NOT NULL OR phone IS NULL AND CAST($5 AS TEXT) IS NOT NULL \
         OR email IS NULL AND CAST($7 AS TEXT) IS NOT NULL OR CAST($9 AS TEXT) IS NOT NULL)",
        params![
            contact_id,
            p.first_name.as_deref(),
            p.last_name.as_deref(),
            p.username.as_deref(),
            p.phone.as_deref(),
            phone_key,
            p.email.as_deref(),
            email,
            payload,
            now
        ],
    )?;
    if changed > 0 {
        index_terms(db, contact_id)?;
    }
    Ok(changed > 0)
}

pub struct OpenedChat {
    pub id: i64,
    pub conversation_id: i64,
    /// The chat was created or reopened by this message.
    pub opened: bool,
    pub reopened: bool,
}

/// The contact's chat, created or reopened (with a new conversation) as needed.
pub fn open_chat(db: &mut Db, contact_id: i64, channel_id: i64, now: i64) -> Result<OpenedChat> {
    let existing =
        db.query_opt("SELECT id, status, conversation_id FROM chats WHERE contact_id = $1", params![contact_id])?;
    let (chat_id, reopened) = match existing {
        Some(r) if r.get::<ChatStatus>("status")? == ChatStatus::Open => {
            let conversation_id = r.get::<Option<i64>>("conversation_id")?.ok_or_else(|| {
                Error::Store(crate::store::StoreError::Decode("an open chat without a conversation".into()))
            })?;
            return Ok(OpenedChat { id: r.get("id")?, conversation_id, opened: false, reopened: false });
        }
        Some(r) => (r.get("id")?, true),
        None => {
            let id = db
                .query_one(
                    "INSERT INTO chats (contact_id, status, active_channel_id, last_message_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4, $4) RETURNING id",
                    params![contact_id, ChatStatus::Open, channel_id, now],
                )?
                .get("id")?;
            (id, false)
        }
    };
    let conversation_id = db
        .query_one(
            "INSERT INTO conversations (chat_id, channel_id, opened_at, reopened) VALUES ($1, $2, $3, $4) RETURNING id",
            params![chat_id, channel_id, now, reopened],
        )?
        .get("id")?;
    db.exec(
        "UPDATE chats SET status = $1, conversation_id = $2, updated_at = $3 WHERE id = $4",
        params![ChatStatus::Open, conversation_id, now, chat_id],
    )?;
    Ok(OpenedChat { id: chat_id, conversation_id, opened: true, reopened })
}

/// The contact edited a message: the stored text changes and the console shows it edited.
fn edit(db: &mut Db, inbound: &Inbound, now: i64) -> Result<Receipt> {
    let r = db
        .query_opt(
            "SELECT id, chat_id, text, entities FROM messages \
             WHERE channel_id = $1 AND platform_message_id = $2 AND direction = 'in'",
            params![inbound.channel_id, inbound.platform_message_id.as_str()],
        )?
        .ok_or_else(|| Error::NotFound("the edited message was never received".into()))?;
    let (message_id, chat_id): (i64, i64) = (r.get("id")?, r.get("chat_id")?);
    let entities = entities_json(&inbound.content.entities);
    if r.get::<Option<String>>("text")? != inbound.content.text || r.get::<Option<String>>("entities")? != entities {
        db.exec(
            "UPDATE messages SET text = $1, entities = $2, edited_at = $3 WHERE id = $4",
            params![inbound.content.text.as_deref(), entities, now, message_id],
        )?;
        let message = views::message(db, message_id)?;
        events::append(db, Some(chat_id), Event::message_updated(&message), now)?;
    }
    Ok(Receipt { chat_id, message_id, created: false })
}

/// The contact deleted a message: it is marked, not removed, and the console shows it
/// deleted. A second deletion of the same message changes nothing.
fn delete(db: &mut Db, inbound: &Inbound, now: i64) -> Result<Receipt> {
    let r = db
        .query_opt(
            "SELECT id, chat_id, deleted_at FROM messages \
             WHERE channel_id = $1 AND platform_message_id = $2 AND direction = 'in'",
            params![inbound.channel_id, inbound.platform_message_id.as_str()],
        )?
        .ok_or_else(|| Error::NotFound("the deleted message was never received".into()))?;
    let (message_id, chat_id): (i64, i64) = (r.get("id")?, r.get("chat_id")?);
    if r.get::<Option<i64>>("deleted_at")?.is_none() {
        db.exec("UPDATE messages SET deleted_at = $1 WHERE id = $2", params![now, message_id])?;
        let message = views::message(db, message_id)?;
        events::append(db, Some(chat_id), Event::message_updated(&message), now)?;
    }
    Ok(Receipt { chat_id, message_id, created: false })
}

/// The entities as stored: a JSON list, NULL when there are none.
fn entities_json(entities: &[parley_sdk::TextEntity]) -> Option<String> {
    (!entities.is_empty()).then(|| json!(entities).to_string())
}
