//! Refuses logins for a while after repeated failures for the same email from the
//! same address, so passwords cannot be guessed at speed.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct LoginLimiter {
    max_failures: u32,
    lockout_ms: i64,
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, lockout_seconds: u64) -> Self {
        Self { max_failures, lockout_ms: lockout_seconds as i64 * 1000, failures: Mutex::default() }
    }

    /// `Err(seconds to wait)` when this key is locked out.
    pub fn check(&self, key: &str, now: i64) -> Result<(), u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some(&(count, since)) if count >= self.max_failures && now - since < self.lockout_ms => {
                Err(((self.lockout_ms - (now - since) + 999) / 1000).max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            let lockout = self.lockout_ms;
            map.retain(|_, (_, since)| now - *since < lockout);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        if now - entry.1 >= self.lockout_ms {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn locks_out_after_max_failures_then_lets_in_again() {
        let l = super::LoginLimiter::new(3, 60);
        for t in 0..3 {
            assert!(l.check("a", t).is_ok());
            l.failed("a", t);
        }
        assert_eq!(l.check("a", 10), Err(60));
        assert!(l.check("b", 10).is_ok());
        assert!(l.check("a", 62_003).is_ok());
    }
}
