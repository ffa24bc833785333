//! Load generator for the website widget's WebSocket (`/widget/ws`, docs/WIDGET.md).
//!
//! The server is the release `parley serve` binary in its own process, so that it and
//! this load generator each have the whole open-file limit (20,000 here) for their half
//! of the sockets; its memory is read from `/proc/<pid>/status`. It runs on a fresh SQLite
//! file in a temporary directory, with the per-IP widget limits raised through
//! `PARLEY_WIDGET_*` (every client comes from 127.0.0.1). The bench creates the first admin
//! through the printed one-time link and finds the default widget channel's key, then:
//!
//! - **(a) idle connections**: opens `connections` widget sockets (`open_concurrency` at a
//!   time), each reading its `hello` frame, and holds them; reports how many were held and
//!   the server's RSS growth per connection (VmRSS after − before, over the count held),
//!   and its peak RSS (VmHWM). Client sockets use a 4 KiB read buffer.
//! - **(b) round trip**: `visitors` new visitors connect; each sends `rounds` messages,
//!   pausing a random 0–2×`think_ms` before each. One operator task reads
//!   `/api/v1/events` and answers every inbound `message.created` with
//!   `POST /api/v1/chats/{id}/messages`; the time is taken from just before the visitor's
//!   frame is sent until the operator's reply (`{"type":"message"}`, direction `out`)
//!   arrives on the visitor's socket: p50/p99/max.
//!
//! Run: `cargo bench --bench widget_load` (about a minute; it builds `parley` too).
//! Settings, from the command line (`cargo bench --bench widget_load -- --connections 5000`)
//! or the environment (`PARLEY_BENCH_CONNECTIONS=5000`): `connections` (19900),
//! `open_concurrency` (200), `visitors` (1000), `rounds` (5), `think_ms` (3000).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

#[allow(dead_code)] // shared with ingest_load, which uses all of it
mod common;
use common::{CpuMark, admin_session, mem_mib, pct, setting};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The longest any single step (a connect, a frame, a phase) may take; the bench never hangs.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
const PHASE_TIMEOUT: Duration = Duration::from_secs(180);
/// Stop opening idle connections after this many failures (e.g. the open-file limit).
const MAX_FAILURES: usize = 200;

/// What to run; see the header for names and defaults.
struct Settings {
    connections: usize,
    open_concurrency: usize,
    visitors: usize,
    rounds: usize,
    think_ms: u64,
}

impl Settings {
    fn read() -> anyhow::Result<Settings> {
        Ok(Settings {
            connections: setting("connections", 19_900)?,
            open_concurrency: setting("open_concurrency", 200)?.max(1),
            visitors: setting("visitors", 1_000)?,
            rounds: setting("rounds", 5)?,
            think_ms: setting("think_ms", 3_000)? as u64,
        })
    }
}

/// `parley serve` in a child process, killed when dropped.
struct Server {
    child: Child,
    pid: u32,
    addr: String,
    setup_link: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        // A free port: bind, note it, release it for the server.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.to_string();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("PARLEY_")) {
            cmd.env_remove(name);
        }
        cmd.arg("serve")
            // No config/parley.toml there: defaults plus the variables below.
            .current_dir(dir.path())
            .env("PARLEY_LISTEN", &addr)
            .env("PARLEY_DATABASE_URL", format!("sqlite://{}/bench.db", dir.path().display()))
            .env("PARLEY_WIDGET_CONNECTIONS_PER_IP", "1000000")
            .env("PARLEY_WIDGET_NEW_VISITORS_PER_MINUTE", "1000000")
            .env("PARLEY_WIDGET_MESSAGES_PER_MINUTE", "1000000")
            .env("PARLEY_LOG_LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().context("cannot start target/release/parley")?;
        let pid = child.id().context("the server exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let setup_link = tokio::time::timeout(STEP_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(at) = line.find("http")
                    && line.contains("/setup?token=")
                {
                    return Ok(line[at..].trim().to_owned());
                }
            }
            bail!("the server closed its output before printing the setup link")
        })
        .await
        .context("the server did not print its setup link in time")??;
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, pid, addr, setup_link, _dir: dir })
    }

    /// A memory field of the server's /proc/<pid>/status, in MiB (VmRSS now, VmHWM peak).
    fn mem_mib(&self, field: &str) -> f64 {
        mem_mib(&self.pid.to_string(), field)
    }

    fn stat(&self) -> String {
        format!("/proc/{}/stat", self.pid)
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// The next JSON text frame, within [`STEP_TIMEOUT`].
async fn next_json(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let frame = tokio::time::timeout(STEP_TIMEOUT, socket.next())
            .await
            .context("no frame in time")?
            .context("the socket closed")??;
        if let Message::Text(t) = frame {
            return Ok(serde_json::from_str(t.as_str())?);
        }
    }
}

