//! The figures of a conversation, written once in the transaction that closes it: a
//! closed conversation never changes, so reports read one small row each instead of
//! counting messages again.

use std::collections::BTreeSet;

use crate::error::Result;
use crate::model::{Direction, MessageKind, Reason};
use crate::params;
use crate::store::Db;

/// Records the figures of the chat's open conversation, which is being closed now
/// (its `closed_at` is already set). Called by [`super::chats::close`]; reports read them.
pub fn record_closed(db: &mut Db, chat_id: i64) -> Result<()> {
    let Some(v) = db.query_opt(
        "SELECT v.id, c.contact_id, v.channel_id, c.assignee_id, v.closed_by, v.opened_at, v.first_reply_at, \
         v.closed_at, v.reopened FROM chats c JOIN conversations v ON v.id = c.conversation_id \
         WHERE c.id = $1 AND v.closed_at IS NOT NULL",
        params![chat_id],
    )?
    else {
        return Ok(());
    };
    let conversation: i64 = v.get("id")?;
    let (opened, closed): (i64, i64) = (v.get("opened_at")?, v.get("closed_at")?);
    // NULL until an operator answers: the stats keep it NULL (never answered), not 0.
    let first_reply: Option<i64> = v.get("first_reply_at")?;
    let (assignee, closed_by): (Option<i64>, Option<i64>) = (v.get("assignee_id")?, v.get("closed_by")?);
    let (mut messages_in, mut messages_out, mut notes) = (0, 0, 0);
    // Involved: the assignee at close, whoever closed it, wrote in it, or held it.
    let mut involved = BTreeSet::new();
    involved.extend(assignee);
    involved.extend(closed_by);
    for r in db.query(
        "SELECT kind, direction, operator_id, COUNT(*) AS n FROM messages WHERE chat_id = $1 AND conversation_id = $2 \
         GROUP BY kind, direction, operator_id",
        params![chat_id, conversation],
    )? {
        let n: i64 = r.get("n")?;
        match (r.get::<MessageKind>("kind")?, r.get::<Direction>("direction")?) {
            (MessageKind::Note, _) => notes += n,
            (MessageKind::Message, Direction::In) => messages_in += n,
            (MessageKind::Message, Direction::Out) => messages_out += n,
        }
        involved.extend(r.get::<Option<i64>>("operator_id")?);
    }
    let mut transfers = 0;
    for r in db.query(
        "SELECT operator_id, from_operator_id, reason FROM assignments WHERE conversation_id = $1",
        params![conversation],
    )? {
        involved.extend(r.get::<Option<i64>>("operator_id")?);
        involved.extend(r.get::<Option<i64>>("from_operator_id")?);
        transfers += i64::from(r.get::<Reason>("reason")? == Reason::Transfer);
    }
    let operators = serde_json::to_string(&involved).unwrap_or_else(|_| "[]".into());
    db.exec(
        "INSERT INTO conversation_stats (conversation_id, chat_id, contact_id, channel_id, operator_id, closed_by, \
         opened_at, first_reply_at, closed_at, first_reply_ms, close_ms, messages_in, messages_out, notes, transfers, \
         reopened, operators) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (conversation_id) DO NOTHING",
        params![
            conversation,
            chat_id,
            v.get::<i64>("contact_id")?,
            v.get::<Option<i64>>("channel_id")?,
            assignee,
            closed_by,
            opened,
            first_reply,
            closed,
            first_reply.map(|t| t - opened),
            closed - opened,
            messages_in,
            messages_out,
            notes,
            transfers,
            v.get::<i64>("reopened")?,
            operators
        ],
    )?;
    Ok(())
}
