//! Discord's answers → what the outbox should do about them.

use std::time::Duration;

use parley_sdk::SendError;
use serenity::Error;
use serenity::http::HttpError;

/// JSON error codes after which nobody should keep writing to this identity.
/// 50007 "Cannot send messages to this user" (DMs closed, bot blocked, no shared guild),
/// 10003 "Unknown Channel", 10013 "Unknown User", 50001 "Missing Access" (the bot lost
/// the guild channel).
const UNREACHABLE: [isize; 4] = [50007, 10003, 10013, 50001];

/// An error with its causes: serenity's own text ("Error while sending HTTP request")
/// hides the one that says what went wrong.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

pub fn classify(e: Error) -> SendError {
    match e {
        Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let reason = format!("Discord answered {status}: {} (code {})", r.error.message, r.error.code);
            if status == 429 {
                // At Discord's address serenity's limiter waited out the 429 already. Past
                // a proxy serenity keeps no `retry_after` in its error: wait a second, the
                // limit of most routes' buckets.
                SendError::RateLimited(Duration::from_secs(1))
            } else if UNREACHABLE.contains(&r.error.code) {
                SendError::Permanent { reason, unreachable: true }
            } else if status >= 500 {
                SendError::Transient(reason)
            } else {
                SendError::Permanent { reason, unreachable: false }
            }
        }
        Error::Http(HttpError::Request(e)) => SendError::Transient(format!("cannot reach Discord: {}", chain(&e))),
        Error::Http(other) => SendError::Permanent { reason: other.to_string(), unreachable: false },
        Error::Json(e) => SendError::Transient(format!("Discord answered something unreadable: {e}")),
        Error::Io(e) => SendError::Transient(format!("I/O error: {e}")),
        Error::Model(e) => SendError::Permanent { reason: format!("Discord would refuse it: {e}"), unreachable: false },
        other => SendError::Transient(other.to_string()),
    }
}
