//! How many console event sockets each operator has open on this node: an operator
//! with none is "not in the console" and gets messenger notifications.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Consoles(Arc<Inner>);

#[derive(Default)]
struct Inner {
    open: Mutex<HashMap<i64, usize>>,
    changed: Notify,
}

/// Counts one open socket until dropped.
pub struct Connected {
    consoles: Consoles,
    operator_id: i64,
}

impl Consoles {
    pub fn connect(&self, operator_id: i64) -> Connected {
        *self.0.open.lock().unwrap_or_else(|e| e.into_inner()).entry(operator_id).or_default() += 1;
        self.0.changed.notify_waiters();
        Connected { consoles: self.clone(), operator_id }
    }

    pub fn count(&self, operator_id: i64) -> usize {
        self.0.open.lock().unwrap_or_else(|e| e.into_inner()).get(&operator_id).copied().unwrap_or(0)
    }

    /// Waits until the operator has exactly `n` sockets open (tests, tools).
    pub async fn wait_count(&self, operator_id: i64, n: usize) {
        loop {
            let changed = self.0.changed.notified();
            if self.count(operator_id) == n {
                return;
            }
            changed.await;
        }
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut map = self.consoles.0.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.operator_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.operator_id);
            }
        }
        drop(map);
        self.consoles.0.changed.notify_waiters();
    }
}
