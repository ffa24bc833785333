//! Durable consumers of the event log. A consumer (the distributor, the notifier; bot
//! flows and broadcasts next) reads committed events in id order from a position
//! stored per consumer in the `consumers` table, and handles them INSIDE the write
//! transaction that moves its position on. So:
//! - after a crash or restart it resumes exactly where it stopped: what it had not
//!   committed is handled again, what it had is not;
//! - with several nodes, each event is handled once per consumer: moving the position
//!   is a conditional update, and the node that loses the race writes nothing.
//!
//! Events a consumer does not want are skipped by a read; the position moves past them
//! in memory, and on disk with the next handled batch or every few seconds.
//!
//! Events commit in id order (one writer on SQLite; on PostgreSQL a batch's events take
//! their ids under a lock held to COMMIT, `store::events`), so nothing can still appear
//! below the newest id read.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::error::Result;
use crate::params;
use crate::store::events::EventKind;
use crate::store::{Db, EventRow, Store};

/// Most events handled in one transaction.
const BATCH: i64 = 500;
/// How often a consumer that found nothing to handle saves how far it read.
const SAVE_EVERY_MS: i64 = 5_000;
/// Polling besides the live feed: a wake-up lost (a lagging feed, another node's
/// commit) delays by this much at most, and never loses an event.
const POLL: Duration = Duration::from_secs(1);

/// Something that reacts to committed events.
pub trait Consumer: Send + Sync + 'static {
    /// Its name in the `consumers` table.
    const NAME: &'static str;
    /// The event kinds it wants; the others only move its position.
    const KINDS: &'static [EventKind];
    /// What `handle` learns about one batch (assignments made, say).
    type Output: Default + Send + 'static;

    /// Whether it has anything to do with `event` (of its kinds); decided on a reader,
    /// before any transaction. The others only move its position.
    fn wants(&self, _event: &EventRow) -> bool {
        true
    }

    /// Handles `events` (of its kinds, oldest first) in the transaction that moves the
    /// position past them. An `Err` undoes both: the batch comes again.
    fn handle(&self, db: &mut Db, events: &[EventRow], now: i64) -> Result<Self::Output>;
}

/// A consumer with its place in the log, as this node knows it.
pub struct Reader<C: Consumer> {
    consumer: Arc<C>,
    /// The last event id read here; `None` until loaded from the database.
    read: Option<i64>,
    /// The last id known to be saved in `consumers`.
    saved: i64,
    saved_at: i64,
}

impl<C: Consumer> Reader<C> {
    pub fn new(consumer: C) -> Self {
        Reader { consumer: Arc::new(consumer), read: None, saved: 0, saved_at: 0 }
    }

    /// Handles everything new, in batches; returns what the batches produced.
    pub async fn catch_up(&mut self, store: &Store, clock: &Arc<dyn Clock>) -> Result<Vec<C::Output>> {
        let mut out = Vec::new();
        loop {
            let (output, full) = self.step(store, clock).await?;
            out.extend(output);
            if !full {
                return Ok(out);
            }
        }
    }

    /// One batch: reads what is new (a read, no transaction when nothing is wanted),
    /// handles the wanted events with the move of the position. Returns whether more
    /// may be waiting.
    async fn step(&mut self, store: &Store, clock: &Arc<dyn Clock>) -> Result<(Option<C::Output>, bool)> {
        let from = match self.read {
            Some(p) => p,
            None => {
                let p = store.write(|db| load(db, C::NAME)).await?;
                self.saved = p;
                self.read = Some(p);
                p
            }
        };
        let consumer = self.consumer.clone();
        let (upto, full, events) = store
            .read(move |db| -> Result<_> {
                let (upto, mut events) = pending(db, from, C::KINDS)?;
                let full = events.len() as i64 == BATCH;
                // A full batch ends at its last event; the rest is read next.
                let upto = if full { events.last().map_or(upto, |e| e.id) } else { upto };
                // Decided on the reader, so the events the consumer leaves cost the
                // writer nothing.
                events.retain(|e| consumer.wants(e));
                Ok((upto, full, events))
            })
            .await?;
        if events.is_empty() {
            self.read = Some(upto);
            self.save_now_and_then(store, clock, upto).await?;
            return Ok((None, full));
        }
        let (consumer, now, first) = (self.consumer.clone(), clock.now_ms(), events[0].id);
        let handled = store
            .write(move |db| -> Result<Option<C::Output>> {
                // Only if nobody (another node, an earlier run) has moved past `first`.
                let moved = db.exec(
                    "UPDATE consumers SET position = $1, updated_at = $2 WHERE name = $3 AND position < $4",
                    params![upto, now, C::NAME, first],
                )?;
                if moved == 0 {
                    return Ok(None);
                }
                consumer.handle(db, &events, now).map(Some)
            })
            .await?;
        match handled {
            Some(output) => {
                self.read = Some(upto);
                self.saved = upto;
                self.saved_at = now;
                Ok((Some(output), full))
            }
            None => {
                // Someone else handled it: start again from where the table says.
                self.read = None;
                Ok((None, true))
            }
        }
    }

