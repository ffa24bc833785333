//! `/widget/config` and `/widget/ws`: the website widget's HTTP side (docs/WIDGET.md).
//! A visitor holds a token signed with the channel's key and reaches only their own chat.

use std::net::IpAddr;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parley_sdk::{Content, Inbound, InboundKind, Profile};
use parley_widget::{ClientFrame, Registration, WidgetMessage};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use tokio::sync::mpsc;

use super::client::ClientAddr;
use super::error::{ApiError, ApiResult, AppQuery, AppWebSocket, ErrorBody};
use crate::app::App;
use crate::channels::StoredChannel;
use crate::widget::{self, VisitorState, access};

/// Largest frame a visitor may send; a 4,000-character message fits with room to spare.
const MAX_FRAME: usize = 32 * 1024;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfigQuery {
    /// The widget channel's public key.
    channel: String,
}

/// CORS for the widget's public endpoints: any page may ask; the origin check is ours.
fn cors(mut res: Response) -> Response {
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

async fn widget_channel(app: &App, key: String) -> ApiResult<StoredChannel> {
    let found = app.store.read(move |db| crate::channels::by_key(db, &key)).await?;
    found.filter(|c| c.channel.kind == "widget").ok_or_else(|| ApiError::not_found("no widget channel has this key"))
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

// Fields in alphabetical order, as the `json!` map that wrote it before it was typed.
/// What a page's widget may know of its channel: the look and texts from its settings
/// (each as stored, null when unset), and whether an operator is online.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WidgetConfig {
    pub color: Json,
    pub greeting: Json,
    pub offline_text: Json,
    pub online: bool,
    pub position: Json,
    /// The pre-chat form's fields, if the channel asks for any.
    pub prechat: Json,
    pub title: Json,
}

fn public_config(app: &App, channel: &StoredChannel) -> WidgetConfig {
    let s = &channel.channel.settings;
    WidgetConfig {
        title: s["title"].clone(),
        greeting: s["greeting"].clone(),
        color: s["color"].clone(),
        position: s["position"].clone(),
        prechat: s["prechat"].clone(),
        offline_text: s["offline_text"].clone(),
        online: *app.online.borrow(),
    }
}

#[utoipa::path(get, path = "/widget/config", tag = "widget",
    params(ConfigQuery),
    responses(
        (status = 200, description = "The widget's configuration (CORS: any origin may ask)", body = WidgetConfig),
        (status = 422, description = "A query field missing or mistyped", body = ErrorBody),
        (status = 403, description = "This page's origin may not use this widget", body = ErrorBody),
        (status = 404, description = "No widget channel has this key", body = ErrorBody),
    ))]
pub async fn config(State(app): State<App>, headers: HeaderMap, AppQuery(q): AppQuery<ConfigQuery>) -> Response {
    let channel = match widget_channel(&app, q.channel).await {
        Ok(c) => c,
        Err(e) => return cors(e.into_response()),
    };
    if !access::origin_allowed(&channel, origin(&headers)) {
        return cors(ApiError::forbidden("this page's origin may not use this widget").into_response());
    }
    cors(axum::Json(public_config(&app, &channel)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Connect {
    /// The widget channel's public key.
    channel: String,
    /// The visitor token a previous session was given.
    token: Option<String>,
    /// Replay the visitor's messages after this id.
    #[serde(default)]
    after: i64,
    /// A site's signed-in user: its id and HMAC (docs/WIDGET.md).
    user_id: Option<String>,
    user_hash: Option<String>,
}

// A WebSocket; its frames are parley_widget's ClientFrame and WidgetMessage (docs/WIDGET.md).
#[utoipa::path(get, path = "/widget/ws", tag = "widget",
    params(Connect,
        ("Upgrade" = String, Header, description = "`websocket`"),
        ("Connection" = String, Header, description = "`Upgrade`")),
    responses(
        (status = 101, description = "Switching to WebSocket: the visitor's chat, frames as in docs/WIDGET.md"),
        (status = 422, description = "A query field missing or mistyped", body = ErrorBody),
        (status = 403, description = "This page's origin may not use this widget", body = ErrorBody),
        (status = 404, description = "No widget channel has this key", body = ErrorBody),
        (status = 429, description = "Too many widget connections from this address", body = ErrorBody),
    ))]
pub async fn connect(
    State(app): State<App>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    AppQuery(q): AppQuery<Connect>,
    AppWebSocket(ws): AppWebSocket,
) -> ApiResult<Response> {
    let channel = widget_channel(&app, q.channel.clone()).await?;
    if !access::origin_allowed(&channel, origin(&headers)) {
        return Err(ApiError::forbidden("this page's origin may not use this widget"));
    }
    let Some(slot) = app.widget_limits.connect(ip) else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many widget connections from this address",
        ));
    };
    // Small buffers: an idle visitor should cost kilobytes, not the default 128 KiB.
    let ws = ws.read_buffer_size(4096).write_buffer_size(4096).max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME);
    Ok(ws.on_upgrade(move |socket| async move {
        let _slot = slot;
        let mut socket = socket;
        let claim = access::Claim { user: q.user_id.as_deref().zip(q.user_hash.as_deref()), token: q.token.as_deref() };
        match access::identify(&channel, &claim, &app.widget_limits, ip, app.now()) {
            Ok(visitor) => Session::run(app, channel, visitor, q.after, ip, socket).await,
            Err((code, message)) => {
                let _ = socket.send(text(&json!({"type": "error", "code": code, "message": message}))).await;
                let _ = socket.send(Message::Close(None)).await;
            }
        }
    }))
}

