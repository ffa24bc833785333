//! The outbox worker: claims what may go as slots free up and sends each claimed row in
//! a task of its own (the top layer: it runs on the whole app).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::queue::Lane;
use super::{attempt, claim, record};
use crate::app::App;
use crate::error::Result;
use crate::store::{Backend, Wake};

/// How often leases that ran out on broadcast sends are looked for: such a head looks
/// due to `next_due`, so it is cleared soon (a cheap look at the broadcast lane's heads).
const ABANDON_EVERY_MS: i64 = 1_000;

/// Runs until shutdown: claims what may go as slots free up, sends each claimed row in
/// a task of its own, and sleeps until woken by a commit, a finished send or the next
/// due time.
pub async fn run(app: App) {
    if app.store.backend() == Backend::Sqlite {
        // The only node: whatever it had claimed before it stopped can go again, except
        // broadcasts' sends, which become unknown.
        let now = app.now();
        let released = app.store.write(move |db| {
            record::abandon(db, true, now)?;
            claim::release_leases(db)
        });
        if let Err(e) = released.await {
            tracing::error!(error = %e, "cannot release the outbox's leases");
        }
    }
    let slots = Arc::new(Slots::new(app.config.outbox.concurrency));
    let mut abandoned_at = i64::MIN / 2;
    loop {
        // Another node's broadcast sends whose lease ran out: looked for now and then,
        // since a lease lasts minutes.
        if app.now() - abandoned_at >= ABANDON_EVERY_MS {
            abandoned_at = app.now();
            let now = abandoned_at;
            if let Err(e) = app.store.write(move |db| record::abandon(db, false, now)).await {
                tracing::error!(error = %e, "cannot look for abandoned broadcast sends");
            }
        }
        let claimed = match claim_and_send(&app, &slots).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "outbox pass failed");
                0
            }
        };
        if claimed > 0 && slots.free(Lane::Live) > 0 {
            continue;
        }
        let wait = if slots.free(Lane::Live) == 0 {
            Duration::from_secs(5) // a finished send wakes us
        } else {
            // With the bulk lanes full, a finished send wakes us before a bulk head could
            // go; only live heads need a timer (and reading them leaves the thousands of
            // heads a broadcast queues unread, once per send).
            let lanes = if slots.free(Lane::Bot) > 0 { claim::Lanes::All } else { claim::Lanes::Live };
            let now = app.now();
            let next = app.store.read(move |db| claim::next_due(db, lanes)).await.ok().flatten();
            next.map_or(Duration::from_secs(5), |t| Duration::from_millis((t - now).clamp(5, 5_000) as u64))
        };
        tokio::select! {
            _ = app.store.woken(Wake::Outbox) => {}
            _ = tokio::time::sleep(wait) => {}
            _ = app.shutdown.cancelled() => return,
        }
    }
}

/// Sends everything that may go now and waits for the results; returns how many sends
/// were attempted. For tests, which move a [`crate::ManualClock`] instead of waiting.
pub async fn run_once(app: &App) -> Result<usize> {
    let slots = Arc::new(Slots::new(app.config.outbox.concurrency));
    let mut total = 0;
    loop {
        let n = claim_and_send(app, &slots).await?;
        if n == 0 && slots.busy() == 0 {
            return Ok(total);
        }
        total += n;
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn claim_and_send(app: &App, slots: &Arc<Slots>) -> Result<usize> {
    let (live, bulk) = (slots.free(Lane::Live), slots.free(Lane::Bot));
    if live == 0 {
        return Ok(0);
    }
    let now = app.now();
    let sends = app.store.write(move |db| claim::claim(db, now, live, bulk)).await?;
    let n = sends.len();
    for send in sends {
        slots.take(send.lane);
        let (app, slots) = (app.clone(), slots.clone());
        tokio::spawn(async move {
            let lane = send.lane;
            let outcome = attempt::attempt(&app, &send).await;
            let kind = match app.channel_cache.get(&app.store, send.channel_id).await {
                Ok(c) => c.channel.kind.clone(),
                Err(_) => "unknown".to_owned(),
            };
            metrics::counter!("parley_outbox_attempts_total", "kind" => kind, "result" => outcome_name(&outcome))
                .increment(1);
            let (max, now) = (app.config.outbox.max_attempts, app.now());
            if let Err(e) = app.store.write(move |db| record::record(db, &send, outcome, max, now)).await {
                tracing::error!(error = %e, "cannot record a delivery result");
            }
            slots.give_back(lane);
            app.store.wake(Wake::Outbox);
        });
    }
    Ok(n)
}

fn outcome_name(o: &attempt::Outcome) -> &'static str {
    match o {
        attempt::Outcome::Sent(_) => "sent",
        attempt::Outcome::Retry { .. } => "retry",
        attempt::Outcome::Park => "parked",
        attempt::Outcome::Failed { .. } => "failed",
        attempt::Outcome::Broken { .. } => "channel_broken",
    }
}

/// Sends in flight. Bots and broadcasts together may hold all but a reserve, so an
/// operator's reply always finds a slot.
pub struct Slots {
    total: usize,
    bulk_max: usize,
    live: AtomicUsize,
    bulk: AtomicUsize,
}

impl Slots {
    pub fn new(total: usize) -> Slots {
        let total = total.max(2);
        let reserve = (total / 4).max(1);
        Slots { total, bulk_max: total - reserve, live: AtomicUsize::new(0), bulk: AtomicUsize::new(0) }
    }

    /// How many more sends of `lane` may start now.
    pub fn free(&self, lane: Lane) -> usize {
        let (live, bulk) = (self.live.load(Ordering::SeqCst), self.bulk.load(Ordering::SeqCst));
        let all = self.total.saturating_sub(live + bulk);
        if lane.is_bulk() { all.min(self.bulk_max.saturating_sub(bulk)) } else { all }
    }

    fn busy(&self) -> usize {
        self.live.load(Ordering::SeqCst) + self.bulk.load(Ordering::SeqCst)
    }

    fn counter(&self, lane: Lane) -> &AtomicUsize {
        if lane.is_bulk() { &self.bulk } else { &self.live }
    }

    fn take(&self, lane: Lane) {
        self.counter(lane).fetch_add(1, Ordering::SeqCst);
    }

    fn give_back(&self, lane: Lane) {
        self.counter(lane).fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_lanes_leave_a_reserve_for_live_sends() {
        let slots = Slots::new(8);
        assert_eq!(slots.free(Lane::Bot), 6);
        for _ in 0..6 {
            slots.take(Lane::Broadcast);
        }
        assert_eq!(slots.free(Lane::Bot), 0, "bulk holds all it may");
        assert_eq!(slots.free(Lane::Live), 2, "the reserve is still free for operators");
        slots.take(Lane::Live);
        slots.take(Lane::Live);
        assert_eq!(slots.free(Lane::Live), 0);
        slots.give_back(Lane::Broadcast);
        assert_eq!(slots.free(Lane::Bot), 1);
        assert_eq!(slots.free(Lane::Live), 1);
    }
}
