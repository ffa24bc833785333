//! What a platform reports about messages already stored, rather than new messages:
//! a contact's reaction to one (shown on it), and the delivery state of an outbound one
//! (the console's ticks). Both change the message and announce it with
//! `message.updated`; neither opens a chat or counts as unread. Applying one twice
//! changes nothing, so a redelivered webhook is a no-op.

use parley_sdk::{Attachment, DeliveryState, Receipt};
use serde_json::{Value as Json, json};

use crate::error::Result;
use crate::model::{AuthorKind, ChatStatus, MessageState, RecipientState};
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event};

/// Nothing was changed: the message is unknown here (sent before the channel was
/// added, or by another tool on the same number). The platform is still answered 2xx.
const IGNORED: Receipt = Receipt { chat_id: 0, message_id: 0, created: false };

/// The contact (`external_id` on the channel) reacted to message `to` of their chat with
/// `emoji`; an empty emoji takes the reaction back.
pub fn react(db: &mut Db, channel_id: i64, external_id: &str, to: &str, emoji: &str, now: i64) -> Result<Receipt> {
    // Through the message's identity: a contact can only react to messages of its own chat.
    let Some(r) = db.query_opt(
        "SELECT m.id, m.chat_id, m.reactions FROM messages m JOIN identities i ON i.id = m.identity_id \
         WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND i.external_id = $3 ORDER BY m.id LIMIT 1",
        params![channel_id, to, external_id],
    )?
    else {
        tracing::info!(channel.id = channel_id, message = to, "a reaction to an unknown message was ignored");
        return Ok(IGNORED);
    };
    let (message_id, chat_id): (i64, i64) = (r.get("id")?, r.get("chat_id")?);
    let before = r.get::<Option<String>>("reactions")?;
    // One reaction per person and message, as WhatsApp has it: the new one replaces theirs.
    let after = (!emoji.is_empty()).then(|| json!([{"emoji": emoji, "by": "contact"}]).to_string());
    if before != after {
        db.exec("UPDATE messages SET reactions = $1 WHERE id = $2", params![after, message_id])?;
        announce(db, chat_id, message_id, now)?;
    }
    Ok(Receipt { chat_id, message_id, created: false })
}

/// How far along a state is; a report never moves a message back.
fn rank(state: MessageState) -> u8 {
    match state {
        MessageState::Queued => 0,
        MessageState::Sent => 1,
        MessageState::Delivered => 2,
        MessageState::Read => 3,
        MessageState::Failed => 4,
    }
}

fn stored(state: DeliveryState) -> MessageState {
    match state {
        DeliveryState::Sent => MessageState::Sent,
        DeliveryState::Delivered => MessageState::Delivered,
        DeliveryState::Read => MessageState::Read,
        DeliveryState::Failed => MessageState::Failed,
    }
}

/// The platform says outbound message `to` reached `state`.
pub fn report(
    db: &mut Db,
    channel_id: i64,
    to: &str,
    state: DeliveryState,
    reason: Option<&str>,
    now: i64,
) -> Result<Receipt> {
    let Some(r) = db.query_opt(
        "SELECT m.id, m.chat_id, m.state, m.author_kind, c.status FROM messages m JOIN chats c ON c.id = m.chat_id \
         WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND m.direction = 'out' ORDER BY m.id LIMIT 1",
        params![channel_id, to],
    )?
    else {
        tracing::debug!(channel.id = channel_id, message = to, "a status for an unknown message was ignored");
        return Ok(IGNORED);
    };
    let (message_id, chat_id): (i64, i64) = (r.get("id")?, r.get("chat_id")?);
    let current = r.get::<Option<MessageState>>("state")?.unwrap_or(MessageState::Queued);
    let next = stored(state);
    // A failure after the contact read it cannot be (and would hide that they did).
    let moves = rank(next) > rank(current) && !(next == MessageState::Failed && current == MessageState::Read);
    if moves {
        let reason = (next == MessageState::Failed).then(|| reason.unwrap_or("the platform did not deliver it"));
        db.exec(
            "UPDATE messages SET state = $1, failure_reason = COALESCE($2, failure_reason) WHERE id = $3",
            params![next, reason, message_id],
        )?;
        // A broadcast's recipient follows; its ticks are told only in an open chat.
        if r.get::<AuthorKind>("author_kind")? == AuthorKind::Broadcast {
            crate::broadcasts::follow::message(db, message_id, recipient_state(next), reason, now)?;
            if r.get::<ChatStatus>("status")? != ChatStatus::Open {
                return Ok(Receipt { chat_id, message_id, created: false });
            }
        }
        announce(db, chat_id, message_id, now)?;
    }
    Ok(Receipt { chat_id, message_id, created: false })
}

