//! The caller's own sessions and API tokens (`/api/v1/me/sessions`, `/me/tokens`), and
//! an admin deactivating or reactivating an operator (`/api/v1/operators/{id}/…`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::auth::{Admin, Auth, token};
use super::error::{ApiResult, AppPath, ErrorBody};
use crate::app::App;
use crate::operators::sessions::{self, Kind, SessionInfo};
use crate::operators::{self, Operator};

/// The caller's console sessions or API tokens, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

async fn list(app: &App, auth: &Auth, headers: &HeaderMap, kind: Kind) -> ApiResult<axum::Json<SessionList>> {
    let (id, now, current) = (auth.0.id, app.now(), token(headers).unwrap_or_default());
    let sessions = app.store.read(move |db| sessions::list(db, id, kind, &current, now)).await?;
    Ok(axum::Json(SessionList { sessions }))
}

async fn revoke(app: &App, auth: &Auth, kind: Kind, public_id: String) -> ApiResult<StatusCode> {
    let id = auth.0.id;
    app.store.write(move |db| sessions::revoke(db, id, kind, &public_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's console sessions; `current` marks this one", body = SessionList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list_sessions(
    State(app): State<App>,
    auth: Auth,
    headers: HeaderMap,
) -> ApiResult<axum::Json<SessionList>> {
    list(&app, &auth, &headers, Kind::Session).await
}

#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "The session's id from the list")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Ended: that browser is logged out at once"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "The caller has no such session", body = ErrorBody),
    ))]
pub async fn revoke_session(State(app): State<App>, auth: Auth, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    revoke(&app, &auth, Kind::Session, id).await
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "auth",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's API tokens (never the tokens themselves)", body = SessionList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list_tokens(State(app): State<App>, auth: Auth, headers: HeaderMap) -> ApiResult<axum::Json<SessionList>> {
    list(&app, &auth, &headers, Kind::Api).await
}

#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "auth",
    params(("id" = String, Path, description = "The token's id from the list")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Revoked: the token stops working at once"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "The caller has no such token", body = ErrorBody),
    ))]
pub async fn revoke_token(State(app): State<App>, auth: Auth, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    revoke(&app, &auth, Kind::Api, id).await
}

#[utoipa::path(post, path = "/api/v1/operators/{id}/deactivate", tag = "operators",
    params(("id" = i64, Path, description = "Operator id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Deactivated: Offline, every session and token ended, no more logins", body = Operator),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such operator", body = ErrorBody),
        (status = 422, description = "Admins cannot deactivate themselves", body = ErrorBody),
    ))]
pub async fn deactivate(
    State(app): State<App>,
    Admin(admin): Admin,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<Operator>> {
    let (by, now) = (admin.id, app.now());
    Ok(axum::Json(app.store.write(move |db| operators::deactivate(db, id, by, now)).await?))
}

#[utoipa::path(post, path = "/api/v1/operators/{id}/reactivate", tag = "operators",
    params(("id" = i64, Path, description = "Operator id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Active again: they may log in with their password", body = Operator),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such operator", body = ErrorBody),
    ))]
pub async fn reactivate(
    State(app): State<App>,
    Admin(admin): Admin,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<Operator>> {
    let (by, now) = (admin.id, app.now());
    Ok(axum::Json(app.store.write(move |db| operators::reactivate(db, id, by, now)).await?))
}
