//! Lanes of the outbox: how long an operator's reply waits when a bot has a backlog of
//! `backlog` messages (100,000) queued on the same Telegram channel, against the fake
//! Bot API of the tests on 127.0.0.1, Parley in this process on a fresh SQLite file.
//!
//! - **limits off** (`throttle: false`, the fake answers at once): the backlog drains as
//!   fast as the outbox goes; `replies` operator replies, one every 100 ms while it
//!   drains. Figures: each reply's latency from the POST to the fake receiving it (p50,
//!   p99, max), and the backlog's drain rate meanwhile.
//! - **limits on** (Parley's pacer at 29.5 messages/s, the fake answering 429 beyond 30):
//!   the backlog would take an hour; the replies are measured while it waits.
//!
//! Without lanes an operator's reply would wait behind the whole backlog: ~`backlog` /
//! drain rate with limits off, about an hour with them on.
//!
//! Run: `cargo bench --bench outbox_lanes`. Settings as `-- --backlog 20000` or
//! `PARLEY_BENCH_BACKLOG=20000`: `backlog` (100000), `chats` (1000: the backlog's chats),
//! `replies` (20: one per contact of the operator), `outbox_concurrency` (128).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

#[path = "../tests/support/telegram_fake.rs"]
#[allow(dead_code, reason = "the tests' fake; the bench uses part of it")]
mod telegram_fake;
#[path = "../tests/support/telegram_person.rs"]
#[allow(dead_code, reason = "the tests' fake; the bench uses part of it")]
mod telegram_person;

use telegram_fake::{FakeTelegram, Person};

#[allow(dead_code)] // shared with ingest_load, which uses all of it
mod common;
use common::{admin_session, mem_mib, pct, post_json, setting};

const PATIENCE: Duration = Duration::from_secs(300);

struct Bench {
    base: String,
    http: reqwest::Client,
    cookie: String,
    fake: FakeTelegram,
    app: parley::App,
}

