//! Load generator for the inbound path: signed webhook POSTs → ingest (one group-committed
//! write transaction each) → `message.created` on the operator's event WebSocket.
//!
//! Parley runs in this process (`parley::launch` on 127.0.0.1:0) on a fresh SQLite file in
//! a temporary directory (WAL, `synchronous=FULL`, group commit), or on PostgreSQL when
//! `PARLEY_BENCH_DATABASE_URL` is set: the bench then creates a fresh schema
//! `parley_bench_<pid>`, points Parley at it with `?options=-c search_path=<schema>`, and
//! drops it at the end. It sets up an admin through the one-time link, creates a `webhook`
//! channel, opens `/api/v1/events?after=0` with the session cookie, and measures:
//!
//! - **throughput**: `messages` POSTs over `concurrency` keep-alive connections, as fast as
//!   they are answered; the clock runs from the first send until the event socket has seen
//!   every `message.created`;
//! - **latency**: `rate` messages/s, paced (open loop), for `seconds`; for each message the
//!   time from just before its POST until its `message.created` arrives on the socket
//!   (matched by the message id in the webhook's answer), as p50/p99/max.
//!
//! Senders cycle through `contacts` distinct `user_id`s, so the first messages also create
//! contacts and chats. The client runs in the same process and on the same 2 cores as the
//! server, so RSS and CPU figures include it.
//!
//! Run: `cargo bench --bench ingest_load` (about 30 s), or on PostgreSQL
//! `PARLEY_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench ingest_load`.
//! Settings, from the command line (`cargo bench --bench ingest_load -- --messages 20000`)
//! or the environment (`PARLEY_BENCH_MESSAGES=20000`): `messages` (50000; 5000 on
//! PostgreSQL), `contacts` (1000), `concurrency` (64), `rate` (1000; 200 on PostgreSQL),
//! `seconds` (10).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod common;
use common::{CpuMark, admin_session, mem_mib, pct, setting, thread_cpu_seconds};

const SECRET: &str = "0123456789abcdef0123";
/// The longest the bench waits for anything (a phase, the last events); it never hangs.
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

/// What to run; see the header for names and defaults.
struct Settings {
    messages: usize,
    contacts: usize,
    concurrency: usize,
    rate: usize,
    seconds: usize,
}

impl Settings {
    /// PostgreSQL gets smaller defaults: it ingests a few hundred messages/s here, so
    /// 50,000 messages or 1,000 msgs/s would only measure a growing queue.
    fn read(postgres: bool) -> anyhow::Result<Settings> {
        let s = Settings {
            messages: setting("messages", if postgres { 5_000 } else { 50_000 })?,
            contacts: setting("contacts", 1_000)?,
            concurrency: setting("concurrency", 64)?,
            rate: setting("rate", if postgres { 200 } else { 1_000 })?,
            seconds: setting("seconds", 10)?,
        };
        if s.messages == 0 || s.contacts == 0 || s.concurrency == 0 || s.rate == 0 {
            bail!("messages, contacts, concurrency and rate must be at least 1");
        }
        Ok(s)
    }
}

/// The database the server runs on, and how to clean it up.
enum Database {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { base: String, schema: String, url: String },
}

impl Database {
    async fn create() -> anyhow::Result<Database> {
        let Ok(base) = std::env::var("PARLEY_BENCH_DATABASE_URL") else {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}/bench.db", dir.path().display());
            return Ok(Database::Sqlite { _dir: dir, url });
        };
        let schema = format!("parley_bench_{}", std::process::id());
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
        pg_execute(&base, sql).await?;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Ok(Database::Postgres { base, schema, url })
    }

    fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
        }
    }

    fn describe(&self) -> String {
        match self {
            Database::Sqlite { .. } => "SQLite (WAL, synchronous=FULL, group commit), temp file".into(),
            Database::Postgres { schema, .. } => {
                format!("PostgreSQL, fresh schema {schema} (its server counts among the \"other programs\")")
            }
        }
    }

    async fn drop_schema(&self) {
        if let Database::Postgres { base, schema, .. } = self
            && let Err(e) =
                pg_execute(base, format!("SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {schema} CASCADE")).await
        {
            eprintln!("could not drop the bench schema {schema}: {e:#}");
        }
    }
}

