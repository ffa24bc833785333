//! Locks that one node of a cluster holds at a time (Telegram long polling). On
//! PostgreSQL a session advisory lock, held by a connection of its own that lives as
//! long as the guard; SQLite serves one node, so the lock is always free.

use parley_sdk::{HubError, LockGuard};

use crate::app::App;
use crate::store::Backend;

/// A stable 64-bit key for a lock name (FNV-1a: the same on every node and build).
fn key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Dropping it ends the connection's thread, and PostgreSQL releases the lock.
struct PgGuard(#[expect(dead_code, reason = "held only to be dropped")] std::sync::mpsc::Sender<()>);

pub async fn try_lock(app: &App, name: &str) -> Result<Option<LockGuard>, HubError> {
    if app.store.backend() == Backend::Sqlite {
        return Ok(Some(Box::new(())));
    }
    let url = app.config.database.url.clone();
    let key = key(name);
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel::<Result<bool, String>>();
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    // The sync client has a runtime of its own: it lives and dies on its own thread.
    std::thread::Builder::new()
        .name("parley-lock".into())
        .spawn(move || {
            let mut client = match postgres::Client::connect(&url, postgres::NoTls) {
                Ok(c) => c,
                Err(e) => return drop(answer_tx.send(Err(e.to_string()))),
            };
            let taken = client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]).map(|r| r.get::<_, bool>(0));
            let held = matches!(taken, Ok(true));
            let _ = answer_tx.send(taken.map_err(|e| e.to_string()));
            if held {
                // Until the guard is dropped (or the app ends).
                let _ = hold_rx.recv();
            }
        })
        .map_err(|e| HubError::Unavailable(e.to_string()))?;
    match answer_rx.await {
        Ok(Ok(true)) => Ok(Some(Box::new(PgGuard(hold_tx)))),
        Ok(Ok(false)) => Ok(None),
        Ok(Err(e)) => Err(HubError::Unavailable(format!("cannot take lock {name}: {e}"))),
        Err(_) => Err(HubError::Unavailable(format!("cannot take lock {name}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_stable() {
        assert_eq!(super::key("telegram-poll:1"), super::key("telegram-poll:1"));
        assert_ne!(super::key("telegram-poll:1"), super::key("telegram-poll:2"));
    }
}
