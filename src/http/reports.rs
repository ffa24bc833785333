//! `/api/v1/reports/*`: the KPI reports as JSON, or as CSV with `Accept: text/csv` (or
//! `format=csv`, for download links); `/api/v1/queue`: the chats waiting for an operator.
//! Admins see everyone's figures; an operator sees their own.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::Auth;
use super::error::{ApiError, ApiResult, AppQuery, ErrorBody};
use crate::app::App;
use crate::distribution::queue::{self, Queue};
use crate::reports::conversations::Report;
use crate::reports::status::StatusReport;
use crate::reports::{Filter, Range, conversations, export, status};

/// Rows per page of the CSV export.
const EXPORT_PAGE: i64 = 5000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start of the range (RFC 3339 or `YYYY-MM-DD`; default: 30 days ago).
    from: Option<String>,
    /// End of the range, exclusive (default: now).
    to: Option<String>,
    channel_id: Option<i64>,
    /// An admin may pick any operator; an operator sees only their own figures.
    operator_id: Option<i64>,
    /// `csv` for a CSV download (or send `Accept: text/csv`).
    format: Option<String>,
}

fn wants_csv(headers: &HeaderMap, q: &ReportQuery) -> bool {
    match q.format.as_deref() {
        Some(f) => f.eq_ignore_ascii_case("csv"),
        None => headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv")),
    }
}

/// Whose figures the caller may see: an admin anyone's (or everyone's), an operator only
/// their own.
fn scope(auth: &Auth, requested: Option<i64>) -> ApiResult<Option<i64>> {
    if auth.0.is_admin() {
        return Ok(requested);
    }
    match requested {
        Some(id) if id != auth.0.id => Err(ApiError::forbidden("operators see only their own figures")),
        _ => Ok(Some(auth.0.id)),
    }
}

fn csv_response(body: Body, name: &str, range: Range) -> Response {
    let file = format!(
        "attachment; filename=\"{name}-{}-{}.csv\"",
        crate::reports::day(range.from),
        crate::reports::day(range.to - 1)
    );
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&file) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

#[utoipa::path(get, path = "/api/v1/reports/conversations", tag = "reports",
    params(ReportQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The KPIs of conversations closed in the range, as JSON or CSV (streamed)",
            content((Report = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "An operator asked for another operator's figures", body = ErrorBody),
        (status = 422, description = "Invalid or too long range", body = ErrorBody),
    ))]
pub async fn conversations(
    State(app): State<App>,
    auth: Auth,
    headers: HeaderMap,
    AppQuery(q): AppQuery<ReportQuery>,
) -> ApiResult<Response> {
    let range = Range::parse(q.from.as_deref(), q.to.as_deref(), app.now())?;
    let f = Filter { range, channel_id: q.channel_id, operator_id: scope(&auth, q.operator_id)? };
    if !wants_csv(&headers, &q) {
        let report = app.store.read(move |db| conversations::report(db, &f)).await?;
        return Ok(axum::Json(report).into_response());
    }
    // Streamed page by page: an export of any size is written in constant memory.
    let first = app.store.read(move |db| export::page(db, &f, export::start(&f), EXPORT_PAGE)).await?;
    let head = Bytes::from(export::conversation_header() + &first.0);
    let pages = futures_util::stream::unfold(first.1, move |cursor| {
        let app = app.clone();
        async move {
            let cursor = cursor?;
            match app.store.read(move |db| export::page(db, &f, cursor, EXPORT_PAGE)).await {
                Ok((text, next)) => Some((Ok::<_, std::io::Error>(Bytes::from(text)), next)),
                Err(e) => {
                    tracing::error!(error = %e, "the conversation export stopped");
                    Some((Err(std::io::Error::other("the export stopped")), None))
                }
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok(head) });
    Ok(csv_response(Body::from_stream(futures_util::StreamExt::chain(body, pages)), "conversations", range))
}

#[utoipa::path(get, path = "/api/v1/reports/operator-status", tag = "reports",
    params(ReportQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Time per status per operator and day, as JSON or CSV",
            content((StatusReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "An operator asked for another operator's figures", body = ErrorBody),
        (status = 422, description = "Invalid or too long range", body = ErrorBody),
    ))]
pub async fn operator_status(
    State(app): State<App>,
    auth: Auth,
    headers: HeaderMap,
    AppQuery(q): AppQuery<ReportQuery>,
) -> ApiResult<Response> {
    let now = app.now();
    let range = Range::parse(q.from.as_deref(), q.to.as_deref(), now)?;
    let operator_id = scope(&auth, q.operator_id)?;
    let report = app.store.read(move |db| status::report(db, range, operator_id, now)).await?;
    if wants_csv(&headers, &q) {
        return Ok(csv_response(Body::from(export::status_csv(&report)), "operator-status", range));
    }
    Ok(axum::Json(report).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Default 100.
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/queue", tag = "reports",
    params(QueueQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The chats waiting for an operator, oldest first", body = Queue),
        (status = 422, description = "A query field missing or mistyped", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn queue(
    State(app): State<App>,
    _auth: Auth,
    AppQuery(q): AppQuery<QueueQuery>,
) -> ApiResult<axum::Json<Queue>> {
    let limit = q.limit.unwrap_or(100);
    Ok(axum::Json(app.store.read(move |db| queue::list(db, limit)).await?))
}