async fn pg_execute(url: &str, sql: String) -> anyhow::Result<()> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).context("cannot reach PostgreSQL")?;
        client.batch_execute(&sql)?;
        Ok(())
    })
    .await?
}

/// What the operator socket has seen: how many `message.created`, and when each arrived.
struct Seen {
    count: watch::Sender<usize>,
    arrivals: Mutex<HashMap<i64, Instant>>,
}

impl Seen {
    /// Waits until `target` messages were seen; returns when the last of them arrived.
    async fn wait_for(&self, target: usize) -> anyhow::Result<Instant> {
        let mut rx = self.count.subscribe();
        tokio::time::timeout(PHASE_TIMEOUT, rx.wait_for(|n| *n >= target))
            .await
            .context("timed out waiting for message.created events")?
            .context("the event socket closed")?;
        Ok(Instant::now())
    }
}

#[derive(Deserialize)]
struct Frame {
    kind: String,
    #[serde(default)]
    data: FrameData,
}
#[derive(Deserialize, Default)]
struct FrameData {
    message: Option<MessageRef>,
}
#[derive(Deserialize)]
struct MessageRef {
    id: i64,
}

/// Reads the operator's event socket until it closes.
async fn read_events(url: String, cookie: String, seen: Arc<Seen>) -> anyhow::Result<()> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.context("cannot open the event socket")?;
    while let Some(frame) = socket.next().await {
        let Message::Text(text) = frame? else {
            continue;
        };
        let at = Instant::now();
        let frame: Frame = serde_json::from_str(text.as_str())?;
        if frame.kind == "message.created"
            && let Some(m) = frame.data.message
        {
            seen.arrivals.lock().unwrap_or_else(|e| e.into_inner()).insert(m.id, at);
            seen.count.send_modify(|n| *n += 1);
        }
    }
    Ok(())
}

/// Posts signed webhooks to one channel.
#[derive(Clone)]
struct Sender {
    http: reqwest::Client,
    url: String,
    contacts: usize,
}

impl Sender {
    /// Sends message `n` (tagged `tag`); returns the stored message id.
    async fn send(&self, tag: &str, n: usize) -> anyhow::Result<i64> {
        let body =
            json!({"user_id": format!("u{}", n % self.contacts), "message_id": format!("{tag}{n}"), "text": "hello"})
                .to_string();
        let res = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-parley-signature", parley_webhook::sign(SECRET, body.as_bytes()))
            .body(body)
            .send()
            .await?;
        let status = res.status();
        let answer: Value = res.json().await?;
        if !status.is_success() {
            bail!("webhook answered {status}: {answer}");
        }
        answer["message_id"].as_i64().context("the webhook's answer has no message_id")
    }
}

const OURS: &[&str] = &["/proc/self/stat"];

