//! The record of every change of a chat's assignee, and the watch on chats the
//! distributor handed out until their assignee answers.

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
        .i64(0);
    match to {
        Some(operator) if reason.awaits_answer() => {
            db.exec(
                "INSERT INTO awaiting_answer (chat_id, operator_id, after_message_id, assigned_at) \
                 SELECT id, CAST($2 AS BIGINT), COALESCE(last_message_id, 0), CAST($3 AS BIGINT) FROM chats WHERE id = $1 \
                 ON CONFLICT (chat_id) DO UPDATE SET operator_id = excluded.operator_id, \
                 after_message_id = excluded.after_message_id, assigned_at = excluded.assigned_at",
                params![chat_id, operator, now],
            )?;
        }
        _ => {
            db.exec("DELETE FROM awaiting_answer WHERE chat_id = $1", params![chat_id])?;
        }
    }
    Ok(id)
}

/// Whether the chat's current conversation was already handed out (or transferred).
pub fn routed(db: &mut Db, conversation_id: i64) -> Result<bool> {
    Ok(db
        .query_opt("SELECT 1 FROM assignments WHERE conversation_id = $1 LIMIT 1", params![conversation_id])?
        .is_some())
}
