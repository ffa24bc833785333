//! Stored channels kept in memory for the webhook path: every platform update needs its
//! channel (kind, settings with the webhook secret), and reading it from the database
//! cost a hop to a reader thread per update.
//!
//! An entry lives [`TTL`] at most, so a change made on another node (PostgreSQL) takes
//! effect within that time; changes made through this node drop the entry at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::channels::{self, StoredChannel};
use crate::error::Result;
use crate::store::Store;

/// How long another node's change to a channel may go unseen here.
pub const TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct ChannelCache {
    entries: Mutex<HashMap<i64, Entry>>,
}

struct Entry {
    read_at: Instant,
    /// Bumped by [`ChannelCache::forget`]; a read that started before is not kept.
    generation: u64,
    channel: Option<Arc<StoredChannel>>,
}

impl ChannelCache {
    /// The channel, from memory when read less than [`TTL`] ago.
    pub async fn get(&self, store: &Store, id: i64) -> Result<Arc<StoredChannel>> {
        let generation = {
            let entries = self.entries.lock().expect("channel cache poisoned");
            match entries.get(&id) {
                Some(Entry { read_at, channel: Some(c), .. }) if read_at.elapsed() < TTL => return Ok(c.clone()),
                Some(e) => e.generation,
                None => 0,
            }
        };
        let read_at = Instant::now();
        let channel = Arc::new(store.read(move |db| channels::get(db, id)).await?);
        let mut entries = self.entries.lock().expect("channel cache poisoned");
        let entry = entries.entry(id).or_insert(Entry { read_at, generation, channel: None });
        if entry.generation == generation {
            *entry = Entry { read_at, generation, channel: Some(channel.clone()) };
        }
        Ok(channel)
    }

    /// Drops the channel after a change through this node, and keeps a read that was
    /// already under way from storing the old version.
    pub fn forget(&self, id: i64) {
        let mut entries = self.entries.lock().expect("channel cache poisoned");
        let entry = entries.entry(id).or_insert(Entry { read_at: Instant::now(), generation: 0, channel: None });
        entry.generation += 1;
        entry.channel = None;
    }
}
