//! A widget visitor's browser, speaking the widget protocol over a real WebSocket.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{PATIENCE, Session, TestApp};

pub struct Visitor {
    pub ws: super::client::Ws,
    pub hello: Value,
}

impl Visitor {
    pub async fn connect(app: &TestApp, query: &str) -> Result<Visitor, String> {
        Self::connect_from(app, query, None).await
    }

    pub async fn connect_from(app: &TestApp, query: &str, origin: Option<&str>) -> Result<Visitor, String> {
        let url = format!("{}/widget/ws?{query}", app.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.map_err(|e| e.to_string())?;
        let mut v = Visitor { ws, hello: Value::Null };
        v.hello = v.next().await.expect("a first frame");
        Ok(v)
    }

    pub fn token(&self) -> String {
        self.hello["token"].as_str().unwrap().to_owned()
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::Text(frame.to_string().into())).await.unwrap();
    }

    pub async fn say(&mut self, text: &str, client_id: &str) -> Value {
        self.send(json!({"type": "message", "text": text, "client_id": client_id})).await;
        self.wait("ack").await
    }

    pub async fn next(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(PATIENCE, self.ws.next()).await.expect("no frame in time")? {
                Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub async fn wait(&mut self, kind: &str) -> Value {
        loop {
            let f = self.next().await.unwrap_or_else(|| panic!("closed while waiting for {kind}"));
            if f["type"] == kind {
                return f;
            }
        }
    }
}

/// The id and public key of the widget channel created on the first start.
pub async fn widget_key(admin: &Session) -> (i64, String) {
    let (_, list) = admin.get("/api/v1/channels").await;
    let w = list["channels"].as_array().unwrap().iter().find(|c| c["kind"] == "widget").unwrap().clone();
    (w["id"].as_i64().unwrap(), w["key"].as_str().unwrap().to_owned())
}
