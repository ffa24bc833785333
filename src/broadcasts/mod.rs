//! Broadcasts: one message to an audience of contacts, never doubled, never silently
//! dropped.
//!
//! - [`audience`]: the filter → one identity per contact, or the reason it is skipped;
//!   the preview's counts.
//! - [`control`]: create, start (the recipient rows are written, all of them, before
//!   anything is sent), pause, resume, cancel, resend the unknown.
//! - [`feed`]: the sender's pass: recipients go into the outbox's broadcast lane in
//!   batches, the outbox kept at a bounded depth, so memory stays flat and a pause acts
//!   at once; their messages enter the contacts' chats (author `broadcast`) without
//!   reopening a closed chat or making it unread.
//! - [`follow`]: a recipient follows its message (sent, delivered, read, failed,
//!   blocked) in the transaction that changes the message; a send in flight when
//!   Parley stopped leaves it `unknown`, never re-sent by itself.
//! - [`optout`]: `/stop`, the unsubscribe words and button (an ingest hook).
//! - [`worker`]: the loop: scheduled starts, feeding, a few progress events a second.

pub mod audience;
pub mod control;
pub mod export;
pub mod feed;
pub mod follow;
pub mod optout;
pub mod schedule;
pub mod worker;

use crate::error::Result;
use crate::model::{Broadcast, BroadcastState, Figures, ReasonCount, RecipientState, Time};
use crate::params;
use crate::store::{Db, Row};

const SELECT: &str = "SELECT id, name, content, audience, state, send_at, time_zone, rate_per_second, \
    created_at, started_at, finished_at FROM broadcasts";

/// One broadcast with its figures and reasons.
pub fn get(db: &mut Db, id: i64) -> Result<Broadcast> {
    let row = db
        .query_opt(&format!("{SELECT} WHERE id = $1"), params![id])?
        .ok_or_else(|| crate::error::not_found("broadcast", id))?;
    let mut b = from_row(&row)?;
    b.figures = figures(db, id)?;
    b.reasons = reasons(db, id)?;
    Ok(b)
}

/// Broadcasts, newest first (figures included, reasons only in [`get`]).
pub fn list(db: &mut Db, limit: i64) -> Result<Vec<Broadcast>> {
    let rows = db.query(&format!("{SELECT} ORDER BY id DESC LIMIT $1"), params![limit.clamp(1, 200)])?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    for b in &mut out {
        b.figures = figures(db, b.id)?;
    }
    Ok(out)
}

/// The state of broadcast `id`, for the controls' checks.
pub fn state(db: &mut Db, id: i64) -> Result<BroadcastState> {
    Ok(db
        .query_opt("SELECT state FROM broadcasts WHERE id = $1", params![id])?
        .ok_or_else(|| crate::error::not_found("broadcast", id))?
        .get("state")?)
}

/// How many recipients are in each state (one index range: cheap at 100,000).
pub fn figures(db: &mut Db, id: i64) -> Result<Figures> {
    let rows = db.query(
        "SELECT state, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = $1 GROUP BY state",
        params![id],
    )?;
    let mut f = Figures::default();
    for r in rows {
        f.add(r.get::<RecipientState>("state")?, r.get("n")?);
    }
    Ok(f)
}

/// The most frequent reasons recipients failed, were blocked, skipped or left unknown.
pub fn reasons(db: &mut Db, id: i64) -> Result<Vec<ReasonCount>> {
    let rows = db.query(
        "SELECT state, reason, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = $1 \
         AND reason IS NOT NULL GROUP BY state, reason ORDER BY COUNT(*) DESC, reason LIMIT 20",
        params![id],
    )?;
    rows.iter()
        .map(|r| Ok(ReasonCount { count: r.get("n")?, reason: r.get("reason")?, state: r.get("state")? }))
        .collect()
}

fn from_row(r: &Row) -> Result<Broadcast> {
    let time = |name: &str| -> Result<Option<Time>> { Ok(r.get::<Option<i64>>(name)?.map(Time)) };
    Ok(Broadcast {
        audience: r.get_json("audience")?,
        content: r.get_json("content")?,
        created_at: Time(r.get("created_at")?),
        figures: Figures::default(),
        finished_at: time("finished_at")?,
        id: r.get("id")?,
        name: r.get("name")?,
        rate_per_second: r.get("rate_per_second")?,
        reasons: Vec::new(),
        send_at: time("send_at")?,
        started_at: time("started_at")?,
        state: r.get("state")?,
        time_zone: r.get("time_zone")?,
    })
}

/// Appends `broadcast.updated` with the broadcast as it is now.
pub fn announce(db: &mut Db, id: i64, now: i64) -> Result<Broadcast> {
    let b = get(db, id)?;
    crate::store::events::append(db, None, crate::model::Event::broadcast_updated(&b), now)?;
    Ok(b)
}