/// Opens one widget socket (small buffers) and reads its `hello`.
async fn open_widget(url: &str) -> anyhow::Result<Socket> {
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(4096);
    let (mut socket, _) =
        tokio::time::timeout(STEP_TIMEOUT, tokio_tungstenite::connect_async_with_config(url, Some(config), true))
            .await
            .context("connect timed out")??;
    let hello = next_json(&mut socket).await?;
    if hello["type"] != "hello" {
        bail!("expected hello, got {hello}");
    }
    Ok(socket)
}

/// Creates the admin; returns its session cookie and the default widget channel's key.
async fn set_up(http: &reqwest::Client, base: &str, setup_link: &str) -> anyhow::Result<(String, String)> {
    let cookie = admin_session(http, base, setup_link).await?;
    let channels: Value =
        http.get(format!("{base}/api/v1/channels")).header("cookie", &cookie).send().await?.json().await?;
    let key = channels["channels"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["kind"] == "widget"))
        .and_then(|c| c["key"].as_str())
        .context("no widget channel")?
        .to_owned();
    Ok((cookie, key))
}

/// Phase (a): open and hold idle widget connections.
async fn idle(s: &Settings, server: &Server, url: &str) -> anyhow::Result<Vec<String>> {
    let before = server.mem_mib("VmRSS");
    let slots = Arc::new(Semaphore::new(s.open_concurrency));
    let start = Instant::now();
    let mut opening = Vec::with_capacity(s.connections);
    for _ in 0..s.connections {
        let permit = slots.clone().acquire_owned().await?;
        let url = url.to_owned();
        opening.push(tokio::spawn(async move {
            let _permit = permit;
            open_widget(&url).await
        }));
    }
    let (mut held, mut failures, mut first_error) = (Vec::with_capacity(s.connections), 0, None);
    for task in opening {
        match tokio::time::timeout(PHASE_TIMEOUT, task).await.context("opening timed out")?? {
            Ok(socket) => held.push(socket),
            Err(e) => {
                failures += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
                if failures >= MAX_FAILURES {
                    break;
                }
            }
        }
    }
    let took = start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await; // let the server settle
    let after = server.mem_mib("VmRSS");
    let n = held.len();
    let per_conn_kib = if n > 0 { (after - before) * 1024.0 / n as f64 } else { f64::NAN };
    let mut rows = vec![
        format!(
            "| (a) idle widget connections held | **{n}** of {} ({failures} failed{}) | opened in {:.1} s ({:.0}/s), {} at a time, each read its hello |",
            s.connections,
            first_error.map(|e| format!("; first: {e}")).unwrap_or_default(),
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            s.open_concurrency
        ),
        format!(
            "| (a) server RSS | **{per_conn_kib:.1} KiB per connection**; {before:.0} MiB idle → {after:.0} MiB with {n} held; peak (VmHWM) **{:.0} MiB** | separate server process |",
            server.mem_mib("VmHWM")
        ),
        format!(
            "| (a) load generator RSS | {:.0} MiB | client sockets, 4 KiB read buffers |",
            mem_mib("self", "VmRSS")
        ),
    ];
    drop(held);
    tokio::time::sleep(Duration::from_secs(2)).await; // the server frees the closed sockets
    rows.push(format!("| (a) server RSS after closing them | {:.0} MiB | |", server.mem_mib("VmRSS")));
    Ok(rows)
}

