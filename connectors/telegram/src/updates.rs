//! One update into the hub, the same for webhooks and long polling: normalized,
//! callback queries answered at once, then ingested. `Err` means the hub could not
//! store it now and Telegram must deliver it again.

use std::sync::Arc;

use parley_sdk::{Hub, HubError};
use teloxide::Bot;
use teloxide::requests::{Request, Requester};
use teloxide::types::{AllowedUpdate, CallbackQueryId, Update};

use crate::normalize::{self, Normalized};

/// The update kinds a channel asks Telegram for.
pub const ALLOWED: [AllowedUpdate; 4] = [
    AllowedUpdate::Message,
    AllowedUpdate::EditedMessage,
    AllowedUpdate::CallbackQuery,
    // A user blocked or unblocked the bot: broadcasts skip those who blocked it.
    AllowedUpdate::MyChatMember,
];

pub async fn handle(hub: &Arc<dyn Hub>, bot: &Bot, channel_id: i64, update: &Update) -> Result<(), String> {
    let inbound = match normalize::update(channel_id, update) {
        Normalized::Inbound(i) => i,
        Normalized::Button { callback_id, inbound } => {
            // Answered before anything else, so the button stops spinning at once.
            let bot = bot.clone();
            tokio::spawn(async move {
                if let Err(e) = bot.answer_callback_query(CallbackQueryId(callback_id)).send().await {
                    tracing::debug!(error = %e, "cannot answer a callback query");
                }
            });
            inbound
        }
        Normalized::Ignored(why) => {
            tracing::info!(channel.id = channel_id, update.id = update.id.0, %why, "Telegram update acknowledged and dropped");
            return Ok(());
        }
    };
    let mut inbound = inbound;
    for a in &mut inbound.content.attachments {
        if let (None, Some(id)) = (&a.url, &a.file_id) {
            a.url = hub.file_url(channel_id, id);
        }
    }
    match hub.ingest(inbound).await {
        Ok(_) => Ok(()),
        Err(HubError::Rejected(why)) => {
            // Redelivering would not change the answer.
            tracing::info!(channel.id = channel_id, update.id = update.id.0, %why, "Telegram update refused by ingest");
            Ok(())
        }
        Err(HubError::Unavailable(why)) => Err(why),
    }
}
