//! A fake Discord on 127.0.0.1 that serenity itself talks to: the REST API under
//! `/api/v10` (the channel's `api_url`) and the gateway WebSocket (HELLO, IDENTIFY →
//! READY, heartbeats, RESUME → the missed dispatches and RESUMED). Tests inject
//! dispatches as Discord sends them, drop the connection, and script REST failures
//! (429 with `retry-after`, 50007, unknown channel, 500).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

pub const BOT_ID: &str = "42";
pub const BOT_NAME: &str = "hubbot";

/// One REST request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The path after `/api/v10`, e.g. `/channels/900/messages`.
    pub path: String,
    /// The JSON body (for a multipart upload, its `payload_json`).
    pub body: Value,
    /// Files uploaded with it (their names).
    pub files: Vec<String>,
    pub status: u16,
    /// The id of the message a successful send made.
    pub message_id: Option<String>,
}

/// A scripted answer for the next message sent to a channel.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with `retry-after` in seconds, as Discord answers a rate-limited route.
    RateLimited(f64),
    /// 403 code 50007: "Cannot send messages to this user".
    CannotMessageUser,
    /// 404 code 10003: "Unknown Channel".
    UnknownChannel,
    ServerError,
}

/// What happened on the gateway.
#[derive(Debug, Clone, Default)]
pub struct GatewayLog {
    pub connections: usize,
    pub identifies: usize,
    /// The (session id, seq) of each RESUME.
    pub resumes: Vec<(String, u64)>,
    pub heartbeats: usize,
    /// The intents the last IDENTIFY asked for.
    pub intents: u64,
}

#[derive(Default)]
struct St {
    calls: Vec<Call>,
    failures: HashMap<String, VecDeque<Failure>>,
    next_id: u64,
    gateway: GatewayLog,
    session: u64,
    /// Every dispatch of the current session, as sent: (seq, frame).
    sent: Vec<(u64, Value)>,
    seq: u64,
    /// The open socket's sender, if a client is connected.
    socket: Option<mpsc::UnboundedSender<WsMessage>>,
    files: HashMap<String, Vec<u8>>,
    /// Messages the bot can read back (`GET /channels/{c}/messages/{m}`).
    messages: HashMap<String, Value>,
    /// Every MESSAGE_CREATE dispatched, by channel: its history (`GET /channels/{c}/messages`).
    history: HashMap<String, Vec<Value>>,
    /// Replays one dispatch already delivered along with the missed ones on RESUME, as
    /// Discord may: ingest must not double it.
    replay_overlap: bool,
}

#[derive(Default)]
struct Inner {
    st: Mutex<St>,
    changed: Notify,
    token: String,
    addr: Option<std::net::SocketAddr>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Inner>,
    pub addr: std::net::SocketAddr,
}

/// A Discord user writing to the bot.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: u64,
    pub name: String,
}

impl Person {
    pub fn new(id: u64, name: &str) -> Person {
        Person { id, name: name.into() }
    }

    pub fn user(&self) -> Value {
        json!({"id": self.id.to_string(), "username": self.name.to_lowercase(), "discriminator": "0",
               "global_name": self.name, "avatar": null, "public_flags": 0})
    }

    /// This person's DM channel with the bot.
    pub fn dm(&self) -> u64 {
        self.id + 1
    }

    /// A MESSAGE_CREATE in the DM, with extra `fields` (attachments, referenced_message...).
    pub fn message(&self, id: u64, text: &str, fields: Value) -> Value {
        let mut m = message(id, self.dm(), self.user(), text);
        if let (Some(m), Value::Object(f)) = (m.as_object_mut(), fields) {
            m.extend(f);
        }
        m
    }
}

/// A message object with every field Discord always sends.
pub fn message(id: u64, channel: u64, author: Value, text: &str) -> Value {
    json!({"id": id.to_string(), "channel_id": channel.to_string(), "author": author, "content": text,
           "timestamp": "2025-03-01T10:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
           "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
           "pinned": false, "type": 0, "flags": 0, "components": []})
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "username": BOT_NAME, "discriminator": "0", "global_name": null, "avatar": null,
           "bot": true, "verified": true, "mfa_enabled": false, "flags": 0})
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, axum::Json(json!({"message": message, "code": code}))).into_response()
}

