//! The event log: every change appends a row with an increasing id, so a console
//! that reconnects with `after=ID` misses nothing.

use super::{Db, StoreError};
use crate::params;

/// One stored event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub chat_id: Option<i64>,
    /// The event's data as JSON text, exactly as stored.
    #[serde(skip)]
    pub data: String,
    pub at_ms: i64,
}

/// Appends an event in the current transaction; it is published after commit.
pub fn append(
    db: &mut Db,
    kind: &str,
    chat_id: Option<i64>,
    data: &(impl serde::Serialize + ?Sized),
    now_ms: i64,
) -> Result<i64, StoreError> {
    let data = serde_json::to_string(data).map_err(|e| StoreError::Decode(e.to_string()))?;
    let id = db
        .query_one(
            "INSERT INTO events (kind, chat_id, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            params![kind, chat_id, data.as_str(), now_ms],
        )?
        .i64(0);
    db.appended.push(EventRow { id, kind: kind.to_owned(), chat_id, data, at_ms: now_ms });
    Ok(id)
}

/// Events after `after`, oldest first, at most `limit`.
pub fn after(db: &mut Db, after: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    let rows = db.query(
        "SELECT id, kind, chat_id, data, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        params![after, limit],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| EventRow { id: r.i64(0), kind: r.str(1), chat_id: r.opt_i64(2), data: r.str(3), at_ms: r.i64(4) })
        .collect())
}

/// The newest event id, 0 when there is none.
pub fn last_id(db: &mut Db) -> Result<i64, StoreError> {
    Ok(db.query_one("SELECT COALESCE(MAX(id), 0) FROM events", &[])?.i64(0))
}