/// When the operator saw each inbound message (by message id), and when its reply's
/// POST was answered.
type OperatorLog = Arc<Mutex<HashMap<i64, (Instant, Option<Instant>)>>>;

/// The operator: answers every inbound message from the event socket, until aborted.
async fn operator(addr: String, cookie: String, http: reqwest::Client, log: OperatorLog) -> anyhow::Result<()> {
    let mut request = format!("ws://{addr}/api/v1/events?after=0").into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (mut events, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    let replies = Arc::new(Semaphore::new(64));
    while let Some(frame) = events.next().await {
        let Message::Text(text) = frame? else {
            continue;
        };
        let seen = Instant::now();
        let e: Value = serde_json::from_str(text.as_str())?;
        let message = &e["data"]["message"];
        if e["kind"] != "message.created" || message["direction"] != "in" {
            continue;
        }
        let chat_id = e["chat_id"].as_i64().context("message.created without chat_id")?;
        let message_id = message["id"].as_i64().context("a message without id")?;
        log.lock().unwrap_or_else(|e| e.into_inner()).insert(message_id, (seen, None));
        let permit = replies.clone().acquire_owned().await?;
        let (http, cookie, log) = (http.clone(), cookie.clone(), log.clone());
        let url = format!("http://{addr}/api/v1/chats/{chat_id}/messages");
        tokio::spawn(async move {
            let _permit = permit;
            let body = json!({"text": "Thanks, looking into it."});
            match http.post(url).header("cookie", cookie).json(&body).send().await {
                Ok(r) if r.status().is_success() => {
                    let answered = Instant::now();
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(message_id)
                        .and_modify(|e| e.1 = Some(answered));
                }
                Ok(r) => eprintln!("operator reply answered {}", r.status()),
                Err(e) => eprintln!("operator reply failed: {e}"),
            }
        });
    }
    Ok(())
}

/// One visitor message's timeline, as the visitor saw it.
struct Round {
    message_id: i64,
    sent: Instant,
    acked: Instant,
    replied: Instant,
}

/// One visitor of phase (b): `rounds` messages, each timed until the operator's reply arrives.
async fn visitor(mut socket: Socket, n: usize, rounds: usize, think_ms: u64) -> anyhow::Result<Vec<Round>> {
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..=2 * think_ms))).await;
        let frame = json!({"type": "message", "text": "hi", "client_id": format!("v{n}r{round}")}).to_string();
        let sent = Instant::now();
        socket.send(Message::text(frame)).await?;
        let mut ack = None;
        let replied = loop {
            let f = next_json(&mut socket).await.with_context(|| format!("visitor {n} waiting for its reply"))?;
            match f["type"].as_str() {
                Some("message") if f["message"]["direction"] == "out" => break Instant::now(),
                Some("ack") => ack = Some((f["message"]["id"].as_i64().context("an ack without id")?, Instant::now())),
                Some("error") => bail!("visitor {n}: {f}"),
                _ => {} // a status change
            }
        };
        let (message_id, acked) = ack.context("the reply came before the ack")?;
        times.push(Round { message_id, sent, acked, replied });
    }
    let _ = socket.close(None).await;
    Ok(times)
}

/// p50 and p99 of the gaps `f` gives (skipping rounds it has no data for), as text.
fn p50_p99(rounds: &[Round], f: impl Fn(&Round) -> Option<Duration>) -> String {
    let mut d: Vec<Duration> = rounds.iter().filter_map(f).collect();
    d.sort_unstable();
    format!("{:.1} / {:.1}", pct(&d, 50.0), pct(&d, 99.0))
}

