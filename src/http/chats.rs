//! `/api/v1/chats`: list, view, history, reply, notes, close/reopen/read, transfer,
//! active channel, typing.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::auth::Auth;
use super::error::{ApiResult, AppJson, AppPath, AppQuery, ErrorBody};
use super::events::{TypingFrame, Who};
use crate::app::App;
use crate::inbox::chats::{ChatList, ChatQuery};
use crate::inbox::messages::History;
use crate::inbox::{chats, messages};
use crate::model::{Chat, Message};

#[utoipa::path(get, path = "/api/v1/chats", tag = "chats",
    params(ChatQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of chats, the tab counts, and the last event id", body = ChatList),
        (status = 422, description = "Unknown status, view=operator without operator_id, or a bad `before`", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<App>,
    auth: Auth,
    AppQuery(q): AppQuery<ChatQuery>,
) -> ApiResult<axum::Json<ChatList>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| chats::list(db, &viewer, &q)).await?))
}

#[utoipa::path(get, path = "/api/v1/chats/{id}", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The chat", body = Chat),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
    ))]
pub async fn get(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Chat>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| chats::get(db, &viewer, id)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Messages before this message id (default: the newest).
    before: Option<i64>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/chats/{id}/messages", tag = "chats",
    params(("id" = i64, Path, description = "Chat id"), Page),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of history, oldest first", body = History),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
    ))]
pub async fn history(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppQuery(p): AppQuery<Page>,
) -> ApiResult<axum::Json<History>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| messages::history(db, &viewer, id, p.before, p.limit.unwrap_or(50))).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The text; may be left out when a template is sent.
    #[serde(default)]
    text: String,
    /// The channel to send through (default: the chat's active channel).
    channel_id: Option<i64>,
    /// An approved template (`{name, language, parameters}`) instead of a text: what a
    /// WhatsApp channel takes outside its 24-hour window
    /// (`GET /api/v1/channels/{id}/templates` lists them).
    #[schema(value_type = Option<Object>)]
    template: Option<parley_sdk::Template>,
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/messages", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    request_body = Reply,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The message, queued for delivery", body = Message),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "Empty or too long text, a malformed template, or a channel the contact is not on", body = ErrorBody),
    ))]
pub async fn reply(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Reply>,
) -> ApiResult<(StatusCode, axum::Json<Message>)> {
    let (viewer, now, max) = (auth.viewer(&app), app.now(), app.config.limits.message_chars);
    let message = app
        .store
        .write(move |db| match &body.template {
            Some(t) => messages::reply_template(db, &viewer, id, t, body.channel_id, now),
            None => messages::reply(db, &viewer, id, &body.text, body.channel_id, max, now),
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    text: String,
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/notes", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    request_body = Note,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The note (seen by operators only)", body = Message),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn note(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Note>,
) -> ApiResult<(StatusCode, axum::Json<Message>)> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    let message = app.store.write(move |db| messages::note(db, &viewer, id, &body.text, now)).await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/close", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Closed; the chat", body = Chat),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
    ))]
pub async fn close(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Chat>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::close(db, &viewer, id, now)).await?))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/reopen", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Reopened; the chat", body = Chat),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
    ))]
pub async fn reopen(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Chat>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::reopen(db, &viewer, id, now)).await?))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/read", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Marked read; the chat", body = Chat),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
    ))]
pub async fn read(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Chat>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::mark_read(db, &viewer, id, now)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    operator_id: i64,
    #[serde(default)]
    comment: String,
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/transfer", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    request_body = Transfer,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Transferred; the chat", body = Chat),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn transfer(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Transfer>,
) -> ApiResult<axum::Json<Chat>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(
        app.store.write(move |db| chats::transfer(db, &viewer, id, body.operator_id, &body.comment, now)).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetChannel {
    channel_id: i64,
}

#[utoipa::path(put, path = "/api/v1/chats/{id}/channel", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    request_body = SetChannel,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The chat with its new active channel", body = Chat),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
        (status = 422, description = "The contact is not on that channel", body = ErrorBody),
    ))]
pub async fn set_channel(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<SetChannel>,
) -> ApiResult<axum::Json<Chat>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::set_channel(db, &viewer, id, body.channel_id, now)).await?))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/typing", tag = "chats",
    params(("id" = i64, Path, description = "Chat id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Pushed to the contact's widget and other consoles"),
        (status = 400, description = "Malformed body or id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such chat, or not visible to the caller", body = ErrorBody),
    ))]
/// "Operator is typing": pushed to the contact's widget and other consoles, never stored.
pub async fn typing(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<StatusCode> {
    let viewer = auth.viewer(&app);
    let visitors = app
        .store
        .read(move |db| {
            chats::get(db, &viewer, id)?;
            crate::widget::visitors_of_chat(db, id)
        })
        .await?;
    for (channel_id, visitor) in visitors {
        app.visitors.push(channel_id, &visitor, r#"{"type":"typing"}"#, None);
    }
    TypingFrame::push(&app, id, Who::Operator, Some(auth.0.id));
    Ok(StatusCode::NO_CONTENT)
}
