//! `/api/v1/me/notify/telegram`: an operator connects Telegram for notifications
//! through a one-time deep link, or disconnects it.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::auth::Auth;
use super::error::{ApiResult, ErrorBody};
use crate::app::App;
use crate::error::Error;
use crate::model::Time;
use crate::notify::links;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectTelegram {
    /// The Telegram channel to link (default: the notifications bot).
    channel_id: Option<i64>,
}

// Fields in alphabetical order, as the `json!` map that wrote it before it was typed.
/// A one-time deep link to the notifications bot.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TelegramLink {
    pub channel_id: i64,
    pub expires_at: Time,
    /// `https://t.me/<bot>?start=<code>`
    pub link: String,
}

#[utoipa::path(post, path = "/api/v1/me/notify/telegram", tag = "auth",
    request_body(content = Option<ConnectTelegram>, description = "Optional: `{}` or no body picks the notifications bot"),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Open the link and press Start", body = TelegramLink),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such Telegram channel", body = ErrorBody),
        (status = 422, description = "Malformed body, or the bot has no username yet", body = ErrorBody),
    ))]
/// `POST` → 201 `{link, expires_at, channel_id}`: the operator opens the link and presses Start.
pub async fn connect(
    State(app): State<App>,
    auth: Auth,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<TelegramLink>)> {
    // The body is optional: `{}` or nothing picks the notifications bot.
    let requested = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<ConnectTelegram>(&body).map_err(|e| Error::Invalid(e.to_string()))?.channel_id
    };
    let (operator_id, now) = (auth.0.id, app.now());
    let (channel, code) = app
        .store
        .write(move |db| {
            let channel = links::notify_channel(db, requested)?;
            let code = links::create_code(db, operator_id, channel.channel.id, now)?;
            Ok::<_, Error>((channel, code))
        })
        .await?;
    let bot = channel
        .channel
        .setting("bot_username")
        .ok_or_else(|| Error::Invalid("the notifications bot has no username yet; save its channel again".into()))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TelegramLink {
            link: format!("https://t.me/{bot}?start={code}"),
            expires_at: Time(now + links::CODE_TTL_MS),
            channel_id: channel.channel.id,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/me/notify/telegram", tag = "auth",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Notifications stop"),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
/// `DELETE` → 204: notifications stop.
pub async fn disconnect(State(app): State<App>, auth: Auth) -> ApiResult<StatusCode> {
    let (operator_id, now) = (auth.0.id, app.now());
    app.store.write(move |db| links::unlink(db, operator_id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}