/// Phase (a): every message as fast as `concurrency` connections allow.
async fn throughput(s: &Settings, sender: &Sender, seen: &Seen) -> anyhow::Result<Vec<String>> {
    let before = *seen.count.borrow();
    let (cpu, writer0) = (CpuMark::now(OURS), thread_cpu_seconds("parley-writer"));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..s.concurrency {
        let (sender, next, total) = (sender.clone(), next.clone(), s.messages);
        workers.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<_, anyhow::Error>(acks);
                }
                let t = Instant::now();
                acks.push((sender.send("t", n).await?, t.elapsed()));
            }
        }));
    }
    let mut acks = Vec::with_capacity(s.messages);
    for w in workers {
        acks.extend(tokio::time::timeout(PHASE_TIMEOUT, w).await.context("throughput phase timed out")???);
    }
    let acked = start.elapsed();
    let done = seen.wait_for(before + s.messages).await?;
    let wall = (done - start).as_secs_f64();
    let (cpu, writer) = (cpu.since(OURS), thread_cpu_seconds("parley-writer") - writer0);

    // When each tenth of the messages had arrived: does the rate hold as the tables grow?
    let mut arrived: Vec<Instant> = {
        let arrivals = seen.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        acks.iter().filter_map(|(id, _)| arrivals.get(id).copied()).collect()
    };
    arrived.sort_unstable();
    let tenth = (arrived.len() / 10).max(1);
    let mut deciles = Vec::new();
    let mut from = start;
    for chunk in arrived.chunks(tenth) {
        let to = *chunk.last().unwrap_or(&from);
        deciles.push(format!("{:.1}", chunk.len() as f64 / (to - from).as_secs_f64().max(1e-6) / 1e3));
        from = to;
    }
    let mut acks: Vec<Duration> = acks.into_iter().map(|(_, d)| d).collect();
    acks.sort_unstable();
    let per_msg = |cpu_s: f64| cpu_s / s.messages as f64 * 1e6;
    Ok(vec![
        format!(
            "| (a) throughput | **{:.0} msgs/s** ({} msgs in {wall:.2} s; last ack at {:.2} s) | {} connections, {} contacts; other programs used {:.0} % of the machine |",
            s.messages as f64 / wall,
            s.messages,
            acked.as_secs_f64(),
            s.concurrency,
            s.contacts,
            cpu.others_pct()
        ),
        format!(
            "| (a) rate by tenth of the run | {} k msgs/s | first tenth creates the contacts and chats |",
            deciles.join(" / ")
        ),
        format!(
            "| (a) webhook ack latency under that load | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms | POST sent → 200 received |",
            pct(&acks, 50.0),
            pct(&acks, 99.0),
            pct(&acks, 100.0)
        ),
        format!(
            "| (a) CPU | {:.0} µs per message in all (server + load generator); store writer thread {:.0} µs per message, busy {:.0} % of the run | |",
            per_msg(cpu.ours),
            per_msg(writer),
            writer / wall * 100.0
        ),
    ])
}

/// Phase (b): `rate` messages/s, paced, each timed from its POST to its event.
async fn latency(s: &Settings, sender: &Sender, seen: &Arc<Seen>) -> anyhow::Result<Vec<String>> {
    let total = s.rate * s.seconds;
    if total == 0 {
        return Ok(Vec::new());
    }
    let before = *seen.count.borrow();
    let (cpu, writer0) = (CpuMark::now(OURS), thread_cpu_seconds("parley-writer"));
    let gap = Duration::from_secs_f64(1.0 / s.rate as f64);
    let slots = Arc::new(Semaphore::new(s.concurrency));
    let start = tokio::time::Instant::now();
    let mut late = Duration::ZERO;
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        let due = start + gap * n as u32;
        tokio::time::sleep_until(due).await;
        let permit = slots.clone().acquire_owned().await?;
        late = late.max(due.elapsed());
        let sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let t = Instant::now();
            sender.send("p", n).await.map(|id| (id, t))
        }));
    }
    let mut sent = Vec::with_capacity(total);
    for t in tasks {
        sent.push(tokio::time::timeout(PHASE_TIMEOUT, t).await.context("latency phase timed out")???);
    }
    seen.wait_for(before + total).await?;
    let (cpu, writer) = (cpu.since(OURS), thread_cpu_seconds("parley-writer") - writer0);
    let arrivals = seen.arrivals.lock().unwrap_or_else(|e| e.into_inner());
    let mut lat: Vec<Duration> = sent
        .iter()
        .map(|(id, t)| {
            arrivals.get(id).map(|a| a.saturating_duration_since(*t)).context("a message's event never arrived")
        })
        .collect::<anyhow::Result<_>>()?;
    lat.sort_unstable();
    Ok(vec![
        format!(
            "| (b) latency at {} msgs/s | **p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms** | {total} msgs over {:.1} s, POST sent → its message.created on the operator socket; other programs used {:.0} % of the machine |",
            s.rate,
            pct(&lat, 50.0),
            pct(&lat, 99.0),
            pct(&lat, 100.0),
            cpu.wall,
            cpu.others_pct()
        ),
        format!(
            "| (b) CPU at {} msgs/s | {:.0} % of one core in all, store writer thread {:.0} % | the sender fell behind its schedule by at most {:.1} ms |",
            s.rate,
            cpu.ours / cpu.wall * 100.0,
            writer / cpu.wall * 100.0,
            late.as_secs_f64() * 1e3
        ),
    ])
}

