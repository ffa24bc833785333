//! The gateway: serenity's client keeps the WebSocket (IDENTIFY, heartbeats, RESUME after
//! a drop, which replays what was missed), on one node at a time (the hub's lock).
//!
//! serenity hands every event to a task of its own. On a current-thread runtime those
//! tasks start in the order they were spawned, and the handler's first act is to queue
//! the event, so the queue keeps the gateway's order. The events are then taken one at
//! a time: the next is not looked at before the hub stored this one (retried while the
//! hub is unavailable), so an author's messages, edits and deletions stay in order.
//!
//! A RESUME replays what a dropped connection missed, but a new session (after a restart
//! of Parley, or a session Discord would not resume) starts from now. So the connector
//! keeps, in the hub, the last message taken in each Discord channel ([`Cursors`]), and on
//! every READY reads each channel's history after it before going on with live events.
//! Whatever is read twice is a no-op for ingest, which dedupes on the message id.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parley_sdk::{CancellationToken, Channel, Hub, HubError};
use serenity::all::{ChannelId, CreateInteractionResponse, Event, GatewayIntents, InteractionId, MessageId};
use serenity::client::{Client as SerenityClient, ClientBuilder, Context, RawEventHandler};
use serenity::http::MessagePagination;
use tokio::sync::mpsc;

use crate::clients::{self, Client};
use crate::cursors::Cursors;
use crate::normalize::{self, Address, Normalized, Scope};
use crate::settings::Settings;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the bot asks the gateway for. DMs arrive with their content without privileges;
/// guild channels need GUILD_MESSAGES and the privileged MESSAGE_CONTENT (switched on
/// in the Developer Portal), asked for only when the channel lists guild channels.
/// Component presses (interactions) need no intent.
pub fn intents(s: &Settings) -> GatewayIntents {
    let mut i = GatewayIntents::DIRECT_MESSAGES;
    if !s.guild_channels.is_empty() {
        i |= GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT;
    }
    i
}

/// Sleeps unless stopped first; false when stopped.
async fn pause(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = stop.cancelled() => false,
    }
}

pub async fn run(
    client: Arc<Client>,
    settings: Settings,
    channel: Channel,
    hub: Arc<dyn Hub>,
    stop: CancellationToken,
) {
    let lock = format!("discord-gateway:{}", channel.id);
    let _guard = loop {
        match hub.try_lock(&lock).await {
            Ok(Some(g)) => break g,
            Ok(None) => tracing::debug!(channel.id = channel.id, "another node holds this bot's gateway"),
            Err(e) => tracing::warn!(channel.id = channel.id, error = %e, "cannot take the gateway lock"),
        }
        if !pause(&stop, Duration::from_secs(5)).await {
            return;
        }
    };
    let mut backoff = Duration::from_millis(500);
    let bot_id = loop {
        match client.http.get_current_user().await {
            Ok(me) => break me.id.get(),
            Err(e) => tracing::warn!(channel.id = channel.id, error = %e, "cannot ask Discord who the bot is"),
        }
        if !pause(&stop, backoff).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    };
    let scope =
        Scope { channel_id: channel.id, bot_id, guild_channels: settings.guild_channels.iter().copied().collect() };
    let mut cursors = Cursors::load(hub.as_ref(), channel.id, &stop).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let shard_stop = stop.child_token();
    let thread = spawn_shard(settings, channel.id, tx, shard_stop.clone());
    tracing::info!(channel.id = channel.id, "Discord gateway started");
    let mut save = tokio::time::interval(Duration::from_secs(1));
    loop {
        let event = tokio::select! {
            e = rx.recv() => e,
            _ = save.tick() => {
                cursors.save(hub.as_ref()).await;
                continue;
            }
            _ = stop.cancelled() => None,
        };
        let Some(event) = event else { break };
        let stored = match &event {
            Event::Ready(_) => backfill(&client, &hub, &scope, &mut cursors, &stop).await,
            Event::MessageCreate(m) => {
                let stored = deliver(&client, &hub, &scope, normalize::event(&scope, &event), &stop).await;
                if stored {
                    cursors.note(m.message.channel_id.get(), m.message.id.get());
                }
                stored
            }
            _ => deliver(&client, &hub, &scope, normalize::event(&scope, &event), &stop).await,
        };
        if !stored {
            break;
        }
    }
    cursors.save(hub.as_ref()).await;
    shard_stop.cancel();
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
}

