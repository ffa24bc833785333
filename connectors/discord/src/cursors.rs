//! How far each Discord channel has been taken in: the last message id per channel,
//! kept in the hub (`Hub::save_state`) about once a second. A cursor saved late only
//! means some messages are read again after a restart, which ingest ignores; it is never
//! ahead of what the hub stored.

use std::collections::BTreeMap;
use std::time::Duration;

use parley_sdk::{CancellationToken, Hub};
use serde_json::{Value, json};

#[derive(Debug, Default)]
pub struct Cursors {
    channel_id: i64,
    last: BTreeMap<u64, u64>,
    dirty: bool,
}

impl Cursors {
    /// The saved cursors, asked again until the hub answers (or the channel stops).
    pub async fn load(hub: &dyn Hub, channel_id: i64, stop: &CancellationToken) -> Cursors {
        loop {
            match hub.load_state(channel_id).await {
                Ok(state) => return Cursors { channel_id, last: parse(state.as_ref()), dirty: false },
                Err(e) => tracing::warn!(channel.id = channel_id, error = %e, "cannot read the Discord cursors"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.cancelled() => return Cursors { channel_id, ..Cursors::default() },
            }
        }
    }

    pub fn note(&mut self, discord_channel: u64, message_id: u64) {
        let last = self.last.entry(discord_channel).or_default();
        if message_id > *last {
            *last = message_id;
            self.dirty = true;
        }
    }

    pub fn list(&self) -> Vec<(u64, u64)> {
        self.last.iter().map(|(c, m)| (*c, *m)).collect()
    }

    pub async fn save(&mut self, hub: &dyn Hub) {
        if !self.dirty {
            return;
        }
        match hub.save_state(self.channel_id, to_json(&self.last)).await {
            Ok(()) => self.dirty = false,
            Err(e) => tracing::warn!(channel.id = self.channel_id, error = %e, "cannot save the Discord cursors"),
        }
    }
}

/// `{"last_message": {"<channel>": "<message>"}}`: snowflakes as strings.
fn to_json(last: &BTreeMap<u64, u64>) -> Value {
    let map: serde_json::Map<String, Value> = last.iter().map(|(c, m)| (c.to_string(), json!(m.to_string()))).collect();
    json!({ "last_message": map })
}

fn parse(state: Option<&Value>) -> BTreeMap<u64, u64> {
    let Some(map) = state.and_then(|s| s.get("last_message")).and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    map.iter().filter_map(|(c, m)| Some((c.parse().ok()?, m.as_str()?.parse().ok()?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_only_move_forward_and_round_trip_exactly() {
        let mut c = Cursors::default();
        c.note(1, 18446744073709551615);
        c.note(1, 5);
        c.note(2, 7);
        assert_eq!(c.list(), vec![(1, 18446744073709551615), (2, 7)]);
        assert_eq!(parse(Some(&to_json(&c.last))), c.last);
    }
}
