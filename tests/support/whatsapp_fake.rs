//! A fake WhatsApp Cloud API (Graph API) on 127.0.0.1 that the real connector talks to
//! through the channel's `api_url`: the phone number's lookup (the token check),
//! `/{phone_number_id}/messages`, media (id → URL → bytes, both with the token), and
//! `/{business_account_id}/message_templates` in two pages. It speaks Graph's JSON and
//! error shapes, records every call, and fails on request with a Graph error code.
//! Webhooks are POSTed as Meta does: the real body shape, signed `X-Hub-Signature-256`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post as route_post};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const VERSION: &str = "v23.0";
/// The phone number id of pywa's fixtures, so real payloads are this channel's.
pub const PHONE_ID: &str = "1122334455667";
pub const WABA_ID: &str = "5467539754836534";
pub const TOKEN: &str = "EAAG-test-access-token-0001";
pub const APP_SECRET: &str = "meta-app-secret-0001";
pub const VERIFY_TOKEN: &str = "verify-me-0001";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Without the version: `1122334455667/messages`.
    pub path: String,
    pub body: Value,
    pub status: u16,
    /// The `wamid` a successful send got.
    pub wamid: Option<String>,
}

/// A scripted answer for the next send.
#[derive(Debug, Clone)]
pub enum Failure {
    /// HTTP status, Graph error code, and a `Retry-After` header if any.
    Graph(u16, i64, Option<u64>),
}

#[derive(Default)]
struct St {
    calls: Vec<Call>,
    failures: VecDeque<Failure>,
    media: HashMap<String, (String, Vec<u8>)>,
    templates: Vec<Value>,
    next: u64,
}

#[derive(Default)]
struct Inner {
    st: Mutex<St>,
    changed: Notify,
    addr: Mutex<String>,
}

#[derive(Clone)]
pub struct FakeGraph {
    inner: Arc<Inner>,
    pub addr: std::net::SocketAddr,
}

fn graph_error(status: u16, code: i64, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message}, "fbtrace_id": "Fake"}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/{version}/{id}", get(object))
            .route("/{version}/{id}/messages", route_post(send))
            .route("/{version}/{id}/message_templates", get(templates))
            .route("/media/{id}", get(download))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        *inner.addr.lock().unwrap() = format!("http://{addr}");
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGraph { inner, addr }
    }

    /// What a channel's `api_url` is set to: the address with the pinned version.
    pub fn url(&self) -> String {
        format!("http://{}/{VERSION}", self.addr)
    }

    /// The settings of a channel on this fake.
    pub fn settings(&self) -> Value {
        json!({"phone_number_id": PHONE_ID, "business_account_id": WABA_ID, "access_token": TOKEN,
            "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "api_url": self.url()})
    }

    /// The next sends fail as scripted, in order.
    pub fn fail(&self, failures: &[Failure]) {
        self.inner.st.lock().unwrap().failures.extend(failures.iter().cloned());
    }

    pub fn add_media(&self, id: &str, mime: &str, bytes: &[u8]) {
        self.inner.st.lock().unwrap().media.insert(id.into(), (mime.into(), bytes.to_vec()));
    }

    pub fn add_template(&self, template: Value) {
        self.inner.st.lock().unwrap().templates.push(template);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.st.lock().unwrap().calls.clone()
    }

    /// Successful sends, in order.
    pub fn sends(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.path.ends_with("/messages") && c.status == 200).collect()
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
        .unwrap_or_else(|_| panic!("the fake Graph API never saw {what}; calls: {:#?}", self.calls()))
    }

    /// Waits for the `n`th successful send and returns it.
    pub async fn wait_send(&self, n: usize) -> Call {
        self.wait_until(&format!("send #{n}"), |c| {
            c.iter().filter(|c| c.path.ends_with("/messages") && c.status == 200).count() >= n
        })
        .await;
        self.sends()[n - 1].clone()
    }
}

fn record(inner: &Inner, call: Call) {
    inner.st.lock().unwrap().calls.push(call);
    inner.changed.notify_waiters();
}

/// `GET /{id}`: the phone number (the token check) or a media object.
async fn object(
    State(inner): State<Arc<Inner>>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let call = |status| Call { method: "GET".into(), path: id.clone(), body: Value::Null, status, wamid: None };
    if !authorized(&headers) {
        record(&inner, call(401));
        return graph_error(401, 190, "Error validating access token: Session has expired");
    }
    record(&inner, call(200));
    if id == PHONE_ID {
        let number = json!({"display_phone_number": "15550100", "verified_name": "Parley Shop", "id": PHONE_ID});
        return axum::Json(number).into_response();
    }
    let media = inner.st.lock().unwrap().media.get(&id).cloned();
    match media {
        Some((mime, bytes)) => {
            let url = format!("{}/media/{id}", inner.addr.lock().unwrap());
            axum::Json(json!({"messaging_product": "whatsapp", "url": url, "mime_type": mime,
                "sha256": "x", "file_size": bytes.len().to_string(), "id": id}))
            .into_response()
        }
        None => graph_error(400, 100, "Unsupported get request. Object does not exist"),
    }
}