/// After a new session: each known channel's messages after its cursor, oldest first,
/// 100 at a time. False only when stopped.
async fn backfill(
    client: &Client,
    hub: &Arc<dyn Hub>,
    scope: &Scope,
    cursors: &mut Cursors,
    stop: &CancellationToken,
) -> bool {
    for (discord_channel, mut after) in cursors.list() {
        let in_guild = scope.guild_channels.contains(&discord_channel);
        loop {
            let from = Some(MessagePagination::After(MessageId::new(after)));
            let mut page = match client.http.get_messages(ChannelId::new(discord_channel), from, Some(100)).await {
                Ok(p) => p,
                Err(e) => {
                    // A channel gone or closed to the bot: nothing to fetch there.
                    tracing::warn!(channel.id = scope.channel_id, discord.channel = discord_channel, error = %e,
                        "cannot read the history missed");
                    break;
                }
            };
            page.sort_by_key(|m| m.id);
            for m in &page {
                if !deliver(client, hub, scope, normalize::message(scope, m, in_guild), stop).await {
                    return false;
                }
                cursors.note(discord_channel, m.id.get());
                after = m.id.get();
            }
            if page.len() < 100 {
                break;
            }
        }
    }
    true
}

/// One event into the hub; false only when stopped before it was stored.
async fn deliver(
    client: &Client,
    hub: &Arc<dyn Hub>,
    scope: &Scope,
    normalized: Normalized,
    stop: &CancellationToken,
) -> bool {
    let mut inbound = match normalized {
        Normalized::Inbound(i) => i,
        Normalized::Button { interaction_id, token, inbound } => {
            // Answered first: Discord shows the press failed if 3 s pass without an answer.
            acknowledge(&client.http, interaction_id, token);
            inbound
        }
        Normalized::Ignored(why) => {
            tracing::debug!(channel.id = scope.channel_id, %why, "Discord event skipped");
            return true;
        }
    };
    for a in &mut inbound.content.attachments {
        if let (None, Some(id)) = (&a.url, &a.file_id) {
            a.url = hub.file_url(scope.channel_id, id);
        }
    }
    let guild_message = matches!(Address::parse(&inbound.external_id), Some(Address::Guild { .. }))
        && matches!(inbound.kind, parley_sdk::InboundKind::Message);
    let mut backoff = Duration::from_millis(200);
    loop {
        match hub.ingest(inbound.clone()).await {
            Ok(_) => break,
            Err(HubError::Rejected(why)) => {
                tracing::info!(channel.id = scope.channel_id, %why, "Discord event refused by ingest");
                return true;
            }
            Err(HubError::Unavailable(why)) => {
                tracing::warn!(channel.id = scope.channel_id, %why, "Discord event not stored; trying again");
                if !pause(stop, backoff).await {
                    return false;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    if guild_message && let Ok(id) = inbound.platform_message_id.parse() {
        client.last_message.lock().expect("lock").insert(inbound.external_id, id);
    }
    true
}

fn acknowledge(http: &Arc<serenity::http::Http>, interaction_id: u64, token: String) {
    let http = http.clone();
    tokio::spawn(async move {
        // A deferred update: the press is taken and the message stays as it is.
        let ack = CreateInteractionResponse::Acknowledge;
        if let Err(e) =
            http.create_interaction_response(InteractionId::new(interaction_id), &token, &ack, Vec::new()).await
        {
            tracing::warn!(error = %e, "cannot answer a Discord button press");
        }
    });
}

/// Forwards every event, in order, to the channel's loop.
struct Forward(mpsc::UnboundedSender<Event>);

#[async_trait]
impl RawEventHandler for Forward {
    async fn raw_event(&self, _ctx: Context, ev: Event) {
        let _ = self.0.send(ev);
    }
}

/// The shard on a thread of its own with a current-thread runtime (see the module doc),
/// restarted with backoff when serenity gives up (e.g. Discord refused the session).
fn spawn_shard(
    settings: Settings,
    channel_id: i64,
    tx: mpsc::UnboundedSender<Event>,
    stop: CancellationToken,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("discord-{channel_id}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let mut backoff = Duration::from_millis(500);
                loop {
                    match shard_once(&settings, tx.clone(), &stop).await {
                        Ok(()) if stop.is_cancelled() => return,
                        Ok(()) => tracing::warn!(channel.id = channel_id, "Discord gateway ended; starting it again"),
                        Err(e) => {
                            tracing::warn!(channel.id = channel_id, error = %e, "Discord gateway stopped; reconnecting")
                        }
                    }
                    if !pause(&stop, backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            });
        })
        .expect("a thread")
}

/// Runs one serenity client until it ends, fails or `stop`.
async fn shard_once(
    settings: &Settings,
    tx: mpsc::UnboundedSender<Event>,
    stop: &CancellationToken,
) -> serenity::Result<()> {
    // An HTTP client of this runtime's own: its connections live on this thread.
    let http = clients::http(settings);
    let mut client: SerenityClient =
        ClientBuilder::new_with_http(http, intents(settings)).raw_event_handler(Forward(tx)).await?;
    if let Some(url) = &settings.gateway_url {
        *client.ws_url.lock().await = url.clone();
    }
    let manager = client.shard_manager.clone();
    tokio::select! {
        r = client.start() => r,
        _ = stop.cancelled() => {
            manager.shutdown_all().await;
            Ok(())
        }
    }
}
