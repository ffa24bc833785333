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
pub struct Client {
    pub bot: Bot,
    pub throttled: Option<(Throttle<Bot>, Pacer)>,
}

/// Spreads a bot's sends evenly, a little under Telegram's 30 messages/s: `Throttle`
/// alone lets 30 go at once each second, and a burst that arrives late at Telegram
/// meets the next one and gets a 429.
///
/// Bots' and broadcasts' sends queue for their turn one at a time behind a gate of
/// their own, so at most one of them is ever ahead of an operator's reply.
pub struct Pacer {
    next: tokio::sync::Mutex<tokio::time::Instant>,
    bulk: tokio::sync::Mutex<()>,
    interval: std::time::Duration,
}

impl Pacer {
    pub fn new(interval: std::time::Duration) -> Pacer {
        Pacer {
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            bulk: tokio::sync::Mutex::new(()),
            interval,
        }
    }

    /// Waits for this send's turn. Turns follow an even timeline, `interval` apart: a wake
    /// a little late (the timer's millisecond, a busy thread) does not push every later
    /// turn back, which cost 5 % of the rate. A send later than a whole interval (nothing
    /// to send for a while) starts a new timeline from now, so idle time never adds up to
    /// a burst.
    pub async fn turn(&self, bulk: bool) {
        let _gate = if bulk { Some(self.bulk.lock().await) } else { None };
        let mut next = self.next.lock().await;
        tokio::time::sleep_until(*next).await;
        let now = tokio::time::Instant::now();
        *next = if now < *next + self.interval { *next + self.interval } else { now + self.interval };
    }
}

/// The gap between two sends of a throttled bot: 29.5 a second, just under Telegram's 30.
pub const PACE: std::time::Duration = std::time::Duration::from_micros(33_900);

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
            (Throttle::spawn_with_settings(bot.clone(), settings), Pacer::new(PACE))
        });
        let client = Arc::new(Client { bot, throttled });
        map.insert(channel_id, (key, client.clone()));
        client
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::{Instant, advance};

    use super::Pacer;

    const GAP: Duration = Duration::from_millis(34);

    #[tokio::test(start_paused = true)]
    async fn late_wakes_keep_the_timeline_and_idle_time_makes_no_burst() {
        let pacer = Pacer::new(GAP);
        let start = Instant::now();
        pacer.turn(false).await;
        // This send is woken 3 ms late: the next turn is still on the timeline.
        advance(GAP + Duration::from_millis(3)).await;
        pacer.turn(false).await;
        pacer.turn(false).await;
        assert_eq!(Instant::now() - start, GAP * 2);
        // Nothing to send for a second: the next turn is one gap after the late one,
        // not a run of turns catching up.
        advance(Duration::from_secs(1)).await;
        pacer.turn(false).await;
        let resumed = Instant::now();
        pacer.turn(false).await;
        assert_eq!(Instant::now() - resumed, GAP);
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_send_waits_behind_at_most_one_bulk_send() {
        let pacer = std::sync::Arc::new(Pacer::new(GAP));
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (pacer, order) = (pacer.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                pacer.turn(true).await;
                order.lock().unwrap().push(format!("bulk {i}"));
            }));
        }
        // The twenty bulk sends are queued; a live one arrives a little later.
        tokio::time::sleep(GAP / 2).await;
        let started = Instant::now();
        pacer.turn(false).await;
        order.lock().unwrap().push("live".into());
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        let live = order.iter().position(|s| s == "live").unwrap();
        assert!(live <= 2, "the live send went {live}th: {order:?}");
        assert!(Instant::now() - started >= GAP * 18, "bulk sends kept their pace");
    }
}
