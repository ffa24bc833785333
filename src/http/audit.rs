//! `GET /api/v1/audit`: the audit log, for admins, newest first, a page at a time.

use axum::extract::State;
use serde::Deserialize;

use super::auth::Admin;
use super::error::{ApiResult, AppQuery, ErrorBody};
use crate::app::App;
use crate::audit;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Entries older than this id (a page's `next_before`); without it, the newest.
    before: Option<i64>,
    /// Entries per page, 1 to 200 (default 50).
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "operations",
    params(PageQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Who changed what and when, newest first", body = audit::Page),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 422, description = "A query field is mistyped", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<App>,
    _admin: Admin,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<axum::Json<audit::Page>> {
    let limit = q.limit.unwrap_or(50);
    Ok(axum::Json(app.store.read(move |db| audit::page(db, q.before, limit)).await?))
}
