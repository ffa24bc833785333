//! One serenity HTTP client per channel, kept while the channel's token and address stay
//! the same, with what the channel learnt while running: DM channels opened and, for
//! guild channels, each author's last message (a reply goes back as a reply to it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serenity::http::{Http, HttpBuilder};

use crate::settings::Settings;

pub struct Client {
    pub http: Arc<Http>,
    /// DM channel of each user written to (Discord answers the same one every time).
    pub dm_channels: Mutex<HashMap<u64, u64>>,
    /// The last message of each guild-channel identity, by external id.
    pub last_message: Mutex<HashMap<String, u64>>,
}

/// An HTTP client at the channel's address: REST paths `/api/v10/...` hang off `api_url`.
///
/// serenity's rate limiter (per-route buckets from Discord's headers, every 429 waited
/// out for its `retry_after` and tried again) runs at Discord's own address. serenity
/// 0.12 builds the limiter's requests without the proxy base, so at any other
/// `api_url` (a limiting proxy such as twilight-http-proxy, or the tests' fake) it is
/// off, and a 429 reaches the outbox as [`parley_sdk::SendError::RateLimited`].
pub fn http(s: &Settings) -> Http {
    if s.api_url == crate::settings::DEFAULT_API_URL {
        return HttpBuilder::new(&s.token).build();
    }
    HttpBuilder::new(&s.token).proxy(s.api_url.clone()).ratelimiter_disabled(true).build()
}

#[derive(Default)]
pub struct Clients {
    by_channel: Mutex<HashMap<i64, (Settings, Arc<Client>)>>,
}

impl Clients {
    pub fn get(&self, channel_id: i64, s: &Settings) -> Arc<Client> {
        let mut map = self.by_channel.lock().expect("clients lock");
        if let Some((known, c)) = map.get(&channel_id)
            && known == s
        {
            return c.clone();
        }
        let client =
            Arc::new(Client { http: Arc::new(http(s)), dm_channels: Mutex::default(), last_message: Mutex::default() });
        map.insert(channel_id, (s.clone(), client.clone()));
        client
    }
}