impl Bench {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        post_json(&self.http, &self.base, &self.cookie, path, body).await
    }

    async fn channel(&self, token: &str, throttle: bool) -> anyhow::Result<i64> {
        let settings = json!({"token": token, "mode": "webhook", "api_url": self.fake.url(), "throttle": throttle});
        let v = self.post("/api/v1/channels", json!({"kind": "telegram", "name": token, "settings": settings})).await?;
        v["id"].as_i64().context("no channel id")
    }

    /// One message from each of `users` Telegram users (ids from `first`), through the
    /// channel's webhook; returns their chat ids.
    async fn contacts(&self, token: &str, first: i64, users: usize) -> anyhow::Result<Vec<i64>> {
        let (url, secret) = self.fake.webhook(token).await;
        // The channel registered its public URL; this process serves it on `base`.
        let hooks = format!("{}/hooks/{}", self.base, url.rsplit("/hooks/").next().unwrap_or_default());
        for i in 0..users as i64 {
            let mut update = Person::new(first + i, "Fan").text(1, "hello");
            update["update_id"] = json!(i + 1);
            let res = self
                .http
                .post(&hooks)
                .header("x-telegram-bot-api-secret-token", &secret)
                .body(update.to_string())
                .send()
                .await?;
            if res.status() != 200 {
                bail!("an update answered {}", res.status());
            }
        }
        let external: Vec<String> = (0..users as i64).map(|i| (first + i).to_string()).collect();
        Ok(self
            .app
            .store
            .read(move |db| -> parley::error::Result<Vec<i64>> {
                let mut out = Vec::with_capacity(external.len());
                for e in &external {
                    let r = db.query_one(
                        "SELECT c.id FROM chats c JOIN identities i ON i.contact_id = c.contact_id WHERE i.external_id = $1",
                        parley::params![e.as_str()],
                    )?;
                    out.push(r.get("id")?);
                }
                Ok(out)
            })
            .await?)
    }

    /// Queues `n` bot messages spread over `chats`, in writes of a few thousand.
    async fn backlog(&self, chats: &[i64], n: usize) -> anyhow::Result<()> {
        let now = self.app.now();
        let mut left = n;
        let mut k = 0usize;
        while left > 0 {
            let take = left.min(5_000);
            let batch: Vec<i64> = (0..take).map(|j| chats[(k + j) % chats.len()]).collect();
            k += take;
            self.app
                .store
                .write(move |db| -> parley::error::Result<()> {
                    for chat in batch {
                        let content = parley_sdk::Content::text("Today's offer: 20 % off.");
                        parley::inbox::messages::enqueue(
                            db,
                            chat,
                            None,
                            &content,
                            parley::inbox::messages::Author::Bot,
                            now,
                        )?;
                    }
                    Ok(())
                })
                .await?;
            left -= take;
        }
        Ok(())
    }

    /// One operator reply in each of `chats`, one every 100 ms; their latencies.
    async fn replies(&self, chats: &[i64], tag: &str) -> anyhow::Result<Vec<Duration>> {
        let mut out = Vec::new();
        for (i, chat) in chats.iter().enumerate() {
            let text = format!("{tag} reply {i}");
            self.fake.watch_text(&text);
            let start = Instant::now();
            self.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": text})).await?;
            let deadline = start + PATIENCE;
            let seen = loop {
                if let Some(at) = self.fake.text_seen_at(&text) {
                    break at;
                }
                if Instant::now() > deadline {
                    bail!("{text} never arrived");
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            };
            out.push(seen - start);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        out.sort();
        Ok(out)
    }
}

fn ms(d: &[Duration], p: f64) -> String {
    format!("{:.1}", pct(d, p))
}

/// One phase on an app and a fake of its own, so one phase's backlog does not drain into
/// the next one's figures.
async fn phase(phase: &str, throttle: bool, backlog: usize, chats: usize, replies: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = parley::Config::default();
    config.database.url = format!("sqlite://{}/parley.db", dir.path().display());
    config.listen = "127.0.0.1:0".into();
    config.log.level = "warn".into();
    config.outbox.concurrency = setting("outbox_concurrency", 128)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let base = format!("http://{}", launched.addr);
    let http = reqwest::Client::new();
    let setup = launched.setup_link.clone().context("a fresh database has a setup link")?;
    let cookie = admin_session(&http, &base, &setup).await?;
    let fake = FakeTelegram::start().await;
    fake.quiet();
    let bench = Bench { base, http, cookie, fake, app: launched.app.clone() };

    let token = "2001:lanes-bench";
    bench.channel(token, throttle).await?;
    // The operator answers `replies` contacts, one reply each: Telegram (and teloxide's
    // throttle) allow one message a second per chat, which is not what is measured.
    let mut fans = bench.contacts(token, 1_000_000, chats + replies).await?;
    let operator_chats = fans.split_off(chats);
    bench.fake.enforce_limits(throttle);
    let start = Instant::now();
    bench.backlog(&fans, backlog).await?;
    let queued_in = start.elapsed().as_secs_f64();
    let latencies = bench.replies(&operator_chats, phase).await?;
    let drained = bench.fake.ok_count("sendMessage") - replies;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{phase}: {backlog} bot messages queued in {queued_in:.1} s; an operator's reply meanwhile (n={replies}): \
         p50 {} ms, p99 {} ms, max {} ms; {drained} bot messages sent in {secs:.1} s = {:.0}/s; {} answered 429",
        ms(&latencies, 50.0),
        ms(&latencies, 99.0),
        ms(&latencies, 100.0),
        drained as f64 / secs,
        bench.fake.throttled()
    );
    launched.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backlog = setting("backlog", 100_000)?;
    let chats = setting("chats", 1_000)?;
    let replies = setting("replies", 20)?;
    phase("limits off", false, backlog, chats, replies).await?;
    phase("limits on", true, backlog, chats, replies).await?;
    println!("peak RSS of the whole process: {:.1} MiB", mem_mib("self", "VmHWM"));
    Ok(())
}
