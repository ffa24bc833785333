//! Sends a notification text to an operator's linked chat through the channel's
//! connector, retrying rate limits and network trouble a few times.

use std::time::Duration;

use parley_sdk::{Content, Outbound, SendError};

use crate::app::App;

const ATTEMPTS: u32 = 5;

/// Returns the platform id of the sent message.
pub async fn text(app: &App, channel_id: i64, external_id: &str, text: String) -> Result<Option<String>, String> {
    let stored = app.channel_cache.get(&app.store, channel_id).await.map_err(|e| e.to_string())?;
    let connector =
        app.connectors.get(&stored.channel.kind).ok_or_else(|| format!("no connector for {}", stored.channel.kind))?;
    let mut out = Outbound {
        message_id: 0,
        chat_id: 0,
        external_id: external_id.to_owned(),
        content: Content::text(text),
        author_kind: crate::model::AuthorKind::System.as_str().into(),
        author_name: None,
        created_at: crate::clock::rfc3339(app.now()),
        parts_sent: 0,
    };
    let mut backoff = Duration::from_millis(500);
    for attempt in 1..=ATTEMPTS {
        let wait = match connector.send(&stored.channel, &out).await {
            Ok(sent) => return Ok(sent.platform_message_id),
            Err(SendError::RateLimited(after)) => after,
            Err(SendError::Partial { parts_sent, error }) if attempt < ATTEMPTS => {
                tracing::info!(channel.id = channel_id, why = %error, "the rest of a notification will be retried");
                out.parts_sent = parts_sent;
                backoff
            }
            Err(SendError::Transient(why)) if attempt < ATTEMPTS => {
                tracing::info!(channel.id = channel_id, %why, "notification will be retried");
                backoff
            }
            Err(e) => return Err(e.to_string()),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = app.shutdown.cancelled() => return Err("shutting down".into()),
        }
        backoff *= 2;
    }
    Err(format!("gave up after {ATTEMPTS} attempts"))
}
