//! `/api/v1/me/notify/telegram` and `/api/v1/me/notify/discord`: an operator connects
//! a messenger for notifications through a one-time code (in a Telegram deep link, or
//! sent to the Discord bot in a DM), or disconnects it.

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
            let channel = links::notify_channel(db, "telegram", requested)?;
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectDiscord {
    /// The Discord channel to link (default: the notifications bot).
    channel_id: Option<i64>,
}

// Fields in alphabetical order.
/// A one-time code to send to the Discord notifications bot in a DM.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DiscordCode {
    /// The bot's name, as Discord shows it.
    pub bot_name: Option<String>,
    pub channel_id: i64,
    pub code: String,
    pub expires_at: Time,
    /// The bot's profile on Discord (`https://discord.com/users/<bot_id>`), where a DM starts.
    pub link: Option<String>,
    /// What to send the bot: `/start <code>`.
    pub message: String,
}

fn requested_channel(body: &[u8]) -> Result<Option<i64>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    Ok(serde_json::from_slice::<ConnectDiscord>(body).map_err(|e| Error::Invalid(e.to_string()))?.channel_id)
}

#[utoipa::path(post, path = "/api/v1/me/notify/discord", tag = "auth",
    request_body(content = Option<ConnectDiscord>, description = "Optional: `{}` or no body picks the notifications bot"),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Send `message` to the bot in a DM", body = DiscordCode),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 422, description = "Malformed body, or no Discord notifications bot", body = ErrorBody),
    ))]
/// `POST` → 201 `{code, message, link, bot_name, expires_at, channel_id}`: the operator DMs
/// `message` to the bot, which links that Discord account.
pub async fn connect_discord(
    State(app): State<App>,
    auth: Auth,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<DiscordCode>)> {
    let requested = requested_channel(&body)?;
    let (operator_id, now) = (auth.0.id, app.now());
    let (channel, code) = app
        .store
        .write(move |db| {
            let channel = links::notify_channel(db, "discord", requested)?;
            let code = links::create_code(db, operator_id, channel.channel.id, now)?;
            Ok::<_, Error>((channel, code))
        })
        .await?;
    let c = &channel.channel;
    Ok((
        StatusCode::CREATED,
        axum::Json(DiscordCode {
            bot_name: c.setting("bot_name").map(str::to_owned),
            channel_id: c.id,
            message: format!("/start {code}"),
            code,
            expires_at: Time(now + links::CODE_TTL_MS),
            link: c.setting("bot_id").map(|id| format!("https://discord.com/users/{id}")),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/me/notify/discord", tag = "auth",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Notifications stop"),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ))]
/// `DELETE` → 204: notifications stop (an operator links one messenger at a time).
pub async fn disconnect_discord(state: State<App>, auth: Auth) -> ApiResult<StatusCode> {
    disconnect(state, auth).await
}
