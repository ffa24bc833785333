//! Load generator for the Telegram channel, against the fake Bot API of the tests
//! (`tests/support/telegram_fake.rs`) on 127.0.0.1, with Parley in this process on a
//! fresh SQLite file (WAL, `synchronous=FULL`, group commit).
//!
//! - **webhook**: `updates` real-shaped text updates from `users` distinct Telegram users,
//!   POSTed to `/hooks/{id}` with the secret over `concurrency` keep-alive connections; each
//!   is answered 200 only after its message is committed. Figure: updates/s from the first
//!   POST to the last answer, and the process's peak RSS (server, client and fake together).
//! - **polling**: `poll_updates` updates queued in the fake for a polling channel; the clock
//!   runs until the bot has confirmed them all with its getUpdates offset.
//! - **send, limits off**: `recipients` outbound messages (one per contact) through the
//!   outbox to a channel with `throttle: false`; messages/s until the fake has them all.
//! - **send, limits on**: `limited` messages with Parley's limiter on and the fake answering
//!   429 beyond 30 messages/s: messages/s and the number of 429s.
//!
//! Run: `cargo bench --bench telegram_load` (about a minute). Settings as
//! `-- --updates 20000` or `PARLEY_BENCH_UPDATES=20000`: `updates` (50000), `users` (1000),
//! `concurrency` (64), `poll_updates` (20000), `recipients` (10000), `limited` (600),
//! `outbox_concurrency` (128: sends in flight at once).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
use common::{CpuMark, admin_session, mem_mib, post_json, setting};

/// How long any phase may take before the bench gives up (the fake's waits use it).
const PATIENCE: Duration = Duration::from_secs(300);

