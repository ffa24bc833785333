//! Load generator for the WhatsApp channel: signed Cloud API webhook POSTs (messages and
//! delivery statuses mixed) → the connector (signature, normalize) → ingest → the
//! operator's event WebSocket, against the tests' fake Graph API
//! (`tests/support/whatsapp_fake.rs`) on 127.0.0.1, with Parley in this process on a
//! fresh SQLite file (WAL, `synchronous=FULL`, group commit), or on PostgreSQL when
//! `PARLEY_BENCH_DATABASE_URL` is set (a fresh schema `parley_bench_<pid>`, dropped after).
//!
//! Set-up: `outbound` replies go out through the outbox to `contacts` contacts, so that
//! statuses have messages to move. Then:
//! - **sustained**: `messages` bodies over `concurrency` keep-alive connections, every
//!   third one a status (`delivered`, later `read`) and the rest texts; the clock runs from
//!   the first POST until the socket has seen every `message.created` and `message.updated`;
//! - **latency**: `rate` bodies/s, paced (open loop), for `seconds`, the same mix; for each
//!   the time from just before its POST until its event arrives on the socket, p50/p99/max.
//!
//! Run: `cargo bench --bench whatsapp_load`, or on PostgreSQL
//! `PARLEY_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench whatsapp_load`.
//! Settings (`-- --messages 20000` or `PARLEY_BENCH_MESSAGES=20000`): `messages` (30000;
//! 5000 on PostgreSQL), `contacts` (1000), `outbound` (5000, raised to what the statuses
//! need: each message gets one `delivered` and one `read`), `concurrency` (64), `rate`
//! (500; 200 on PostgreSQL), `seconds` (10).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[path = "../tests/support/whatsapp_fake.rs"]
#[allow(dead_code, reason = "the tests' fake; the bench uses part of it")]
mod whatsapp_fake;

use whatsapp_fake::{APP_SECRET, Customer, FakeGraph};

#[allow(dead_code)] // shared with the other benches
mod common;
use common::{CpuMark, admin_session, pct, post_json, setting};

/// How long any phase may take before the bench gives up (the fake's waits use it).
const PATIENCE: Duration = Duration::from_secs(300);

/// What the operator socket has seen: each event by its key (`in:<text>` for a new
/// message, `<message id>:<state>` for a delivery state), and when it arrived.
#[derive(Default)]
struct Seen {
    count: watch::Sender<usize>,
    arrivals: Mutex<HashMap<String, Instant>>,
}

impl Seen {
    async fn wait_for(&self, target: usize) -> anyhow::Result<()> {
        let mut rx = self.count.subscribe();
        tokio::time::timeout(PATIENCE, rx.wait_for(|n| *n >= target))
            .await
            .context("timed out waiting for events")??;
        Ok(())
    }

    fn at(&self, key: &str) -> Option<Instant> {
        self.arrivals.lock().unwrap_or_else(|e| e.into_inner()).get(key).copied()
    }
}

async fn read_events(url: String, cookie: String, seen: Arc<Seen>) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.context("cannot open the event socket")?;
    while let Some(frame) = socket.next().await {
        let Message::Text(text) = frame? else { continue };
        let at = Instant::now();
        let frame: Value = serde_json::from_str(text.as_str())?;
        let m = &frame["data"]["message"];
        let key = match frame["kind"].as_str() {
            Some("message.created") => {
                format!("{}:{}", m["direction"].as_str().unwrap_or(""), m["text"].as_str().unwrap_or(""))
            }
            Some("message.updated") => format!("{}:{}", m["id"], m["state"].as_str().unwrap_or("")),
            _ => continue,
        };
        seen.arrivals.lock().unwrap_or_else(|e| e.into_inner()).insert(key, at);
        // Every message event counts, the set-up's included, so that a phase's end is a count.
        seen.count.send_modify(|n| *n += 1);
    }
    Ok(())
}

/// One body to POST, and the socket event that shows it was taken.
struct Item {
    body: String,
    key: String,
}

/// The mix: every third body a status for an outbound message, the rest texts.
struct Load {
    contacts: Vec<Customer>,
    /// (wamid, message id, recipient index) of the outbound messages.
    outbound: Vec<(String, i64, usize)>,
    next_status: AtomicUsize,
}