fn text(v: &Json) -> Message {
    Message::Text(Utf8Bytes::from(v.to_string()))
}

/// One open widget connection.
struct Session {
    app: App,
    /// Only the id is kept: the channel's settings are needed for the hello frame alone,
    /// and an idle connection must stay small.
    channel_id: i64,
    visitor: String,
    state: VisitorState,
    ip: IpAddr,
    registration: Registration,
}

impl Session {
    async fn run(
        app: App,
        channel: StoredChannel,
        (token, visitor): (String, String),
        after: i64,
        ip: IpAddr,
        mut socket: WebSocket,
    ) {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let channel_id = channel.channel.id;
        let registration = app.visitors.register(channel_id, &visitor, tx);
        let _open = crate::metrics::OpenSocket::new("widget");
        let mut s = Session { app, channel_id, visitor, state: VisitorState::default(), ip, registration };
        // In a block of its own, boxed: the hello frame and the future that builds it are
        // gone before the connection settles into its (long) idle wait.
        {
            let Ok(hello) = Box::pin(s.hello(&channel, &token, after)).await else { return };
            if socket.send(text(&hello)).await.is_err() {
                return;
            }
        }
        drop(channel);
        s.wake_outbox().await;
        let mut online = s.app.online.subscribe();
        loop {
            tokio::select! {
                Some(frame) = rx.recv() => {
                    if socket.send(Message::Text(Utf8Bytes::from(frame))).await.is_err() { return }
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(t))) => {
                        for reply in Box::pin(s.handle(t.as_str())).await {
                            if socket.send(text(&reply)).await.is_err() { return }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let _ = socket.send(text(&error("bad_frame", "frames are JSON text", None))).await;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return,
                },
                Ok(()) = online.changed() => {
                    let now_online = *online.borrow_and_update();
                    if socket.send(text(&json!({"type": "status", "online": now_online}))).await.is_err() { return }
                }
                _ = s.app.shutdown.cancelled() => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    }

    async fn refresh(&mut self) -> crate::error::Result<()> {
        let (id, visitor) = (self.channel_id, self.visitor.clone());
        self.state = self.app.store.read(move |db| widget::state(db, id, &visitor)).await?;
        Ok(())
    }

    async fn hello(&mut self, channel: &StoredChannel, token: &str, after: i64) -> crate::error::Result<Json> {
        self.refresh().await?;
        let messages = match self.state.chat_id {
            Some(chat) => {
                let channel = self.channel_id;
                self.app.store.read(move |db| widget::history(db, chat, channel, after)).await?
            }
            None => Vec::new(),
        };
        let prechat = &channel.channel.settings["prechat"];
        let have = |field: &str| match field {
            "name" => self.state.name.is_some(),
            "email" => self.state.email.is_some(),
            _ => self.state.phone.is_some(),
        };
        let required_done = ["name", "email", "phone"].iter().all(|f| prechat[*f] != "required" || have(f));
        let asks = ["name", "email", "phone"].iter().any(|f| prechat[*f] != "off");
        let prechat_done = required_done && (!asks || self.state.identity_id.is_some());
        Ok(json!({
            "type": "hello",
            "token": token,
            "visitor": {"name": self.state.name, "email": self.state.email, "phone": self.state.phone},
            "prechat_done": prechat_done,
            "config": public_config(&self.app, channel),
            "messages": messages,
        }))
    }

    /// Messages kept queued while the visitor was away can go now.
    async fn wake_outbox(&self) {
        if let Some(identity) = self.state.identity_id {
            let now = self.app.now();
            if let Err(e) = self.app.store.write(move |db| crate::outbox::wake_identity(db, identity, now)).await {
                tracing::warn!(error = %e, "cannot wake a returning visitor's messages");
            }
        }
    }

    async fn handle(&mut self, raw: &str) -> Vec<Json> {
        let frame: ClientFrame = match serde_json::from_str(raw) {
            Ok(f) => f,
            Err(e) => return vec![error("bad_frame", &format!("cannot read this frame: {e}"), None)],
        };
        match frame {
            ClientFrame::Message { text, client_id } => self.message(text, client_id).await,
            ClientFrame::Prechat { name, email, phone } => self.prechat(name, email, phone).await,
            ClientFrame::Typing => {
                if let Some(chat_id) = self.state.chat_id {
                    super::events::TypingFrame::push(&self.app, chat_id, super::events::Who::Contact, None);
                }
                Vec::new()
            }
            ClientFrame::Read { up_to } => {
                if let Some(chat_id) = self.state.chat_id {
                    let (channel, now) = (self.channel_id, self.app.now());
                    let _ = self.app.store.write(move |db| widget::mark_read(db, chat_id, channel, up_to, now)).await;
                }
                Vec::new()
            }
        }
    }

    async fn message(&mut self, text: String, client_id: String) -> Vec<Json> {
        let max = self.app.config.limits.message_chars;
        if client_id.is_empty() || client_id.len() > 100 {
            return vec![error("bad_frame", "client_id must have 1 to 100 characters", None)];
        }
        if text.chars().count() > max {
            return vec![error("too_large", &format!("a message may have at most {max} characters"), Some(&client_id))];
        }
        if text.trim().is_empty() {
            return vec![error("bad_frame", "the message is empty", Some(&client_id))];
        }
        if !self.app.widget_limits.message(self.ip, self.app.now()) {
            return vec![error("rate_limited", "too many messages; wait a minute", Some(&client_id))];
        }
        let inbound = Inbound {
            channel_id: self.channel_id,
            external_id: self.visitor.clone(),
            // The client id makes a resend after a dropped connection a no-op.
            platform_message_id: format!("c:{client_id}"),
            kind: InboundKind::Message,
            profile: Profile::default(),
            content: Content::text(text),
            reply_to: None,
            start_payload: None,
        };
        let receipt = match self.app.ingest(inbound).await {
            Ok(r) => r,
            Err(e) => return vec![error("unavailable", &e.to_string(), Some(&client_id))],
        };
        if self.state.chat_id.is_none() {
            let _ = self.refresh().await;
        }
        let id = receipt.message_id;
        let Ok(message) = self.app.store.read(move |db| widget::message(db, id)).await else {
            return Vec::new();
        };
        self.echo_to_other_tabs(&message);
        vec![json!({"type": "ack", "client_id": client_id, "message": message})]
    }

    fn echo_to_other_tabs(&self, message: &WidgetMessage) {
        let frame = json!({"type": "message", "message": message}).to_string();
        self.app.visitors.push(self.channel_id, &self.visitor, &frame, Some(&self.registration));
    }

    async fn prechat(&mut self, name: Option<String>, email: Option<String>, phone: Option<String>) -> Vec<Json> {
        let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty() && s.len() <= 200);
        let (name, email, phone) = (clean(name), clean(email), clean(phone));
        if let Some(e) = &email
            && crate::inbox::contacts::email_key(e).is_none()
        {
            return vec![error("bad_frame", "this email address does not look right", None)];
        }
        let (first_name, last_name) = match name.as_deref().map(|n| n.split_once(' ')) {
            Some(Some((f, l))) => (Some(f.to_owned()), Some(l.trim().to_owned())),
            Some(None) => (name.clone(), None),
            None => (None, None),
        };
        let profile = Profile { first_name, last_name, username: None, phone, email };
        let (channel, visitor, now) = (self.channel_id, self.visitor.clone(), self.app.now());
        match self.app.store.write(move |db| widget::prechat(db, channel, &visitor, &profile, now)).await {
            Ok(state) => {
                self.state = state;
                vec![json!({"type": "prechat_saved"})]
            }
            Err(e) => vec![error("unavailable", &e.to_string(), None)],
        }
    }
}

fn error(code: &str, message: &str, client_id: Option<&str>) -> Json {
    json!({"type": "error", "code": code, "message": message, "client_id": client_id})
}
