//! A Discord channel's settings: checked and completed before the channel is saved.

use serde_json::{Map, Value, json};

/// The base that REST paths `/api/v10/...` hang off (serenity's proxy setting).
pub const DEFAULT_API_URL: &str = "https://discord.com";

/// The settings a connector works with, read from the stored JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub token: String,
    pub api_url: String,
    /// The gateway's address; asked of `GET /api/v10/gateway` when absent.
    pub gateway_url: Option<String>,
    /// Guild text channels whose messages are taken in, besides DMs to the bot.
    pub guild_channels: Vec<u64>,
}

const KEYS: [&str; 7] = ["token", "api_url", "gateway_url", "guild_channels", "bot_id", "bot_name", "notify_operators"];

fn url_setting(settings: &Value, key: &str, schemes: &[&str]) -> Result<Option<String>, String> {
    let Some(raw) = settings.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let parsed = url::Url::parse(raw).map_err(|e| format!("{key} {raw:?} is not a URL: {e}"))?;
    if !schemes.contains(&parsed.scheme()) || parsed.cannot_be_a_base() {
        return Err(format!("{key} must be a {} address", schemes.join(":// or ")));
    }
    Ok(Some(raw.trim_end_matches('/').to_owned()))
}

/// A snowflake given as a string (as Discord writes them) or a JSON integer.
fn snowflake(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

impl Settings {
    pub fn read(settings: &Value) -> Result<Settings, String> {
        let token = settings.get("token").and_then(Value::as_str).unwrap_or_default().trim();
        let token = token.strip_prefix("Bot ").unwrap_or(token).to_owned();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err("a Discord channel needs the bot token from the Developer Portal (settings.token)".into());
        }
        let api_url = url_setting(settings, "api_url", &["http", "https"])?.unwrap_or_else(|| DEFAULT_API_URL.into());
        let gateway_url = url_setting(settings, "gateway_url", &["ws", "wss"])?;
        let guild_channels = match settings.get("guild_channels") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| snowflake(v).ok_or_else(|| format!("guild_channels: {v} is not a Discord channel id")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("guild_channels must be a list of channel ids".into()),
        };
        Ok(Settings { token, api_url, gateway_url, guild_channels })
    }
}

/// Refuses unknown keys and fills the defaults; the caller adds what the current-user
/// call said. Channel ids are stored as strings: snowflakes do not fit a JavaScript number.
pub fn complete(settings: Value) -> Result<(Settings, Map<String, Value>), String> {
    let mut map = match settings {
        Value::Object(m) => m,
        _ => return Err("settings must be an object".into()),
    };
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown Discord setting {key:?}; known: {}", KEYS.join(", ")));
    }
    if let Some(v) = map.get("notify_operators")
        && !v.is_boolean()
    {
        return Err("notify_operators must be true or false".into());
    }
    let parsed = Settings::read(&Value::Object(map.clone()))?;
    map.insert("token".into(), json!(parsed.token));
    map.insert("api_url".into(), json!(parsed.api_url));
    match &parsed.gateway_url {
        Some(g) => map.insert("gateway_url".into(), json!(g)),
        None => map.remove("gateway_url"),
    };
    let ids: Vec<String> = parsed.guild_channels.iter().map(u64::to_string).collect();
    map.insert("guild_channels".into(), json!(ids));
    Ok((parsed, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let (s, map) = complete(json!({"token": "Bot abc.def", "guild_channels": ["123", 456]})).unwrap();
        assert_eq!(s.token, "abc.def");
        assert_eq!(map["api_url"], "https://discord.com");
        assert_eq!(map["guild_channels"], json!(["123", "456"]));
        assert!(complete(json!({"token": ""})).is_err());
        assert!(complete(json!({"token": "a", "colour": "red"})).is_err());
        assert!(complete(json!({"token": "a", "api_url": "ftp://x"})).is_err());
        assert!(complete(json!({"token": "a", "gateway_url": "http://x"})).is_err());
        assert!(complete(json!({"token": "a", "guild_channels": ["general"]})).is_err());
        assert!(complete(json!({"token": "a", "guild_channels": [1.5]})).is_err());
    }
}
