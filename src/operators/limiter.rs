//! Slows password guessing down without handing a guesser a way to lock anyone out.
//!
//! Failures are counted under three keys, each with growing delays (1 s, 2 s, 4 s, ...
//! up to a maximum) once its free failures are spent:
//! - one account from one address: a guesser at one account;
//! - one address, whatever account: a guesser trying many accounts;
//! - one account from addresses it never logged in from: guessers on many addresses.
//!
//! A delay refuses only the keys that failed: the real user on another address (or on
//! the address they logged in from before) still logs in while the guesser waits. A
//! refused attempt is not checked and not counted, so refusals cost no hashing.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::config;

/// How long a quiet key is remembered: a day without failures forgives them.
const MEMORY_MS: i64 = 86_400_000;
/// Keys kept per table before the forgiven ones are dropped.
const MAX_KEYS: usize = 100_000;
/// Addresses remembered per account as ones it logged in from.
const KNOWN_PER_ACCOUNT: usize = 16;

#[derive(Clone, Copy)]
struct Strikes {
    failures: u32,
    last_ms: i64,
}

/// Failures per key and the delay they earn.
struct Backoff<K> {
    free: u32,
    max_delay_ms: i64,
    keys: HashMap<K, Strikes>,
}

impl<K: Hash + Eq> Backoff<K> {
    fn new(free: u32, max_delay_ms: i64) -> Self {
        Self { free, max_delay_ms, keys: HashMap::new() }
    }

    /// The delay after `failures`: none within the free ones, then doubling from 1 s.
    fn delay_ms(&self, failures: u32) -> i64 {
        match failures.checked_sub(self.free) {
            None => 0,
            Some(over) => 1000i64.saturating_mul(1i64 << over.min(40)).min(self.max_delay_ms),
        }
    }

    /// Milliseconds until `key` may try again (0: now).
    fn wait_ms(&self, key: &K, now: i64) -> i64 {
        match self.keys.get(key) {
            Some(s) if now - s.last_ms < MEMORY_MS => (s.last_ms + self.delay_ms(s.failures) - now).max(0),
            _ => 0,
        }
    }

    fn strike(&mut self, key: K, now: i64) {
        if self.keys.len() >= MAX_KEYS {
            self.keys.retain(|_, s| now - s.last_ms < MEMORY_MS);
        }
        let s = self.keys.entry(key).or_insert(Strikes { failures: 0, last_ms: now });
        if now - s.last_ms >= MEMORY_MS {
            s.failures = 0;
        }
        s.failures += 1;
        s.last_ms = now;
    }

    fn forgive(&mut self, key: &K) {
        self.keys.remove(key);
    }
}

struct Tables {
    pair: Backoff<(String, IpAddr)>,
    address: Backoff<IpAddr>,
    account: Backoff<String>,
    /// Addresses each account logged in from, newest last.
    known: HashMap<String, Vec<IpAddr>>,
}

impl Tables {
    fn known(&self, account: &str, addr: IpAddr) -> bool {
        self.known.get(account).is_some_and(|a| a.contains(&addr))
    }
}

pub struct LoginLimiter(Mutex<Tables>);

