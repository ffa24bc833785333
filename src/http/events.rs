//! `GET /api/v1/events?after=ID`: the console's WebSocket. Replays every stored event
//! after `ID`, then pushes live ones, so a console that reconnects misses nothing.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::auth::{Auth, operator_for, token};
use super::error::{ApiResult, AppQuery, AppWebSocket, ErrorBody};
use crate::app::App;
use crate::inbox::{Viewer, access};
use crate::store::{EventRow, events};

const REPLAY_PAGE: i64 = 1000;

/// "Someone is typing": a frame that is pushed, never stored, so its `id` is null.
// Fields in alphabetical order, as the `json!` map that wrote it before it was typed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TypingFrame {
    pub chat_id: i64,
    pub data: Typing,
    #[schema(value_type = Option<i64>)]
    pub id: Option<()>,
    /// Always `typing`.
    pub kind: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Typing {
    pub chat_id: i64,
    /// The operator, when `who` is `operator`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<i64>,
    pub who: Who,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    Contact,
    Operator,
}

impl TypingFrame {
    /// Pushes the frame to every console (those that may not see the chat skip it).
    pub fn push(app: &App, chat_id: i64, who: Who, operator_id: Option<i64>) {
        let frame = TypingFrame { chat_id, data: Typing { chat_id, operator_id, who }, id: None, kind: "typing" };
        if let Ok(v) = serde_json::to_value(frame) {
            let _ = app.ephemeral.send(Arc::new(v));
        }
    }
}

/// What the event socket sends: a stored event or a typing frame. This type only names
/// the union for the document; each side is serialized as its own type.
pub struct Frame;

impl utoipa::PartialSchema for Frame {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::schema::{OneOfBuilder, Ref};
        OneOfBuilder::new()
            .item(Ref::from_schema_name(crate::model::Event::name()))
            .item(Ref::from_schema_name(TypingFrame::name()))
            .into()
    }
}

impl utoipa::ToSchema for Frame {
    fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        out.push((crate::model::Event::name().into_owned(), crate::model::Event::schema()));
        crate::model::Event::schemas(out);
        out.push((TypingFrame::name().into_owned(), TypingFrame::schema()));
        TypingFrame::schemas(out);
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// Replay events after this id; without it, only live events are sent.
    after: Option<i64>,
}

// A WebSocket: the answer is 101 and then text frames, each an `Event` (plus
// ephemeral `typing` frames with `id: null`); OpenAPI describes only the handshake.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(Params,
        ("Upgrade" = String, Header, description = "`websocket`"),
        ("Connection" = String, Header, description = "`Upgrade`")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 101, description = "Switching to WebSocket; the server sends one text frame per event, and typing frames", body = Frame),
        (status = 400, description = "Malformed query (a request that is no WebSocket handshake gets axum's plain-text refusal)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn subscribe(
    State(app): State<App>,
    headers: HeaderMap,
    AppQuery(p): AppQuery<Params>,
    AppWebSocket(ws): AppWebSocket,
) -> ApiResult<Response> {
    let token = token(&headers);
    let auth = Auth(operator_for(&app, token.clone()).await?);
    let viewer = auth.viewer(&app);
    let after = p.after.unwrap_or_else(|| app.store.last_published());
    let token = token.unwrap_or_default();
    Ok(ws.on_upgrade(move |socket| async move {
        let _open = crate::metrics::OpenSocket::new("console");
        stream(app, viewer, token, after, socket).await
    }))
}

/// How often an open socket checks that its session still holds (a session its owner
/// ended elsewhere); a deactivation is noticed at once, through its `operator.updated`.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Whether the socket's session or token is still valid (not revoked, its operator active).
async fn still_valid(app: &App, token: &str) -> bool {
    operator_for(app, Some(token.to_owned())).await.is_ok()
}

/// One event as a text frame; the stored JSON is pasted in, not parsed again.
fn frame(e: &EventRow) -> String {
    let chat = e.chat_id.map_or_else(|| "null".to_owned(), |id| id.to_string());
    format!(
        r#"{{"id":{},"kind":"{}","chat_id":{},"at":"{}","data":{}}}"#,
        e.id,
        e.kind,
        chat,
        crate::clock::rfc3339(e.at_ms),
        e.data
    )
}

/// In "own chats" visibility, whether this operator may see the event's chat.
async fn visible(app: &App, viewer: &Viewer, e: &EventRow) -> bool {
    if !viewer.sees_own_only() {
        return true;
    }
    let Some(chat_id) = e.chat_id else { return true };
    let assignee = match access::assignee_in_event(e) {
        Some(a) => a,
        None => app.store.read(move |db| access::assignee(db, chat_id)).await.unwrap_or(None),
    };
    viewer.may_see(assignee)
}

async fn send(app: &App, viewer: &Viewer, socket: &mut WebSocket, e: &EventRow) -> bool {
    if !visible(app, viewer, e).await {
        return true;
    }
    socket.send(Message::Text(Utf8Bytes::from(frame(e)))).await.is_ok()
}

/// Sends stored events after `last` until caught up; returns the new `last`.
async fn replay(app: &App, viewer: &Viewer, socket: &mut WebSocket, mut last: i64) -> Option<i64> {
    loop {
        let from = last;
        let rows = app.store.read(move |db| events::after(db, from, REPLAY_PAGE)).await.ok()?;
        for e in &rows {
            if !send(app, viewer, socket, e).await {
                return None;
            }
            last = e.id;
        }
        if (rows.len() as i64) < REPLAY_PAGE {
            return Some(last);
        }
    }
}

async fn stream(app: App, viewer: Viewer, token: String, after: i64, mut socket: WebSocket) {
    let _present = app.distribution.presence.connect(viewer.operator_id, app.clock.clone());
    // Subscribe before replaying, so nothing committed in between is lost.
    let mut live = app.store.subscribe();
    let mut ephemeral = app.ephemeral.subscribe();
    let Some(mut last) = replay(&app, &viewer, &mut socket, after.max(0)).await else { return };
    let mut check = tokio::time::interval(SESSION_CHECK);
    loop {
        tokio::select! {
            event = live.recv() => match event {
                Ok(e) if e.event_kind() == Some(events::EventKind::OperatorUpdated) && !still_valid(&app, &token).await => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Ok(e) if e.id > last => {
                    if e.id > last + 1 {
                        // A gap (another node's events not yet seen here): read them from the table.
                        match replay(&app, &viewer, &mut socket, last).await { Some(l) => last = l, None => return }
                    }
                    if e.id > last {
                        if !send(&app, &viewer, &mut socket, &e).await { return }
                        last = e.id;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => match replay(&app, &viewer, &mut socket, last).await {
                    Some(l) => last = l,
                    None => return,
                },
                Err(RecvError::Closed) => return,
            },
            frame = ephemeral.recv() => if let Ok(f) = frame
                && send_ephemeral(&app, &viewer, &mut socket, f).await.is_err()
            {
                return;
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = check.tick() => if !still_valid(&app, &token).await {
                let _ = socket.send(Message::Close(None)).await;
                return;
            },
            _ = app.shutdown.cancelled() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
}

async fn send_ephemeral(
    app: &App,
    viewer: &Viewer,
    socket: &mut WebSocket,
    f: Arc<serde_json::Value>,
) -> Result<(), ()> {
    if viewer.sees_own_only() {
        let row = EventRow::stored(0, String::new(), f["chat_id"].as_i64(), "{}".into(), 0);
        if !visible(app, viewer, &row).await {
            return Ok(());
        }
    }
    socket.send(Message::Text(Utf8Bytes::from(f.to_string()))).await.map_err(|_| ())
}
