//! Locks that one node of a cluster holds at a time, as connectors ask for them
//! (`Hub::try_lock`, e.g. Telegram long polling): a name becomes a key of the store's
//! advisory locks.

use parley_sdk::{HubError, LockGuard};

use crate::store::Store;

/// A stable 64-bit key for a lock name (FNV-1a: the same on every node and build).
fn key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

pub async fn try_lock(store: &Store, name: &str) -> Result<Option<LockGuard>, HubError> {
    match store.try_advisory_lock(key(name)).await {
        Ok(Some(guard)) => Ok(Some(Box::new(guard))),
        Ok(None) => Ok(None),
        Err(e) => Err(HubError::Unavailable(format!("cannot take lock {name}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_stable() {
        // Pinned: two versions of Parley on one database must agree on every lock's key
        // (FNV-1a, 64 bits).
        assert_eq!(super::key("telegram-poll:1"), -6_921_118_998_909_674_471);
        assert_eq!(super::key("telegram-poll:2"), -6_921_122_297_444_559_104);
        assert_eq!(super::key(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
    }
}
