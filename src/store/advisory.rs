//! Session advisory locks: one node of a cluster holds a named piece of work at a time
//! (Telegram long polling). On PostgreSQL the lock belongs to a connection of its own
//! that lives as long as the guard; SQLite serves one node, so every lock is free.

use std::sync::mpsc;

use super::connect::Access;
use super::{Backend, Db, Store, StoreError};

/// Held while the lock is; dropping it ends the lock's connection, and PostgreSQL
/// releases the lock with it.
pub struct AdvisoryLock(#[expect(dead_code, reason = "held only to be dropped")] Option<mpsc::Sender<()>>);

impl Store {
    /// Takes the advisory lock `key` unless another session holds it (then `None`).
    pub async fn try_advisory_lock(&self, key: i64) -> Result<Option<AdvisoryLock>, StoreError> {
        if self.backend() == Backend::Sqlite {
            return Ok(Some(AdvisoryLock(None)));
        }
        let target = self.target().clone();
        let (answer_tx, answer_rx) = tokio::sync::oneshot::channel::<Result<bool, StoreError>>();
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        // The sync client has a runtime of its own: it lives and dies on its own thread.
        std::thread::Builder::new()
            .name("parley-lock".into())
            .spawn(move || {
                let mut pg = match target.open(Access::Write).map(|c| c.into_pg()) {
                    Ok(Some(pg)) => pg,
                    Ok(None) => return drop(answer_tx.send(Err(StoreError::Open("not PostgreSQL".into())))),
                    Err(e) => return drop(answer_tx.send(Err(e))),
                };
                // A node that vanishes without closing its connection (a machine lost, not
                // a process killed: that closes it at once) lets go within ~15 s, not the
                // server's default two hours of TCP silence.
                if let Err(e) = pg.client.batch_execute(
                    "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 4",
                ) {
                    tracing::debug!(error = %e, "the lock's connection keeps the server's keepalive settings");
                }
                // Keyed by the schema too: Parleys in two schemas of one database (parallel
                // tests, say) never hold each other's locks.
                let key = (key ^ (key >> 32)) as i32;
                let taken = pg
                    .client
                    .query_one("SELECT pg_try_advisory_lock(hashtext(current_schema()), $1)", &[&key])
                    .map(|r| r.get::<_, bool>(0));
                let held = matches!(taken, Ok(true));
                let _ = answer_tx.send(taken.map_err(StoreError::from));
                if held {
                    // Until the guard is dropped (or the app ends).
                    let _ = hold_rx.recv();
                }
            })
            .map_err(|e| StoreError::Open(e.to_string()))?;
        match answer_rx.await {
            Ok(Ok(true)) => Ok(Some(AdvisoryLock(Some(hold_tx)))),
            Ok(Ok(false)) => Ok(None),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StoreError::Closed),
        }
    }
}

impl Db<'_> {
    /// On PostgreSQL, waits until no other transaction holds the turn `key` and holds it
    /// until this one ends: for the few decisions that read and then write what they read
    /// (whose turn it is in a round robin), which nodes writing side by side would
    /// otherwise take on the same reading. SQLite has one writer: it is always its turn.
    pub fn take_turn(&mut self, key: i32) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            self.exec("SELECT pg_advisory_xact_lock(hashtext(current_schema()), $1)", &[key.into()])?;
        }
        Ok(())
    }
}