impl FakeDiscord {
    pub async fn start(token: &str) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner { token: token.into(), addr: Some(addr), ..Inner::default() });
        inner.st.lock().unwrap().next_id = 5_000_000_000_000_000_000;
        let app = Router::new()
            .route("/gw", get(gateway))
            .route("/cdn/{name}", get(cdn))
            .route("/api/v10/{*path}", any(rest))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeDiscord { inner, addr }
    }

    /// What a channel's `api_url` is set to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fail(&self, channel: u64, failures: &[Failure]) {
        self.inner.st.lock().unwrap().failures.entry(channel.to_string()).or_default().extend(failures.iter().cloned());
    }

    pub fn replay_overlap(&self, on: bool) {
        self.inner.st.lock().unwrap().replay_overlap = on;
    }

    /// A file the bot can download, and the message that holds it.
    pub fn add_file(&self, name: &str, bytes: &[u8], message: Value) {
        let mut st = self.inner.st.lock().unwrap();
        st.files.insert(name.into(), bytes.to_vec());
        let key = format!("{}/{}", message["channel_id"].as_str().unwrap(), message["id"].as_str().unwrap());
        st.messages.insert(key, message);
    }

    pub fn cdn_url(&self, name: &str) -> String {
        format!("http://{}/cdn/{name}", self.addr)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.st.lock().unwrap().calls.clone()
    }

    /// Successful message sends.
    pub fn sent(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "POST" && c.path.ends_with("/messages") && c.status == 200)
            .collect()
    }

    pub fn gateway_log(&self) -> GatewayLog {
        self.inner.st.lock().unwrap().gateway.clone()
    }

    async fn wait<T>(&self, what: &str, check: impl Fn(&St) -> Option<T>) -> T {
        tokio::time::timeout(super::PATIENCE, async {
            loop {
                let changed = self.inner.changed.notified();
                if let Some(v) = check(&self.inner.st.lock().unwrap()) {
                    return v;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the fake Discord never saw {what}; calls: {:#?}", self.calls()))
    }

    /// Waits until `pred` holds over the recorded REST calls.
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        self.wait(what, |st| pred(&st.calls).then(|| st.calls.clone())).await
    }

    /// Waits until a client is connected and ready (after IDENTIFY or RESUME).
    pub async fn wait_connected(&self, connections: usize) -> GatewayLog {
        self.wait("a gateway client", |st| {
            (st.socket.is_some() && st.gateway.identifies + st.gateway.resumes.len() >= connections)
                .then(|| st.gateway.clone())
        })
        .await
    }

    /// Waits until no client is connected.
    pub async fn wait_disconnected(&self) {
        self.wait("the client gone", |st| st.socket.is_none().then_some(())).await
    }

    /// Sends a dispatch (`t`, `d`) on the gateway, or keeps it for the RESUME if no client
    /// is connected; returns its sequence number.
    pub fn dispatch(&self, t: &str, d: Value) -> u64 {
        let mut st = self.inner.st.lock().unwrap();
        st.seq += 1;
        if t == "MESSAGE_CREATE" {
            let channel = d["channel_id"].as_str().unwrap_or_default().to_owned();
            st.history.entry(channel).or_default().push(d.clone());
        }
        let frame = json!({"op": 0, "s": st.seq, "t": t, "d": d});
        let seq = st.seq;
        st.sent.push((seq, frame.clone()));
        if let Some(tx) = &st.socket {
            let _ = tx.send(WsMessage::Text(frame.to_string().into()));
        }
        seq
    }

    /// Closes the connection as Discord does when it wants a client to reconnect (4000),
    /// the session staying resumable.
    pub fn drop_connection(&self) {
        let mut st = self.inner.st.lock().unwrap();
        if let Some(tx) = st.socket.take() {
            let frame = axum::extract::ws::CloseFrame { code: 4000, reason: "unknown error".into() };
            let _ = tx.send(WsMessage::Close(Some(frame)));
        }
        drop(st);
        self.inner.changed.notify_waiters();
    }
}

async fn cdn(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    match inner.st.lock().unwrap().files.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `payload_json` and the file names of a multipart upload.
fn multipart(body: &[u8]) -> (Value, Vec<String>) {
    let text = String::from_utf8_lossy(body);
    let mut payload = Value::Null;
    let mut files = Vec::new();
    for part in text.split("Content-Disposition: form-data; ").skip(1) {
        let (head, rest) = part.split_once("\r\n\r\n").unwrap_or((part, ""));
        if head.starts_with("name=\"payload_json\"") {
            let json = rest.split("\r\n--").next().unwrap_or_default();
            payload = serde_json::from_str(json).unwrap_or(Value::Null);
        } else if let Some(name) = head.split("filename=\"").nth(1).and_then(|s| s.split('"').next()) {
            files.push(name.to_owned());
        }
    }
    (payload, files)
}

async fn rest(State(inner): State<Arc<Inner>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().trim_start_matches("/api/v10").to_owned();
    let multipart_body =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("multipart/"));
    let (body, files) = if multipart_body {
        multipart(&body)
    } else {
        (serde_json::from_slice(&body).unwrap_or(Value::Null), Vec::new())
    };
    let authorized =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {}", inner.token));
    let response = if authorized {
        answer(&inner, &method, &path, uri.query().unwrap_or_default(), &body)
    } else {
        error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
    };
    let message_id = response.headers().get("x-fake-message-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut st = inner.st.lock().unwrap();
    let status = response.status().as_u16();
    st.calls.push(Call { method: method.to_string(), path, body, files, status, message_id });
    drop(st);
    inner.changed.notify_waiters();
    response
}

fn answer(inner: &Inner, method: &Method, path: &str, query: &str, body: &Value) -> Response {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut st = inner.st.lock().unwrap();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["users", "@me"]) => axum::Json(bot_user()).into_response(),
        ("GET", ["gateway"]) => {
            axum::Json(json!({"url": format!("ws://{}/gw", inner.addr.expect("bound"))})).into_response()
        }
        ("POST", ["users", "@me", "channels"]) => {
            let user: u64 = body["recipient_id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
            let recipient =
                json!({"id": user.to_string(), "username": "someone", "discriminator": "0", "avatar": null});
            axum::Json(json!({"id": (user + 1).to_string(), "type": 1, "recipients": [recipient],
                              "last_message_id": null}))
            .into_response()
        }
        ("POST", ["channels", channel, "messages"]) => {
            if let Some(f) = st.failures.get_mut(*channel).and_then(VecDeque::pop_front) {
                return match f {
                    Failure::RateLimited(secs) => {
                        let body =
                            json!({"message": "You are being rate limited.", "retry_after": secs, "global": false});
                        let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                        let h = r.headers_mut();
                        h.insert("retry-after", secs.to_string().parse().unwrap());
                        h.insert("x-ratelimit-scope", "user".parse().unwrap());
                        r
                    }
                    Failure::CannotMessageUser => {
                        error(StatusCode::FORBIDDEN, 50007, "Cannot send messages to this user")
                    }
                    Failure::UnknownChannel => error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
                    Failure::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, 0, "500: Internal Server Error"),
                };
            }
            st.next_id += 1;
            let id: u64 = channel.parse().unwrap_or_default();
            let mut m = message(st.next_id, id, bot_user(), body["content"].as_str().unwrap_or_default());
            m["components"] = body.get("components").cloned().unwrap_or(json!([]));
            let mut r = axum::Json(m).into_response();
            r.headers_mut().insert("x-fake-message-id", st.next_id.to_string().parse().unwrap());
            r
        }
        ("GET", ["channels", channel, "messages"]) => {
            // Discord's history: newest first, the `limit` messages right after `after`.
            let param = |k: &str| {
                query.split('&').find_map(|kv| kv.strip_prefix(&format!("{k}="))).and_then(|v| v.parse::<u64>().ok())
            };
            let (after, limit) = (param("after").unwrap_or(0), param("limit").unwrap_or(50) as usize);
            let id = |m: &Value| m["id"].as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or_default();
            let mut list: Vec<Value> =
                st.history.get(*channel).into_iter().flatten().filter(|m| id(m) > after).cloned().collect();
            list.sort_by_key(id);
            list.truncate(limit);
            list.reverse();
            axum::Json(list).into_response()
        }
        ("GET", ["channels", channel, "messages", id]) => match st.messages.get(&format!("{channel}/{id}")) {
            Some(m) => axum::Json(m.clone()).into_response(),
            None => error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
        },
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        _ => error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

async fn gateway(State(inner): State<Arc<Inner>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(inner, socket))
}

/// One gateway connection: HELLO, then IDENTIFY (a new session, READY) or RESUME (the
/// dispatches after the client's seq, then RESUMED); heartbeats are acknowledged.
async fn session(inner: Arc<Inner>, mut socket: WebSocket) {
    inner.st.lock().unwrap().gateway.connections += 1;
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41250}});
    if socket.send(WsMessage::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<WsMessage>();
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(out) = out else { return };
                let closing = matches!(out, WsMessage::Close(_));
                if socket.send(out).await.is_err() || closing {
                    return;
                }
            }
            frame = futures_util::StreamExt::next(&mut socket) => {
                let Some(Ok(WsMessage::Text(text))) = frame else {
                    if matches!(frame, None | Some(Err(_)) | Some(Ok(WsMessage::Close(_)))) {
                        let mut st = inner.st.lock().unwrap();
                        if st.socket.as_ref().is_some_and(|s| s.same_channel(&tx)) {
                            st.socket = None;
                        }
                        drop(st);
                        inner.changed.notify_waiters();
                        return;
                    }
                    continue;
                };
                let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                handle_op(&inner, &v, &tx);
                inner.changed.notify_waiters();
            }
        }
    }
}

