//! Recording what came of an attempt, in one transaction: the message's state (with its
//! `message.updated` event), the outbox row's schedule or its end, a channel pause, and
//! for a broadcast's message its recipient's state (`broadcasts::follow`).

use super::attempt::Outcome;
use super::claim::{Send, What};
use super::queue;
use super::queue::Lane;
use crate::broadcasts::follow;
use crate::error::Result;
use crate::model::{MessageState, RecipientState};
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event};

pub fn record(db: &mut Db, send: &Send, outcome: Outcome, max_attempts: i64, now: i64) -> Result<()> {
    // A lease that ran out while this node was sending (it was stopped for minutes) may
    // have let another node take the row: then that node records it.
    let still_ours =
        db.query_opt("SELECT 1 FROM outbox WHERE id = $1 AND lease_until > $2", params![send.id, now])?.is_some();
    if !still_ours {
        tracing::warn!(outbox.id = send.id, "a send outlived its lease; its result is left to whoever holds it now");
        return Ok(());
    }
    match outcome {
        Outcome::Sent(platform_id) => {
            match &send.what {
                What::Message { message_id, .. } => {
                    db.exec(
                        "UPDATE messages SET state = $3, platform_message_id = $1 WHERE id = $2 AND state = $4",
                        params![platform_id, *message_id, MessageState::Sent, MessageState::Queued],
                    )?;
                    if send.lane == Lane::Broadcast {
                        follow::message(db, *message_id, RecipientState::Sent, None, now)?;
                    }
                }
                What::Text { notification_id } => {
                    if let Some(n) = notification_id {
                        db.exec(
                            "UPDATE notifications SET platform_message_id = $1 WHERE id = $2",
                            params![platform_id, *n],
                        )?;
                    }
                    metrics::counter!("parley_notifications_total", "result" => "sent").increment(1);
                }
            }
            queue::finish(db, send.id, &send.queue)?;
        }
        Outcome::Retry { at, counts, pause_channel, reason, parts_sent }
            if !counts || send.attempts + 1 < max_attempts =>
        {
            tracing::info!(outbox.id = send.id, retry_in_ms = at - now, %reason, "delivery will be retried");
            db.exec(
                "UPDATE outbox SET due_at = $1, attempts = attempts + $2, parts_sent = $3, lease_until = 0 WHERE id = $4",
                params![at, i64::from(counts), i64::from(parts_sent), send.id],
            )?;
            if pause_channel {
                pause(db, send.channel_id, at, &reason)?;
            }
            return Ok(());
        }
        Outcome::Retry { reason, .. } => {
            fail(db, send, &format!("gave up after {max_attempts} attempts: {reason}"), false, now)?;
        }
        Outcome::Park => {
            db.exec("UPDATE outbox SET parked = 1, lease_until = 0 WHERE id = $1", params![send.id])?;
            return Ok(());
        }
        Outcome::Failed { reason, unreachable } => fail(db, send, &reason, unreachable, now)?,
        Outcome::Broken { reason } => {
            tracing::warn!(channel.id = send.channel_id, %reason, "the platform refused the channel's credentials");
            db.exec("UPDATE channels SET broken_reason = $1 WHERE id = $2", params![reason.as_str(), send.channel_id])?;
            fail(db, send, &reason, false, now)?;
        }
    }
    if let What::Message { message_id, chat_id, .. } = &send.what
        && (send.lane != Lane::Broadcast || chat_is_open(db, *chat_id)?)
    {
        let message = crate::inbox::views::message(db, *message_id)?;
        events::append(db, Some(*chat_id), Event::message_updated(&message), now)?;
    }
    Ok(())
}

/// A broadcast's ticks are told only where a console shows them: a closed chat's
/// thousands of messages would flood every console for nothing.
fn chat_is_open(db: &mut Db, chat_id: i64) -> Result<bool> {
    Ok(db.query_opt("SELECT 1 FROM chats WHERE id = $1 AND status = 'open'", params![chat_id])?.is_some())
}

fn fail(db: &mut Db, send: &Send, reason: &str, unreachable: bool, now: i64) -> Result<()> {
    match &send.what {
        What::Message { message_id, identity_id, .. } => {
            db.exec(
                "UPDATE messages SET state = $3, failure_reason = $1 WHERE id = $2",
                params![reason, *message_id, MessageState::Failed],
            )?;
            if unreachable {
                db.exec("UPDATE identities SET unreachable_reason = $1 WHERE id = $2", params![reason, *identity_id])?;
            }
            if send.lane == Lane::Broadcast {
                let state = if unreachable { RecipientState::Blocked } else { RecipientState::Failed };
                follow::message(db, *message_id, state, Some(reason), now)?;
            }
        }
        What::Text { .. } => {
            metrics::counter!("parley_notifications_total", "result" => "failed").increment(1);
            tracing::warn!(channel.id = send.channel_id, %reason, "a text to a linked messenger chat was not delivered");
        }
    }
    queue::finish(db, send.id, &send.queue)
}

/// Nothing goes through `channel_id` before `until` (the later of two pauses wins).
fn pause(db: &mut Db, channel_id: i64, until: i64, reason: &str) -> Result<()> {
    db.exec(
        "INSERT INTO channel_pauses (channel_id, until, reason) VALUES ($1, $2, $3) \
         ON CONFLICT (channel_id) DO UPDATE SET until = excluded.until, reason = excluded.reason \
         WHERE channel_pauses.until < excluded.until",
        params![channel_id, until, reason],
    )?;
    Ok(())
}

/// Why a broadcast's message in flight when Parley stopped is not sent again.
pub const IN_FLIGHT_AT_STOP: &str =
    "Parley stopped while this was being sent: it may or may not have arrived, and is not sent again by itself";

/// Broadcast sends in flight on a node that stopped (`all`: this node, restarting alone
/// on SQLite; otherwise those whose lease ran out): their recipients become `unknown`,
/// their messages fail with [`IN_FLIGHT_AT_STOP`], and their queues move on. Operators'
/// and bots' sends are retried instead (a reply twice is better than none).
pub fn abandon(db: &mut Db, all: bool, now: i64) -> Result<u64> {
    let rows = db.query(
        "SELECT o.id, o.queue, o.message_id, m.chat_id FROM outbox o JOIN messages m ON m.id = o.message_id \
         WHERE o.head = 1 AND o.lane = 2 AND o.lease_until > 0 AND ($1 = 1 OR o.lease_until <= $2)",
        params![i64::from(all), now],
    )?;
    for r in &rows {
        let (message_id, chat_id): (i64, i64) = (r.get("message_id")?, r.get("chat_id")?);
        db.exec(
            "UPDATE messages SET state = $1, failure_reason = $2 WHERE id = $3",
            params![MessageState::Failed, IN_FLIGHT_AT_STOP, message_id],
        )?;
        follow::message(db, message_id, RecipientState::Unknown, Some(IN_FLIGHT_AT_STOP), now)?;
        queue::finish(db, r.get("id")?, &r.get::<String>("queue")?)?;
        if chat_is_open(db, chat_id)? {
            let message = crate::inbox::views::message(db, message_id)?;
            events::append(db, Some(chat_id), Event::message_updated(&message), now)?;
        }
    }
    if !rows.is_empty() {
        tracing::warn!(sends = rows.len(), "broadcast sends in flight when a node stopped are left unknown");
    }
    Ok(rows.len() as u64)
}