/// Creates the admin and the webhook channel; returns the session cookie and the channel id.
async fn set_up(http: &reqwest::Client, base: &str, setup_link: &str) -> anyhow::Result<(String, i64)> {
    let cookie = admin_session(http, base, setup_link).await?;
    let res = http
        .post(format!("{base}/api/v1/channels"))
        .header("cookie", &cookie)
        .json(&json!({"kind": "webhook", "name": "bench", "settings": {"secret": SECRET}}))
        .send()
        .await?;
    let status = res.status();
    let channel: Value = res.json().await?;
    if !status.is_success() {
        bail!("creating the channel answered {status}: {channel}");
    }
    Ok((cookie, channel["id"].as_i64().context("the channel has no id")?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let db = Database::create().await?;
    let result = match Settings::read(matches!(db, Database::Postgres { .. })) {
        Ok(s) => run(&s, &db).await,
        Err(e) => Err(e),
    };
    db.drop_schema().await;
    let rows = result?;
    println!("\ningest_load: {}, {} cores", db.describe(), common::cores());
    println!("\n| what | figure | conditions |\n|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// Starts Parley, runs both phases, and stops it (also when a phase fails, so that
/// its connections let go of the PostgreSQL schema before it is dropped).
async fn run(s: &Settings, db: &Database) -> anyhow::Result<Vec<String>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let config = parley::Config {
        listen: listener.local_addr()?.to_string(),
        database: parley::config::Database { url: db.url().to_owned(), ..Default::default() },
        ..Default::default()
    };
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let result = phases(s, &launched).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), launched.shutdown()).await;
    result
}

async fn phases(s: &Settings, launched: &parley::Launched) -> anyhow::Result<Vec<String>> {
    let base = format!("http://{}", launched.addr);
    let setup_link = launched.setup_link.clone().context("a fresh database should offer a setup link")?;
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(s.concurrency).timeout(Duration::from_secs(60)).build()?;
    let (cookie, channel_id) = set_up(&http, &base, &setup_link).await?;
    let seen = Arc::new(Seen { count: watch::Sender::new(0), arrivals: Mutex::default() });
    let events_url = format!("ws://{}/api/v1/events?after=0", launched.addr);
    let reader = tokio::spawn(read_events(events_url, cookie, seen.clone()));
    let sender = Sender { http, url: format!("{base}/hooks/{channel_id}"), contacts: s.contacts };

    // One message first, so the socket is surely subscribed before the clock starts.
    let result = async {
        sender.send("warmup-", 0).await?;
        seen.wait_for(1).await?;
        let mut rows = throughput(s, &sender, &seen).await?;
        rows.extend(latency(s, &sender, &seen).await?);
        rows.push(format!(
            "| peak RSS (VmHWM) | {:.0} MiB (now {:.0} MiB) | server and load generator in one process |",
            mem_mib("self", "VmHWM"),
            mem_mib("self", "VmRSS")
        ));
        Ok(rows)
    }
    .await;
    reader.abort();
    result
}