/// Peak resident memory of this process (server, load generator and fake).
fn peak_rss_mib() -> f64 {
    mem_mib("self", "VmHWM")
}

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

    async fn channel(&self, token: &str, mode: &str, throttle: bool) -> anyhow::Result<i64> {
        let settings =
            json!({"token": token, "mode": mode, "api_url": self.fake.url(), "throttle": throttle, "poll_timeout": 1});
        let v = self.post("/api/v1/channels", json!({"kind": "telegram", "name": token, "settings": settings})).await?;
        v["id"].as_i64().context("no channel id")
    }

    /// POSTs `updates` from `users` users over `concurrency` connections; returns the seconds taken.
    async fn webhook(
        &self,
        id: i64,
        token: &str,
        first_user: i64,
        users: usize,
        updates: usize,
        concurrency: usize,
    ) -> anyhow::Result<f64> {
        let (_, secret) = self.fake.webhook(token).await;
        let url = format!("{}/hooks/{id}", self.base);
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (http, url, secret, next) = (self.http.clone(), url.clone(), secret.clone(), next.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= updates {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let user = Person::new(first_user + (i % users) as i64, "User");
                    let mut u = user.text(i as i64 + 1, &format!("message number {i}"));
                    u["update_id"] = json!(i + 1);
                    let res = http
                        .post(&url)
                        .header("x-telegram-bot-api-secret-token", &secret)
                        .body(u.to_string())
                        .send()
                        .await?;
                    if res.status() != 200 {
                        bail!("update {i} answered {}", res.status());
                    }
                }
            }));
        }
        for w in workers {
            w.await??;
        }
        Ok(start.elapsed().as_secs_f64())
    }

    /// Queues one outbound message in each open chat of the channel; returns how many.
    async fn queue_replies(&self, channel_id: i64, limit: usize) -> anyhow::Result<usize> {
        let now = self.app.now();
        let n = self
            .app
            .store
            .write(move |db| -> parley::error::Result<usize> {
                let chats = db.query(
                    "SELECT c.id FROM chats c WHERE c.active_channel_id = $1 ORDER BY c.id LIMIT $2",
                    parley::params![channel_id, limit as i64],
                )?;
                for r in &chats {
                    let content = parley_sdk::Content::text("Your order has shipped.");
                    parley::inbox::messages::enqueue(
                        db,
                        r.get("id")?,
                        None,
                        &content,
                        parley::inbox::messages::Author::Broadcast,
                        now,
                    )?;
                }
                Ok(chats.len())
            })
            .await?;
        Ok(n)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let updates = setting("updates", 50_000)?;
    let users = setting("users", 1_000)?;
    let concurrency = setting("concurrency", 64)?;
    let poll_updates = setting("poll_updates", 20_000)?;
    let recipients = setting("recipients", 10_000)?;
    let limited = setting("limited", 600)?;

    let dir = tempfile::tempdir()?;
    let mut config = parley::Config::default();
    config.database.url = format!("sqlite://{}/parley.db", dir.path().display());
    config.listen = "127.0.0.1:0".into();
    config.log.level = "warn".into();
    config.outbox.concurrency = setting("outbox_concurrency", 128)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let base = format!("http://{}", launched.addr);
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let setup = launched.setup_link.clone().context("a fresh database has a setup link")?;
    let cookie = admin_session(&http, &base, &setup).await?;
    let fake = FakeTelegram::start().await;
    fake.quiet();
    let bench = Bench { base, http, cookie, fake, app: launched.app.clone() };

    // Webhook ingest.
    let hook = bench.channel("1001:webhook-bench", "webhook", false).await?;
    let cpu = CpuMark::now(&["/proc/self/stat"]);
    let secs = bench.webhook(hook, "1001:webhook-bench", 1, users, updates, concurrency).await?;
    let others = cpu.since(&["/proc/self/stat"]).others_pct();
    println!(
        "webhook: {updates} updates from {users} users in {secs:.2} s = {:.0} updates/s (each answered after commit); peak RSS {:.1} MiB; other programs used {others:.0} % of the machine",
        updates as f64 / secs,
        peak_rss_mib()
    );

    // Long polling.
    let token = "1002:polling-bench";
    let start = Instant::now();
    for i in 0..poll_updates {
        let user = Person::new(500_000 + (i % users) as i64, "Poller");
        bench.fake.push_update(token, user.text(i as i64 + 1, "polled"));
    }
    bench.channel(token, "polling", false).await?;
    bench.fake.wait_confirmed_within(token, PATIENCE).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "polling: {poll_updates} updates in {secs:.2} s = {:.0} updates/s (offset confirmed after commit)",
        poll_updates as f64 / secs
    );

    // Sending with the limits off: one message to each of `recipients` contacts.
    let send_token = "1003:send-bench";
    let send = bench.channel(send_token, "webhook", false).await?;
    bench.webhook(send, send_token, 1_000_000, recipients, recipients, concurrency).await?;
    let start = Instant::now();
    let n = bench.queue_replies(send, recipients).await?;
    bench.fake.wait_count("sendMessage", n, PATIENCE).await;
    let secs = start.elapsed().as_secs_f64();
    println!("send, limits off: {n} messages in {secs:.2} s = {:.0} messages/s", n as f64 / secs);

    // Sending with Telegram's limits on, at both ends.
    let limited_token = "1004:limited-bench";
    let lim = bench.channel(limited_token, "webhook", true).await?;
    bench.webhook(lim, limited_token, 2_000_000, limited, limited, concurrency).await?;
    bench.fake.enforce_limits(true);
    let before = bench.fake.ok_count("sendMessage");
    let start = Instant::now();
    let n = bench.queue_replies(lim, limited).await?;
    bench.fake.wait_count("sendMessage", before + n, PATIENCE).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "send, limits on: {n} messages in {secs:.2} s = {:.1} messages/s (ceiling 30), {} answered 429",
        n as f64 / secs,
        bench.fake.throttled()
    );
    println!("peak RSS of the whole process: {:.1} MiB", peak_rss_mib());
    launched.shutdown().await;
    Ok(())
}
