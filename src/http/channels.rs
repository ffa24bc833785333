//! `/api/v1/channels`: admins add and configure channels; everyone may list them.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::auth::Auth;
use super::error::{ApiError, ApiResult, AppJson, AppPath};
use crate::app::App;
use crate::channels::{self, StoredChannel};

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
    let connector = app.connectors.get(&body.kind).ok_or_else(|| {
        ApiError::from(crate::error::Error::Invalid(format!(
            "unknown channel kind {:?}; known kinds: {}",
            body.kind,
            app.connectors.kinds().join(", ")
        )))
    })?;
    if !body.settings.is_object() {
        return Err(crate::error::Error::Invalid("settings must be an object".into()).into());
    }
    let name = channels::validate_name(&body.name)?;
    let settings = connector.prepare_settings(body.settings).await.map_err(crate::error::Error::Invalid)?;
    let (kind, now) = (body.kind, app.now());
    let c = app.store.write(move |db| channels::create(db, &kind, &name, &settings, now)).await?;
    app.runners.start(&app, c.channel.clone());
    Ok((StatusCode::CREATED, axum::Json(channels::public_json(&c, connector.secret_settings()))))
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
    let stored = app.store.read(move |db| channels::get(db, id)).await?;
    let connector = app
        .connectors
        .get(&stored.channel.kind)
        .ok_or_else(|| ApiError::from(crate::error::Error::Invalid("this channel's kind is not available".into())))?;
    let name = body.name.as_deref().map(channels::validate_name).transpose()?;
    let settings = match body.settings {
        Some(patch) if patch.is_object() => {
            let merged = channels::merge_settings(&stored.channel.settings, &patch);
            Some(connector.prepare_settings(merged).await.map_err(crate::error::Error::Invalid)?)
        }
        Some(_) => return Err(crate::error::Error::Invalid("settings must be an object".into()).into()),
        None => None,
    };
    let distribution = body.distribution;
    let settings_changed = settings.is_some();
    let c =
        app.store.write(move |db| channels::update(db, id, name.as_deref(), settings.as_ref(), distribution)).await?;
    app.channel_cache.forget(id);
    if settings_changed {
        app.runners.start(&app, c.channel.clone());
    }
    Ok(axum::Json(channels::public_json(&c, connector.secret_settings())))
}
