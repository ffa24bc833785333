//! The website widget channel: visitor tokens, the WebSocket frames of
//! `docs/WIDGET.md`, the registry of connected visitors, and the connector that
//! delivers operator replies to them (or keeps them queued while they are away).

mod frames;
mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use parley_sdk::{Channel, Connector, Outbound, SendError, Sent};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub use frames::{ClientFrame, WidgetMessage};
pub use token::{new_visitor_id, sign_visitor, verify_user, verify_visitor};

/// Each open widget tab, by (channel id, visitor id).
#[derive(Clone, Default)]
pub struct Visitors(Arc<Mutex<HashMap<VisitorKey, Vec<Tab>>>>);

/// (channel id, visitor id)
type VisitorKey = (i64, String);

/// One open tab: its socket id and the queue of frames to write to it.
type Tab = (u64, mpsc::UnboundedSender<String>);

static NEXT_SOCKET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Removes its socket from the registry when the connection ends.
pub struct Registration {
    visitors: Visitors,
    key: (i64, String),
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut map = self.visitors.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = map.get_mut(&self.key) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                map.remove(&self.key);
            }
        }
    }
}

impl Visitors {
    /// Registers a connected tab; frames pushed to the visitor arrive on `tx`.
    pub fn register(&self, channel_id: i64, visitor: &str, tx: mpsc::UnboundedSender<String>) -> Registration {
        let id = NEXT_SOCKET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = (channel_id, visitor.to_owned());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(key.clone()).or_default().push((id, tx));
        Registration { visitors: self.clone(), key, id }
    }

    /// Sends a frame to every open tab of a visitor except `skip`; returns how many got it.
    pub fn push(&self, channel_id: i64, visitor: &str, frame: &str, skip: Option<&Registration>) -> usize {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = map.get(&(channel_id, visitor.to_owned())) else { return 0 };
        list.iter()
            .filter(|(id, _)| skip.is_none_or(|r| r.id != *id))
            .filter(|(_, tx)| tx.send(frame.to_owned()).is_ok())
            .count()
    }

    /// Open connections in all.
    pub fn connections(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).values().map(Vec::len).sum()
    }
}

pub struct WidgetConnector {
    visitors: Visitors,
}

impl WidgetConnector {
    pub fn new(visitors: Visitors) -> Self {
        Self { visitors }
    }
}

/// The settings a new widget channel starts with.
pub fn default_settings() -> Value {
    json!({
        "title": "Chat with us",
        "greeting": "Hi! Ask us anything — we usually answer within minutes.",
        "color": "#2563eb",
        "position": "right",
        "prechat": {"name": "optional", "email": "optional", "phone": "off"},
        "offline_text": "We're away right now. Leave a message and your email, and we'll answer as soon as we're back.",
        "allowed_origins": [],
        "secret": "",
        "token_key": token::new_key(),
    })
}

const FIELD_MODES: [&str; 3] = ["off", "optional", "required"];

#[async_trait]
impl Connector for WidgetConnector {
    fn kind(&self) -> &'static str {
        "widget"
    }

    fn secret_settings(&self) -> &'static [&'static str] {
        &["secret", "token_key"]
    }

    async fn prepare_settings(&self, settings: Value) -> Result<Value, String> {
        let mut out = default_settings();
        let (Some(map), Some(given)) = (out.as_object_mut(), settings.as_object()) else {
            return Err("settings must be an object".into());
        };
        for (k, v) in given {
            if !map.contains_key(k) {
                return Err(format!("unknown widget setting {k:?}"));
            }
            map.insert(k.clone(), v.clone());
        }
        for key in ["title", "greeting", "color", "position", "offline_text", "secret", "token_key"] {
            if !map[key].is_string() {
                return Err(format!("{key} must be a string"));
            }
        }
        if !["left", "right"].contains(&map["position"].as_str().unwrap_or_default()) {
            return Err("position must be left or right".into());
        }
        let color = map["color"].as_str().unwrap_or_default();
        if !(color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())) {
            return Err("color must look like #2563eb".into());
        }
        for field in ["name", "email", "phone"] {
            let mode = map["prechat"].get(field).and_then(Value::as_str).unwrap_or("");
            if !FIELD_MODES.contains(&mode) {
                return Err(format!("prechat.{field} must be off, optional or required"));
            }
        }
        if !map["allowed_origins"].as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
            return Err("allowed_origins must be a list of origins like https://shop.example".into());
        }
        if map["token_key"].as_str().is_none_or(|k| k.len() < 16) {
            map.insert("token_key".into(), json!(token::new_key()));
        }
        Ok(out)
    }

    /// Delivers to every open tab of the visitor; a visitor with none keeps the
    /// message queued until they come back.
    async fn send(&self, channel: &Channel, out: &Outbound) -> Result<Sent, SendError> {
        let message = WidgetMessage {
            id: out.message_id,
            direction: "out".into(),
            author_kind: out.author_kind.clone(),
            author_name: out.author_name.clone(),
            text: out.content.text.clone(),
            attachments: serde_json::to_value(&out.content.attachments).unwrap_or_default(),
            buttons: out.content.buttons.clone(),
            client_id: None,
            created_at: out.created_at.clone(),
            read: false,
        };
        let frame = json!({"type": "message", "message": message}).to_string();
        match self.visitors.push(channel.id, &out.external_id, &frame, None) {
            0 => Err(SendError::RecipientAway),
            _ => Ok(Sent { platform_message_id: None }),
        }
    }
}
