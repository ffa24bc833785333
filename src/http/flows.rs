//! `/api/v1/flows…`: bot flows. Everyone may read them; admins write, switch, roll
//! back, check and simulate. Flows from files are read-only here. Starting a flow for a
//! contact and pausing the bot are any operator's.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiResult, AppJson, AppPath, ErrorBody};
use crate::app::App;
use crate::flows::catalog::{self, FlowDetail, FlowSummary, Origin, VersionView};
use crate::flows::control::{self, BotState};
use crate::flows::drive::Drive;
use crate::flows::simulate::{SimRequest, SimResult};
use crate::flows::{Diagnostic, Severity};

#[derive(Serialize, utoipa::ToSchema)]
pub struct FlowList {
    pub flows: Vec<FlowSummary>,
}

#[utoipa::path(get, path = "/api/v1/flows", tag = "flows",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every flow, with its triggers and switch", body = FlowList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<FlowList>> {
    let compiled = app.flows.clone();
    let flows = app.store.read(move |db| catalog::list(db, &compiled)).await?;
    Ok(axum::Json(FlowList { flows }))
}

#[utoipa::path(get, path = "/api/v1/flows/{id}", tag = "flows",
    params(("id" = String, Path, description = "Flow id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The flow: its YAML, warnings, steps and counts per step", body = FlowDetail),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such flow", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<String>,
) -> ApiResult<axum::Json<FlowDetail>> {
    let compiled = app.flows.clone();
    Ok(axum::Json(app.store.read(move |db| catalog::get(db, &compiled, &id)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowSource {
    /// The flow's YAML.
    pub source: String,
    /// Switches the flow on or off too; a new flow is off unless this says otherwise.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[utoipa::path(put, path = "/api/v1/flows/{id}", tag = "flows",
    params(("id" = String, Path, description = "Flow id: lower-case letters, digits, - and _")),
    request_body = FlowSource,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Stored as the flow's next version (or unchanged)", body = catalog::Saved),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 409, description = "The flow comes from a file", body = ErrorBody),
        (status = 422, description = "The flow has errors (the first, with its line and column)", body = ErrorBody),
    ))]
pub async fn put(
    State(app): State<App>,
    auth: Admin,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<FlowSource>,
) -> ApiResult<axum::Json<catalog::Saved>> {
    let (author, now) = (auth.0.email.clone(), app.now());
    let saved = app
        .store
        .write(move |db| catalog::save(db, &id, Origin::Api, &body.source, &author, body.enabled, now))
        .await?;
    Ok(axum::Json(saved))
}

#[utoipa::path(delete, path = "/api/v1/flows/{id}", tag = "flows",
    params(("id" = String, Path, description = "Flow id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted, with its versions and runs"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such flow", body = ErrorBody),
        (status = 409, description = "The flow comes from a file", body = ErrorBody),
    ))]
pub async fn delete(State(app): State<App>, _admin: Admin, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    app.store.write(move |db| catalog::delete(db, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionList {
    pub versions: Vec<VersionView>,
}

#[utoipa::path(get, path = "/api/v1/flows/{id}/versions", tag = "flows",
    params(("id" = String, Path, description = "Flow id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every version, newest first", body = VersionList),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such flow", body = ErrorBody),
    ))]
pub async fn versions(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<String>,
) -> ApiResult<axum::Json<VersionList>> {
    let versions = app.store.read(move |db| catalog::versions(db, &id)).await?;
    Ok(axum::Json(VersionList { versions }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    /// The version's number to make current.
    pub version: i64,
}

#[utoipa::path(post, path = "/api/v1/flows/{id}/rollback", tag = "flows",
    params(("id" = String, Path, description = "Flow id")),
    request_body = Rollback,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The version is current; runs under way keep theirs", body = FlowDetail),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such flow or version", body = ErrorBody),
        (status = 409, description = "The flow comes from a file", body = ErrorBody),
    ))]
