//! The Telegram channel, on teloxide. A channel is one bot: its token is checked with
//! `getMe` when the channel is saved; updates arrive by webhook (`POST /hooks/{id}`,
//! verified by `X-Telegram-Bot-Api-Secret-Token`) or by long polling; replies go out
//! through teloxide's `Throttle` adaptor. The Bot API address is the `api_url` setting,
//! for self-hosted Bot API servers (and the tests' fake).

mod clients;
mod errors;
mod files;
mod normalize;
mod poll;
mod send;
mod settings;
mod updates;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parley_sdk::{
    CancellationToken, Channel, Connector, FileDownload, FileError, Hub, Outbound, SendError, Sent, WebhookRequest,
    WebhookResponse,
};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use teloxide::payloads::SetWebhookSetters;
use teloxide::requests::{Request, Requester};
use teloxide::types::Update;

pub use normalize::{Normalized, message_key, start_payload};
pub use parley_sdk::text::split_text;
pub use settings::{DEFAULT_API_URL, Mode, Settings};

pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Default)]
pub struct TelegramConnector {
    clients: clients::Clients,
}

impl TelegramConnector {
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self, channel: &Channel) -> Result<(Settings, Arc<clients::Client>), String> {
        let settings = Settings::read(&channel.settings)?;
        let client = self.clients.get(channel.id, &settings);
        Ok((settings, client))
    }
}

fn error_body(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

#[async_trait]
impl Connector for TelegramConnector {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn secret_settings(&self) -> &'static [&'static str] {
        &["token", "webhook_secret"]
    }

    /// Checks the token with `getMe` and stores the bot's username and id.
    async fn prepare_settings(&self, settings: Value) -> Result<Value, String> {
        let (parsed, mut map) = settings::complete(settings)?;
        let bot = self.clients.bare(&parsed);
        let me = bot.get_me().send().await.map_err(|e| match e {
            teloxide::RequestError::Api(api) => {
                format!("Telegram refused the bot token: {}", errors::describe(&api))
            }
            other => format!("cannot reach the Telegram Bot API at {}: {other}", parsed.api_url),
        })?;
        map.insert("bot_username".into(), json!(me.user.username));
        map.insert("bot_id".into(), json!(me.user.id.0));
        Ok(Value::Object(map))
    }

    async fn send(&self, channel: &Channel, out: &Outbound) -> Result<Sent, SendError> {
        let (_, client) = self.client(channel).map_err(|reason| SendError::Permanent {
            reason: format!("channel settings: {reason}"),
            unreachable: false,
        })?;
        match &client.throttled {
            Some((throttled, pacer)) => send::deliver(throttled, Some(pacer), out).await,
            None => send::deliver(&client.bot, None, out).await,
        }
    }

    async fn handle_webhook(&self, channel: &Channel, request: WebhookRequest, hub: Arc<dyn Hub>) -> WebhookResponse {
        let Ok((settings, client)) = self.client(channel) else {
            return WebhookResponse::status(500, error_body("misconfigured", "the channel's settings are broken"));
        };
        let given = request.headers.get(SECRET_HEADER).map(String::as_bytes).unwrap_or_default();
        let expected = settings.webhook_secret.as_bytes();
        if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
            return WebhookResponse::status(401, error_body("bad_secret", "X-Telegram-Bot-Api-Secret-Token is wrong"));
        }
        let update: Update = match serde_json::from_slice(&request.body) {
            Ok(u) => u,
            Err(e) => return WebhookResponse::status(400, error_body("bad_request", &e.to_string())),
        };
        match updates::handle(&hub, &client.bot, channel.id, &update).await {
            Ok(()) => WebhookResponse::ok(),
            // Telegram delivers it again later.
            Err(why) => WebhookResponse::status(500, error_body("unavailable", &why)),
        }
    }

    /// Webhook mode registers the webhook; polling mode polls until stopped.
    async fn run(&self, channel: Channel, hub: Arc<dyn Hub>, stop: CancellationToken) {
        let (settings, client) = match self.client(&channel) {
            Ok(c) => c,
            Err(e) => return tracing::error!(channel.id = channel.id, error = %e, "Telegram channel not started"),
        };
        match settings.mode {
            Mode::Polling => poll::run(client.bot.clone(), settings, channel, hub, stop).await,
            Mode::Webhook => register_webhook(&client.bot, &settings, &channel, hub.as_ref(), &stop).await,
        }
    }

    async fn fetch_file(&self, channel: &Channel, file_id: &str) -> Result<FileDownload, FileError> {
        let (_, client) = self.client(channel).map_err(FileError::Unavailable)?;
        files::fetch(&client.bot, file_id).await
    }
}

