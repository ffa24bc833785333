//! Load generator for broadcasts, against the fake Bot API of the tests on 127.0.0.1,
//! with Parley in this process on a fresh SQLite file (WAL, `synchronous=FULL`).
//!
//! - **recipients**: `recipients` contacts (written straight into the store: this measures
//!   broadcasts, not ingest), each with a Telegram identity and a closed chat; the time of
//!   `POST /broadcasts/{id}/start`, which writes every recipient row before anything is sent.
//! - **send, limits off**: messages/s from the start until the fake has them all, the
//!   resident memory sampled every half second (min / max: flat or not), and an operator's
//!   reply on the same bot in the middle (how long until the fake has it).
//! - **send, limits on**: `limited` recipients with Parley's limiter on and the fake
//!   answering 429 beyond 30 messages/s: messages/s and the number of 429s.
//!
//! Run: `cargo bench --bench broadcast_load`. Settings as `-- --recipients 20000` or
//! `PARLEY_BENCH_RECIPIENTS=20000`: `recipients` (100000), `limited` (300),
//! `outbox_concurrency` (128), `depth` (2000: the broadcast's outbox depth).

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

#[path = "../tests/support/telegram_fake.rs"]
#[allow(dead_code, reason = "the tests' fake; the bench uses part of it")]
mod telegram_fake;
#[path = "../tests/support/telegram_person.rs"]
#[allow(dead_code, reason = "the tests' fake; the bench uses part of it")]
mod telegram_person;

use telegram_fake::{FakeTelegram, Person};

#[allow(dead_code)] // shared with the other benches
mod common;
use common::{admin_session, mem_mib, post_json, setting};

