//! Console connections: counted per operator on this node, written as heartbeats for
//! the other nodes, and the grace period after which an Online or Away operator with
//! no console connected anywhere becomes Offline (logged like any status change).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::clock::Clock;
use crate::error::Result;
use crate::operators::{self, Status};
use crate::params;
use crate::store::Db;

/// Longest time between two heartbeats of a connected operator.
const HEARTBEAT_MS: i64 = 10_000;
/// A node's "console open" that old no longer counts: the node stopped without saying so.
const STALE_MS: i64 = 3 * HEARTBEAT_MS;

/// What a pass writes for one operator: when their console was last seen on this node,
/// and whether one is open here now.
#[derive(Debug, Clone, Copy)]
pub struct Beat {
    operator_id: i64,
    seen_at: i64,
    open: bool,
}

#[derive(Clone)]
pub struct Presence(Arc<Inner>);

struct Inner {
    /// This node's name in `console_presence`, new at each start.
    node: String,
    local: Mutex<HashMap<i64, Local>>,
    /// Bumped on every connect and disconnect, for those who wait on them.
    version: watch::Sender<u64>,
    last_beat: AtomicI64,
}

struct Local {
    open: usize,
    /// When the last connection closed.
    last_seen: i64,
    /// Changed since the last heartbeat.
    dirty: bool,
}

impl Default for Presence {
    fn default() -> Self {
        Presence(Arc::new(Inner {
            node: crate::operators::sessions::random_token()[..12].to_owned(),
            local: Mutex::new(HashMap::new()),
            version: watch::Sender::new(0),
            last_beat: AtomicI64::new(0),
        }))
    }
}

/// One open console connection; dropping it records the disconnection.
pub struct Connection {
    inner: Arc<Inner>,
    operator_id: i64,
    clock: Arc<dyn Clock>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let now = self.clock.now_ms();
        if let Ok(mut local) = self.inner.local.lock()
            && let Some(l) = local.get_mut(&self.operator_id)
        {
            l.open = l.open.saturating_sub(1);
            l.last_seen = now;
            l.dirty = true;
        }
        self.inner.version.send_modify(|v| *v += 1);
    }
}

impl Presence {
    /// Counts a console connection of `operator_id` until the returned guard is dropped.
    pub fn connect(&self, operator_id: i64, clock: Arc<dyn Clock>) -> Connection {
        let now = clock.now_ms();
        if let Ok(mut local) = self.0.local.lock() {
            let l = local.entry(operator_id).or_insert(Local { open: 0, last_seen: now, dirty: true });
            l.open += 1;
            l.dirty = true;
        }
        self.0.version.send_modify(|v| *v += 1);
        Connection { inner: self.0.clone(), operator_id, clock }
    }

    /// This node's name in `console_presence`.
    pub fn node(&self) -> &str {
        &self.0.node
    }

    /// Open console connections of the operator on this node.
    pub fn connections(&self, operator_id: i64) -> usize {
        self.0.local.lock().map(|l| l.get(&operator_id).map_or(0, |l| l.open)).unwrap_or(0)
    }

