//! `/api/v1/contacts`, merges and message search.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ApiResult, AppJson, AppPath, AppQuery, ErrorBody};
use crate::app::App;
use crate::inbox::contacts::{ContactPatch, Duplicate};
use crate::inbox::merge::{MergeList, Merged, Unmerged};
use crate::inbox::search::Hits;
use crate::inbox::{contacts, merge, search, views};
use crate::model::Contact;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Words to look for (required for message search). Contacts without it: every
    /// contact, newest first, paged with `before`.
    #[serde(default)]
    q: String,
    limit: Option<i64>,
    /// Contacts only, without `q`: those with ids below this one (the last of a page).
    before: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
    /// Without `q`: whether a page after this one exists (ask with `before` = the last id).
    pub has_more: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DuplicateList {
    pub contacts: Vec<Duplicate>,
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    params(Search),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Contacts matching `q`, or without it every contact newest first (limit 1 to 100, default 20)", body = ContactList),
        (status = 422, description = "A query field missing or mistyped", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<App>,
    _auth: Auth,
    AppQuery(s): AppQuery<Search>,
) -> ApiResult<axum::Json<ContactList>> {
    let limit = s.limit.unwrap_or(20).clamp(1, 100);
    let (contacts, has_more) = if s.q.trim().is_empty() {
        app.store.read(move |db| contacts::list(db, s.before, limit)).await?
    } else {
        (app.store.read(move |db| contacts::search(db, &s.q, limit)).await?, false)
    };
    Ok(axum::Json(ContactList { contacts, has_more }))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The contact", body = Contact),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
    ))]
pub async fn get(State(app): State<App>, _auth: Auth, AppPath(id): AppPath<i64>) -> ApiResult<axum::Json<Contact>> {
    Ok(axum::Json(app.store.read(move |db| views::contact(db, id)).await?))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    request_body = ContactPatch,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The contact after the edit", body = Contact),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
        (status = 422, description = "Invalid phone, email or unknown field", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(patch): AppJson<ContactPatch>,
) -> ApiResult<axum::Json<Contact>> {
    let now = app.now();
    Ok(axum::Json(app.store.write(move |db| contacts::update(db, id, patch, now)).await?))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/duplicates", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Contacts with the same phone or email", body = DuplicateList),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
    ))]
pub async fn duplicates(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<DuplicateList>> {
    let contacts = app.store.read(move |db| contacts::duplicates(db, id)).await?;
    Ok(axum::Json(DuplicateList { contacts }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The contact merged into this one (it is hidden until the merge is undone).
    source_id: i64,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts",
    params(("id" = i64, Path, description = "The contact that remains")),
    request_body = Merge,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Merged", body = Merged),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such contact", body = ErrorBody),
        (status = 422, description = "A contact cannot be merged into itself", body = ErrorBody),
    ))]
pub async fn merge(
    State(app): State<App>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Merge>,
) -> ApiResult<axum::Json<Merged>> {
    let (op, now) = (auth.0.id, app.now());
    Ok(axum::Json(app.store.write(move |db| merge::merge(db, id, body.source_id, op, now)).await?))
}

#[utoipa::path(get, path = "/api/v1/merges", tag = "contacts",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The latest merges, newest first", body = MergeList),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn merges(State(app): State<App>, _auth: Auth) -> ApiResult<axum::Json<MergeList>> {
    Ok(axum::Json(app.store.read(merge::list).await?))
}

#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "contacts",
    params(("id" = i64, Path, description = "Merge id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Both contacts as they are again", body = Unmerged),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 404, description = "No such merge", body = ErrorBody),
        (status = 409, description = "Already undone, or a later merge involves the same contacts", body = ErrorBody),
    ))]
pub async fn undo_merge(
    State(app): State<App>,
    Admin(admin): Admin,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<Unmerged>> {
    let (by, now) = (admin.id, app.now());
    Ok(axum::Json(app.store.write(move |db| merge::undo(db, id, by, now)).await?))
}

#[utoipa::path(get, path = "/api/v1/search/messages", tag = "contacts",
    params(Search),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Messages and notes containing every word of `q`", body = Hits),
        (status = 422, description = "`q` is missing", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
pub async fn search_messages(
    State(app): State<App>,
    auth: Auth,
    AppQuery(s): AppQuery<Search>,
) -> ApiResult<axum::Json<Hits>> {
    if s.q.trim().is_empty() {
        return Err(ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "invalid", "`q` is required"));
    }
    let viewer = auth.viewer(&app);
    let limit = s.limit.unwrap_or(50);
    Ok(axum::Json(app.store.read(move |db| search::messages(db, &viewer, &s.q, limit)).await?))
}
