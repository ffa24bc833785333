//! The Discord channel, on serenity. A channel is one bot: its token is checked with the
//! current-user call when the channel is saved; messages arrive over the gateway (DMs to
//! the bot, and the guild channels listed in `guild_channels`), on one node at a time;
//! replies go out through serenity's HTTP client and its rate limiter. `api_url` is the
//! base that REST paths `/api/v10/...` hang off (serenity's proxy setting), and
//! `gateway_url` the gateway's address when `GET /api/v10/gateway` should not be asked.

mod clients;
mod cursors;
mod errors;
mod files;
mod gateway;
mod normalize;
mod send;
mod settings;

use std::sync::Arc;

use async_trait::async_trait;
use parley_sdk::{CancellationToken, Channel, Connector, FileDownload, FileError, Hub, Outbound, SendError, Sent};
use serde_json::{Value, json};

pub use gateway::intents;
pub use normalize::{Address, Normalized, Scope, event as normalize_event, resolve_mentions};
pub use parley_sdk::text::split_text;
pub use send::TEXT_LIMIT;
pub use settings::{DEFAULT_API_URL, Settings};

#[derive(Default)]
pub struct DiscordConnector {
    clients: clients::Clients,
}

impl DiscordConnector {
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self, channel: &Channel) -> Result<(Settings, Arc<clients::Client>), String> {
        let settings = Settings::read(&channel.settings)?;
        let client = self.clients.get(channel.id, &settings);
        Ok((settings, client))
    }
}

#[async_trait]
impl Connector for DiscordConnector {
    fn kind(&self) -> &'static str {
        "discord"
    }

    fn secret_settings(&self) -> &'static [&'static str] {
        &["token"]
    }

    /// Checks the token with `GET /users/@me` and stores the bot's id and name.
    async fn prepare_settings(&self, settings: Value) -> Result<Value, String> {
        let (parsed, mut map) = settings::complete(settings)?;
        let me = clients::http(&parsed).get_current_user().await.map_err(|e| match e {
            serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
                format!("Discord refused the bot token: {} ({})", r.error.message, r.status_code)
            }
            other => format!("cannot reach Discord at {}: {}", parsed.api_url, errors::chain(&other)),
        })?;
        if !me.bot {
            return Err("this token is not a bot's: create a bot in the Developer Portal".into());
        }
        map.insert("bot_id".into(), json!(me.id.to_string()));
        map.insert("bot_name".into(), json!(me.name));
        Ok(Value::Object(map))
    }

    async fn send(&self, channel: &Channel, out: &Outbound) -> Result<Sent, SendError> {
        let (_, client) = self.client(channel).map_err(|reason| SendError::Permanent {
            reason: format!("channel settings: {reason}"),
            unreachable: false,
        })?;
        send::deliver(&client, out).await
    }

    async fn run(&self, channel: Channel, hub: Arc<dyn Hub>, stop: CancellationToken) {
        match self.client(&channel) {
            Ok((settings, client)) => gateway::run(client, settings, channel, hub, stop).await,
            Err(e) => tracing::error!(channel.id = channel.id, error = %e, "Discord channel not started"),
        }
    }

    async fn fetch_file(&self, channel: &Channel, file_id: &str) -> Result<FileDownload, FileError> {
        let (_, client) = self.client(channel).map_err(FileError::Unavailable)?;
        files::fetch(&client.http, file_id).await
    }
}