pub async fn rollback(
    State(app): State<App>,
    auth: Admin,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<Rollback>,
) -> ApiResult<axum::Json<FlowDetail>> {
    let (author, now, compiled) = (auth.0.email.clone(), app.now(), app.flows.clone());
    let detail = app
        .store
        .write(move |db| {
            catalog::rollback(db, &id, body.version, &author, now)?;
            catalog::get(db, &compiled, &id)
        })
        .await?;
    Ok(axum::Json(detail))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub enabled: bool,
}

#[utoipa::path(put, path = "/api/v1/flows/{id}/enabled", tag = "flows",
    params(("id" = String, Path, description = "Flow id")),
    request_body = Switch,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Switched", body = FlowDetail),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such flow", body = ErrorBody),
    ))]
pub async fn switch(
    State(app): State<App>,
    auth: Admin,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<Switch>,
) -> ApiResult<axum::Json<FlowDetail>> {
    let (author, now, compiled) = (auth.0.email.clone(), app.now(), app.flows.clone());
    let detail = app
        .store
        .write(move |db| {
            catalog::set_enabled(db, &id, body.enabled, &author, now)?;
            catalog::get(db, &compiled, &id)
        })
        .await?;
    Ok(axum::Json(detail))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub source: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    /// No errors: the flow may be saved.
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
}

#[utoipa::path(post, path = "/api/v1/flows/check", tag = "flows",
    request_body = CheckRequest,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Errors and warnings, each with its line and column", body = CheckResult),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn check(_auth: Auth, AppJson(body): AppJson<CheckRequest>) -> ApiResult<axum::Json<CheckResult>> {
    let checked = crate::flows::check(&body.source);
    let ok = !checked.diagnostics.iter().any(|d| d.severity == Severity::Error);
    Ok(axum::Json(CheckResult { ok, diagnostics: checked.diagnostics }))
}

#[utoipa::path(post, path = "/api/v1/flows/simulate", tag = "flows",
    request_body = SimRequest,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "What the run did with the input, and its state now", body = SimResult),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 422, description = "The flow has errors, or the input does not fit the state", body = ErrorBody),
    ))]
pub async fn simulate(
    State(app): State<App>,
    _admin: Admin,
    AppJson(body): AppJson<SimRequest>,
) -> ApiResult<axum::Json<SimResult>> {
    let client = reqwest::Client::new();
    Ok(axum::Json(crate::flows::simulate::simulate(body, &client, app.now()).await?))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/flows/{flow}", tag = "flows",
    params(("id" = i64, Path, description = "Contact id"), ("flow" = String, Path, description = "Flow id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The flow started for the contact", body = BotState),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact, chat or flow", body = ErrorBody),
    ))]
pub async fn start(
    State(app): State<App>,
    auth: Auth,
    AppPath((id, flow)): AppPath<(i64, String)>,
) -> ApiResult<axum::Json<BotState>> {
    let (viewer, now, compiled) = (auth.viewer(&app), app.now(), app.flows.clone());
    let settings = app.config.distribution.clone();
    let state = app
        .store
        .write(move |db| {
            let drive = Drive { compiled: &compiled, distribution: &settings };
            control::start(db, &drive, &viewer, id, &flow, now)
        })
        .await?;
    Ok(axum::Json(state))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/bot", tag = "flows",
    params(("id" = i64, Path, description = "Contact id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Who answers the contact, whether the bot is paused, the active run", body = BotState),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact or chat", body = ErrorBody),
    ))]
pub async fn bot(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<BotState>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.read(move |db| control::state(db, &viewer, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/bot/pause", tag = "flows",
    params(("id" = i64, Path, description = "Contact id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The bot is paused for the contact; the chat is the operators'", body = BotState),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact or chat", body = ErrorBody),
    ))]
pub async fn pause(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<BotState>> {
    let (viewer, now) = (auth.viewer(&app), app.now());
    Ok(axum::Json(app.store.write(move |db| control::pause(db, &viewer, id, now)).await?))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/bot/resume", tag = "flows",
    params(("id" = i64, Path, description = "Contact id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The bot may answer the contact again", body = BotState),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact or chat", body = ErrorBody),
    ))]
pub async fn resume(State(app): State<App>, auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<BotState>> {
    let viewer = auth.viewer(&app);
    Ok(axum::Json(app.store.write(move |db| control::resume(db, &viewer, id)).await?))
}