/// How long any phase may take before the bench gives up (the fake's waits use it).
const PATIENCE: Duration = Duration::from_secs(600);

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

    /// `n` contacts with an identity on `channel` (Telegram users from `first`), tagged
    /// `tag`, each with a closed chat.
    async fn contacts(&self, channel: i64, first: i64, n: usize, tag: &str) -> anyhow::Result<()> {
        let (now, tags) = (self.app.now(), json!([tag]).to_string());
        self.app
            .store
            .write(move |db| -> parley::error::Result<()> {
                for i in 0..n as i64 {
                    let user = first + i;
                    let contact: i64 = db
                        .query_one(
                            "INSERT INTO contacts (first_name, tags, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
                            parley::params![format!("User {user}"), tags.as_str(), now],
                        )?
                        .get("id")?;
                    db.exec(
                        "INSERT INTO identities (contact_id, channel_id, external_id, created_at) VALUES ($1, $2, $3, $4)",
                        parley::params![contact, channel, user.to_string(), now],
                    )?;
                    db.exec(
                        "INSERT INTO chats (contact_id, status, active_channel_id, last_message_at, created_at, updated_at) \
                         VALUES ($1, 'closed', $2, $3, $3, $3)",
                        parley::params![contact, channel, now],
                    )?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn broadcast(&self, text: &str, tag: &str) -> anyhow::Result<(i64, f64)> {
        let b = self
            .post(
                "/api/v1/broadcasts",
                json!({"name": text, "content": {"text": text}, "audience": {"tags": {"any": [tag]}}}),
            )
            .await?;
        let id = b["id"].as_i64().context("no broadcast id")?;
        let start = Instant::now();
        self.post(&format!("/api/v1/broadcasts/{id}/start"), json!({})).await?;
        Ok((id, start.elapsed().as_secs_f64()))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let recipients = setting("recipients", 100_000)?;
    let limited = setting("limited", 300)?;

    let dir = tempfile::tempdir()?;
    let mut config = parley::Config::default();
    config.database.url = format!("sqlite://{}/parley.db", dir.path().display());
    config.listen = "127.0.0.1:0".into();
    config.log.level = "warn".into();
    config.outbox.concurrency = setting("outbox_concurrency", 128)?;
    config.broadcasts.outbox_depth = setting("depth", 2_000)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let base = format!("http://{}", launched.addr);
    let http = reqwest::Client::new();
    let setup = launched.setup_link.clone().context("a fresh database has a setup link")?;
    let cookie = admin_session(&http, &base, &setup).await?;
    let fake = FakeTelegram::start().await;
    fake.quiet();
    let bench = Bench { base, http, cookie, fake, app: launched.app.clone() };

    // Recipient rows.
    let token = "2001:broadcast-bench";
    let channel = bench.channel(token, false).await?;
    bench.contacts(channel, 1_000_000, recipients, "all").await?;
    // One contact who writes in: the operator answers them during the broadcast.
    let (_, secret) = bench.fake.webhook(token).await;
    let hook = format!("{}/hooks/{channel}", bench.base);
    let mut update = Person::new(42, "Writer").text(1, "hi");
    update["update_id"] = json!(1);
    let res = bench
        .http
        .post(&hook)
        .header("x-telegram-bot-api-secret-token", &secret)
        .body(update.to_string())
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "the contact's message answered {}", res.status());
    let rss_before = mem_mib("self", "VmRSS");
    let (id, write_secs) = bench.broadcast("Big sale", "all").await?;
    println!("recipients: {recipients} rows written in {write_secs:.2} s (goal < 5 s)");

    // Sending with the limits off, memory sampled as it goes, an operator's reply midway.
    let start = Instant::now();
    let (mut rss_min, mut rss_max) = (f64::MAX, 0f64);
    let mut reply: Option<(Instant, Option<f64>)> = None;
    while bench.fake.ok_count("sendMessage") < recipients {
        let rss = mem_mib("self", "VmRSS");
        (rss_min, rss_max) = (rss_min.min(rss), rss_max.max(rss));
        if reply.is_none() && bench.fake.ok_count("sendMessage") >= recipients / 2 {
            bench.fake.watch_text("Your order shipped");
            let chat = bench
                .app
                .store
                .read(|db| -> parley::error::Result<i64> {
                    Ok(db.query_one("SELECT id FROM chats WHERE status = 'open' LIMIT 1", &[])?.get("id")?)
                })
                .await?;
            bench.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "Your order shipped"})).await?;
            reply = Some((Instant::now(), None));
        }
        if let Some((at, None)) = reply
            && let Some(seen) = bench.fake.text_seen_at("Your order shipped")
        {
            reply = Some((at, Some(seen.duration_since(at).as_secs_f64() * 1e3)));
        }
        anyhow::ensure!(start.elapsed() < PATIENCE, "the broadcast did not end in time");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let reply_ms = reply.and_then(|r| r.1).map_or("not measured".into(), |ms| format!("{ms:.0} ms"));
    println!(
        "send, limits off: {recipients} messages in {secs:.2} s = {:.0} messages/s (goal ≥ 5,000); \
         resident memory {rss_before:.0} MiB before, {rss_min:.0}–{rss_max:.0} MiB while sending; \
         an operator's reply midway reached the fake in {reply_ms}",
        recipients as f64 / secs
    );
    let b = bench.app.store.read(move |db| parley::broadcasts::get(db, id)).await?;
    println!("figures: {}", serde_json::to_string(&b.figures)?);

    // Sending with Telegram's limits on, at both ends.
    let limited_token = "2002:limited-bench";
    let lim = bench.channel(limited_token, true).await?;
    bench.contacts(lim, 2_000_000, limited, "limited").await?;
    bench.fake.enforce_limits(true);
    let before = bench.fake.ok_count("sendMessage");
    let start = Instant::now();
    bench.broadcast("Limited", "limited").await?;
    bench.fake.wait_count("sendMessage", before + limited, PATIENCE).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "send, limits on: {limited} messages in {secs:.2} s = {:.1} messages/s (ceiling 30), {} answered 429",
        limited as f64 / secs,
        bench.fake.throttled()
    );
    println!("peak RSS of the whole process: {:.1} MiB", mem_mib("self", "VmHWM"));
    launched.shutdown().await;
    Ok(())
}
