//! The broadcasts' loop: starts scheduled broadcasts when their time comes (on the
//! app's clock), feeds those sending into the outbox, and tells the consoles how far
//! each has got, a few times a second at most, never once per recipient.
//!
//! All it knows lives in the `broadcasts` tables, so it resumes after a restart; with
//! several nodes each runs it, and every pass is one write transaction (the writers of
//! all nodes take turns), so no recipient is queued twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{control, feed};
use crate::clock::Clock;
use crate::error::Result;
use crate::model::{BroadcastState, Figures};
use crate::params;
use crate::store::{Store, Wake};

/// How often a sending broadcast is fed and its progress told.
const TICK: Duration = Duration::from_millis(200);
/// How often scheduled broadcasts are looked at when nothing is sending.
const IDLE: Duration = Duration::from_secs(1);

/// How often progress is told at most, however often the sender passes.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The figures last told per broadcast (an unchanged one is not told again), and when.
#[derive(Default)]
pub struct Told {
    figures: HashMap<i64, Figures>,
    at: Option<std::time::Instant>,
}

pub async fn run(store: Store, clock: Arc<dyn Clock>, depth: usize, shutdown: CancellationToken) {
    let mut told = Told::default();
    loop {
        let pass = match run_once(&store, &clock, depth, &mut told).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "broadcasts pass failed");
                feed::Pass::default()
            }
        };
        if pass.more {
            continue; // the outbox has room for more than a batch: fill it now
        }
        let wait = if pass.sending > 0 { TICK } else { IDLE };
        tokio::select! {
            _ = store.woken(Wake::Broadcasts) => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// One pass: scheduled starts, feeding, progress. Tests call it after moving a
/// [`crate::ManualClock`].
pub async fn run_once(store: &Store, clock: &Arc<dyn Clock>, depth: usize, told: &mut Told) -> Result<feed::Pass> {
    let now = clock.now_ms();
    // Apart, so that a scheduled start that fails (and is tried again next time) does
    // not hold up the broadcasts already sending.
    if let Err(e) = store.write(move |db| control::start_due(db, now)).await {
        tracing::warn!(error = %e, "a scheduled broadcast could not start; it is tried again");
    }
    let pass = store.write(move |db| feed::pass(db, depth, now)).await?;
    progress(store, now, told).await?;
    Ok(pass)
}

/// A `broadcast.updated` for each sending or paused broadcast whose figures moved.
async fn progress(store: &Store, now: i64, told: &mut Told) -> Result<()> {
    if told.at.is_some_and(|at| at.elapsed() < PROGRESS_EVERY) {
        return Ok(());
    }
    told.at = Some(std::time::Instant::now());
    let current = store
        .read(|db| -> Result<Vec<(i64, Figures)>> {
            let ids: Vec<i64> = crate::store::column(
                &db.query(
                    "SELECT id FROM broadcasts WHERE state IN ($1, $2)",
                    params![BroadcastState::Sending, BroadcastState::Paused],
                )?,
                "id",
            )?;
            ids.into_iter().map(|id| Ok((id, super::figures(db, id)?))).collect()
        })
        .await?;
    let moved: Vec<i64> = current.iter().filter(|(id, f)| told.figures.get(id) != Some(f)).map(|(id, _)| *id).collect();
    told.figures = current.into_iter().collect();
    if moved.is_empty() {
        return Ok(());
    }
    store
        .write(move |db| -> Result<()> {
            for id in &moved {
                super::announce(db, *id, now)?;
            }
            Ok(())
        })
        .await
}