    /// Waits until the operator has exactly `n` connections on this node.
    pub async fn wait_for(&self, operator_id: i64, n: usize) {
        let mut changes = self.0.version.subscribe();
        while self.connections(operator_id) != n {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Operators with a console connected here.
    fn connected(&self) -> HashSet<i64> {
        self.0
            .local
            .lock()
            .map(|l| l.iter().filter(|(_, l)| l.open > 0).map(|(id, _)| *id).collect())
            .unwrap_or_default()
    }

    /// (operator, last seen) to write now: all connected operators when a heartbeat is
    /// due, and whoever connected or left since the last one. Forgets who left.
    fn beats(&self, now: i64, every_ms: i64) -> Vec<Beat> {
        let due = now - self.0.last_beat.load(Ordering::SeqCst) >= every_ms;
        let Ok(mut local) = self.0.local.lock() else { return Vec::new() };
        let mut out = Vec::new();
        for (id, l) in local.iter_mut() {
            if l.dirty || (due && l.open > 0) {
                let open = l.open > 0;
                out.push(Beat { operator_id: *id, seen_at: if open { now } else { l.last_seen }, open });
                l.dirty = false;
            }
        }
        local.retain(|_, l| l.open > 0);
        if due {
            self.0.last_beat.store(now, Ordering::SeqCst);
        }
        out
    }

    /// What a pass hands to [`expire`]: heartbeats to write and who is connected here.
    pub fn snapshot(&self, now: i64, grace_ms: i64) -> (Vec<Beat>, HashSet<i64>) {
        let every = if grace_ms > 0 { HEARTBEAT_MS.min(grace_ms / 3).max(1) } else { HEARTBEAT_MS };
        (self.beats(now, every), self.connected())
    }
}

/// Online or Away operators not connected here whose grace period ran out, with the
/// moment it did: their last console (on any node) closed `grace_ms` before, or they
/// changed status that long ago without ever connecting.
fn overdue(db: &mut Db, connected: &HashSet<i64>, grace_ms: i64, now: i64) -> Result<Vec<(i64, i64)>> {
    if grace_ms <= 0 {
        return Ok(Vec::new());
    }
    // Never seen in a console, or never changed status: that moment counts as 0 (long ago).
    let rows = db.query(
        "SELECT o.id, COALESCE(p.last_seen_at, 0) AS last_seen_at, \
         COALESCE((SELECT MAX(l.at) FROM operator_status_log l WHERE l.operator_id = o.id), 0) AS status_at \
         FROM operators o LEFT JOIN operator_presence p ON p.operator_id = o.id \
         WHERE o.status IN ('online', 'away') ORDER BY o.id",
        &[],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = r.get("id")?;
        let (seen, status_at): (i64, i64) = (r.get("last_seen_at")?, r.get("status_at")?);
        let deadline = seen.max(status_at) + grace_ms;
        if !connected.contains(&id) && deadline <= now {
            out.push((id, deadline));
        }
    }
    Ok(out)
}

/// Whether anyone is due to go Offline (a read, before taking a write).
pub fn any_overdue(db: &mut Db, connected: &HashSet<i64>, grace_ms: i64, now: i64) -> Result<bool> {
    Ok(!overdue(db, connected, grace_ms, now)?.is_empty())
}

/// Writes the heartbeats, then sets Offline whoever's grace period ran out; the status
/// log gets the moment it ran out.
pub fn expire(
    db: &mut Db,
    node: &str,
    beats: &[Beat],
    connected: &HashSet<i64>,
    grace_ms: i64,
    now: i64,
) -> Result<Vec<i64>> {
    for b in beats {
        db.exec(
            "INSERT INTO operator_presence (operator_id, last_seen_at) VALUES ($1, $2) \
             ON CONFLICT (operator_id) DO UPDATE SET last_seen_at = CASE \
             WHEN excluded.last_seen_at > operator_presence.last_seen_at THEN excluded.last_seen_at \
             ELSE operator_presence.last_seen_at END",
            params![b.operator_id, b.seen_at],
        )?;
        db.exec(
            "INSERT INTO console_presence (node, operator_id, open, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (node, operator_id) DO UPDATE SET open = excluded.open, seen_at = excluded.seen_at",
            params![node, b.operator_id, i64::from(b.open), b.seen_at],
        )?;
    }
    let mut out = Vec::new();
    for (id, deadline) in overdue(db, connected, grace_ms, now)? {
        operators::set_status(db, id, Status::Offline, deadline)?;
        tracing::info!(operator.id = id, grace_ms, "no console connected for the grace period: now Offline");
        out.push(id);
    }
    Ok(out)
}

/// Whether the operator has a console open on a node other than `node` (as that node
/// last said, within [`STALE_MS`]).
pub fn open_elsewhere(db: &mut Db, operator_id: i64, node: &str, now: i64) -> Result<bool> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM console_presence WHERE operator_id = $1 AND node <> $2 AND open > 0 AND seen_at >= $3",
            params![operator_id, node, now - STALE_MS],
        )?
        .is_some())
}
