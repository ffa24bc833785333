//! Bot API errors → what the outbox should do about them.

use std::time::Duration;

use parley_sdk::SendError;
use teloxide::{ApiError, RequestError};

/// Telegram's description for an API error (`Forbidden: bot was blocked by the user`).
pub fn describe(e: &ApiError) -> String {
    match e {
        ApiError::Unknown(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The recipient is gone for good: the identity is marked unreachable.
fn unreachable(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::ChatNotFound
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::CantTalkWithBots
    )
}

/// Telegram answers 4xx with a description naming the class ("Bad Request: ...");
/// anything else it says (Internal Server Error, Bad Gateway) is worth retrying.
fn refused(description: &str) -> bool {
    ["Bad Request", "Forbidden", "Unauthorized", "Not Found", "Conflict", "Request Entity Too Large"]
        .iter()
        .any(|p| description.starts_with(p))
}

pub fn classify(e: RequestError) -> SendError {
    match e {
        RequestError::RetryAfter(s) => SendError::RateLimited(s.duration().max(Duration::from_secs(1))),
        RequestError::Api(api) => {
            let reason = describe(&api);
            if unreachable(&api) {
                SendError::Permanent { reason, unreachable: true }
            } else if matches!(api, ApiError::Unknown(_)) && !refused(&reason) {
                SendError::Transient(format!("Telegram answered: {reason}"))
            } else {
                SendError::Permanent { reason, unreachable: false }
            }
        }
        RequestError::MigrateToChatId(id) => {
            SendError::Permanent { reason: format!("the group moved to chat {id}"), unreachable: true }
        }
        RequestError::Network(e) => SendError::Transient(format!("cannot reach Telegram: {e}")),
        RequestError::InvalidJson { .. } => SendError::Transient("Telegram answered something that is not JSON".into()),
        RequestError::Io(e) => SendError::Transient(format!("I/O error: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_users_are_unreachable_and_server_errors_retry() {
        let blocked = classify(RequestError::Api(ApiError::BotBlocked));
        assert!(
            matches!(blocked, SendError::Permanent { unreachable: true, ref reason } if reason.contains("blocked"))
        );
        let server = classify(RequestError::Api(ApiError::Unknown("Internal Server Error".into())));
        assert!(matches!(server, SendError::Transient(_)));
        let bad = classify(RequestError::Api(ApiError::Unknown("Bad Request: something odd".into())));
        assert!(matches!(bad, SendError::Permanent { unreachable: false, .. }));
    }
}
