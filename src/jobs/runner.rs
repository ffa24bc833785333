//! The jobs runner: claims due jobs (leased, `FOR UPDATE SKIP LOCKED` on PostgreSQL so
//! nodes never take the same one), runs each through its handler in a transaction of
//! its own, and records a failure with backoff. Wakes when a job is scheduled, when the
//! next one is due, and at least every few seconds.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Done, Handlers, Job, Kind};
use crate::clock::Clock;
use crate::error::Result;
use crate::params;
use crate::store::{Backend, Db, Store, Wake};

/// How long a claimed job is reserved for the node that claimed it.
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 100;
/// A failing job waits this long times 2^attempts (at most an hour).
const RETRY_BASE_MS: i64 = 1_000;
const RETRY_MAX_MS: i64 = 3_600_000;

pub async fn run(store: Store, clock: Arc<dyn Clock>, handlers: Handlers, shutdown: CancellationToken) {
    if store.backend() == Backend::Sqlite
        && let Err(e) = store.write(|db| db.exec("UPDATE jobs SET lease_until = 0 WHERE lease_until > 0", &[])).await
    {
        tracing::error!(error = %e, "cannot release the jobs' leases");
    }
    loop {
        match run_due(&store, &clock, &handlers).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "jobs pass failed"),
        }
        let now = clock.now_ms();
        let next = store.read(next_due).await.ok().flatten();
        let wait = next.map_or(Duration::from_secs(5), |t| Duration::from_millis((t - now).clamp(5, 5_000) as u64));
        tokio::select! {
            _ = store.woken(Wake::Jobs) => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Runs every job due now (at most one batch); returns how many ran. Tests call it
/// after moving a [`crate::ManualClock`].
pub async fn run_due(store: &Store, clock: &Arc<dyn Clock>, handlers: &Handlers) -> Result<usize> {
    let _pass = handlers.passes.lock().await;
    let now = clock.now_ms();
    if store.read(move |db| any_due(db, now)).await? == 0 {
        return Ok(0);
    }
    let mut jobs = store.write(move |db| claim(db, now)).await?;
    let n = jobs.len();
    // Preparations (network calls) of the whole batch at once, outside any transaction.
    let prepared = futures_util::future::join_all(jobs.iter().map(|job| {
        let fut = handlers.get(job.kind).and_then(|h| h.prepare(job));
        async move {
            match fut {
                Some(f) => Some(f.await),
                None => None,
            }
        }
    }))
    .await;
    for (job, prepared) in jobs.iter_mut().zip(prepared) {
        job.prepared = prepared;
    }
    for job in jobs {
        let Some(handler) = handlers.get(job.kind).cloned() else {
            tracing::error!(job.kind = job.kind.as_str(), "no handler for a job kind; it stays");
            continue;
        };
        let now = clock.now_ms();
        let (id, attempts) = (job.id, job.attempts);
        let ran = store
            .write(move |db| -> Result<()> {
                match handler.run(db, &job, now)? {
                    Done::Finished => db.exec(
                        "DELETE FROM jobs WHERE id = $1 AND lease_until = $2",
                        params![job.id, job.lease_until],
                    )?,
                    Done::Later(at) => db.exec(
                        "UPDATE jobs SET run_at = $1, attempts = 0, lease_until = 0 WHERE id = $2 AND lease_until = $3",
                        params![at, job.id, job.lease_until],
                    )?,
                };
                Ok(())
            })
            .await;
        if let Err(e) = ran {
            let at = now + RETRY_BASE_MS.saturating_mul(1 << attempts.clamp(0, 20)).min(RETRY_MAX_MS);
            tracing::warn!(job.id = id, error = %e, "a job failed; it will be tried again");
            let why = e.to_string();
            store
                .write(move |db| {
                    db.exec(
                        "UPDATE jobs SET run_at = $1, attempts = attempts + 1, last_error = $2, lease_until = 0 WHERE id = $3",
                        params![at, why, id],
                    )
                })
                .await?;
        }
    }
    Ok(n)
}

fn any_due(db: &mut Db, now: i64) -> Result<i64> {
    Ok(db
        .query_opt("SELECT 1 FROM jobs WHERE run_at <= $1 AND lease_until <= $1 LIMIT 1", params![now])?
        .map_or(0, |_| 1))
}

fn claim(db: &mut Db, now: i64) -> Result<Vec<Job>> {
    let lock = if db.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let rows = db.query(
        &format!(
            "SELECT id, kind, key, payload, run_at, attempts FROM jobs WHERE run_at <= $1 AND lease_until <= $1 \
             ORDER BY run_at, id LIMIT $2{lock}"
        ),
        params![now, BATCH],
    )?;
    let mut jobs = Vec::with_capacity(rows.len());
    let lease_until = now + LEASE_MS;
    for r in rows {
        let id: i64 = r.get("id")?;
        db.exec("UPDATE jobs SET lease_until = $1 WHERE id = $2", params![lease_until, id])?;
        jobs.push(Job {
            id,
            kind: r.get::<Kind>("kind")?,
            key: r.get("key")?,
            payload: r.get_json("payload")?,
            run_at: r.get("run_at")?,
            attempts: r.get("attempts")?,
            prepared: None,
            lease_until,
        });
    }
    Ok(jobs)
}

/// When the next job is due (or its lease ends).
fn next_due(db: &mut Db) -> Result<Option<i64>> {
    // MIN over no jobs is NULL: nothing is due.
    Ok(db
        .query_one("SELECT MIN(CASE WHEN lease_until > run_at THEN lease_until ELSE run_at END) AS due FROM jobs", &[])?
        .get("due")?)
}
