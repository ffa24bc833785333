//! Durable jobs: due work in the `jobs` table (run at, kind, payload, attempts, lease),
//! which survives restarts and runs on one node at a time. The answer timeout uses it;
//! flow waits and scheduled broadcasts will. Scheduling is part of the caller's
//! transaction and wakes the runner after commit; a job's key makes scheduling
//! idempotent and lets it be replaced or cancelled.
//!
//! The runner ([`runner`]) knows no job kind: handlers are registered at launch
//! ([`Handlers`]), so the modules that schedule jobs do not depend on it.

pub mod runner;

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::params;
use crate::store::{Db, StoreError, Wake};

crate::model::stored_enum! {
    /// The kinds of job; the table's CHECK lists the same.
    pub enum Kind: "job kind" {
        /// An automatically assigned chat not answered in time moves on (distribution).
        AnswerTimeout = "answer_timeout",
        /// A flow's HTTP step: the call, then the run moves on (flows).
        FlowHttp = "flow_http",
        /// A flow's wait: the run moves on when it rings (flows).
        FlowWait = "flow_wait",
    }
}

/// A job as its handler sees it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: Kind,
    pub key: String,
    pub payload: serde_json::Value,
    pub run_at: i64,
    pub attempts: i64,
    /// What the handler's [`Handler::prepare`] brought back, outside the transaction.
    pub prepared: Option<serde_json::Value>,
    /// The claim's lease: the job is finished or put off only if it is still this one
    /// (a handler that schedules the same key anew replaces it, and that must stay).
    lease_until: i64,
}

/// What a handler made of a job.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    /// Finished: the job is removed.
    Finished,
    /// Not yet: run again at this time.
    Later(i64),
}

/// Runs the jobs of one kind, inside a write transaction: what it writes commits
/// together with the job's end, so a job is never half done.
pub trait Handler: Send + Sync + 'static {
    fn kind(&self) -> Kind;
    /// Work that must not hold the write transaction (a network call), done before
    /// [`Handler::run`], which finds its result in [`Job::prepared`]. A crash between the
    /// two does it again: it must be safe to repeat.
    fn prepare(&self, _job: &Job) -> Option<Prepared> {
        None
    }
    fn run(&self, db: &mut Db, job: &Job, now: i64) -> Result<Done>;
}

/// The future of a handler's preparation.
pub type Prepared = std::pin::Pin<Box<dyn std::future::Future<Output = serde_json::Value> + Send>>;

/// The registered handlers, by kind.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: Arc<HashMap<Kind, Arc<dyn Handler>>>,
    /// One pass at a time on this node: a pass that starts while another runs waits for
    /// it, so when it returns every job that was due has run.
    passes: Arc<tokio::sync::Mutex<()>>,
}

impl Handlers {
    pub fn new(handlers: Vec<Arc<dyn Handler>>) -> Handlers {
        Handlers {
            by_kind: Arc::new(handlers.into_iter().map(|h| (h.kind(), h)).collect()),
            passes: Default::default(),
        }
    }

    pub fn get(&self, kind: Kind) -> Option<&Arc<dyn Handler>> {
        self.by_kind.get(&kind)
    }
}

/// Schedules `kind` under `key` at `run_at`; a job with the same key is replaced (new
/// payload and time, attempts reset).
pub fn schedule(
    db: &mut Db,
    kind: Kind,
    key: &str,
    payload: &impl serde::Serialize,
    run_at: i64,
    now: i64,
) -> Result<()> {
    let payload = serde_json::to_string(payload).map_err(|e| Error::Store(StoreError::Decode(e.to_string())))?;
    db.exec(
        "INSERT INTO jobs (kind, key, payload, run_at, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, run_at = excluded.run_at, \
         attempts = 0, last_error = NULL, lease_until = 0",
        params![kind, key, payload, run_at, now],
    )?;
    db.wake(Wake::Jobs);
    Ok(())
}

/// Removes the job under `key`, if any.
pub fn cancel(db: &mut Db, key: &str) -> Result<bool> {
    Ok(db.exec("DELETE FROM jobs WHERE key = $1", params![key])? > 0)
}
