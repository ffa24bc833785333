//! The errors that cross the line between a connector and the hub.

use std::time::Duration;

/// Why an outbound message was not delivered.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SendError {
    /// The platform asked us to slow down; retry after the given time.
    #[error("rate limited, retry after {0:?}")]
    RateLimited(Duration),
    /// Network trouble or a 5xx: retry with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The recipient is not reachable right now (e.g. a widget visitor who is offline):
    /// keep the message queued until the connector reports them back.
    #[error("recipient offline")]
    RecipientAway,
    /// The platform refused for good. `unreachable` marks the identity so no one
    /// keeps writing to a contact who blocked the bot.
    #[error("{reason}")]
    Permanent { reason: String, unreachable: bool },
    /// The platform took the first `parts_sent` parts of the message (pieces of a long
    /// text, files) before `error`. The next attempt gets them in
    /// [`crate::Outbound::parts_sent`] and skips them, so the contact never sees one twice.
    #[error("{error} (after {parts_sent} parts were delivered)")]
    Partial { parts_sent: u32, error: Box<SendError> },
    /// The platform refused the channel's own credentials (an expired or revoked token):
    /// the message fails and the channel is marked broken until its settings change.
    #[error("the channel's credentials were refused: {0}")]
    ChannelBroken(String),
}

/// Why the hub could not take an inbound event.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HubError {
    /// The event itself is unusable (unknown channel, empty content): do not retry.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The hub could not store it now: the platform should deliver it again.
    #[error("unavailable: {0}")]
    Unavailable(String),
}
