//! `/api/v1/channels`: admins add and configure channels; everyone may list them.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::auth::{Admin, Auth};
use super::error::{ApiResult, AppJson, AppPath, ErrorBody};
use crate::app::App;
use crate::channels::{self, PublicChannel, StoredChannel, lifecycle};
use crate::hub::channel_parts;

fn secrets(app: &App, c: &StoredChannel) -> &'static [&'static str] {
    app.connectors.get(&c.channel.kind).map_or(&[], |k| k.secret_settings())
}

fn public(app: &App, c: &StoredChannel) -> PublicChannel {
    channels::public(c, secrets(app, c))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChannelList {
    pub channels: Vec<PublicChannel>,
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every channel", body = ChannelList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<ChannelList>> {
    let all = app.store.read(channels::list).await?;
    Ok(axum::Json(ChannelList { channels: all.iter().map(|c| public(&app, c)).collect() }))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = i64, Path, description = "Channel id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The channel", body = PublicChannel),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<PublicChannel>> {
    let c = app.store.read(move |db| channels::get(db, id)).await?;
    Ok(axum::Json(public(&app, &c)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// The connector: `widget`, `telegram`, `webhook`, ...
    kind: String,
    name: String,
    /// The connector's settings (defaults to `{}`).
    #[serde(default = "empty_object")]
    settings: Json,
}

fn empty_object() -> Json {
    json!({})
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "channels",
    request_body = NewChannel,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = PublicChannel),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 422, description = "Unknown kind or invalid settings", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<App>,
    Admin(admin): Admin,
    AppJson(body): AppJson<NewChannel>,
) -> ApiResult<(StatusCode, axum::Json<PublicChannel>)> {
    let c = lifecycle::create(&channel_parts(&app), admin.id, &body.kind, &body.name, body.settings, app.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(public(&app, &c))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    name: Option<String>,
    /// Laid over the stored settings; a redacted secret sent back unchanged keeps its value.
    settings: Option<Json>,
    distribution: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = i64, Path, description = "Channel id")),
    request_body = ChannelPatch,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = PublicChannel),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
        (status = 422, description = "Invalid settings", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<App>,
    Admin(admin): Admin,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<ChannelPatch>,
) -> ApiResult<axum::Json<PublicChannel>> {
    let patch = lifecycle::Patch { name: body.name, settings: body.settings, distribution: body.distribution };
    let c = lifecycle::update(&channel_parts(&app), admin.id, id, patch, app.now()).await?;
    Ok(axum::Json(public(&app, &c)))
}
