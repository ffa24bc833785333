//! Wake-ups after commit for the workers that other writes give work to: the outbox
//! (a message or notification queued) and the jobs runner (a job scheduled). A job
//! asks with [`super::Db::wake`]; the writer wakes them once the batch has committed,
//! so a woken worker always finds the work it was woken for.

use tokio::sync::Notify;

/// A worker that writes can wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Outbox,
    Jobs,
    /// A broadcast started, resumed or was scheduled.
    Broadcasts,
}

/// What the current transaction asked for.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pending {
    outbox: bool,
    jobs: bool,
    broadcasts: bool,
}

impl Pending {
    pub fn add(&mut self, worker: Wake) {
        match worker {
            Wake::Outbox => self.outbox = true,
            Wake::Jobs => self.jobs = true,
            Wake::Broadcasts => self.broadcasts = true,
        }
    }
}

/// The workers' doorbells, shared by the store and the workers.
#[derive(Default)]
pub struct Wakes {
    pub outbox: Notify,
    pub jobs: Notify,
    pub broadcasts: Notify,
}

impl Wakes {
    /// Rings what a committed batch asked for.
    pub fn ring(&self, pending: Pending) {
        if pending.outbox {
            self.outbox.notify_one();
        }
        if pending.jobs {
            self.jobs.notify_one();
        }
        if pending.broadcasts {
            self.broadcasts.notify_one();
        }
    }

    /// The doorbell of `worker`.
    pub fn bell(&self, worker: Wake) -> &Notify {
        match worker {
            Wake::Outbox => &self.outbox,
            Wake::Jobs => &self.jobs,
            Wake::Broadcasts => &self.broadcasts,
        }
    }
}
