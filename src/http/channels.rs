//! `/api/v1/channels`: admins add and configure channels; everyone may list them.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::auth::Auth;
use super::error::{ApiResult, AppJson, AppPath};
use crate::app::App;
use crate::channels::{self, StoredChannel, lifecycle};
use crate::hub::channel_parts;

fn secrets(app: &App, c: &StoredChannel) -> &'static [&'static str] {
    app.connectors.get(&c.channel.kind).map_or(&[], |k| k.secret_settings())
}

pub async fn list(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<Json>> {
    let all = app.store.read(channels::list).await?;
    let out: Vec<Json> = all.iter().map(|c| channels::public_json(c, secrets(&app, c))).collect();
    Ok(axum::Json(json!({ "channels": out })))
}

pub async fn get(State(app): State<App>, _auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Json>> {
    let c = app.store.read(move |db| channels::get(db, id)).await?;
    Ok(axum::Json(channels::public_json(&c, secrets(&app, &c))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    kind: String,
    name: String,
    #[serde(default = "empty_object")]
    settings: Json,
}

fn empty_object() -> Json {
    json!({})
}

pub async fn create(
    State(app): State<App>,
    auth: Auth,
    AppJson(body): AppJson<NewChannel>,
) -> ApiResult<(StatusCode, axum::Json<Json>)> {
    auth.admin()?;
    let c = lifecycle::create(&channel_parts(&app), &body.kind, &body.name, body.settings, app.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(channels::public_json(&c, secrets(&app, &c)))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    name: Option<String>,
    settings: Option<Json>,
    distribution: Option<bool>,
}

pub async fn update(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<ChannelPatch>,
) -> ApiResult<axum::Json<Json>> {
    auth.admin()?;
    let patch = lifecycle::Patch { name: body.name, settings: body.settings, distribution: body.distribution };
    let c = lifecycle::update(&channel_parts(&app), id, patch).await?;
    Ok(axum::Json(channels::public_json(&c, secrets(&app, &c))))
}
