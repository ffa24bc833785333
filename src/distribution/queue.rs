//! The queue: open chats with no assignee, oldest opening first. Those on channels with
//! distribution on are handed out in that order as soon as an Online operator has room.

use std::collections::HashMap;

use serde::Serialize;

use super::assign::{Assigned, assign};
use super::policy;
use super::settings::Settings;
use crate::error::Result;
use crate::inbox::assignments::Reason;
use crate::inbox::views::{self, CHAT_SELECT};
use crate::model::{Chat, Time};
use crate::params;
use crate::store::{Db, Value, column};

/// Most chats handed out in one write job; the worker runs another if more wait.
pub const DRAIN_BATCH: i64 = 100;

/// Open, unassigned chats a human answers, with when their conversation opened and
/// whether their channel distributes; oldest first.
const WAITING: &str = "SELECT c.id, v.opened_at, COALESCE(dc.distribution, 1) AS distribution FROM chats c \
    JOIN conversations v ON v.id = c.conversation_id \
    LEFT JOIN channels dc ON dc.id = COALESCE(v.channel_id, c.active_channel_id) \
    WHERE c.assignee_id IS NULL AND c.status = 'open' AND c.handler = 'human'";

/// The first `limit` chats waiting to be handed out.
pub fn head(db: &mut Db, limit: i64) -> Result<Vec<i64>> {
    let rows = db.query(
        &format!("{WAITING} AND COALESCE(dc.distribution, 1) = 1 ORDER BY v.opened_at, c.id LIMIT $1"),
        params![limit],
    )?;
    Ok(column(&rows, "id")?)
}

/// Whether a chat waits and an Online operator has room for it (a read, before taking
/// a write). A pass runs after each batch of ingest, so this is asked often: cheapest
/// question first, and "is there one" without [`head`]'s sort of every waiting chat.
pub fn can_drain(db: &mut Db, settings: &Settings) -> Result<bool> {
    let waiting = db.query_opt("SELECT 1 FROM chats WHERE assignee_id IS NULL AND status = 'open' LIMIT 1", &[])?;
    Ok(waiting.is_some()
        && policy::choose(settings, &policy::candidates(db)?, None).is_some()
        && db.query_opt(&format!("{WAITING} AND COALESCE(dc.distribution, 1) = 1 LIMIT 1"), &[])?.is_some())
}

/// Hands out waiting chats in arrival order while an Online operator has room; at most
/// [`DRAIN_BATCH`] per call.
pub fn drain(db: &mut Db, settings: &Settings, now: i64) -> Result<Vec<Assigned>> {
    let waiting = head(db, DRAIN_BATCH)?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    policy::take_turn(db)?;
    let mut candidates = policy::candidates(db)?;
    let mut out = Vec::new();
    for chat_id in waiting {
        let Some(operator) = policy::choose(settings, &candidates, None) else { break };
        if let Some(a) = assign(db, chat_id, None, Some(operator), Reason::Policy, None, now)? {
            policy::took(&mut candidates, operator, a.record_id);
            out.push(a);
        }
    }
    Ok(out)
}

/// The queue as the console shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queue {
    pub chats: Vec<Waiting>,
    pub online_operators: i64,
    pub total: i64,
}

/// A chat in the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    #[serde(flatten)]
    pub chat: Chat,
    /// Whether its channel hands chats out automatically.
    pub distribution: bool,
    /// When its conversation opened.
    pub waiting_since: Time,
}

/// Every open chat without an assignee, oldest first.
pub fn list(db: &mut Db, limit: i64) -> Result<Queue> {
    let rows = db.query(&format!("{WAITING} ORDER BY v.opened_at, c.id LIMIT $1"), params![limit.clamp(1, 500)])?;
    let total = db
        .query_one(
            "SELECT COUNT(*) AS n FROM chats c WHERE c.assignee_id IS NULL AND c.status = 'open' AND c.handler = 'human'",
            &[],
        )?
        .get("n")?;
    let online = db.query_one("SELECT COUNT(*) AS n FROM operators WHERE status = 'online'", &[])?.get("n")?;
    let mut chats = Vec::new();
    if !rows.is_empty() {
        let ids: Vec<Value> = column::<i64>(&rows, "id")?.into_iter().map(Value::Int).collect();
        let sql = format!("{CHAT_SELECT} WHERE c.id IN ({})", views::placeholders(1, ids.len()));
        let found = db.query(&sql, &ids)?;
        let mut by_id: HashMap<i64, Chat> = views::chats_from(db, &found)?.into_iter().map(|c| (c.id, c)).collect();
        for r in &rows {
            if let Some(chat) = by_id.remove(&r.get::<i64>("id")?) {
                chats.push(Waiting { chat, waiting_since: r.get("opened_at")?, distribution: r.get("distribution")? });
            }
        }
    }
    Ok(Queue { chats, total, online_operators: online })
}