    async fn save_now_and_then(&mut self, store: &Store, clock: &Arc<dyn Clock>, upto: i64) -> Result<()> {
        let now = clock.now_ms();
        if upto <= self.saved || now - self.saved_at < SAVE_EVERY_MS {
            return Ok(());
        }
        store
            .write(move |db| {
                db.exec(
                    "UPDATE consumers SET position = $1, updated_at = $2 WHERE name = $3 AND position < $1",
                    params![upto, now, C::NAME],
                )
            })
            .await?;
        self.saved = upto;
        self.saved_at = now;
        Ok(())
    }
}

/// Runs `reader` until shutdown: when a committed event of its kinds is published, and
/// every [`POLL`]. Commits of other kinds only (most of them: messages) cost it nothing;
/// a lagging feed, or the poll, makes it read the log whatever it holds.
pub async fn run<C: Consumer>(mut reader: Reader<C>, store: Store, clock: Arc<dyn Clock>, shutdown: CancellationToken) {
    let mut live = store.subscribe();
    let wanted = |e: &EventRow| e.event_kind().is_none_or(|k| C::KINDS.contains(&k));
    let (mut due, mut poll_at) = (true, tokio::time::Instant::now());
    loop {
        if due {
            // The poll counts from the last read, so a busy feed of other kinds delays
            // it by no more than `POLL`.
            poll_at = tokio::time::Instant::now() + POLL;
            if let Err(e) = reader.catch_up(&store, &clock).await {
                if shutdown.is_cancelled() {
                    return;
                }
                tracing::warn!(consumer = C::NAME, error = %e, "event consumer failed; it will try again");
            }
        }
        due = tokio::select! {
            e = live.recv() => match e {
                Ok(event) => wanted(&event),
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            },
            _ = tokio::time::sleep_until(poll_at) => true,
            _ = shutdown.cancelled() => return,
        };
        // One catch-up covers whatever else arrived meanwhile.
        loop {
            match live.try_recv() {
                Ok(event) => due |= wanted(&event),
                Err(TryRecvError::Lagged(_)) => due = true,
                Err(_) => break,
            }
        }
    }
}

/// The stored position of `name`, created at the log's start for a new consumer.
fn load(db: &mut Db, name: &str) -> Result<i64> {
    if let Some(r) = db.query_opt("SELECT position FROM consumers WHERE name = $1", params![name])? {
        return Ok(r.get("position")?);
    }
    db.exec(
        "INSERT INTO consumers (name, position, updated_at) VALUES ($1, 0, 0) ON CONFLICT (name) DO NOTHING",
        params![name],
    )?;
    Ok(db.query_one("SELECT position FROM consumers WHERE name = $1", params![name])?.get("position")?)
}

/// The newest event id, and the events of `kinds` after `after` up to it (at most [`BATCH`]).
fn pending(db: &mut Db, after: i64, kinds: &[EventKind]) -> Result<(i64, Vec<EventRow>)> {
    let newest = crate::store::events::last_id(db)?;
    if newest <= after {
        return Ok((after, Vec::new()));
    }
    Ok((newest, crate::store::events::of_kinds(db, kinds, after, newest, BATCH)?))
}