impl Load {
    fn item(&self, tag: &str, i: usize) -> Item {
        let body = |v: Value| v.to_string();
        if i % 3 == 2 {
            let k = self.next_status.fetch_add(1, Ordering::Relaxed);
            let (wamid, id, who) = &self.outbound[k % self.outbound.len()];
            // First a delivered for each message, then a read.
            let state = if k < self.outbound.len() { "delivered" } else { "read" };
            return Item { body: body(self.contacts[*who].status(wamid, state)), key: format!("{id}:{state}") };
        }
        let who = &self.contacts[i % self.contacts.len()];
        let text = format!("{tag} message {i}");
        Item { body: body(who.text(&format!("wamid.{tag}.{i}"), &text)), key: format!("in:{text}") }
    }
}

async fn post(http: &reqwest::Client, url: &str, body: String) -> anyhow::Result<()> {
    let signature = parley_whatsapp::sign(APP_SECRET, body.as_bytes());
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header(parley_whatsapp::SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await?;
    if res.status() != 200 {
        bail!("a webhook POST answered {}", res.status());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let postgres = std::env::var("PARLEY_BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty());
    let messages = setting("messages", if postgres.is_some() { 5_000 } else { 30_000 })?;
    let contacts = setting("contacts", 1_000)?;
    // Each outbound message takes two statuses (delivered, read); a third of all bodies are statuses.
    let outbound = setting("outbound", 5_000)?;
    let concurrency = setting("concurrency", 64)?;
    let rate = setting("rate", if postgres.is_some() { 200 } else { 500 })?;
    let seconds = setting("seconds", 10)?;
    let outbound = outbound.max((messages + rate * seconds) / 6 + 2);

    let dir = tempfile::tempdir()?;
    let schema = format!("parley_bench_{}", std::process::id());
    let (url, what) = match &postgres {
        Some(base) => {
            pg(base, format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).await?;
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}options=-c%20search_path%3D{schema}"), format!("PostgreSQL (schema {schema})"))
        }
        None => (format!("sqlite://{}/parley.db", dir.path().display()), "SQLite (WAL, synchronous=FULL)".into()),
    };
    let mut config = parley::Config::default();
    config.database.url = url;
    config.listen = "127.0.0.1:0".into();
    config.log.level = "warn".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let result = run(&launched, messages, contacts, outbound, concurrency, rate, seconds).await;
    launched.shutdown().await;
    if postgres.is_some() {
        let base = postgres.unwrap_or_default();
        pg(&base, format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
    }
    println!("database: {what}");
    result
}

async fn pg(url: &str, sql: String) -> anyhow::Result<()> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        postgres::Client::connect(&url, postgres::NoTls)?.batch_execute(&sql)?;
        Ok(())
    })
    .await?
}

