//! The distributor's loop. It wakes on committed events that can change who should have
//! a chat (a chat opened or closed, a transfer, an operator's status) and once a second,
//! and each time runs one pass. Events are read back from the event table after a
//! watermark, so none is missed when the live feed lags or the node restarts. Passes
//! are idempotent: the same event handled on several nodes, or by a test calling
//! [`run_once`] while the loop runs, hands nothing out twice.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::assign::Assigned;
use super::{presence, queue, route};
use crate::app::App;
use crate::error::Result;
use crate::model::Status;
use crate::params;
use crate::store::events::{self, Event, EventKind};

const SWEEP: Duration = Duration::from_secs(1);
const WATERMARK: &str = "distribution.last_event";

/// What one pass did.
#[derive(Debug, Default, Serialize)]
pub struct Pass {
    pub assigned: Vec<Assigned>,
    /// Operators set Offline because no console was connected for the grace period.
    pub went_offline: Vec<i64>,
}

/// Runs until shutdown.
pub async fn run(app: App) {
    let mut live = app.store.subscribe();
    let mut ticker = tokio::time::interval(SWEEP);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let periodic = tokio::select! {
            _ = ticker.tick() => true,
            e = live.recv() => match e {
                Ok(e) if e.event_kind().is_some_and(wakes) => false,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => false,
                Err(RecvError::Closed) => return,
            },
            _ = app.shutdown.cancelled() => return,
        };
        // One pass covers whatever else is queued by now.
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = live.try_recv() {}
        if let Err(e) = pass(&app, periodic).await {
            if app.shutdown.is_cancelled() {
                return;
            }
            tracing::warn!(error = %e, "distribution pass failed");
        }
    }
}

/// One full pass now: presence and grace period, new events, answer timeouts, the
/// queue. Tests call it after moving the clock instead of waiting for the loop.
pub async fn run_once(app: &App) -> Result<Pass> {
    pass(app, true).await
}

fn wakes(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::ChatOpened | EventKind::ChatUpdated | EventKind::ChatTransferred | EventKind::OperatorUpdated
    )
}

/// What an event asks of the distributor.
enum Todo {
    Reopened(i64),
    Offline { operator: i64, at: i64 },
}

async fn pass(app: &App, periodic: bool) -> Result<Pass> {
    let settings = app.config.distribution.clone();
    let mut out = Pass::default();
    // Each step reads first and takes a write only when there is something to do, so an
    // idle hub costs a few reads a second and no transaction.
    if periodic {
        let now = app.now();
        let grace_ms = settings.offline_grace_seconds * 1000;
        let (beats, connected) = app.distribution.presence.snapshot(now, grace_ms);
        let here = connected.clone();
        let overdue = app.store.read(move |db| presence::any_overdue(db, &here, grace_ms, now)).await?;
        if overdue || !beats.is_empty() {
            let node = app.distribution.presence.node().to_owned();
            out.went_offline =
                app.store.write(move |db| presence::expire(db, &node, &beats, &connected, grace_ms, now)).await?;
        }
    }

    let (todo, last) = new_events(app).await?;
    if !todo.is_empty() {
        let (s, now) = (settings.clone(), app.now());
        let done = app
            .store
            .write(move |db| -> Result<Vec<Assigned>> {
                let mut done = Vec::new();
                for t in todo {
                    match t {
                        Todo::Reopened(chat) => done.extend(route::reopened(db, &s, chat, now)?),
                        Todo::Offline { operator, at } => done.extend(route::went_offline(db, &s, operator, at, now)?),
                    }
                }
                Ok(done)
            })
            .await?;
        out.assigned.extend(done);
    }

    let (s, now) = (settings.clone(), app.now());
    if periodic && app.store.read(move |db| route::any_unanswered(db, &s, now)).await? {
        let s = settings.clone();
        out.assigned.extend(app.store.write(move |db| route::unanswered(db, &s, now)).await?);
    }

    loop {
        let s = settings.clone();
        if !app.store.read(move |db| queue::can_drain(db, &s)).await? {
            break;
        }
        let (s, now) = (settings.clone(), app.now());
        let given = app.store.write(move |db| queue::drain(db, &s, now)).await?;
        let more = given.len() as i64 == queue::DRAIN_BATCH;
        out.assigned.extend(given);
        if !more {
            break;
        }
    }

    app.distribution.watermark.fetch_max(last, Ordering::SeqCst);
    if periodic && last > app.distribution.saved.load(Ordering::SeqCst) {
        app.store
            .write(move |db| {
                db.exec("UPDATE worker_state SET value = $1 WHERE name = $2 AND value < $1", params![last, WATERMARK])
            })
            .await?;
        app.distribution.saved.fetch_max(last, Ordering::SeqCst);
    }
    for a in &out.assigned {
        tracing::info!(chat.id = a.chat_id, operator.id = a.operator_id, reason = a.reason.as_str(), "chat assigned");
        metrics::counter!("parley_distribution_assigned_total", "reason" => a.reason.as_str()).increment(1);
    }
    Ok(out)
}

/// Reads the events after the watermark; returns what they ask for and the new
/// watermark. The newest id is read first, then only the kinds that matter up to it:
/// event ids commit in order, so nothing at or below it can still appear later.
async fn new_events(app: &App) -> Result<(Vec<Todo>, i64)> {
    let mut after = app.distribution.watermark.load(Ordering::SeqCst);
    if after == 0 {
        after = app
            .store
            .read(|db| -> Result<i64> {
                Ok(db
                    .query_opt("SELECT value FROM worker_state WHERE name = $1", params![WATERMARK])?
                    .map_or(0, |r| r.i64(0)))
            })
            .await?;
        app.distribution.saved.fetch_max(after, Ordering::SeqCst);
    }
    let newest = app.store.read(events::last_id).await?;
    if newest <= after {
        return Ok((Vec::new(), after));
    }
    let kinds = [EventKind::ChatOpened, EventKind::OperatorUpdated];
    let rows = app.store.read(move |db| events::of_kinds(db, &kinds, after, newest)).await?;
    let mut todo = Vec::new();
    for r in rows {
        match r.decode().as_deref() {
            Ok(Event::ChatOpened(e)) if e.reopened => todo.extend(r.chat_id.map(Todo::Reopened)),
            Ok(Event::OperatorUpdated(e)) if e.operator.status == Status::Offline => {
                todo.push(Todo::Offline { operator: e.operator.id, at: r.at_ms });
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(event.id = r.id, error = %err, "distribution skips an unreadable event"),
        }
    }
    Ok((todo, newest))
}
