//! `/api/v1/chats`: list, view, history, reply, notes, close/reopen/read, transfer,
//! active channel, typing.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Auth;
use super::error::{ApiResult, AppJson, AppPath, AppQuery};
use crate::app::App;
use crate::inbox::{chats, messages};

pub async fn list(
    State(app): State<App>,
    auth: Auth,
    AppQuery(q): AppQuery<chats::ChatQuery>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| chats::list(db, &viewer, &q)).await?))
}

pub async fn get(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| chats::get(db, &viewer, id)).await?))
}

#[derive(Deserialize)]
pub struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn history(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppQuery(p): AppQuery<Page>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| messages::history(db, &viewer, id, p.before, p.limit.unwrap_or(50))).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    text: String,
    channel_id: Option<i64>,
}

pub async fn reply(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Reply>,
) -> ApiResult<(StatusCode, axum::Json<impl Serialize>)> {
    let (viewer, now, max) = (auth.viewer(&app), app.now(), app.config.limits.message_chars);
    let message =
        app.store.write(move |db| messages::reply(db, &viewer, id, &body.text, body.channel_id, max, now)).await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    text: String,
}

pub async fn note(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Note>,
) -> ApiResult<(StatusCode, axum::Json<impl Serialize>)> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    let message = app.store.write(move |db| messages::note(db, &viewer, id, &body.text, now)).await?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

pub async fn close(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::close(db, &viewer, id, now)).await?))
}

pub async fn reopen(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::reopen(db, &viewer, id, now)).await?))
}

pub async fn read(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::mark_read(db, &viewer, id, now)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    operator_id: i64,
    #[serde(default)]
    comment: String,
}

pub async fn transfer(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Transfer>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(
        app.store.write(move |db| chats::transfer(db, &viewer, id, body.operator_id, &body.comment, now)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetChannel {
    channel_id: i64,
}

pub async fn set_channel(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<SetChannel>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| chats::set_channel(db, &viewer, id, body.channel_id, now)).await?))
}

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
    let frame = json!({"id": null, "kind": "typing", "chat_id": id, "data": {"chat_id": id, "who": "operator", "operator_id": auth.0.id}});
    let _ = app.ephemeral.send(std::sync::Arc::new(frame));
    Ok(StatusCode::NO_CONTENT)
}
