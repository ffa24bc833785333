//! A WhatsApp channel's settings: checked and completed before the channel is saved.

use serde_json::{Map, Value, json};

/// The Graph API with its version pinned: Meta changes payloads between versions, and
/// a channel must not change behaviour on the day a new one becomes the default.
pub const DEFAULT_API_URL: &str = "https://graph.facebook.com/v23.0";

/// Settings an admin gives, then what the phone number's Graph call adds.
const KEYS: [&str; 8] = [
    "phone_number_id",
    "business_account_id",
    "access_token",
    "app_secret",
    "verify_token",
    "api_url",
    "display_phone_number",
    "verified_name",
];

#[derive(Debug, Clone)]
pub struct Settings {
    /// The business phone number messages are sent from (its Graph id, not the number).
    pub phone_number_id: String,
    /// The WhatsApp Business Account, where the message templates are listed.
    pub business_account_id: String,
    pub access_token: String,
    /// Signs every webhook POST (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// What Meta's verification request must carry (`hub.verify_token`).
    pub verify_token: String,
    /// Without a trailing slash: `https://graph.facebook.com/v23.0`.
    pub api_url: String,
}

fn text(settings: &Value, key: &str) -> String {
    settings.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_owned()
}

fn graph_id(settings: &Value, key: &str, what: &str) -> Result<String, String> {
    let id = text(settings, key);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("a WhatsApp channel needs {what} (settings.{key}, digits only)"));
    }
    Ok(id)
}

fn secret(settings: &Value, key: &str, what: &str) -> Result<String, String> {
    let s = text(settings, key);
    if s.is_empty() || s.contains(char::is_whitespace) {
        return Err(format!("a WhatsApp channel needs {what} (settings.{key})"));
    }
    Ok(s)
}

impl Settings {
    pub fn read(settings: &Value) -> Result<Settings, String> {
        let raw_url = settings.get("api_url").and_then(Value::as_str).filter(|s| !s.is_empty());
        let api_url = raw_url.unwrap_or(DEFAULT_API_URL);
        let parsed = url::Url::parse(api_url).map_err(|e| format!("api_url {api_url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() || parsed.query().is_some() {
            return Err("api_url must be an http:// or https:// address without a query".into());
        }
        Ok(Settings {
            phone_number_id: graph_id(settings, "phone_number_id", "the phone number's id from the WhatsApp Manager")?,
            business_account_id: graph_id(settings, "business_account_id", "the WhatsApp Business Account id")?,
            access_token: secret(settings, "access_token", "a (system user) access token")?,
            app_secret: secret(settings, "app_secret", "the Meta app's secret, which signs webhooks")?,
            verify_token: secret(settings, "verify_token", "a verify token of your choice for the webhook set-up")?,
            api_url: api_url.trim_end_matches('/').to_owned(),
        })
    }
}

/// Refuses unknown keys and fills the defaults; the caller adds what the phone
/// number's Graph call said.
pub fn complete(settings: Value) -> Result<(Settings, Map<String, Value>), String> {
    let mut map = match settings {
        Value::Object(m) => m,
        _ => return Err("settings must be an object".into()),
    };
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown WhatsApp setting {key:?}; known: {}", KEYS.join(", ")));
    }
    let parsed = Settings::read(&Value::Object(map.clone()))?;
    map.insert("api_url".into(), json!(parsed.api_url));
    for (key, value) in [
        ("phone_number_id", &parsed.phone_number_id),
        ("business_account_id", &parsed.business_account_id),
        ("access_token", &parsed.access_token),
        ("app_secret", &parsed.app_secret),
        ("verify_token", &parsed.verify_token),
    ] {
        map.insert(key.into(), json!(value));
    }
    Ok((parsed, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        json!({"phone_number_id": "1122334455667", "business_account_id": "998877", "access_token": "EAAGtok",
            "app_secret": "s3cret", "verify_token": "hello"})
    }

    #[test]
    fn defaults_and_refusals() {
        let (s, map) = complete(good()).unwrap();
        assert_eq!(s.api_url, DEFAULT_API_URL);
        assert_eq!(map["api_url"], DEFAULT_API_URL);
        let mut bad = good();
        bad["phone_number_id"] = json!("+1 555");
        assert!(complete(bad).unwrap_err().contains("phone_number_id"));
        let mut bad = good();
        bad["app_secret"] = json!("");
        assert!(complete(bad).unwrap_err().contains("app_secret"));
        let mut bad = good();
        bad["colour"] = json!("green");
        assert!(complete(bad).unwrap_err().contains("unknown"));
        let mut bad = good();
        bad["api_url"] = json!("ftp://x");
        assert!(complete(bad).is_err());
        let mut local = good();
        local["api_url"] = json!("http://127.0.0.1:9/v23.0/");
        assert_eq!(complete(local).unwrap().0.api_url, "http://127.0.0.1:9/v23.0");
    }
}
