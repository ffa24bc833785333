//! A Telegram channel's settings: checked and completed before the channel is saved.

use serde_json::{Map, Value, json};

pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

/// How updates arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Telegram POSTs each update to `/hooks/{channel_id}` (needs a public address).
    Webhook,
    /// Parley asks Telegram for updates (`getUpdates`), for machines without one.
    Polling,
}

/// The settings a connector works with, read from the stored JSON.
#[derive(Debug, Clone)]
pub struct Settings {
    pub token: String,
    pub mode: Mode,
    pub api_url: url::Url,
    pub webhook_secret: String,
    /// Telegram's send limits applied on our side (off only against a test server).
    pub throttle: bool,
    /// Seconds a `getUpdates` call waits for news.
    pub poll_timeout: u32,
}

const KEYS: [&str; 9] = [
    "token",
    "mode",
    "api_url",
    "webhook_secret",
    "throttle",
    "poll_timeout",
    "bot_username",
    "bot_id",
    "notify_operators",
];

impl Settings {
    pub fn read(settings: &Value) -> Result<Settings, String> {
        let token = settings.get("token").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
        if token.is_empty() || token.contains(char::is_whitespace) || token.contains('/') {
            return Err("a Telegram channel needs the bot token from @BotFather (settings.token)".into());
        }
        let mode = match settings.get("mode").and_then(Value::as_str).unwrap_or("webhook") {
            "webhook" => Mode::Webhook,
            "polling" => Mode::Polling,
            other => return Err(format!("mode must be webhook or polling, not {other:?}")),
        };
        let raw_url =
            settings.get("api_url").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(DEFAULT_API_URL);
        let api_url = url::Url::parse(raw_url).map_err(|e| format!("api_url {raw_url:?} is not a URL: {e}"))?;
        if !matches!(api_url.scheme(), "http" | "https") || api_url.cannot_be_a_base() {
            return Err("api_url must be an http:// or https:// address".into());
        }
        let throttle = match settings.get("throttle") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("throttle must be true or false".into()),
        };
        let poll_timeout = match settings.get("poll_timeout") {
            None | Some(Value::Null) => 10,
            Some(v) => v.as_u64().filter(|s| *s <= 15).ok_or("poll_timeout must be 0 to 15 seconds")? as u32,
        };
        let webhook_secret = settings.get("webhook_secret").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(Settings { token, mode, api_url, webhook_secret, throttle, poll_timeout })
    }
}

/// Refuses unknown keys, fills the defaults and a webhook secret; the caller adds
/// what `getMe` said.
pub fn complete(settings: Value) -> Result<(Settings, Map<String, Value>), String> {
    let mut map = match settings {
        Value::Object(m) => m,
        _ => return Err("settings must be an object".into()),
    };
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown Telegram setting {key:?}; known: {}", KEYS.join(", ")));
    }
    if let Some(v) = map.get("notify_operators")
        && !v.is_boolean()
    {
        return Err("notify_operators must be true or false".into());
    }
    let secret_ok = map.get("webhook_secret").and_then(Value::as_str).is_some_and(|s| {
        (16..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !secret_ok {
        map.insert("webhook_secret".into(), json!(new_secret()));
    }
    let parsed = Settings::read(&Value::Object(map.clone()))?;
    map.insert("token".into(), json!(parsed.token));
    map.insert("mode".into(), json!(if parsed.mode == Mode::Webhook { "webhook" } else { "polling" }));
    map.insert("api_url".into(), json!(parsed.api_url.as_str().trim_end_matches('/')));
    Ok((parsed, map))
}

/// 32 characters of `A-Za-z0-9`, as Telegram's `secret_token` allows.
pub fn new_secret() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..32).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let (s, map) = complete(json!({"token": "123:abc"})).unwrap();
        assert_eq!(s.mode, Mode::Webhook);
        assert_eq!(map["api_url"], "https://api.telegram.org");
        assert_eq!(map["webhook_secret"].as_str().unwrap().len(), 32);
        assert!(complete(json!({"token": ""})).is_err());
        assert!(complete(json!({"token": "1:a", "mode": "push"})).is_err());
        assert!(complete(json!({"token": "1:a", "colour": "red"})).is_err());
        assert!(complete(json!({"token": "1:a", "api_url": "ftp://x"})).is_err());
    }
}
