//! Who answers: hands chats that open with no assignee to Online operators by a policy,
//! keeps the queue of chats nobody can take yet and drains it in arrival order, moves a
//! chat on when its assignee does not answer, and turns operators whose consoles are all
//! gone Offline after a grace period.
//!
//! Every hand-out is decided and written inside ONE `store.write` job with a conditional
//! update, so it is atomic against concurrent openings on this node (one writer) and on
//! other nodes (each PostgreSQL write transaction holds the same advisory lock).

pub mod assign;
pub mod policy;
pub mod presence;
pub mod queue;
pub mod route;
pub mod timeout;
pub mod worker;

/// The `[distribution]` settings live with the rest of the configuration, which the
/// domain reads and never the other way round.
pub use crate::config::distribution::{self as settings, Settings};
pub use crate::inbox::assignments::Reason;
pub use assign::Assigned;
pub use presence::Presence;
pub use worker::{Pass, run, run_once};

/// The distributor's state on this node, kept in [`crate::app::Inner`].
pub struct Distributor {
    /// Console connections per operator on this node.
    pub presence: Presence,
    /// Its place in the event log; one pass at a time reads on.
    pub events: tokio::sync::Mutex<crate::consumers::Reader<worker::Events>>,
}

impl Distributor {
    pub fn new(settings: Settings) -> Distributor {
        Distributor {
            presence: Presence::default(),
            events: tokio::sync::Mutex::new(crate::consumers::Reader::new(worker::Events { settings })),
        }
    }
}