/// Accounts are counted by email as the operator would type it, in any case.
fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl LoginLimiter {
    pub fn new(c: &config::Auth) -> Self {
        let max = c.login_max_delay_seconds.saturating_mul(1000).min(i64::MAX as u64) as i64;
        Self(Mutex::new(Tables {
            pair: Backoff::new(c.login_max_failures, max),
            address: Backoff::new(c.login_address_failures, max),
            account: Backoff::new(c.login_account_failures, max),
            known: HashMap::new(),
        }))
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(seconds to wait)` while a login for `email` from `addr` must wait.
    pub fn check(&self, email: &str, addr: IpAddr, now: i64) -> Result<(), u64> {
        let account = account_key(email);
        let t = self.tables();
        let mut wait = t.pair.wait_ms(&(account.clone(), addr), now).max(t.address.wait_ms(&addr, now));
        if !t.known(&account, addr) {
            wait = wait.max(t.account.wait_ms(&account, now));
        }
        if wait == 0 { Ok(()) } else { Err(((wait + 999) / 1000) as u64) }
    }

    pub fn failed(&self, email: &str, addr: IpAddr, now: i64) {
        let account = account_key(email);
        let mut t = self.tables();
        if !t.known(&account, addr) {
            t.account.strike(account.clone(), now);
        }
        t.address.strike(addr, now);
        t.pair.strike((account, addr), now);
    }

    /// The account logged in from `addr`: its failures there are forgiven, and the
    /// address is one the others' guesses no longer slow down for this account.
    pub fn succeeded(&self, email: &str, addr: IpAddr) {
        let account = account_key(email);
        let mut t = self.tables();
        t.pair.forgive(&(account.clone(), addr));
        if t.known.len() >= MAX_KEYS {
            t.known.clear();
        }
        let known = t.known.entry(account).or_default();
        known.retain(|a| *a != addr);
        if known.len() >= KNOWN_PER_ACCOUNT {
            known.remove(0);
        }
        known.push(addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(pair: u32, address: u32, account: u32) -> LoginLimiter {
        LoginLimiter::new(&config::Auth {
            login_max_failures: pair,
            login_address_failures: address,
            login_account_failures: account,
            login_max_delay_seconds: 8,
            ..config::Auth::default()
        })
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn delays_grow_after_the_free_failures_up_to_the_maximum() {
        let l = limiter(2, 100, 100);
        l.failed("ann@example.com", ip(1), 0);
        assert!(l.check("ann@example.com", ip(1), 0).is_ok());
        l.failed("ann@example.com", ip(1), 0);
        assert_eq!(l.check("ANN@example.com", ip(1), 0), Err(1));
        assert!(l.check("ann@example.com", ip(1), 1000).is_ok());
        l.failed("ann@example.com", ip(1), 1000);
        assert_eq!(l.check("ann@example.com", ip(1), 1000), Err(2));
        for t in [3000, 7000, 15_000] {
            l.failed("ann@example.com", ip(1), t);
        }
        assert_eq!(l.check("ann@example.com", ip(1), 15_000), Err(8), "capped at the maximum");
        // Another address is not slowed by this one's failures.
        assert!(l.check("ann@example.com", ip(2), 15_000).is_ok());
    }

    #[test]
    fn an_address_guessing_many_accounts_is_slowed_for_all_of_them() {
        let l = limiter(100, 3, 100);
        for who in ["a", "b", "c"] {
            l.failed(who, ip(1), 0);
        }
        assert_eq!(l.check("d", ip(1), 0), Err(1));
        assert!(l.check("d", ip(2), 0).is_ok());
    }

    #[test]
    fn guesses_from_many_addresses_spare_the_address_the_account_logged_in_from() {
        let l = limiter(100, 100, 3);
        l.succeeded("ann", ip(9));
        for n in 1..=3 {
            l.failed("ann", ip(n), 0);
        }
        assert_eq!(l.check("ann", ip(4), 0), Err(1), "a new address waits");
        assert!(l.check("ann", ip(9), 0).is_ok(), "the known one does not");
    }

    #[test]
    fn a_success_forgives_that_address_and_a_quiet_day_forgives_all() {
        let l = limiter(1, 100, 100);
        l.failed("ann", ip(1), 0);
        assert_eq!(l.check("ann", ip(1), 0), Err(1));
        l.succeeded("ann", ip(1));
        assert!(l.check("ann", ip(1), 0).is_ok());
        l.failed("bob", ip(3), 0);
        assert!(l.check("bob", ip(3), 0).is_err());
        assert!(l.check("bob", ip(3), MEMORY_MS).is_ok());
    }
}
