//! Who is calling: the console's session cookie or an integration's bearer token.
//! Login, logout, the first-admin set-up, and the caller's own profile and status.

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::error::{ApiError, ApiResult, AppJson, AppPath};
use crate::app::App;
use crate::error::Error;
use crate::inbox::Viewer;
use crate::operators::{self, Operator, Role, Status, add, login, sessions};

pub const COOKIE_NAME: &str = "parley_session";

/// The authenticated operator.
pub struct Auth(pub Operator);

impl Auth {
    pub fn viewer(&self, app: &App) -> Viewer {
        Viewer { operator_id: self.0.id, admin: self.0.is_admin(), visibility: app.config.inbox.visibility }
    }

    /// Refuses anyone but an admin.
    pub fn admin(&self) -> ApiResult<()> {
        if self.0.is_admin() { Ok(()) } else { Err(ApiError::forbidden("only an admin may do this")) }
    }
}

/// The session or bearer token in a request, if any.
pub fn token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_owned());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&format!("{COOKIE_NAME}=")).map(str::to_owned))
}

/// Resolves a token to its operator.
pub async fn operator_for(app: &App, token: Option<String>) -> ApiResult<Operator> {
    let token = token.ok_or_else(|| ApiError::from(Error::Unauthorized("log in first".into())))?;
    let now = app.now();
    app.store.read(move |db| sessions::lookup(db, &token, now)).await?.ok_or_else(|| {
        Error::Unauthorized("the session has expired or the token is unknown; log in again".into()).into()
    })
}

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        operator_for(app, token(&parts.headers)).await.map(Auth)
    }
}

fn session_cookie(app: &App, token: &str, max_age_s: i64) -> HeaderValue {
    let secure = if app.config.public_url().starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .expect("a token is plain ASCII")
}

async fn start_session(app: &App, operator: Operator, status: StatusCode) -> ApiResult<Response> {
    let days = app.config.auth.session_days;
    let token = login::start_session(&app.store, operator.id, days, app.now()).await?;
    let mut res = (status, axum::Json(operator.json())).into_response();
    res.headers_mut().insert(SET_COOKIE, session_cookie(app, &token, days * 86_400));
    Ok(res)
}

#[derive(Deserialize)]
pub struct Login {
    email: String,
    password: String,
}

pub async fn login(State(app): State<App>, headers: HeaderMap, AppJson(body): AppJson<Login>) -> ApiResult<Response> {
    let client = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("direct");
    let operator = login::login(&app.store, &app.login_limiter, &body.email, body.password, client, app.now()).await?;
    start_session(&app, operator, StatusCode::OK).await
}

pub async fn logout(State(app): State<App>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(t) = token(&headers) {
        app.store.write(move |db| sessions::delete(db, &t)).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(SET_COOKIE, session_cookie(&app, "", 0));
    Ok(res)
}

pub async fn me(auth: Auth) -> axum::Json<Json> {
    axum::Json(auth.0.json())
}

#[derive(Deserialize)]
pub struct SetStatus {
    status: Status,
}

pub async fn set_status(
    State(app): State<App>,
    auth: Auth,
    AppJson(body): AppJson<SetStatus>,
) -> ApiResult<axum::Json<Json>> {
    let (id, now) = (auth.0.id, app.now());
    let op = app.store.write(move |db| operators::set_status(db, id, body.status, now)).await?;
    Ok(axum::Json(op.json()))
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
}

pub async fn create_token(
    State(app): State<App>,
    auth: Auth,
    AppJson(body): AppJson<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<Json>)> {
    let (id, now) = (auth.0.id, app.now());
    let token = app
        .store
        .write(move |db| sessions::create(db, id, sessions::Kind::Api, Some(body.name.trim()), None, now))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "token": token }))))
}

pub async fn list_operators(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<Json>> {
    let ops = app.store.read(operators::list).await?;
    Ok(axum::Json(json!({ "operators": ops.iter().map(Operator::json).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
pub struct CreateOperator {
    email: String,
    name: String,
    role: Role,
    password: String,
}

pub async fn create_operator(
    State(app): State<App>,
    auth: Auth,
    AppJson(body): AppJson<CreateOperator>,
) -> ApiResult<(StatusCode, axum::Json<Json>)> {
    auth.admin()?;
    let op = add::add(&app.store, &body.email, &body.name, body.role, body.password, app.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(op.json())))
}

pub async fn setup_check(State(app): State<App>, AppPath(token): AppPath<String>) -> ApiResult<axum::Json<Json>> {
    let now = app.now();
    let valid = app.store.read(move |db| operators::setup::is_valid(db, &token, now)).await?;
    if !valid {
        return Err(ApiError::not_found("this set-up link is unknown, used or expired"));
    }
    Ok(axum::Json(json!({ "valid": true })))
}

#[derive(Deserialize)]
pub struct Setup {
    token: String,
    email: String,
    name: String,
    password: String,
}

pub async fn setup(State(app): State<App>, AppJson(body): AppJson<Setup>) -> ApiResult<Response> {
    let op = add::first_admin(&app.store, body.token, &body.email, &body.name, body.password, app.now()).await?;
    start_session(&app, op, StatusCode::CREATED).await
}
