//! One teloxide client per channel, kept while the channel's token, address and
//! limits stay the same. Sending goes through teloxide's `Throttle` adaptor, which keeps
//! Telegram's limits per bot (30 messages/s, 1/s per chat, 20/min per group) and, on a
//! 429, freezes that bot's sending for `retry_after`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use teloxide::Bot;
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::{Limits, Settings as ThrottleSettings};

use crate::settings::Settings;

/// A channel's bot: raw for updates and files, throttled (when on) for sending.
#[derive(Clone)]
pub struct Client {
    pub bot: Bot,
    pub throttled: Option<Throttle<Bot>>,
}

type Key = (String, String, bool);

#[derive(Default)]
pub struct Clients {
    /// Holds the HTTP client (and its connection pool) every bot shares.
    template: std::sync::OnceLock<Bot>,
    by_channel: Mutex<HashMap<i64, (Key, Arc<Client>)>>,
}

impl Clients {
    fn template(&self) -> &Bot {
        self.template.get_or_init(|| {
            let http = teloxide::net::default_reqwest_settings().build().expect("an HTTP client");
            Bot::with_client("", http)
        })
    }

    /// A bot for one-off calls (checking a token before the channel exists).
    pub fn bare(&self, s: &Settings) -> Bot {
        Bot::with_client(s.token.clone(), self.template().client().clone()).set_api_url(s.api_url.clone())
    }

    /// The channel's client, made (or remade after a settings change) on first use.
    pub fn get(&self, channel_id: i64, s: &Settings) -> Arc<Client> {
        let key: Key = (s.token.clone(), s.api_url.to_string(), s.throttle);
        let mut map = self.by_channel.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, c)) = map.get(&channel_id)
            && *k == key
        {
            return c.clone();
        }
        let bot = self.bare(s);
        // Without retries the 429 reaches the outbox, which reschedules the message;
        // the adaptor still freezes the whole bot for `retry_after` meanwhile.
        let throttled = s.throttle.then(|| {
            let settings = ThrottleSettings::default().limits(Limits::default()).no_retry();
            Throttle::spawn_with_settings(bot.clone(), settings)
        });
        let client = Arc::new(Client { bot, throttled });
        map.insert(channel_id, (key, client.clone()));
        client
    }
}