/// Phase (b): visitors ↔ operator round trips.
async fn round_trips(s: &Settings, server: &Server, url: &str, cookie: &str) -> anyhow::Result<Vec<String>> {
    if s.visitors == 0 || s.rounds == 0 {
        return Ok(Vec::new());
    }
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).timeout(STEP_TIMEOUT).build()?;
    let log = OperatorLog::default();
    let op = tokio::spawn(operator(server.addr.clone(), cookie.to_owned(), http, log.clone()));
    let slots = Arc::new(Semaphore::new(s.open_concurrency));
    let mut opening = Vec::with_capacity(s.visitors);
    for _ in 0..s.visitors {
        let (permit, url) = (slots.clone().acquire_owned().await?, url.to_owned());
        opening.push(tokio::spawn(async move {
            let _permit = permit;
            open_widget(&url).await
        }));
    }
    let mut sockets = Vec::with_capacity(s.visitors);
    for task in opening {
        sockets.push(task.await??);
    }
    let stats = [server.stat(), "/proc/self/stat".to_owned()];
    let stats: Vec<&str> = stats.iter().map(String::as_str).collect();
    let (cpu, server_cpu) = (CpuMark::now(&stats), CpuMark::now(&stats[..1]));
    let visitors: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(n, socket)| tokio::spawn(visitor(socket, n, s.rounds, s.think_ms)))
        .collect();
    let mut rounds = Vec::with_capacity(s.visitors * s.rounds);
    for v in visitors {
        rounds.extend(tokio::time::timeout(PHASE_TIMEOUT, v).await.context("round trips timed out")???);
    }
    let (cpu, server_cpu) = (cpu.since(&stats), server_cpu.since(&stats[..1]));
    op.abort();
    let log = log.lock().unwrap_or_else(|e| e.into_inner());
    let seen = |r: &Round| log.get(&r.message_id).map(|e| e.0);
    let mut total: Vec<Duration> = rounds.iter().map(|r| r.replied - r.sent).collect();
    total.sort_unstable();
    let wall = cpu.wall;
    Ok(vec![
        format!(
            "| (b) visitor → operator → visitor, {} visitors | **p50 {:.1} ms, p99 {:.1} ms**, max {:.1} ms | {} round trips in {wall:.1} s ({:.0}/s), think time 0–{} ms; other programs used {:.0} % of the machine |",
            s.visitors,
            pct(&total, 50.0),
            pct(&total, 99.0),
            pct(&total, 100.0),
            total.len(),
            total.len() as f64 / wall,
            2 * s.think_ms,
            cpu.others_pct()
        ),
        format!(
            "| (b) legs, p50 / p99 ms | visitor gets its ack {}; operator sees the message {}; operator's reply POST answered {} after that; visitor gets the reply {} after the operator saw the message | clocks of one process |",
            p50_p99(&rounds, |r| Some(r.acked - r.sent)),
            p50_p99(&rounds, |r| Some(seen(r)? - r.sent)),
            p50_p99(&rounds, |r| Some(log.get(&r.message_id)?.1? - seen(r)?)),
            p50_p99(&rounds, |r| Some(r.replied - seen(r)?)),
        ),
        format!(
            "| (b) CPU | server {:.0} % of one core ({:.0} µs per round trip), load generator {:.0} % | a round trip = ingest + operator reply + outbox claim and record |",
            server_cpu.ours / wall * 100.0,
            server_cpu.ours / total.len() as f64 * 1e6,
            (cpu.ours - server_cpu.ours) / wall * 100.0
        ),
    ])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s = Settings::read()?;
    let server = Server::start().await?;
    let result = run(&s, &server).await;
    server.stop().await;
    let rows = result?;
    println!("\nwidget_load: `parley serve` (release) on SQLite (WAL, synchronous=FULL, group commit), loopback");
    println!("\n| what | figure | conditions |\n|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

async fn run(s: &Settings, server: &Server) -> anyhow::Result<Vec<String>> {
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::builder().timeout(STEP_TIMEOUT).build()?;
    let (cookie, key) = set_up(&http, &base, &server.setup_link).await?;
    let url = format!("ws://{}/widget/ws?channel={key}", server.addr);
    // One connection first, so start-up allocations are not counted per connection.
    drop(open_widget(&url).await?);
    let mut rows = Vec::new();
    if s.connections > 0 {
        rows.extend(idle(s, server, &url).await?);
    }
    rows.extend(round_trips(s, server, &url, &cookie).await?);
    Ok(rows)
}
