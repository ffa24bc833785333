//! The event log: every change appends a row with an increasing id, so a console
//! that reconnects with `after=ID` misses nothing. What an event is: [`Event`].
//!
//! Ids must become visible in increasing order, or a reader that has moved past id 10
//! would never see an id 9 committed after it. SQLite has one writer, so each row goes
//! in as it is appended. On PostgreSQL several writers (nodes, and connections of one
//! node) commit at once: a batch's events wait in the transaction and go in together at
//! its end ([`insert_pending`]), under a lock held only from that insert to COMMIT. The
//! rest of a write transaction runs beside the other nodes' (docs/DEPLOY.md).

use std::borrow::Cow;
use std::sync::Arc;

use super::{Backend, Db, StoreError};
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

/// The id of an event appended on PostgreSQL until its batch inserts it.
const PENDING: i64 = 0;

/// PostgreSQL advisory lock held from a batch's event insert to its COMMIT, so event ids
/// commit in order across nodes (keyed by the schema too, like every lock of Parley).
const EVENT_LOCK: i32 = 0x5041_524c;

/// Appends an event in the current transaction; it is published after commit. The one
/// way events are written: kind and data both come from `event`. Its id is known once
/// the transaction commits (on PostgreSQL it is assigned at the end of the batch).
pub fn append(db: &mut Db, chat_id: Option<i64>, event: Event<'_>, now_ms: i64) -> Result<(), StoreError> {
    let kind = event.kind().as_str();
    let data = event.data_json().map_err(|e| StoreError::Decode(e.to_string()))?;
    let id = match db.backend() {
        Backend::Sqlite => db
            .query_one(
                "INSERT INTO events (kind, chat_id, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                params![kind, chat_id, data.as_str(), now_ms],
            )?
            .get("id")?,
        Backend::Postgres => PENDING,
    };
    let typed = Some(Arc::new(event.into_static()));
    db.appended.push(EventRow { id, kind: kind.to_owned(), chat_id, data, at_ms: now_ms, typed });
    Ok(())
}

/// PostgreSQL, at the end of a batch: inserts the events its jobs appended, in the order
/// they were appended, in one statement that first waits for [`EVENT_LOCK`]. The lock is
/// held until COMMIT, so no transaction can take ids after these and commit before them.
/// (The lock comes first: the sort consumes every joined row, the lock's among them,
/// before any row reaches the insert and draws its id.)
pub(super) fn insert_pending(db: &mut Db) -> Result<(), StoreError> {
    if db.appended.is_empty() {
        return Ok(());
    }
    let mut appended = std::mem::take(&mut db.appended);
    let inserted = insert_all(db, &appended);
    if let Ok(ids) = &inserted {
        for (event, id) in appended.iter_mut().zip(ids) {
            event.id = *id;
        }
    }
    db.appended = appended;
    inserted.map(drop)
}

/// The statement of [`insert_pending`].
const INSERT_PENDING: &str = "WITH turn AS (SELECT pg_advisory_xact_lock(hashtext(current_schema()), $5)) \
     INSERT INTO events (kind, chat_id, data, created_at) \
     SELECT e.kind, e.chat_id, e.data, e.created_at FROM turn, \
       unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) \
         WITH ORDINALITY AS e(kind, chat_id, data, created_at, n) \
     ORDER BY e.n RETURNING id";

/// Inserts `events` in order; their ids, ascending.
fn insert_all(db: &mut Db, events: &[EventRow]) -> Result<Vec<i64>, StoreError> {
    let Some(pg) = db.pg() else { return Err(StoreError::Postgres("not PostgreSQL".into())) };
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let chats: Vec<Option<i64>> = events.iter().map(|e| e.chat_id).collect();
    let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    let at: Vec<i64> = events.iter().map(|e| e.at_ms).collect();
    let rows = pg.query(INSERT_PENDING, &[&kinds, &chats, &data, &at, &EVENT_LOCK])?;
    // Ids are drawn row after row in the sorted order: the smallest is the first appended.
    let mut ids: Vec<i64> = rows.iter().map(|r| r.get::<_, i64>(0)).collect();
    ids.sort_unstable();
    Ok(ids)
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

/// Events after `after` and before `before`, oldest first (what other nodes committed
/// below a batch this node just committed).
pub(super) fn between(db: &mut Db, after: i64, before: i64) -> Result<Vec<EventRow>, StoreError> {
    db.query(
        "SELECT id, kind, chat_id, data, created_at FROM events WHERE id > $1 AND id < $2 ORDER BY id LIMIT 10000",
        params![after, before],
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
