//! The distributor's loop. It wakes on committed events that can change who should have
//! a chat (a chat opened or closed, a transfer, an operator's status) and once a second,
//! and each time runs one pass. The events it acts on come through a durable consumer
//! ([`Events`]), so none is missed when the live feed lags or the node restarts, and none
//! is acted on twice. Passes are idempotent: several nodes, or a test calling
//! [`run_once`] while the loop runs, hand nothing out twice.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::assign::Assigned;
use super::settings::Settings;
use super::{presence, queue, route};
use crate::app::App;
use crate::consumers::Consumer;
use crate::error::Result;
use crate::model::Status;
use crate::store::events::{Event, EventKind};
use crate::store::{Db, EventRow};

const SWEEP: Duration = Duration::from_secs(1);

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

    // Reopened chats and operators gone Offline, from the event log (a durable consumer).
    let handled = app.distribution.events.lock().await.catch_up(&app.store, &app.clock).await?;
    out.assigned.extend(handled.into_iter().flatten());

    // Answer timeouts are durable jobs; a pass runs those that are due.
    if periodic {
        crate::jobs::runner::run_due(&app.store, &app.clock, &app.jobs).await?;
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

    for a in &out.assigned {
        tracing::info!(chat.id = a.chat_id, operator.id = a.operator_id, reason = a.reason.as_str(), "chat assigned");
        metrics::counter!("parley_distribution_assigned_total", "reason" => a.reason.as_str()).increment(1);
    }
    Ok(out)
}

/// The distributor as an event consumer: a chat its contact reopened, an operator who
/// went Offline. Handled in the transaction that moves its position, so each event is
/// acted on once, also across restarts and nodes.
pub struct Events {
    pub settings: Settings,
}

impl Consumer for Events {
    const NAME: &'static str = "distribution";
    const KINDS: &'static [EventKind] = &[EventKind::ChatOpened, EventKind::OperatorUpdated];
    type Output = Vec<Assigned>;

    fn wants(&self, e: &EventRow) -> bool {
        match e.decode().as_deref() {
            Ok(Event::ChatOpened(o)) => o.reopened,
            Ok(Event::OperatorUpdated(u)) => u.operator.status == Status::Offline,
            Ok(_) => false,
            Err(err) => {
                tracing::warn!(event.id = e.id, error = %err, "distribution skips an unreadable event");
                false
            }
        }
    }

    fn handle(&self, db: &mut Db, events: &[EventRow], now: i64) -> Result<Vec<Assigned>> {
        let mut done = Vec::new();
        for e in events {
            match e.decode().as_deref() {
                Ok(Event::ChatOpened(o)) if o.reopened => {
                    if let Some(chat) = e.chat_id {
                        done.extend(route::reopened(db, &self.settings, chat, now)?);
                    }
                }
                Ok(Event::OperatorUpdated(u)) if u.operator.status == Status::Offline => {
                    done.extend(route::went_offline(db, &self.settings, u.operator.id, e.at_ms, now)?);
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(event.id = e.id, error = %err, "distribution skips an unreadable event"),
            }
        }
        Ok(done)
    }
}
