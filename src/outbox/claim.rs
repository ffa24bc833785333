//! Claiming sends: the heads of their queues that are due, not parked, on a channel
//! that is not paused, live lane first. A claim is a lease: the row stays in the
//! outbox (so the rest of its queue keeps waiting) and another node takes it only
//! after the lease has run out.

use parley_sdk::{Content, Outbound};

use super::queue::Lane;
use crate::error::Result;
use crate::model::AuthorKind;
use crate::params;
use crate::store::{Backend, Db, Row};

/// How long a claimed send is reserved for the node that claimed it. Longer than the
/// longest send (`[outbox] send_timeout_ms` is capped at half of it), so two
/// nodes never send the same row; a node that dies mid-send leaves it for this long.
pub const LEASE_MS: i64 = 120_000;

/// One claimed send.
#[derive(Debug)]
pub struct Send {
    pub id: i64,
    pub queue: String,
    pub lane: Lane,
    pub channel_id: i64,
    pub attempts: i64,
    pub what: What,
    pub outbound: Outbound,
}

#[derive(Debug)]
pub enum What {
    /// A customer chat's message; the identity is marked unreachable on a permanent refusal.
    /// `last_inbound_at`: when the contact last wrote on this channel (a reply window).
    Message {
        message_id: i64,
        chat_id: i64,
        identity_id: i64,
        unreachable: Option<String>,
        last_inbound_at: Option<i64>,
    },
    /// A text to a linked messenger chat.
    Text { notification_id: Option<i64> },
}

const SELECT: &str = "SELECT o.id, o.queue, o.lane, o.channel_id, o.attempts, o.parts_sent, o.message_id, \
    o.notification_id, o.recipient, o.text AS notice_text, o.created_at AS queued_at, m.chat_id, m.identity_id, \
    i.external_id, i.unreachable_reason, m.text, m.attachments, m.buttons, m.author_kind, op.name AS operator_name, \
    m.created_at, (SELECT MAX(mi.created_at) FROM messages mi WHERE mi.identity_id = m.identity_id \
    AND mi.direction = 'in') AS last_inbound_at FROM outbox o LEFT JOIN messages m ON m.id = o.message_id \
    LEFT JOIN identities i ON i.id = m.identity_id LEFT JOIN operators op ON op.id = m.operator_id";

/// Claims up to `live` sends of the live lane and up to `bulk` of the others (and never
/// more than `live` in all), leasing them until `now` + [`LEASE_MS`].
pub fn claim(db: &mut Db, now: i64, live: usize, bulk: usize) -> Result<Vec<Send>> {
    let mut rows = due(db, "o.lane = 0", now, live)?;
    let bulk = bulk.min(live.saturating_sub(rows.len()));
    if bulk > 0 {
        rows.extend(due(db, "o.lane > 0", now, bulk)?);
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = rows.iter().map(|r| r.get::<i64>("id").map(|id| id.to_string())).collect::<Result<Vec<_>, _>>()?;
    db.exec(&format!("UPDATE outbox SET lease_until = $1 WHERE id IN ({})", ids.join(",")), params![now + LEASE_MS])?;
    rows.iter().map(send).collect()
}

fn due(db: &mut Db, lanes: &str, now: i64, limit: usize) -> Result<Vec<Row>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let lock = if db.backend() == Backend::Postgres { " FOR UPDATE OF o SKIP LOCKED" } else { "" };
    Ok(db.query(
        &format!(
            "{SELECT} WHERE o.head = 1 AND {lanes} AND o.parked = 0 AND o.due_at <= $1 AND o.lease_until <= $1 \
             AND (o.lane <> 2 OR o.lease_until = 0) \
             AND NOT EXISTS (SELECT 1 FROM channel_pauses p WHERE p.channel_id = o.channel_id AND p.until > $1) \
             ORDER BY o.lane, o.id LIMIT $2{lock}"
        ),
        params![now, limit as i64],
    )?)
}

fn send(r: &Row) -> Result<Send> {
    let parts_sent = u32::try_from(r.get::<i64>("parts_sent")?).unwrap_or(0);
    let (what, outbound) = match r.get::<Option<i64>>("message_id")? {
        Some(message_id) => {
            let chat_id: i64 = r.get("chat_id")?;
            let content = Content {
                text: r.get("text")?,
                attachments: r.get_json::<Option<_>>("attachments")?.unwrap_or_default(),
                buttons: r.get_json::<Option<_>>("buttons")?.unwrap_or_default(),
                ..Content::default()
            };
            let what = What::Message {
                message_id,
                chat_id,
                identity_id: r.get("identity_id")?,
                unreachable: r.get("unreachable_reason")?,
                last_inbound_at: r.get("last_inbound_at")?,
            };
            let outbound = Outbound {
                message_id,
                chat_id,
                external_id: r.get("external_id")?,
                content,
                author_kind: r.get::<AuthorKind>("author_kind")?.as_str().to_owned(),
                author_name: r.get("operator_name")?,
                created_at: crate::clock::rfc3339(r.get("created_at")?),
                parts_sent,
            };
            (what, outbound)
        }
        None => {
            let outbound = Outbound {
                message_id: 0,
                chat_id: 0,
                external_id: r.get("recipient")?,
                content: Content::text(r.get::<String>("notice_text")?),
                author_kind: AuthorKind::System.as_str().into(),
                author_name: None,
                created_at: crate::clock::rfc3339(r.get("queued_at")?),
                parts_sent,
            };
            (What::Text { notification_id: r.get("notification_id")? }, outbound)
        }
    };
    Ok(Send {
        id: r.get("id")?,
        queue: r.get("queue")?,
        lane: Lane::from_i64(r.get("lane")?),
        channel_id: r.get("channel_id")?,
        attempts: r.get("attempts")?,
        what,
        outbound,
    })
}

/// Which heads [`next_due`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lanes {
    All,
    Live,
}

/// When the next claim could find something in `lanes`: the earliest head that is due
/// later, or whose lease or channel pause ends later. `None` when nothing waits on time.
pub fn next_due(db: &mut Db, lanes: Lanes) -> Result<Option<i64>> {
    let lanes = if lanes == Lanes::Live { " AND o.lane = 0" } else { "" };
    Ok(db
        .query_one(
            &format!(
                "SELECT MIN(CASE WHEN p.until > o.due_at AND p.until > o.lease_until THEN p.until \
                 WHEN o.lease_until > o.due_at THEN o.lease_until ELSE o.due_at END) AS next \
                 FROM outbox o LEFT JOIN channel_pauses p ON p.channel_id = o.channel_id \
                 WHERE o.head = 1 AND o.parked = 0{lanes}"
            ),
            &[],
        )?
        .get("next")?)
}

/// A restart of the only node (SQLite): what it had claimed can go again now. The
/// schedule (`due_at`: backoff, retry-after) is kept. A broadcast's sends are never
/// claimed again once their lease ran out (see `record::abandon`): whether the platform
/// took them cannot be known, and a contact must not get a broadcast twice.
pub fn release_leases(db: &mut Db) -> Result<u64> {
    Ok(db.exec("UPDATE outbox SET lease_until = 0 WHERE lease_until > 0 AND lane <> 2", &[])?)
}