fn handle_op(inner: &Inner, v: &Value, tx: &mpsc::UnboundedSender<WsMessage>) {
    let mut st = inner.st.lock().unwrap();
    let send = |frame: Value| {
        let _ = tx.send(WsMessage::Text(frame.to_string().into()));
    };
    match v["op"].as_u64() {
        Some(1) => {
            st.gateway.heartbeats += 1;
            send(json!({"op": 11}));
        }
        Some(2) => {
            // serenity identifies with the token as its HTTP client holds it, `Bot ` first.
            let token = v["d"]["token"].as_str().unwrap_or_default();
            if token.strip_prefix("Bot ").unwrap_or(token) != inner.token {
                let _ = tx.send(WsMessage::Close(Some(axum::extract::ws::CloseFrame {
                    code: 4004,
                    reason: "Authentication failed.".into(),
                })));
                return;
            }
            st.gateway.identifies += 1;
            st.gateway.intents = v["d"]["intents"].as_u64().unwrap_or_default();
            st.session += 1;
            st.sent.clear();
            st.seq += 1;
            let ready = json!({"op": 0, "s": st.seq, "t": "READY", "d": {
                "v": 10, "user": bot_user(), "guilds": [], "session_id": format!("sess-{}", st.session),
                "resume_gateway_url": "ws://127.0.0.1:1", "shard": [0, 1], "application": {"id": BOT_ID, "flags": 0}}});
            send(ready);
            st.socket = Some(tx.clone());
        }
        Some(6) => {
            let session = v["d"]["session_id"].as_str().unwrap_or_default().to_owned();
            let after = v["d"]["seq"].as_u64().unwrap_or_default();
            st.gateway.resumes.push((session.clone(), after));
            if session != format!("sess-{}", st.session) {
                send(json!({"op": 9, "d": false}));
                return;
            }
            let from = if st.replay_overlap { after } else { after + 1 };
            for (_, frame) in st.sent.iter().filter(|(s, _)| *s >= from) {
                send(frame.clone());
            }
            st.seq += 1;
            send(json!({"op": 0, "s": st.seq, "t": "RESUMED", "d": {}}));
            st.socket = Some(tx.clone());
        }
        _ => {}
    }
}
