//! `/api/v1/me/notify/telegram`: an operator connects Telegram for notifications
//! through a one-time deep link, or disconnects it.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::auth::Auth;
use super::error::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::notify::links;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectTelegram {
    channel_id: Option<i64>,
}

/// `POST` → 201 `{link, expires_at, channel_id}`: the operator opens the link and presses Start.
pub async fn connect(
    State(app): State<App>,
    auth: Auth,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Json>)> {
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
        axum::Json(json!({
            "link": format!("https://t.me/{bot}?start={code}"),
            "expires_at": rfc3339(now + links::CODE_TTL_MS),
            "channel_id": channel.channel.id,
        })),
    ))
}

/// `DELETE` → 204: notifications stop.
pub async fn disconnect(State(app): State<App>, auth: Auth) -> ApiResult<StatusCode> {
    let (operator_id, now) = (auth.0.id, app.now());
    app.store.write(move |db| links::unlink(db, operator_id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}
