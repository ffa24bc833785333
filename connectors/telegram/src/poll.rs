//! Long polling: `getUpdates` in a loop on one node at a time. The offset moves past an
//! update only once the hub committed it, so a crash or a database outage loses nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parley_sdk::{CancellationToken, Channel, Hub};
use teloxide::Bot;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::requests::{Request, Requester};
use teloxide::types::{Update, UpdateKind};

use crate::settings::Settings;
use crate::updates::{self, ALLOWED};

const BATCH: u8 = 100;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Sleeps unless stopped first; false when stopped.
async fn pause(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = stop.cancelled() => false,
    }
}

pub async fn run(bot: Bot, settings: Settings, channel: Channel, hub: Arc<dyn Hub>, stop: CancellationToken) {
    let lock = format!("telegram-poll:{}", channel.id);
    let _guard = loop {
        match hub.try_lock(&lock).await {
            Ok(Some(g)) => break g,
            Ok(None) => tracing::debug!(channel.id = channel.id, "another node polls this bot"),
            Err(e) => tracing::warn!(channel.id = channel.id, error = %e, "cannot take the polling lock"),
        }
        if !pause(&stop, Duration::from_secs(5)).await {
            return;
        }
    };
    tracing::info!(channel.id = channel.id, "polling Telegram for updates");
    let mut backoff = Duration::from_millis(500);
    // getUpdates fails with 409 while a webhook is set.
    while let Err(e) = bot.delete_webhook().send().await {
        tracing::warn!(channel.id = channel.id, error = %e, "cannot remove the bot's webhook");
        if !pause(&stop, backoff).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    let mut offset: i32 = 0;
    loop {
        let request =
            bot.get_updates().offset(offset).timeout(settings.poll_timeout).limit(BATCH).allowed_updates(ALLOWED);
        let answer = tokio::select! {
            r = request.send() => r,
            _ = stop.cancelled() => return,
        };
        let list = match answer {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(channel.id = channel.id, error = %e, "getUpdates failed; trying again");
                if !pause(&stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let Some(last) = list.last() else { continue };
        let next = last.id.0 as i32 + 1;
        match ingest_batch(&hub, &bot, channel.id, &list).await {
            None => {
                offset = next;
                backoff = Duration::from_millis(500);
            }
            Some(failed) => {
                // Ask again from the first update that was not stored.
                offset = list[failed].id.0 as i32;
                if !pause(&stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Who an update comes from: one sender's updates go in order, different senders at once.
fn sender(u: &Update) -> i64 {
    match &u.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.chat.id.0,
        UpdateKind::CallbackQuery(q) => q.from.id.0 as i64,
        _ => 0,
    }
}

/// Ingests a batch; returns the position of the first update the hub could not store.
pub async fn ingest_batch(hub: &Arc<dyn Hub>, bot: &Bot, channel_id: i64, list: &[Update]) -> Option<usize> {
    let mut groups: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, u) in list.iter().enumerate() {
        groups.entry(sender(u)).or_default().push(i);
    }
    let runs = groups.into_values().map(|positions| async move {
        for i in positions {
            if let Err(why) = updates::handle(hub, bot, channel_id, &list[i]).await {
                tracing::warn!(channel.id = channel_id, update.id = list[i].id.0, %why, "update not stored; it will be fetched again");
                return Some(i);
            }
        }
        None
    });
    futures_util::future::join_all(runs).await.into_iter().flatten().min()
}
