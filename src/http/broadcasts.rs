//! `/api/v1/broadcasts`: admins create, preview, start, pause, resume, cancel and resend;
//! operators may read them and their recipients (JSON pages, or CSV with
//! `Accept: text/csv`).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiResult, AppJson, AppPath, AppQuery, ErrorBody};
use crate::app::App;
use crate::broadcasts::audience::{self, Preview};
use crate::broadcasts::control::{self, NewBroadcast};
use crate::broadcasts::export::{self, Page};
use crate::error::Result;
use crate::model::{Audience, Broadcast, RecipientState};
use crate::store::Db;

/// Recipients per page of the CSV export.
const EXPORT_PAGE: i64 = 5_000;

#[derive(Serialize, utoipa::ToSchema)]
pub struct BroadcastList {
    pub broadcasts: Vec<Broadcast>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    #[serde(default)]
    audience: Audience,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// Only recipients in this state.
    state: Option<RecipientState>,
    /// Recipients after this id (the `next` of the previous page).
    after: Option<i64>,
    /// 1 to 5,000; default 100.
    limit: Option<i64>,
    /// `csv` for a CSV download of every recipient (or send `Accept: text/csv`).
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/broadcasts", tag = "broadcasts",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Broadcasts, newest first, with their figures", body = BroadcastList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<BroadcastList>> {
    let broadcasts = app.store.read(|db| crate::broadcasts::list(db, 100)).await?;
    Ok(axum::Json(BroadcastList { broadcasts }))
}

#[utoipa::path(post, path = "/api/v1/broadcasts", tag = "broadcasts",
    request_body = NewBroadcast,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Stored: `draft`, or `scheduled` with `send_at`", body = Broadcast),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "An audience channel does not exist", body = ErrorBody),
        (status = 422, description = "A field missing, mistyped, unknown or invalid", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<App>,
    auth: Admin,
    AppJson(body): AppJson<NewBroadcast>,
) -> ApiResult<(StatusCode, axum::Json<Broadcast>)> {
    let (op, now) = (auth.0.id, app.now());
    let b = app.store.write(move |db| control::create(db, body, Some(op), now)).await?;
    Ok((StatusCode::CREATED, axum::Json(b)))
}

#[utoipa::path(post, path = "/api/v1/broadcasts/preview", tag = "broadcasts",
    request_body = PreviewRequest,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "How many contacts the audience reaches, by channel, and who is skipped", body = Preview),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "An audience channel does not exist", body = ErrorBody),
        (status = 422, description = "An invalid filter", body = ErrorBody),
    ))]
pub async fn preview(
    State(app): State<App>,
    _auth: Auth,
    AppJson(body): AppJson<PreviewRequest>,
) -> ApiResult<axum::Json<Preview>> {
    Ok(axum::Json(app.store.read(move |db| audience::preview(db, &body.audience)).await?))
}

#[utoipa::path(get, path = "/api/v1/broadcasts/{id}", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The broadcast, its figures and the reasons of failures", body = Broadcast),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such broadcast", body = ErrorBody),
    ))]
pub async fn get(State(app): State<App>, _auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Broadcast>> {
    Ok(axum::Json(app.store.read(move |db| crate::broadcasts::get(db, id)).await?))
}

/// One of the controls, as an admin, in one transaction.
async fn control(
    app: App,
    _admin: Admin,
    id: i64,
    action: fn(&mut Db, i64, i64) -> Result<Broadcast>,
) -> ApiResult<axum::Json<Broadcast>> {
    let now = app.now();
    Ok(axum::Json(app.store.write(move |db| action(db, id, now)).await?))
}

macro_rules! control_route {
    ($name:ident, $path:literal, $action:path, $what:literal) => {
        #[utoipa::path(post, path = $path, tag = "broadcasts",
                                    params(("id" = i64, Path, description = "Broadcast id")),
                                    security(("session" = []), ("bearer" = [])),
                                    responses(
                                        (status = 200, description = $what, body = Broadcast),
                                        (status = 400, description = "Malformed id", body = ErrorBody),
                                        (status = 401, description = "Not logged in", body = ErrorBody),
                                        (status = 403, description = "Admins only", body = ErrorBody),
                                        (status = 404, description = "No such broadcast", body = ErrorBody),
                                        (status = 409, description = "Not in a state that allows it", body = ErrorBody),
                                    ))]
        pub async fn $name(
            State(app): State<App>,
            auth: Admin,
            AppPath(id): AppPath<i64>,
        ) -> ApiResult<axum::Json<Broadcast>> {
            control(app, auth, id, $action).await
        }
    };
}

control_route!(
    start,
    "/api/v1/broadcasts/{id}/start",
    control::start,
    "Started: every recipient's row is written, then sending begins (a draft or a scheduled one)"
);
control_route!(
    pause,
    "/api/v1/broadcasts/{id}/pause",
    control::pause,
    "Paused: what waits in the outbox is taken back; sends in flight end as they will"
);
control_route!(resume, "/api/v1/broadcasts/{id}/resume", control::resume, "Sending again");
control_route!(
    cancel,
    "/api/v1/broadcasts/{id}/cancel",
    control::cancel,
    "Cancelled: recipients not sent yet are `cancelled`"
);
control_route!(
    resend_unknown,
    "/api/v1/broadcasts/{id}/resend-unknown",
    control::resend_unknown,
    "Recipients whose send was in flight when Parley stopped are queued again"
);

fn wants_csv(headers: &HeaderMap, q: &RecipientQuery) -> bool {
    match q.format.as_deref() {
        Some(f) => f.eq_ignore_ascii_case("csv"),
        None => headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv")),
    }
}

#[utoipa::path(get, path = "/api/v1/broadcasts/{id}/recipients", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id"), RecipientQuery),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of recipients, or with `Accept: text/csv` all of them (streamed)",
            content((Page = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such broadcast", body = ErrorBody),
        (status = 422, description = "A query field missing or mistyped", body = ErrorBody),
    ))]
pub async fn recipients(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
    headers: HeaderMap,
    AppQuery(q): AppQuery<RecipientQuery>,
) -> ApiResult<Response> {
    let state = q.state;
    if !wants_csv(&headers, &q) {
        let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100));
        let page = app.store.read(move |db| export::page(db, id, state, after, limit)).await?;
        return Ok(axum::Json(page).into_response());
    }
    let first = app.store.read(move |db| export::page(db, id, state, 0, EXPORT_PAGE)).await?;
    let head = Bytes::from(export::csv_header() + &export::csv_rows(&first));
    let pages = futures_util::stream::unfold(first.next, move |after| {
        let app = app.clone();
        async move {
            let after = after?;
            match app.store.read(move |db| export::page(db, id, state, after, EXPORT_PAGE)).await {
                Ok(page) => Some((Ok::<_, std::io::Error>(Bytes::from(export::csv_rows(&page))), page.next)),
                Err(e) => {
                    tracing::error!(error = %e, "the recipients' export stopped");
                    Some((Err(std::io::Error::other("the export stopped")), None))
                }
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok(head) });
    let mut res = Body::from_stream(futures_util::StreamExt::chain(body, pages)).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"broadcast-{id}-recipients.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
