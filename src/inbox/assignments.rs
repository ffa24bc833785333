//! Assignments: the record of every change of a chat's assignee (a transfer by hand,
//! or a hand-out by the distributor), and the watch on chats handed out until their
//! assignee answers. In the inbox, so that a transfer need not know the distributor.

use crate::error::Result;
use crate::params;
use crate::store::Db;

pub use crate::model::Reason;

/// Records that `chat_id` went from `from` to `to` (None: the queue); returns the
/// record's id, which increases with every hand-out (round robin orders by it).
pub fn record(
    db: &mut Db,
    chat_id: i64,
    to: Option<i64>,
    from: Option<i64>,
    by: Option<i64>,
    reason: Reason,
    now: i64,
) -> Result<i64> {
    let id = db
        .query_one(
            "INSERT INTO assignments (chat_id, conversation_id, operator_id, from_operator_id, by_operator_id, reason, at) \
             SELECT id, conversation_id, CAST($2 AS BIGINT), CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS TEXT), \
             CAST($6 AS BIGINT) FROM chats WHERE id = $1 RETURNING id",
            params![chat_id, to, from, by, reason, now],
        )?
        .get("id")?;
    match to {
        Some(operator) if reason.awaits_answer() => watch(db, chat_id, operator, now)?,
        _ => unwatch(db, chat_id)?,
    }
    Ok(id)
}

/// What an answer-timeout job watches (the distributor's handler runs it).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Watch {
    pub chat_id: i64,
    pub operator_id: i64,
    /// The chat's last message when it was handed out: an answer comes after it.
    pub after_message_id: i64,
    pub assigned_at: i64,
}

fn watch_key(chat_id: i64) -> String {
    format!("answer_timeout/{chat_id}")
}

/// Starts watching `chat_id`, just handed to `operator_id`, for an answer (replacing an
/// earlier watch). The job runs at once and puts itself off until the timeout
/// configured then.
fn watch(db: &mut Db, chat_id: i64, operator_id: i64, now: i64) -> Result<()> {
    // A chat with no message yet (or none at all) waits for any message: after id 0.
    let after_message_id: i64 =
        match db.query_opt("SELECT last_message_id FROM chats WHERE id = $1", params![chat_id])? {
            Some(r) => r.get::<Option<i64>>("last_message_id")?.unwrap_or(0),
            None => 0,
        };
    let w = Watch { chat_id, operator_id, after_message_id, assigned_at: now };
    crate::jobs::schedule(db, crate::jobs::Kind::AnswerTimeout, &watch_key(chat_id), &w, now, now)
}

/// The chat was moved by hand or went to the queue: nothing to watch.
fn unwatch(db: &mut Db, chat_id: i64) -> Result<()> {
    crate::jobs::cancel(db, &watch_key(chat_id))?;
    Ok(())
}

/// Whether the chat's current conversation was already handed out (or transferred).
pub fn routed(db: &mut Db, conversation_id: i64) -> Result<bool> {
    Ok(db
        .query_opt("SELECT 1 FROM assignments WHERE conversation_id = $1 LIMIT 1", params![conversation_id])?
        .is_some())
}
