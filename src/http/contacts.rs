//! `/api/v1/contacts`, merges and message search.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::auth::Auth;
use super::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery};
use crate::app::App;
use crate::inbox::{contacts, merge, search, views};

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    limit: Option<i64>,
}

pub async fn list(
    State(app): State<App>,
    _auth: Auth,
    AppQuery(s): AppQuery<Search>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let limit = s.limit.unwrap_or(20).clamp(1, 100);
    let found = app.store.read(move |db| contacts::search(db, &s.q, limit)).await?;
    Ok(axum::Json(serde_json::json!({ "contacts": found })))
}

pub async fn get(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    Ok(axum::Json(app.store.read(move |db| views::contact(db, id)).await?))
}

pub async fn update(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(patch): AppJson<contacts::ContactPatch>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let now = app.now();
    Ok(axum::Json(app.store.write(move |db| contacts::update(db, id, patch, now)).await?))
}

pub async fn duplicates(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let found = app.store.read(move |db| contacts::duplicates(db, id)).await?;
    Ok(axum::Json(serde_json::json!({ "contacts": found })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    source_id: i64,
}

pub async fn merge(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Merge>,
) -> ApiResult<axum::Json<impl Serialize>> {
    let (op, now) = (auth.0.id, app.now());
    Ok(axum::Json(app.store.write(move |db| merge::merge(db, id, body.source_id, op, now)).await?))
}

pub async fn merges(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<impl Serialize>> {
    Ok(axum::Json(app.store.read(merge::list).await?))
}

pub async fn undo_merge(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<impl Serialize>> {
    auth.admin()?;
    let now = app.now();
    Ok(axum::Json(app.store.write(move |db| merge::undo(db, id, now)).await?))
}

pub async fn search_messages(
    State(app): State<App>,
    auth: Auth,
    AppQuery(s): AppQuery<Search>,
) -> ApiResult<axum::Json<impl Serialize>> {
    if s.q.trim().is_empty() {
        return Err(ApiError::bad_request("q is required"));
    }
    let viewer = auth.viewer(&app);
    let limit = s.limit.unwrap_or(50);
    Ok(axum::Json(app.store.read(move |db| search::messages(db, &viewer, &s.q, limit)).await?))
}
