//! A fake Telegram Bot API on 127.0.0.1 that the real teloxide client talks to (through
//! the channel's `api_url`). It speaks the Bot API's JSON shapes, matches method names
//! case-insensitively as Telegram does (teloxide sends `SendMessage`), queues updates for
//! `getUpdates` (offsets, long-poll timeouts) or POSTs them to the registered webhook,
//! records every call, and fails on request: 429 with retry_after, 403 blocked, 500, slow.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub use super::telegram_person::Person;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub token: String,
    /// Lower case: `sendmessage`.
    pub method: String,
    pub params: Value,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// The id of the message a successful send made.
    pub message_id: Option<i64>,
}

/// A scripted answer for the next call of a method.
#[derive(Debug, Clone)]
pub enum Failure {
    RetryAfter(u64),
    Blocked,
    ChatNotFound,
    ServerError,
    /// Answers normally after this long.
    Slow(Duration),
    /// Answers normally: spaces the failures of a script.
    Succeed,
}

#[derive(Default)]
struct St {
    calls: Vec<Call>,
    updates: HashMap<String, Vec<Value>>,
    next_update: i64,
    next_message: i64,
    webhooks: HashMap<String, (String, String)>,
    failures: HashMap<String, VecDeque<Failure>>,
    files: HashMap<String, (String, Vec<u8>)>,
    limits: bool,
    /// Successful calls per method, kept even when calls are not recorded.
    ok_counts: HashMap<String, usize>,
    /// Off for load tests: only counts are kept.
    quiet: bool,
    /// Calls per method that arrived, answered yet or not (a hanging call counts).
    started: HashMap<String, usize>,
    /// Texts to watch for (benchmarks): when each was first sent, also when quiet.
    watched: HashMap<String, Option<Instant>>,
    /// Each bot's send allowance: (tokens left, when last counted).
    allowance: HashMap<String, (f64, Instant)>,
    throttled: usize,
    /// Each bot's flood wait: no send before this time (ms), as a 429's retry_after said.
    flood_until: HashMap<String, i64>,
    /// Sends that came inside a flood wait (each refused with 429 again).
    early: usize,
    /// The time the flood waits are measured in: the app's clock when a test moves one.
    clock: Option<Arc<dyn parley::Clock>>,
}

impl St {
    fn now_ms(&self) -> i64 {
        self.clock.as_ref().map_or_else(parley::clock::system_now_ms, |c| c.now_ms())
    }

    /// Answers 429 with `retry_after` seconds, and refuses every send of this bot until then.
    fn flood(&mut self, token: &str, retry_after: u64) -> (u16, Response) {
        let until = self.now_ms() + retry_after as i64 * 1000;
        let entry = self.flood_until.entry(token.into()).or_default();
        *entry = (*entry).max(until);
        let msg = format!("Too Many Requests: retry after {retry_after}");
        (429, error(429, &msg, Some(json!({"retry_after": retry_after}))))
    }

    /// A send inside the bot's flood wait: Telegram refuses it, with the time still left.
    fn inside_flood_wait(&mut self, token: &str) -> Option<(u16, Response)> {
        let left = self.flood_until.get(token).copied()? - self.now_ms();
        if left <= 0 {
            return None;
        }
        self.early += 1;
        let secs = (left + 999) / 1000;
        let msg = format!("Too Many Requests: retry after {secs}");
        Some((429, error(429, &msg, Some(json!({"retry_after": secs})))))
    }
}

#[derive(Default)]
struct Inner {
    st: Mutex<St>,
    changed: Notify,
}

#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Inner>,
    pub addr: std::net::SocketAddr,
}

