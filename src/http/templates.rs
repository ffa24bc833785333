//! `GET /api/v1/channels/{id}/templates`: the message templates the platform approved
//! for a channel (WhatsApp's), for the console's picker when a chat's window is closed.

use axum::extract::State;
use axum::http::StatusCode;
use parley_sdk::FileError;
use serde::Serialize;
use serde_json::Value as Json;

use super::auth::Auth;
use super::error::{ApiError, ApiResult, AppPath, ErrorBody};
use crate::app::App;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    /// As the platform describes them: `name`, `language`, `status`, `category`,
    /// `components` (the body's text with its `{{1}}` placeholders).
    #[schema(value_type = Vec<Object>)]
    pub templates: Vec<Json>,
}

#[utoipa::path(get, path = "/api/v1/channels/{id}/templates", tag = "channels",
    params(("id" = i64, Path, description = "Channel id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The channel's approved templates", body = TemplateList),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such channel, or its kind has no templates", body = ErrorBody),
        (status = 502, description = "The platform cannot list them now", body = ErrorBody),
    ))]
pub async fn templates(
    State(app): State<App>,
    _auth: Auth,
    AppPath(id): AppPath<i64>,
) -> ApiResult<axum::Json<TemplateList>> {
    let stored = app.store.read(move |db| crate::channels::get(db, id)).await?;
    let connector = app
        .connectors
        .get(&stored.channel.kind)
        .ok_or_else(|| ApiError::not_found("this channel's kind has no templates"))?;
    let templates = connector.templates(&stored.channel).await.map_err(|e| match e {
        FileError::Unsupported | FileError::NotFound(_) => ApiError::not_found("this channel's kind has no templates"),
        FileError::Unavailable(m) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "platform_unavailable",
            format!("the platform cannot list the templates now: {m}"),
        ),
    })?;
    Ok(axum::Json(TemplateList { templates }))
}
