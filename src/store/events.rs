//! The event log: every change appends a row with an increasing id, so a console
//! that reconnects with `after=ID` misses nothing. What an event is: [`Event`].

use std::borrow::Cow;
use std::sync::Arc;

use super::{Db, StoreError};
pub use crate::model::event::{self as kinds, DecodeError, Event, EventKind};
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
    /// The event itself, when it was appended on this node: its consumers here get it
    /// without parsing the data again. Under load the copy (on the writer) measured about
    /// as costly as the parse it saves (docs/BENCHMARKS.md); `None` here would parse.
    #[serde(skip)]
    pub typed: Option<Arc<Event<'static>>>,
}

impl EventRow {
    /// A row read back from the table, or a frame that only looks like one.
    pub fn stored(id: i64, kind: String, chat_id: Option<i64>, data: String, at_ms: i64) -> Self {
        EventRow { id, kind, chat_id, data, at_ms, typed: None }
    }

    /// The event as its type; an error for a kind this node does not know.
    pub fn decode(&self) -> Result<Cow<'_, Event<'static>>, DecodeError> {
        match &self.typed {
            Some(event) => Ok(Cow::Borrowed(event)),
            None => Event::decode(&self.kind, &self.data).map(Cow::Owned),
        }
    }

    /// Only the kind, without reading the data (cheap, for filtering).
    pub fn event_kind(&self) -> Option<EventKind> {
        EventKind::parse(&self.kind).ok()
    }
}

/// Appends an event in the current transaction; it is published after commit. The one
/// way events are written: kind and data both come from `event`.
pub fn append(db: &mut Db, chat_id: Option<i64>, event: Event<'_>, now_ms: i64) -> Result<i64, StoreError> {
    let kind = event.kind().as_str();
    let data = event.data_json().map_err(|e| StoreError::Decode(e.to_string()))?;
    let id = db
        .query_one(
            "INSERT INTO events (kind, chat_id, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            params![kind, chat_id, data.as_str(), now_ms],
        )?
        .get("id")?;
    let typed = Some(Arc::new(event.into_static()));
    db.appended.push(EventRow { id, kind: kind.to_owned(), chat_id, data, at_ms: now_ms, typed });
    Ok(id)
}

fn from_row(r: &super::Row) -> Result<EventRow, StoreError> {
    Ok(EventRow::stored(r.get("id")?, r.get("kind")?, r.get("chat_id")?, r.get("data")?, r.get("created_at")?))
}

/// Events after `after`, oldest first, at most `limit`.
pub fn after(db: &mut Db, after: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    db.query(
        "SELECT id, kind, chat_id, data, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        params![after, limit],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// Events of the given kinds after `after` and up to `upto`, oldest first, at most `limit`.
pub fn of_kinds(
    db: &mut Db,
    kinds: &[EventKind],
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let list = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
    db.query(
        &format!(
            "SELECT id, kind, chat_id, data, created_at FROM events WHERE id > $1 AND id <= $2 \
             AND kind IN ({list}) ORDER BY id LIMIT $3"
        ),
        params![after, upto, limit],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// The newest event id, 0 when there is none.
pub fn last_id(db: &mut Db) -> Result<i64, StoreError> {
    db.query_one("SELECT COALESCE(MAX(id), 0) AS last FROM events", &[])?.get("last")
}