fn recipient_state(state: MessageState) -> RecipientState {
    match state {
        MessageState::Queued => RecipientState::Queued,
        MessageState::Sent => RecipientState::Sent,
        MessageState::Delivered => RecipientState::Delivered,
        MessageState::Read => RecipientState::Read,
        MessageState::Failed => RecipientState::Failed,
    }
}

fn announce(db: &mut Db, chat_id: i64, message_id: i64, now: i64) -> Result<()> {
    let message = super::views::message(db, message_id)?;
    events::append(db, Some(chat_id), Event::message_updated(&message), now)?;
    Ok(())
}

/// Why an identity is unreachable after its contact blocked the bot.
pub const BLOCKED_THE_BOT: &str = "the contact blocked the bot";

/// The contact (`external_id` on the channel) blocked the bot, or unblocked it: the
/// identity is marked unreachable (broadcasts skip it before a send fails) or reachable
/// again. An identity not known here is left alone.
pub fn blocked(db: &mut Db, channel_id: i64, external_id: &str, blocked: bool, now: i64) -> Result<Receipt> {
    let Some(r) = db.query_opt(
        "SELECT i.id, i.contact_id, i.unreachable_reason, c.id AS chat_id FROM identities i \
         LEFT JOIN chats c ON c.contact_id = i.contact_id WHERE i.channel_id = $1 AND i.external_id = $2",
        params![channel_id, external_id],
    )?
    else {
        return Ok(IGNORED);
    };
    let (identity_id, contact_id): (i64, i64) = (r.get("id")?, r.get("contact_id")?);
    let was_blocked = r.get::<Option<String>>("unreachable_reason")?.is_some();
    if was_blocked != blocked {
        let reason = blocked.then_some(BLOCKED_THE_BOT);
        db.exec("UPDATE identities SET unreachable_reason = $1 WHERE id = $2", params![reason, identity_id])?;
        let contact = super::views::contact(db, contact_id)?;
        events::append(db, contact.chat_id, Event::contact_updated(&contact), now)?;
    }
    Ok(Receipt { chat_id: r.get::<Option<i64>>("chat_id")?.unwrap_or(0), message_id: 0, created: false })
}

/// The attachment kind a click-to-WhatsApp ad (or any platform's referral) arrives as.
pub const REFERRAL_KIND: &str = "referral";

/// A referral that came with a message is kept on the contact too (attribute
/// `referral`), for flows and reports: where the first message came from outlives it.
pub fn keep_referral(db: &mut Db, contact_id: i64, attachments: &[Attachment]) -> Result<()> {
    let Some(referral) = attachments.iter().find(|a| a.kind == REFERRAL_KIND) else { return Ok(()) };
    let r = db.query_one("SELECT attributes FROM contacts WHERE id = $1", params![contact_id])?;
    let mut attributes: serde_json::Map<String, Json> = r.get_json::<Option<_>>("attributes")?.unwrap_or_default();
    attributes.insert(REFERRAL_KIND.into(), referral.extra.clone());
    db.exec(
        "UPDATE contacts SET attributes = $1 WHERE id = $2",
        params![Json::Object(attributes).to_string(), contact_id],
    )?;
    Ok(())
}
