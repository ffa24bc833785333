//! Graph API errors → what the outbox should do about them. Meta answers an error
//! with an HTTP status and `{"error": {"code", "message", "error_data": {"details"}}}`;
//! the code decides, the status only when the code says nothing.

use std::time::Duration;

use parley_sdk::SendError;
use serde_json::Value;

/// Expired, revoked or wrong access token.
const INVALID_TOKEN: i64 = 190;
/// More than 24 hours since the contact wrote: only a template may go.
const REENGAGEMENT: i64 = 131047;
const UNDELIVERABLE: i64 = 131026;
/// The business number's throughput, the app's call rate (4, 80007), or too many
/// messages to one contact in a short time (131056, the "pair rate limit").
const THROUGHPUT: [i64; 3] = [130429, 4, 80007];
const PAIR_RATE: i64 = 131056;
/// "Something went wrong", "service unavailable": Meta's own trouble.
const META_TROUBLE: [i64; 4] = [1, 2, 131000, 133004];

/// When no `Retry-After` came with a throughput limit: Meta's limits are per second
/// and per hour, and a short pause lets the rest of the channel's queue drain slowly.
const DEFAULT_RETRY: Duration = Duration::from_secs(5);

pub fn code(body: &Value) -> Option<i64> {
    match &body["error"]["code"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `WhatsApp error 131047: Re-engagement message (details)`, as the operator reads it.
pub fn describe(status: u16, body: &Value) -> String {
    let e = &body["error"];
    let message = e["message"].as_str().unwrap_or("no description");
    let code = code(body).map_or_else(|| format!("HTTP {status}"), |c| c.to_string());
    match e["error_data"]["details"].as_str().filter(|d| *d != message) {
        Some(d) => format!("WhatsApp error {code}: {message} ({d})"),
        None => format!("WhatsApp error {code}: {message}"),
    }
}

pub fn classify(status: u16, body: &Value, retry_after: Option<Duration>) -> SendError {
    let reason = describe(status, body);
    match code(body) {
        Some(INVALID_TOKEN) => SendError::ChannelBroken(format!("{reason}; give the channel a new access token")),
        Some(REENGAGEMENT) => SendError::Permanent {
            reason: format!("{reason}: the 24-hour window is closed, send a template"),
            unreachable: false,
        },
        Some(UNDELIVERABLE) => SendError::Permanent { reason, unreachable: false },
        Some(c) if THROUGHPUT.contains(&c) => SendError::RateLimited(retry_after.unwrap_or(DEFAULT_RETRY)),
        // Only this contact's queue waits: the backoff of a transient error, not a pause of the channel.
        Some(PAIR_RATE) => SendError::Transient(reason),
        Some(c) if META_TROUBLE.contains(&c) => SendError::Transient(reason),
        _ if status == 429 => SendError::RateLimited(retry_after.unwrap_or(DEFAULT_RETRY)),
        _ if status >= 500 => SendError::Transient(reason),
        _ => SendError::Permanent { reason, unreachable: false },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(code: i64) -> Value {
        json!({"error": {"message": "m", "type": "OAuthException", "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": "d"}, "fbtrace_id": "x"}})
    }

    #[test]
    fn each_code_gets_its_decision() {
        assert!(matches!(classify(401, &error(190), None), SendError::ChannelBroken(r) if r.contains("190")));
        let closed = classify(400, &error(131047), None);
        assert!(
            matches!(closed, SendError::Permanent { ref reason, unreachable: false } if reason.contains("template"))
        );
        assert!(matches!(classify(400, &error(131026), None), SendError::Permanent { .. }));
        assert_eq!(classify(400, &error(130429), None), SendError::RateLimited(DEFAULT_RETRY));
        let later = Some(Duration::from_secs(30));
        assert_eq!(classify(429, &error(130429), later), SendError::RateLimited(Duration::from_secs(30)));
        assert!(matches!(classify(400, &error(131056), None), SendError::Transient(_)));
        assert!(matches!(classify(500, &error(131000), None), SendError::Transient(_)));
        assert!(matches!(classify(503, &json!("busy"), None), SendError::Transient(_)));
        assert!(matches!(classify(400, &error(100), None), SendError::Permanent { .. }));
        assert_eq!(describe(400, &error(100)), "WhatsApp error 100: m (d)");
    }
}
