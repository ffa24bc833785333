//! Who is calling: the console's session cookie or an integration's bearer token.
//! Login, logout, the first-admin set-up, and the caller's own profile and status.

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::client::ClientAddr;
use super::error::{ApiError, ApiResult, AppJson, AppPath, ErrorBody};
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
}

/// The authenticated operator, who must be an admin. Taken from the request's head,
/// so axum checks it before a handler's body extractor runs: an operator is refused
/// with 403 whatever body they sent, and learns nothing of what it should look like.
pub struct Admin(pub Operator);

/// The session or bearer token in a request, if any.
pub fn token(headers: &HeaderMap) -> Option<String> {
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` works as `Bearer` does.
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, t)) = v.trim().split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
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

impl FromRequestParts<App> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let Auth(operator) = Auth::from_request_parts(parts, app).await?;
        if operator.is_admin() { Ok(Admin(operator)) } else { Err(ApiError::forbidden("only an admin may do this")) }
    }
}

fn session_cookie(app: &App, token: &str, max_age_s: i64) -> HeaderValue {
    let secure = if app.config.public_url().starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .expect("a token is plain ASCII")
}

async fn start_session(app: &App, operator: Operator, from: ClientAddr, status: StatusCode) -> ApiResult<Response> {
    let days = app.config.auth.session_days;
    let token = login::start_session(&app.store, operator.id, from.0, days, app.now()).await?;
    let mut res = (status, axum::Json(operator)).into_response();
    res.headers_mut().insert(SET_COOKIE, session_cookie(app, &token, days * 86_400));
    Ok(res)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Login {
    email: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/login", tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Logged in; sets the `parley_session` cookie", body = Operator),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "The operator has been deactivated", body = ErrorBody),
        (status = 422, description = "Missing fields", body = ErrorBody),
        (status = 429, description = "Too many failures from this address or for this account; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(State(app): State<App>, client: ClientAddr, AppJson(body): AppJson<Login>) -> ApiResult<Response> {
    let operator =
        login::login(&app.store, &app.login_limiter, &body.email, body.password, client.0, app.now()).await?;
    start_session(&app, operator, client, StatusCode::OK).await
}

#[utoipa::path(post, path = "/api/v1/logout", tag = "auth",
    responses((status = 204, description = "The session, if any, is ended and its cookie cleared")))]
pub async fn logout(State(app): State<App>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(t) = token(&headers) {
        app.store.write(move |db| sessions::delete(db, &t)).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(SET_COOKIE, session_cookie(&app, "", 0));
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Operator),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn me(auth: Auth) -> axum::Json<Operator> {
    axum::Json(auth.0)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetStatus {
    status: Status,
}

#[utoipa::path(put, path = "/api/v1/me/status", tag = "auth",
    request_body = SetStatus,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller with the new status", body = Operator),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 422, description = "Unknown status", body = ErrorBody),
    ))]
pub async fn set_status(
    State(app): State<App>,
    auth: Auth,
    AppJson(body): AppJson<SetStatus>,
) -> ApiResult<axum::Json<Operator>> {
    let (id, now) = (auth.0.id, app.now());
    let op = app.store.write(move |db| operators::set_status(db, id, body.status, now)).await?;
    Ok(axum::Json(op))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// What the token is for, shown in the console.
    name: String,
}

/// A new API token; it is shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenCreated {
    pub token: String,
}

#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "auth",
    request_body = NewToken,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created; send it as `Authorization: Bearer <token>`", body = TokenCreated),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 422, description = "Missing name", body = ErrorBody),
    ))]
pub async fn create_token(
    State(app): State<App>,
    auth: Auth,
    ClientAddr(from): ClientAddr,
    AppJson(body): AppJson<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<TokenCreated>)> {
    let (id, now) = (auth.0.id, app.now());
    let token = app
        .store
        .write(move |db| sessions::create(db, id, sessions::Kind::Api, Some(body.name.trim()), Some(from), None, now))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(TokenCreated { token })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OperatorList {
    pub operators: Vec<Operator>,
}

#[utoipa::path(get, path = "/api/v1/operators", tag = "operators",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every operator", body = OperatorList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list_operators(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<OperatorList>> {
    Ok(axum::Json(OperatorList { operators: app.store.read(operators::list).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateOperator {
    email: String,
    name: String,
    role: Role,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/operators", tag = "operators",
    request_body = CreateOperator,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Operator),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create_operator(
    State(app): State<App>,
    Admin(admin): Admin,
    AppJson(body): AppJson<CreateOperator>,
) -> ApiResult<(StatusCode, axum::Json<Operator>)> {
    let op = add::add(&app.store, Some(admin.id), &body.email, &body.name, body.role, body.password, app.now()).await?;
    Ok((StatusCode::CREATED, axum::Json(op)))
}

/// `{"valid": true}`: the only answer besides 404 and 409.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupValid {
    pub valid: bool,
}

#[utoipa::path(get, path = "/api/v1/setup/{token}", tag = "auth",
    params(("token" = String, Path, description = "The one-time set-up token printed at first start")),
    responses(
        (status = 200, description = "The link is valid", body = SetupValid),
        (status = 404, description = "Unknown, used or expired", body = ErrorBody),
        (status = 409, description = "An admin exists already: log in instead", body = ErrorBody),
    ))]
pub async fn setup_check(State(app): State<App>, AppPath(token): AppPath<String>) -> ApiResult<axum::Json<SetupValid>> {
    let now = app.now();
    app.store.read(move |db| operators::setup::check(db, &token, now)).await?;
    Ok(axum::Json(SetupValid { valid: true }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Setup {
    token: String,
    email: String,
    name: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/setup", tag = "auth",
    request_body = Setup,
    responses(
        (status = 201, description = "The first admin, logged in; sets the `parley_session` cookie", body = Operator),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "Unknown, used or expired token", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn setup(State(app): State<App>, client: ClientAddr, AppJson(body): AppJson<Setup>) -> ApiResult<Response> {
    let op = add::first_admin(&app.store, body.token, &body.email, &body.name, body.password, app.now()).await?;
    start_session(&app, op, client, StatusCode::CREATED).await
}