/// Adds the fields of `fields` to the object `into`.
pub fn merge(into: &mut Value, fields: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), fields) {
        a.extend(b);
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The id part of a bot token (`123456:ABC` → 123456); the fake's getMe answers with it.
pub fn bot_id(token: &str) -> Option<i64> {
    token.split_once(':').and_then(|(id, rest)| if rest.is_empty() { None } else { id.parse().ok() })
}

pub fn bot_username(token: &str) -> String {
    format!("parley_{}_bot", bot_id(token).unwrap_or(0))
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let inner = Arc::new(Inner::default());
        inner.st.lock().unwrap().next_update = 1000;
        let app = Router::new()
            .route("/{bot}/{method}", post(method))
            .route("/file/{bot}/{*path}", get(file))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeTelegram { inner, addr }
    }

    /// What a channel's `api_url` is set to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next calls of `method` fail as scripted, in order.
    pub fn fail(&self, method: &str, failures: &[Failure]) {
        let mut st = self.inner.st.lock().unwrap();
        st.failures.entry(method.to_lowercase()).or_default().extend(failures.iter().cloned());
    }

    /// Measures flood waits (`retry_after`) on `clock` instead of the wall clock: for
    /// tests that move the app's [`parley::ManualClock`].
    pub fn use_clock(&self, clock: Arc<dyn parley::Clock>) {
        self.inner.st.lock().unwrap().clock = Some(clock);
    }

    /// Sends that arrived while the bot was told to wait (a 429's `retry_after`): each was
    /// refused again, as Telegram does. Parley must never make one.
    pub fn early_sends(&self) -> usize {
        self.inner.st.lock().unwrap().early
    }

    /// Telegram's 30 messages/s per bot, answered with 429 beyond it.
    pub fn enforce_limits(&self, on: bool) {
        self.inner.st.lock().unwrap().limits = on;
    }

    /// Keeps only counts of calls, not the calls (load tests).
    pub fn quiet(&self) {
        self.inner.st.lock().unwrap().quiet = true;
    }

    /// Successful calls of `method` so far, recorded or not.
    pub fn ok_count(&self, method: &str) -> usize {
        self.inner.st.lock().unwrap().ok_counts.get(&method.to_lowercase()).copied().unwrap_or(0)
    }

    /// Starts watching for a sent message with exactly this text.
    #[allow(dead_code, reason = "benches/outbox_lanes.rs measures with it")]
    pub fn watch_text(&self, text: &str) {
        self.inner.st.lock().unwrap().watched.insert(text.to_owned(), None);
    }

    /// When a watched text was first sent successfully.
    #[allow(dead_code, reason = "benches/outbox_lanes.rs measures with it")]
    pub fn text_seen_at(&self, text: &str) -> Option<Instant> {
        self.inner.st.lock().unwrap().watched.get(text).copied().flatten()
    }

    /// Waits until `n` calls of `method` have arrived, answered or still hanging.
    pub async fn wait_started(&self, method: &str, n: usize) {
        let m = method.to_lowercase();
        tokio::time::timeout(super::PATIENCE, async {
            loop {
                let changed = self.inner.changed.notified();
                if self.inner.st.lock().unwrap().started.get(&m).copied().unwrap_or(0) >= n {
                    return;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} calls of {method} never arrived"));
    }

    /// Waits until `n` calls of `method` succeeded, recorded or not.
    pub async fn wait_count(&self, method: &str, n: usize, patience: Duration) {
        tokio::time::timeout(patience, async {
            loop {
                let changed = self.inner.changed.notified();
                if self.ok_count(method) >= n {
                    return;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("only {} of {n} {method} calls arrived in time", self.ok_count(method)))
    }

    /// How many sends were refused with 429 by the limits.
    pub fn throttled(&self) -> usize {
        self.inner.st.lock().unwrap().throttled
    }

    /// A file Telegram holds for `getFile` and the download route.
    pub fn add_file(&self, file_id: &str, path: &str, bytes: &[u8]) {
        self.inner.st.lock().unwrap().files.insert(file_id.into(), (path.into(), bytes.to_vec()));
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.st.lock().unwrap().calls.clone()
    }

    /// Successful calls of `method` (any case).
    pub fn ok_calls(&self, method: &str) -> Vec<Call> {
        let m = method.to_lowercase();
        self.calls().into_iter().filter(|c| c.method == m && c.status == 200).collect()
    }

    /// All calls of `method`, whatever was answered.
    pub fn all_calls(&self, method: &str) -> Vec<Call> {
        let m = method.to_lowercase();
        self.calls().into_iter().filter(|c| c.method == m).collect()
    }

    /// Waits until `pred` holds over the recorded calls.
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        tokio::time::timeout(super::PATIENCE, async {
            loop {
                let changed = self.inner.changed.notified();
                let calls = self.calls();
                if pred(&calls) {
                    return calls;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the fake Telegram never saw {what}; calls: {:#?}", self.calls()))
    }

    /// Queues an update for `getUpdates`; returns its update_id.
    pub fn push_update(&self, token: &str, update: Value) -> i64 {
        let id = {
            let mut st = self.inner.st.lock().unwrap();
            st.next_update += 1;
            let id = st.next_update;
            let mut u = json!({"update_id": id});
            merge(&mut u, update);
            st.updates.entry(token.into()).or_default().push(u);
            id
        };
        self.inner.changed.notify_waiters();
        id
    }

    /// Updates queued and not yet confirmed by a getUpdates offset.
    pub fn pending(&self, token: &str) -> usize {
        self.inner.st.lock().unwrap().updates.get(token).map_or(0, Vec::len)
    }

    /// Waits until the bot confirmed every queued update.
    pub async fn wait_confirmed(&self, token: &str) {
        self.wait_confirmed_within(token, super::PATIENCE).await
    }

    pub async fn wait_confirmed_within(&self, token: &str, patience: Duration) {
        tokio::time::timeout(patience, async {
            loop {
                let changed = self.inner.changed.notified();
                if self.pending(token) == 0 {
                    return;
                }
                changed.await;
            }
        })
        .await
        .expect("the bot did not confirm its updates in time")
    }

    /// The (url, secret) the bot registered with setWebhook.
    pub async fn webhook(&self, token: &str) -> (String, String) {
        let t = token.to_owned();
        self.wait_until("setWebhook", |_| self.inner.st.lock().unwrap().webhooks.contains_key(&t)).await;
        self.inner.st.lock().unwrap().webhooks[token].clone()
    }

    /// Delivers an update as Telegram does: POSTed to the registered webhook path on
    /// `base` with the registered secret. Returns the HTTP status.
    pub async fn post_webhook(&self, base: &str, token: &str, update: Value) -> u16 {
        let (url, secret) = self.webhook(token).await;
        let id = {
            let mut st = self.inner.st.lock().unwrap();
            st.next_update += 1;
            st.next_update
        };
        let mut u = json!({"update_id": id});
        merge(&mut u, update);
        let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
        reqwest::Client::new()
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .header("x-telegram-bot-api-secret-token", secret)
            .body(u.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn error(status: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// JSON bodies as they are; multipart form fields as strings (JSON ones parsed).
fn params(headers: &HeaderMap, body: &[u8]) -> Value {
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Some(boundary) = ct.split("boundary=").nth(1) {
        let text = String::from_utf8_lossy(body);
        let mut out = serde_json::Map::new();
        for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
            let Some((head, value)) = part.split_once("\r\n\r\n") else { continue };
            let Some(name) = head.split("name=\"").nth(1).and_then(|r| r.split('"').next()) else { continue };
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            let parsed = if value.starts_with('{') || value.starts_with('[') {
                serde_json::from_str(value).unwrap_or(Value::String(value.into()))
            } else {
                Value::String(value.into())
            };
            out.insert(name.into(), parsed);
        }
        return Value::Object(out);
    }
    serde_json::from_slice(body).unwrap_or(json!({}))
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

async fn method(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bot.strip_prefix("bot").unwrap_or("").to_owned();
    let method = method.to_lowercase();
    let params = params(&headers, &body);
    *inner.st.lock().unwrap().started.entry(method.clone()).or_default() += 1;
    inner.changed.notify_waiters();
    let (status, res) = answer(&inner, &token, &method, &params).await;
    let message_id =
        if status == 200 && method.starts_with("send") { Some(inner.st.lock().unwrap().next_message) } else { None };
    {
        let mut st = inner.st.lock().unwrap();
        if status == 200 {
            *st.ok_counts.entry(method.clone()).or_default() += 1;
            if let Some(seen @ None) = params["text"].as_str().and_then(|t| st.watched.get_mut(t)) {
                *seen = Some(Instant::now());
            }
        }
        if !st.quiet {
            st.calls.push(Call { token, method, params, status, message_id });
        }
    }
    inner.changed.notify_waiters();
    res
}

async fn answer(inner: &Inner, token: &str, method: &str, p: &Value) -> (u16, Response) {
    let Some(bot) = bot_id(token) else { return (401, error(401, "Unauthorized", None)) };
    let scripted = {
        let mut st = inner.st.lock().unwrap();
        if method.starts_with("send")
            && let Some(refused) = st.inside_flood_wait(token)
        {
            return refused;
        }
        st.failures.get_mut(method).and_then(VecDeque::pop_front)
    };
    match scripted {
        Some(Failure::RetryAfter(s)) => return inner.st.lock().unwrap().flood(token, s),
        Some(Failure::Blocked) => return (403, error(403, "Forbidden: bot was blocked by the user", None)),
        Some(Failure::ChatNotFound) => return (400, error(400, "Bad Request: chat not found", None)),
        Some(Failure::ServerError) => return (500, error(500, "Internal Server Error", None)),
        Some(Failure::Slow(d)) => tokio::time::sleep(d).await,
        Some(Failure::Succeed) | None => {}
    }
    let me = json!({"id": bot, "is_bot": true, "first_name": "Parley Test", "username": bot_username(token)});
    match method {
        "getme" => {
            let mut m = me;
            merge(
                &mut m,
                json!({"can_join_groups": true, "can_read_all_group_messages": false,
                       "supports_inline_queries": false, "has_main_web_app": false}),
            );
            (200, ok(m))
        }
        "setwebhook" => {
            let url = p["url"].as_str().unwrap_or_default().to_owned();
            let secret = p["secret_token"].as_str().unwrap_or_default().to_owned();
            inner.st.lock().unwrap().webhooks.insert(token.into(), (url, secret));
            (200, ok(json!(true)))
        }
        "deletewebhook" => {
            inner.st.lock().unwrap().webhooks.remove(token);
            (200, ok(json!(true)))
        }
        "getwebhookinfo" => {
            let url = inner.st.lock().unwrap().webhooks.get(token).map(|w| w.0.clone()).unwrap_or_default();
            (200, ok(json!({"url": url, "has_custom_certificate": false, "pending_update_count": 0})))
        }
        "getupdates" => get_updates(inner, token, p).await,
        "sendmessage" | "sendphoto" | "senddocument" => send(inner, token, method, p, me),
        "answercallbackquery" => (200, ok(json!(true))),
        "getfile" => {
            let id = p["file_id"].as_str().unwrap_or_default();
            match inner.st.lock().unwrap().files.get(id) {
                Some((path, bytes)) => (
                    200,
                    ok(
                        json!({"file_id": id, "file_unique_id": format!("u-{id}"), "file_size": bytes.len(), "file_path": path}),
                    ),
                ),
                None => (400, error(400, "Bad Request: invalid file_id", None)),
            }
        }
        _ => (200, ok(json!(true))),
    }
}

async fn get_updates(inner: &Inner, token: &str, p: &Value) -> (u16, Response) {
    if inner.st.lock().unwrap().webhooks.contains_key(token) {
        let msg = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
        return (409, error(409, msg, None));
    }
    let offset = int(&p["offset"]).unwrap_or(0);
    let limit = int(&p["limit"]).unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(int(&p["timeout"]).unwrap_or(0).clamp(0, 30) as u64);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let changed = inner.changed.notified();
        let batch: Vec<Value> = {
            let mut st = inner.st.lock().unwrap();
            let queue = st.updates.entry(token.into()).or_default();
            // An offset confirms every update before it.
            let before = queue.len();
            queue.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if queue.len() != before {
                inner.changed.notify_waiters();
            }
            queue.iter().take(limit).cloned().collect()
        };
        if !batch.is_empty() {
            return (200, ok(Value::Array(batch)));
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return (200, ok(json!([])));
        }
    }
}

/// Telegram's messages per second for one bot.
const LIMIT_PER_SECOND: f64 = 30.0;

fn send(inner: &Inner, token: &str, method: &str, p: &Value, me: Value) -> (u16, Response) {
    let mut st = inner.st.lock().unwrap();
    if st.limits {
        // A bucket of 30 that refills at 30 a second: a sender keeping to the rate is never
        // refused, however its requests bunch on the way here, and a burst beyond it is.
        let now = Instant::now();
        let (tokens, at) = st.allowance.entry(token.into()).or_insert((LIMIT_PER_SECOND, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * LIMIT_PER_SECOND).min(LIMIT_PER_SECOND);
        *at = now;
        if *tokens < 1.0 {
            st.throttled += 1;
            return st.flood(token, 1);
        }
        *tokens -= 1.0;
    }
    st.next_message += 1;
    let chat = int(&p["chat_id"]).unwrap_or(0);
    let mut m = json!({"message_id": st.next_message, "date": now(),
                       "chat": {"id": chat, "type": "private", "first_name": "User"}, "from": me});
    match method {
        "sendmessage" => merge(&mut m, json!({"text": p["text"]})),
        "sendphoto" => merge(
            &mut m,
            json!({"photo": [{"file_id": "sent-photo", "file_unique_id": "u-sent-photo", "width": 640, "height": 480}],
                   "caption": p["caption"]}),
        ),
        _ => merge(
            &mut m,
            json!({"document": {"file_id": "sent-doc", "file_unique_id": "u-sent-doc"}, "caption": p["caption"]}),
        ),
    }
    (200, ok(m))
}

async fn file(State(inner): State<Arc<Inner>>, Path((bot, path)): Path<(String, String)>) -> Response {
    let token = bot.strip_prefix("bot").unwrap_or("");
    if bot_id(token).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let st = inner.st.lock().unwrap();
    match st.files.values().find(|(p, _)| *p == path) {
        Some((_, bytes)) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
