//! A fake receiver for the generic webhook channel: records what Parley POSTs and
//! answers as told (success, 429 with Retry-After, 500, 410), checking signatures.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Value>>,
    /// Answers to give before succeeding: (status, retry-after seconds).
    script: Mutex<VecDeque<(u16, Option<u64>)>>,
    attempts: Mutex<usize>,
    arrived: Notify,
}

#[derive(Clone)]
pub struct FakeReceiver {
    inner: Arc<Inner>,
    addr: std::net::SocketAddr,
}

impl FakeReceiver {
    pub async fn start() -> FakeReceiver {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new().route("/inbox", axum::routing::post(receive)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeReceiver { inner, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/inbox", self.addr)
    }

    /// The next answers, in order, before it goes back to 200.
    pub fn answer_with(&self, answers: &[(u16, Option<u64>)]) {
        self.inner.script.lock().unwrap().extend(answers.iter().copied());
    }

    pub fn received(&self) -> Vec<Value> {
        self.inner.received.lock().unwrap().clone()
    }

    pub fn attempts(&self) -> usize {
        *self.inner.attempts.lock().unwrap()
    }

    /// Waits until `n` requests arrived, whatever was answered.
    pub async fn wait_attempts(&self, n: usize) {
        tokio::time::timeout(super::PATIENCE, async {
            loop {
                let notified = self.inner.arrived.notified();
                if self.attempts() >= n {
                    return;
                }
                notified.await;
            }
        })
        .await
        .expect("the fake receiver was not called in time")
    }

    /// Waits until `n` messages were accepted.
    pub async fn wait_received(&self, n: usize) -> Vec<Value> {
        tokio::time::timeout(super::PATIENCE, async {
            loop {
                let notified = self.inner.arrived.notified();
                if self.received().len() >= n {
                    return self.received();
                }
                notified.await;
            }
        })
        .await
        .expect("the fake receiver did not get the messages in time")
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    *inner.attempts.lock().unwrap() += 1;
    let signature = headers.get("x-parley-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if signature != parley_webhook::sign("0123456789abcdef-secret", &body) {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let scripted = inner.script.lock().unwrap().pop_front();
    if let Some((status, retry_after)) = scripted {
        let mut res = (StatusCode::from_u16(status).unwrap(), "scripted failure").into_response();
        if let Some(s) = retry_after {
            res.headers_mut().insert("retry-after", s.to_string().parse().unwrap());
        }
        inner.arrived.notify_waiters();
        return res;
    }
    let v: Value = serde_json::from_slice(&body).unwrap();
    let id = format!("ext-{}", v["message_id"]);
    inner.received.lock().unwrap().push(v);
    inner.arrived.notify_waiters();
    axum::Json(json!({"id": id})).into_response()
}
