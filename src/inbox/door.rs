//! The one door into the inbox: every inbound event, from every channel (the widget
//! included), enters through [`ingest`], in one write transaction. An ordered list of
//! hooks decides inside that transaction: before the message is stored, a hook may take
//! it instead of the inbox (the notifications bot takes link codes and operators'
//! replies); after, each hook sees what was stored (the bot flow engine will claim the
//! chat there). A redelivered update meets the same decisions, so nothing happens twice.

use std::sync::Arc;

use parley_sdk::{Inbound, Receipt};

use crate::error::Result;
use crate::store::Db;

/// What a hook decided before ingest.
pub enum Verdict {
    /// Not for this hook: the next one, then the inbox, sees it.
    Pass,
    /// Taken: nothing more is done with it; the platform is answered with this receipt.
    Taken(Receipt),
}

/// A decision in the ingest transaction.
pub trait IngestHook: Send + Sync + 'static {
    /// For logs.
    fn name(&self) -> &'static str;

    /// Before the inbox stores `inbound`: take it or pass it on.
    fn before(&self, _db: &mut Db, _inbound: &Inbound, _now: i64) -> Result<Verdict> {
        Ok(Verdict::Pass)
    }

    /// After the inbox stored `inbound` as a new message (`receipt.created`).
    fn after(&self, _db: &mut Db, _inbound: &Inbound, _receipt: &Receipt, _now: i64) -> Result<()> {
        Ok(())
    }
}

/// The hooks, in the order they decide; cheap to clone into a write job.
#[derive(Clone, Default)]
pub struct Hooks(Arc<Vec<Arc<dyn IngestHook>>>);

impl Hooks {
    pub fn new(hooks: Vec<Arc<dyn IngestHook>>) -> Hooks {
        Hooks(Arc::new(hooks))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|h| h.name()).collect()
    }
}

/// Runs the hooks and the inbox's ingest for one inbound event.
pub fn ingest(db: &mut Db, hooks: &Hooks, inbound: &Inbound, now: i64) -> Result<Receipt> {
    for hook in hooks.0.iter() {
        if let Verdict::Taken(receipt) = hook.before(db, inbound, now)? {
            tracing::debug!(hook = hook.name(), "an inbound event was taken before ingest");
            return Ok(receipt);
        }
    }
    let receipt = super::ingest::ingest(db, inbound, now)?;
    if receipt.created {
        for hook in hooks.0.iter() {
            hook.after(db, inbound, &receipt, now)?;
        }
    }
    Ok(receipt)
}
