//! Recording what came of an attempt, in one transaction: the message's state (with its
//! `message.updated` event), the outbox row's schedule or its end, a channel pause.

use super::attempt::Outcome;
use super::claim::{Send, What};
use super::queue;
use crate::error::Result;
use crate::model::MessageState;
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
            fail(db, send, &format!("gave up after {max_attempts} attempts: {reason}"), false)?;
        }
        Outcome::Park => {
            db.exec("UPDATE outbox SET parked = 1, lease_until = 0 WHERE id = $1", params![send.id])?;
            return Ok(());
        }
        Outcome::Failed { reason, unreachable } => fail(db, send, &reason, unreachable)?,
        Outcome::Broken { reason } => {
            tracing::warn!(channel.id = send.channel_id, %reason, "the platform refused the channel's credentials");
            db.exec("UPDATE channels SET broken_reason = $1 WHERE id = $2", params![reason.as_str(), send.channel_id])?;
            fail(db, send, &reason, false)?;
        }
    }
    if let What::Message { message_id, chat_id, .. } = &send.what {
        let message = crate::inbox::views::message(db, *message_id)?;
        events::append(db, Some(*chat_id), Event::message_updated(&message), now)?;
    }
    Ok(())
}

fn fail(db: &mut Db, send: &Send, reason: &str, unreachable: bool) -> Result<()> {
    match &send.what {
        What::Message { message_id, identity_id, .. } => {
            db.exec(
                "UPDATE messages SET state = $3, failure_reason = $1 WHERE id = $2",
                params![reason, *message_id, MessageState::Failed],
            )?;
            if unreachable {
                db.exec("UPDATE identities SET unreachable_reason = $1 WHERE id = $2", params![reason, *identity_id])?;
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