async fn send(
    State(inner): State<Arc<Inner>>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = format!("{id}/messages");
    let call = |status, wamid| Call { method: "POST".into(), path: path.clone(), body: body.clone(), status, wamid };
    if !authorized(&headers) {
        record(&inner, call(401, None));
        return graph_error(401, 190, "Error validating access token: Session has expired");
    }
    let failure = inner.st.lock().unwrap().failures.pop_front();
    if let Some(Failure::Graph(status, code, retry_after)) = failure {
        record(&inner, call(status, None));
        let mut res = graph_error(status, code, &format!("scripted failure {code}"));
        if let Some(s) = retry_after {
            res.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
        }
        return res;
    }
    let wamid = {
        let mut st = inner.st.lock().unwrap();
        st.next += 1;
        format!("wamid.out{}", st.next)
    };
    record(&inner, call(200, Some(wamid.clone())));
    let to = body["to"].clone();
    axum::Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid}]}))
    .into_response()
}

/// Two pages: the first template, then the rest (`after` is Graph's cursor).
async fn templates(
    State(inner): State<Arc<Inner>>,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let call = |status| Call {
        method: "GET".into(),
        path: format!("{id}/message_templates"),
        body: json!(q),
        status,
        wamid: None,
    };
    if !authorized(&headers) {
        record(&inner, call(401));
        return graph_error(401, 190, "Error validating access token");
    }
    if id != WABA_ID {
        record(&inner, call(400));
        return graph_error(400, 100, "Unsupported get request");
    }
    record(&inner, call(200));
    let all = inner.st.lock().unwrap().templates.clone();
    if q.contains_key("after") {
        return axum::Json(json!({"data": all.get(1..).unwrap_or_default()})).into_response();
    }
    let next = format!("{}/{VERSION}/{WABA_ID}/message_templates?limit=1&after=MQZDZD", inner.addr.lock().unwrap());
    axum::Json(
        json!({"data": all.get(..1).unwrap_or_default(), "paging": {"cursors": {"after": "MQZDZD"}, "next": next}}),
    )
    .into_response()
}

async fn download(State(inner): State<Arc<Inner>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, "no token").into_response();
    }
    match inner.st.lock().unwrap().media.get(&id).cloned() {
        Some((mime, bytes)) => ([("content-type", mime)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A webhook body as Meta sends it, with one change for the fake's phone number.
pub fn webhook(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"display_phone_number": "15550100", "phone_number_id": PHONE_ID});
    json!({"object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]})
}

/// A contact with a WhatsApp number writing to the business.
#[derive(Debug, Clone)]
pub struct Customer {
    pub wa_id: String,
    pub name: String,
}

impl Customer {
    pub fn new(wa_id: &str, name: &str) -> Customer {
        Customer { wa_id: wa_id.into(), name: name.into() }
    }

    /// A message from them with `fields` (`{"type": "text", "text": {...}}`).
    pub fn message(&self, wamid: &str, fields: Value) -> Value {
        let mut m = json!({"from": self.wa_id, "id": wamid, "timestamp": "1700000000"});
        if let (Some(m), Value::Object(f)) = (m.as_object_mut(), fields) {
            m.extend(f);
        }
        webhook(json!({"contacts": [{"profile": {"name": self.name}, "wa_id": self.wa_id}], "messages": [m]}))
    }

    pub fn text(&self, wamid: &str, text: &str) -> Value {
        self.message(wamid, json!({"type": "text", "text": {"body": text}}))
    }

    pub fn reaction(&self, wamid: &str, to: &str, emoji: &str) -> Value {
        self.message(wamid, json!({"type": "reaction", "reaction": {"message_id": to, "emoji": emoji}}))
    }

    /// What became of our message `wamid` to this customer.
    pub fn status(&self, wamid: &str, status: &str) -> Value {
        let mut s = json!({"id": wamid, "status": status, "timestamp": "1700000001", "recipient_id": self.wa_id});
        if status == "failed" {
            s["errors"] = json!([{"code": 131026, "title": "Message undeliverable",
                "message": "Message undeliverable", "error_data": {"details": "Receiver is incapable of receiving this message"}}]);
        }
        webhook(json!({"statuses": [s]}))
    }
}

/// POSTs a webhook body to `/hooks/{channel_id}` signed with `secret` (or unsigned).
pub async fn post(base: &str, channel_id: i64, body: &Value, secret: Option<&str>) -> (u16, String) {
    let raw = body.to_string();
    let mut req = reqwest::Client::new()
        .post(format!("{base}/hooks/{channel_id}"))
        .header("content-type", "application/json")
        .body(raw.clone());
    if let Some(s) = secret {
        req = req.header(parley_whatsapp::SIGNATURE_HEADER, parley_whatsapp::sign(s, raw.as_bytes()));
    }
    let res = req.send().await.expect("webhook POST");
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

/// POSTs a body signed with the fake's app secret; asserts it was taken.
pub async fn deliver(base: &str, channel_id: i64, body: &Value) {
    let (status, answer) = post(base, channel_id, body, Some(APP_SECRET)).await;
    assert_eq!(status, 200, "{answer}");
}
