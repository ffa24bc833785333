//! The outbox: every send to a platform goes through it — operators' replies, bots'
//! and broadcasts' messages, operator notifications. A send is a row of the `outbox`
//! table, written in the same transaction as what it sends ([`queue`]), so nothing is
//! sent that was not committed and nothing committed is forgotten.
//!
//! - **Order**: rows form queues (one chat on one channel); only a queue's head may be
//!   sent, and the next becomes head when it ends (sent or failed). Retries, 429s,
//!   restarts and several nodes cannot reorder a chat.
//! - **Lanes**: among heads, the live lane goes first and has slots bots and
//!   broadcasts cannot take ([`Slots`]).
//! - **Schedule and lease** are separate columns: `due_at` (backoff with jitter, the
//!   platform's retry-after) survives restarts; `lease_until` only says who is sending.
//!   A 429 pauses its channel, not the others ([`record`]).
//! - Writers wake the worker after commit ([`crate::store::Wake::Outbox`]).

mod attempt;
mod claim;
pub mod queue;
mod record;
mod worker;

pub use claim::LEASE_MS;
pub use queue::{Lane, wake_identity};
pub use worker::{Slots, run, run_once};
