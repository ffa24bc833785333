//! An HTTP and WebSocket client logged in as one operator.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::PATIENCE;

#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub cookie: Option<String>,
    pub id: i64,
    http: reqwest::Client,
}

impl Session {
    pub fn new(base: &str, cookie: Option<String>, id: i64) -> Self {
        Self { base: base.to_owned(), cookie, id, http: reqwest::Client::new() }
    }

    /// The session of a successful login or set-up response.
    pub async fn from_login(base: &str, res: reqwest::Response) -> Session {
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("parley_session="))
            .expect("a session cookie")
            .to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let pair = cookie.split(';').next().unwrap().to_owned();
        let me: Value = res.json().await.unwrap();
        Session::new(base, Some(pair), me["id"].as_i64().unwrap())
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            r = r.header("cookie", c);
        }
        r
    }

    async fn json(res: reqwest::Response) -> (u16, Value) {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::json(self.request(reqwest::Method::GET, path).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        Self::json(self.request(reqwest::Method::POST, path).json(&body).send().await.unwrap()).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        Self::json(self.request(reqwest::Method::PUT, path).json(&body).send().await.unwrap()).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        Self::json(self.request(reqwest::Method::PATCH, path).json(&body).send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        Self::json(self.request(reqwest::Method::DELETE, path).send().await.unwrap()).await
    }

    /// A POST with a raw body and content type, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .request(reqwest::Method::POST, path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        Self::json(res).await
    }

    pub async fn raw_post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path).json(body).send().await.unwrap()
    }

    /// Opens the event socket, replaying everything after `after`.
    pub async fn events(&self, after: i64) -> EventStream {
        let url = format!("{}/api/v1/events?after={after}", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        if let Some(c) = &self.cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("event socket");
        EventStream { ws, seen: Vec::new() }
    }
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The operator's event socket.
pub struct EventStream {
    pub ws: Ws,
    /// Every frame received so far.
    pub seen: Vec<Value>,
}

impl EventStream {
    /// The next frame, or `None` when the socket closed.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next()).await.expect("no event arrived in time")?;
            match msg.ok()? {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("events are JSON");
                    self.seen.push(v.clone());
                    return Some(v);
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Waits for the first event of `kind` that satisfies `pred`.
    pub async fn wait_for(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let e = self.next().await.unwrap_or_else(|| panic!("socket closed while waiting for {kind}"));
            if e["kind"] == kind && pred(&e) {
                return e;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.send(Message::Close(None)).await;
    }
}
