//! Putting sends into the outbox, inside the caller's transaction. The only way in:
//! [`message`] for a stored outbound message, [`text`] for a text to an operator's
//! linked messenger chat. Both wake the outbox worker after commit.

use crate::error::Result;
use crate::params;
use crate::store::{Backend, Db, Wake};

/// Who waits for whom among sends that may go (heads of their queues): live traffic
/// never waits behind bots, bots never behind broadcasts. Within one queue (a chat on a
/// channel) order is strict whatever the lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// Operators, system messages, operator notifications.
    Live = 0,
    Bot = 1,
    Broadcast = 2,
}

impl Lane {
    pub fn from_i64(v: i64) -> Lane {
        match v {
            0 => Lane::Live,
            1 => Lane::Bot,
            _ => Lane::Broadcast,
        }
    }

    pub fn is_bulk(self) -> bool {
        self != Lane::Live
    }
}

/// The order key of a message: one contact's chat on one channel.
pub fn message_queue(chat_id: i64, channel_id: i64) -> String {
    format!("{chat_id}/{channel_id}")
}

/// Queues the stored outbound message `message_id` (of `chat_id`, through `channel_id`).
pub fn message(db: &mut Db, message_id: i64, chat_id: i64, channel_id: i64, lane: Lane, now: i64) -> Result<i64> {
    let queue = message_queue(chat_id, channel_id);
    push(db, &queue, lane, channel_id, Some(message_id), None, None, now)
}

/// Queues `text` to `recipient` (a platform chat id) on `channel_id`, outside any
/// customer chat: a notification (`notification_id` gets the platform's message id, so
/// a reply to it finds its chat) or an answer to a link code.
pub fn text(
    db: &mut Db,
    channel_id: i64,
    recipient: &str,
    text: &str,
    notification_id: Option<i64>,
    now: i64,
) -> Result<i64> {
    let queue = format!("n{channel_id}/{recipient}");
    let to = Some((recipient, text));
    push(db, &queue, Lane::Live, channel_id, None, notification_id, to, now)
}

#[allow(clippy::too_many_arguments)]
fn push(
    db: &mut Db,
    queue: &str,
    lane: Lane,
    channel_id: i64,
    message_id: Option<i64>,
    notification_id: Option<i64>,
    to: Option<(&str, &str)>,
    now: i64,
) -> Result<i64> {
    lock_queue(db, queue)?;
    let head = db.query_opt("SELECT 1 FROM outbox WHERE queue = $1 LIMIT 1", params![queue])?.is_none();
    let id = db
        .query_one(
            "INSERT INTO outbox (queue, head, lane, channel_id, message_id, notification_id, recipient, text, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            params![
                queue,
                i64::from(head),
                lane as i64,
                channel_id,
                message_id,
                notification_id,
                to.map(|t| t.0),
                to.map(|t| t.1),
                now
            ],
        )?
        .get("id")?;
    db.wake(Wake::Outbox);
    Ok(id)
}

/// A row of `queue` has ended (sent or failed): it leaves, and the next one of its queue
/// becomes the head.
pub fn finish(db: &mut Db, id: i64, queue: &str) -> Result<()> {
    lock_queue(db, queue)?;
    db.exec("DELETE FROM outbox WHERE id = $1", params![id])?;
    db.exec(
        "UPDATE outbox SET head = 1 WHERE id = (SELECT MIN(id) FROM outbox WHERE queue = $1) AND head = 0",
        params![queue],
    )?;
    db.wake(Wake::Outbox);
    Ok(())
}

/// The one who adds to a queue and the one who promotes its next head must not miss each
/// other. SQLite has one writer; on PostgreSQL two transactions take turns per queue.
fn lock_queue(db: &mut Db, queue: &str) -> Result<()> {
    if db.backend() == Backend::Postgres {
        db.exec("SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext($1))", params![queue])?;
    }
    Ok(())
}

/// The recipient behind `identity_id` is back (a widget visitor opened a tab): their
/// parked messages can go now.
pub fn wake_identity(db: &mut Db, identity_id: i64, now: i64) -> Result<u64> {
    let n = db.exec(
        "UPDATE outbox SET parked = 0, due_at = $1 WHERE parked = 1 \
         AND message_id IN (SELECT id FROM messages WHERE identity_id = $2 AND state = $3)",
        params![now, identity_id, crate::model::MessageState::Queued],
    )?;
    if n > 0 {
        db.wake(Wake::Outbox);
    }
    Ok(n)
}