async fn run(
    launched: &parley::Launched,
    messages: usize,
    contacts: usize,
    outbound: usize,
    concurrency: usize,
    rate: usize,
    seconds: usize,
) -> anyhow::Result<()> {
    let base = format!("http://{}", launched.addr);
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let setup = launched.setup_link.clone().context("a fresh database has a setup link")?;
    let cookie = admin_session(&http, &base, &setup).await?;
    let fake = FakeGraph::start().await;
    let settings = fake.settings();
    let channel = post_json(
        &http,
        &base,
        &cookie,
        "/api/v1/channels",
        serde_json::json!({"kind": "whatsapp", "name": "Bench", "settings": settings}),
    )
    .await?;
    let id = channel["id"].as_i64().context("no channel id")?;
    let hook = format!("{base}/hooks/{id}");

    // Contacts write once; one reply each (cycling) goes out, so statuses have targets.
    let people: Vec<Customer> =
        (0..contacts).map(|i| Customer::new(&format!("4420794{:05}", i), &format!("Person {i}"))).collect();
    for (i, p) in people.iter().enumerate() {
        post(&http, &hook, p.text(&format!("wamid.hello.{i}"), "hello").to_string()).await?;
    }
    let app = launched.app.clone();
    let now = app.now();
    app.store
        .write(move |db| -> parley::error::Result<()> {
            let chats = db.query("SELECT id FROM chats ORDER BY id", &[])?;
            for k in 0..outbound {
                let chat: i64 = chats[k % chats.len()].get("id")?;
                let content = parley_sdk::Content::text("Your order has shipped.");
                parley::inbox::messages::enqueue(db, chat, None, &content, parley::inbox::messages::Author::Bot, now)?;
            }
            Ok(())
        })
        .await?;
    fake.wait_send(outbound).await;
    let sent = app
        .store
        .read(|db| -> parley::error::Result<Vec<(String, i64, String)>> {
            let rows = db.query(
                "SELECT m.platform_message_id, m.id, i.external_id FROM messages m JOIN identities i ON i.id = m.identity_id \
                 WHERE m.direction = 'out' AND m.platform_message_id IS NOT NULL ORDER BY m.id",
                &[],
            )?;
            rows.iter().map(|r| Ok((r.get("platform_message_id")?, r.get("id")?, r.get("external_id")?))).collect()
        })
        .await?;
    let index: HashMap<&str, usize> = people.iter().enumerate().map(|(i, p)| (p.wa_id.as_str(), i)).collect();
    let outbound_list = sent.iter().map(|(w, id, to)| (w.clone(), *id, index[to.as_str()])).collect::<Vec<_>>();
    let load = Arc::new(Load { contacts: people, outbound: outbound_list, next_status: AtomicUsize::new(0) });

    let seen = Arc::new(Seen::default());
    let events = format!("ws://{}/api/v1/events?after=0", launched.addr);
    tokio::spawn(read_events(events, cookie.clone(), seen.clone()));
    // The set-up's own events arrive first: the phases count from here.
    let settle = app
        .store
        .read(|db| -> parley::error::Result<i64> {
            Ok(db
                .query_one(
                    "SELECT COUNT(*) AS n FROM events WHERE kind IN ('message.created', 'message.updated')",
                    &[],
                )?
                .get("n")?)
        })
        .await? as usize;
    seen.wait_for(settle).await?;

    // Sustained: as fast as the answers come.
    let items: Arc<Vec<Item>> = Arc::new((0..messages).map(|i| load.item("s", i)).collect());
    let start_count = *seen.count.borrow();
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = CpuMark::now(&["/proc/self/stat"]);
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, hook, items, next) = (http.clone(), hook.clone(), items.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { return Ok::<_, anyhow::Error>(()) };
                post(&http, &hook, item.body.clone()).await?;
            }
        }));
    }
    for w in workers {
        w.await??;
    }
    seen.wait_for(start_count + messages).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sustained: {messages} bodies (2/3 messages, 1/3 statuses) over {concurrency} connections in {secs:.2} s = {:.0} bodies/s on the operator socket; other programs used {:.0} % of the machine",
        messages as f64 / secs,
        cpu.since(&["/proc/self/stat"]).others_pct()
    );

    // Latency at a paced rate.
    let total = rate * seconds;
    let items: Vec<Item> = (0..total).map(|i| load.item("l", i)).collect();
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let begin = Instant::now();
    let mut sends = Vec::with_capacity(total);
    for (i, item) in items.into_iter().enumerate() {
        tokio::time::sleep_until((begin + every * i as u32).into()).await;
        let (http, hook) = (http.clone(), hook.clone());
        let at = Instant::now();
        sends.push((item.key, at, tokio::spawn(async move { post(&http, &hook, item.body).await })));
    }
    let mut keys = Vec::with_capacity(total);
    for (key, at, task) in sends {
        task.await??;
        keys.push((key, at));
    }
    tokio::time::timeout(PATIENCE, async {
        while keys.iter().any(|(k, _)| seen.at(k).is_none()) {
            seen.count.subscribe().changed().await.ok();
        }
    })
    .await
    .context("some events never reached the socket")?;
    let mut lat: Vec<Duration> =
        keys.iter().map(|(k, at)| seen.at(k).unwrap_or(*at).saturating_duration_since(*at)).collect();
    lat.sort();
    println!(
        "latency at {rate} bodies/s for {seconds} s: POST sent → its event on the operator socket p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&lat, 50.0),
        pct(&lat, 99.0),
        pct(&lat, 100.0)
    );
    Ok(())
}
