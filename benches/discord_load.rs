//! Load generator for the Discord channel: DMs dispatched by the fake Discord of the tests
//! (`tests/support/discord_fake.rs`) over its gateway WebSocket to serenity in this
//! process, stored by Parley (a fresh SQLite file, WAL, `synchronous=FULL`, group commit),
//! and timed until each reaches an operator's event socket as `message.created`.
//!
//! - **burst**: `burst` DMs from `users` users dispatched at once: messages/s from the first
//!   dispatch to the last arrival on the operator socket.
//! - **sustained**: `sustained` DMs paced at `rate` per second: the rate kept, and the
//!   latency from dispatch to the operator socket as p50/p99/max.
//!
//! Then the process's peak RSS (server, fake and load generator together). What bounds
//! it: the connector stores one gateway event at a time, in the gateway's order (the
//! next is not looked at before the hub committed this one), so the burst rate is one
//! ingest's round trip through the writer thread, not the writer's group-commit capacity.
//!
//! Run: `cargo bench --bench discord_load`. Settings as `-- --burst 5000` or
//! `PARLEY_BENCH_BURST=5000`: `burst` (5000), `sustained` (5000), `rate` (200), `users` (500).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[path = "../tests/support/discord_fake.rs"]
#[allow(dead_code, reason = "the tests' fake; the bench uses part of it")]
mod discord_fake;

use discord_fake::{FakeDiscord, Person};

#[allow(dead_code)] // shared with the other benches
mod common;
use common::{admin_session, mem_mib, pct, post_json, setting};

/// How long any phase may take before the bench gives up (the fake's waits use it).
const PATIENCE: Duration = Duration::from_secs(300);
const TOKEN: &str = "MTIz.bench.token";

/// When each tagged text arrived on the operator socket.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn read_events(
    url: String,
    cookie: String,
    arrivals: Arrivals,
    count: tokio::sync::watch::Sender<usize>,
) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.context("cannot open the event socket")?;
    while let Some(frame) = socket.next().await {
        let Message::Text(text) = frame? else { continue };
        let at = Instant::now();
        let v: Value = serde_json::from_str(text.as_str())?;
        if v["kind"] == "message.created"
            && let Some(t) = v["data"]["message"]["text"].as_str()
        {
            arrivals.lock().unwrap_or_else(|e| e.into_inner()).insert(t.to_owned(), at);
            count.send_modify(|n| *n += 1);
        }
    }
    Ok(())
}

/// Dispatches `n` DMs tagged `{tag}{i}`, `gap` apart (none: at once); returns when each went.
fn dispatch(
    fake: &FakeDiscord,
    tag: &str,
    n: usize,
    users: usize,
    first_id: u64,
    gap: Option<Duration>,
) -> impl std::future::Future<Output = HashMap<String, Instant>> {
    let fake = fake.clone();
    let tag = tag.to_owned();
    async move {
        let mut sent = HashMap::with_capacity(n);
        let start = tokio::time::Instant::now();
        for i in 0..n {
            if let Some(g) = gap {
                tokio::time::sleep_until(start + g * i as u32).await;
            }
            let who = Person::new(10_000_000 + (i % users) as u64 * 10, "Load");
            let text = format!("{tag}{i}");
            fake.dispatch("MESSAGE_CREATE", who.message(first_id + i as u64, &text, json!({})));
            sent.insert(text, Instant::now());
        }
        sent
    }
}

async fn wait_count(count: &mut tokio::sync::watch::Receiver<usize>, n: usize) -> anyhow::Result<()> {
    tokio::time::timeout(PATIENCE, count.wait_for(|c| *c >= n)).await.context("messages did not all arrive")??;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let burst = setting("burst", 5_000)?;
    let sustained = setting("sustained", 5_000)?;
    let rate = setting("rate", 200)?;
    let users = setting("users", 500)?;

    let dir = tempfile::tempdir()?;
    let mut config = parley::Config::default();
    config.database.url = format!("sqlite://{}/parley.db", dir.path().display());
    config.listen = "127.0.0.1:0".into();
    config.log.level = "warn".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let base = format!("http://{}", launched.addr);
    let http = reqwest::Client::new();
    let setup = launched.setup_link.clone().context("a fresh database has a setup link")?;
    let cookie = admin_session(&http, &base, &setup).await?;
    let fake = FakeDiscord::start(TOKEN).await;
    let settings = json!({"token": TOKEN, "api_url": fake.url()});
    post_json(
        &http,
        &base,
        &cookie,
        "/api/v1/channels",
        json!({"kind": "discord", "name": "Bench", "settings": settings}),
    )
    .await?;
    fake.wait_connected(1).await;

    let arrivals: Arrivals = Arc::default();
    let (tx, mut count) = tokio::sync::watch::channel(0usize);
    let url = format!("{}/api/v1/events?after=0", base.replace("http://", "ws://"));
    tokio::spawn(read_events(url, cookie.clone(), arrivals.clone(), tx));

    // Burst: everything at once.
    let start = Instant::now();
    dispatch(&fake, "b", burst, users, 1_000_000_000_000_000_000, None).await;
    wait_count(&mut count, burst).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "burst: {burst} DMs from {users} users in {secs:.2} s = {:.0} messages/s (gateway → stored → operator socket)",
        burst as f64 / secs
    );

    // Sustained: paced, latency per message.
    let gap = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let sent = dispatch(&fake, "s", sustained, users, 2_000_000_000_000_000_000, Some(gap)).await;
    wait_count(&mut count, burst + sustained).await?;
    let secs = start.elapsed().as_secs_f64();
    let seen = arrivals.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut lat: Vec<Duration> = sent.iter().filter_map(|(t, at)| Some(seen.get(t)?.duration_since(*at))).collect();
    lat.sort();
    println!(
        "sustained: {sustained} DMs at {rate}/s offered, {:.0} messages/s kept; dispatch → operator socket p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sustained as f64 / secs,
        pct(&lat, 50.0),
        pct(&lat, 99.0),
        pct(&lat, 100.0)
    );
    println!("peak RSS of the whole process: {:.1} MiB", mem_mib("self", "VmHWM"));
    launched.shutdown().await;
    Ok(())
}