/// `setWebhook` with the channel's secret, retried until it works or the channel stops.
async fn register_webhook(
    bot: &teloxide::Bot,
    s: &Settings,
    channel: &Channel,
    hub: &dyn Hub,
    stop: &CancellationToken,
) {
    let address = hub.webhook_url(channel.id);
    let Ok(url) = url::Url::parse(&address) else {
        return tracing::error!(channel.id = channel.id, %address, "the webhook address is not a URL; set public_url");
    };
    let mut backoff = Duration::from_millis(500);
    loop {
        let request =
            bot.set_webhook(url.clone()).secret_token(s.webhook_secret.clone()).allowed_updates(updates::ALLOWED);
        match request.send().await {
            Ok(_) => return tracing::info!(channel.id = channel.id, %address, "Telegram webhook registered"),
            Err(e) => tracing::warn!(channel.id = channel.id, error = %e, "setWebhook failed; trying again"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use parley_sdk::{HubError, Inbound, Receipt};

    use super::*;

    /// A hub that answers as told, to see what the connector acknowledges.
    struct Hub(Mutex<Result<Receipt, HubError>>);

    #[async_trait]
    impl parley_sdk::Hub for Hub {
        async fn ingest(&self, _: Inbound) -> Result<Receipt, HubError> {
            self.0.lock().unwrap().clone()
        }
        fn webhook_url(&self, id: i64) -> String {
            format!("http://127.0.0.1/hooks/{id}")
        }
    }

    fn request(secret: &str) -> WebhookRequest {
        let body = r#"{"update_id":1,"message":{"message_id":1,"date":1700000000,
            "chat":{"id":5,"type":"private","first_name":"A"},"from":{"id":5,"is_bot":false,"first_name":"A"},"text":"hi"}}"#;
        let headers = HashMap::from([(SECRET_HEADER.to_owned(), secret.to_owned())]);
        WebhookRequest { headers, body: body.as_bytes().to_vec(), method: "POST".into(), ..WebhookRequest::default() }
    }

    #[tokio::test]
    async fn webhooks_are_acknowledged_only_once_stored() {
        let connector = TelegramConnector::new();
        let channel = Channel {
            id: 1,
            kind: "telegram".into(),
            name: "t".into(),
            settings: json!({"token": "1:x", "webhook_secret": "s3cret-s3cret-s3cret"}),
        };
        let stored = Ok(Receipt { chat_id: 1, message_id: 1, created: true });
        let hub: Arc<Hub> = Arc::new(Hub(Mutex::new(stored)));
        let answer = connector.handle_webhook(&channel, request("s3cret-s3cret-s3cret"), hub.clone()).await;
        assert_eq!(answer.status, 200);
        assert_eq!(connector.handle_webhook(&channel, request("wrong"), hub.clone()).await.status, 401);
        *hub.0.lock().unwrap() = Err(HubError::Unavailable("database down".into()));
        let answer = connector.handle_webhook(&channel, request("s3cret-s3cret-s3cret"), hub.clone()).await;
        assert_eq!(answer.status, 500, "Telegram must deliver it again");
        *hub.0.lock().unwrap() = Err(HubError::Rejected("nonsense".into()));
        let answer = connector.handle_webhook(&channel, request("s3cret-s3cret-s3cret"), hub.clone()).await;
        assert_eq!(answer.status, 200, "redelivering would not help");
    }

    /// Fails the ingest of messages whose text is "fail".
    struct Picky;

    #[async_trait]
    impl parley_sdk::Hub for Picky {
        async fn ingest(&self, i: Inbound) -> Result<Receipt, HubError> {
            match i.content.text.as_deref() {
                Some("fail") => Err(HubError::Unavailable("database down".into())),
                _ => Ok(Receipt { chat_id: 1, message_id: 1, created: true }),
            }
        }
        fn webhook_url(&self, id: i64) -> String {
            format!("http://127.0.0.1/hooks/{id}")
        }
    }

    #[tokio::test]
    async fn polling_confirms_nothing_past_the_first_update_not_stored() {
        let update = |id: u32, chat: i64, text: &str| -> teloxide::types::Update {
            // From text, as Telegram sends it (teloxide cannot read an Update from a `Value`).
            let raw = json!({"update_id": id, "message": {"message_id": id, "date": 1700000000,
                "chat": {"id": chat, "type": "private", "first_name": "A"},
                "from": {"id": chat, "is_bot": false, "first_name": "A"}, "text": text}});
            serde_json::from_str(&raw.to_string()).unwrap()
        };
        let list = vec![update(1, 5, "ok"), update(2, 6, "ok"), update(3, 5, "fail"), update(4, 6, "ok")];
        let hub: Arc<dyn parley_sdk::Hub> = Arc::new(Picky);
        let bot = teloxide::Bot::new("1:x");
        assert_eq!(poll::ingest_batch(&hub, &bot, 1, &list).await, Some(2));
        assert_eq!(poll::ingest_batch(&hub, &bot, 1, &list[..2]).await, None);
    }
}
