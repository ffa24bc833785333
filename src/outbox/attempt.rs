//! One attempt at a claimed send, and what it came to. The connector's `SendError`
//! is turned into the outbox's decision here and nowhere else.

use std::time::Duration;

use parley_sdk::SendError;
use rand::Rng;

use super::claim::{LEASE_MS, Send, What};
use crate::app::App;
use crate::config::Outbox as Settings;

/// What came of one attempt.
#[derive(Debug)]
pub enum Outcome {
    Sent(Option<String>),
    /// Try again at `at`. `counts`: towards `max_attempts` (rate limits do not count).
    /// `pause_channel`: the platform told the whole channel to wait until `at`.
    /// `parts_sent`: what the platform has taken of the message so far.
    Retry {
        at: i64,
        counts: bool,
        pause_channel: bool,
        reason: String,
        parts_sent: u32,
    },
    /// The recipient cannot take it now (a widget visitor with no tab open): wait for them.
    Park,
    Failed {
        reason: String,
        unreachable: bool,
    },
    /// The platform refused the channel's credentials: the message fails and the
    /// channel is marked broken (shown in Settings) until its settings change.
    Broken {
        reason: String,
    },
}

pub async fn attempt(app: &App, send: &Send) -> Outcome {
    if let What::Message { unreachable: Some(reason), .. } = &send.what {
        return Outcome::Failed {
            reason: format!("contact unreachable on this channel: {reason}"),
            unreachable: false,
        };
    }
    let channel_id = send.channel_id;
    let stored = match app.channel_cache.get(&app.store, channel_id).await {
        Ok(c) => c,
        Err(e) => return Outcome::Failed { reason: format!("channel {channel_id}: {e}"), unreachable: false },
    };
    let channel = &stored.channel;
    let Some(connector) = app.connectors.get(&channel.kind) else {
        return Outcome::Failed {
            reason: format!("no connector for channel kind {}", channel.kind),
            unreachable: false,
        };
    };
    if let Some(reason) = outside_window(connector.reply_window(), send, app.now()) {
        return Outcome::Failed { reason, unreachable: false };
    }
    // Kept well inside the claim's lease, so that no other node takes a send still running.
    let timeout = Duration::from_millis(app.config.outbox.send_timeout_ms.clamp(1, LEASE_MS as u64 / 2));
    let result = tokio::time::timeout(timeout, connector.send(channel, &send.outbound))
        .await
        .unwrap_or_else(|_| Err(SendError::Transient("the platform did not answer in time".into())));
    decide(result, send, &app.config.outbox, app.now(), &mut rand::rng())
}

/// Why a message may not go now, for a platform that takes free-form messages only
/// within `window` of the contact's last message (WhatsApp's 24 hours): failed at once,
/// without calling the platform, so the operator learns it while the contact is still
/// there to be sent a template. Templates are what the window allows.
pub fn outside_window(window: Option<Duration>, send: &Send, now: i64) -> Option<String> {
    let window = window?;
    let What::Message { last_inbound_at, .. } = &send.what else { return None };
    if send.outbound.content.template().is_some() {
        return None;
    }
    let hours = window.as_secs() / 3600;
    let since = match last_inbound_at {
        Some(at) if now - at <= window.as_millis() as i64 => return None,
        Some(at) => format!("last wrote {} hours ago", (now - at) / 3_600_000),
        None => "has never written on this channel".into(),
    };
    Some(format!(
        "outside the {hours}-hour customer-service window: the contact {since}; \
         only an approved template can be sent until they write again"
    ))
}

/// The decision for a connector's answer; pure, so it is tested without a platform.
pub fn decide(
    result: Result<parley_sdk::Sent, SendError>,
    send: &Send,
    cfg: &Settings,
    now: i64,
    rng: &mut impl Rng,
) -> Outcome {
    let (parts_sent, result) = match result {
        Err(SendError::Partial { parts_sent, error }) => (parts_sent, Err(*error)),
        other => (send.outbound.parts_sent, other),
    };
    match result {
        Ok(sent) => Outcome::Sent(sent.platform_message_id),
        Err(SendError::RateLimited(after)) => {
            // Never earlier than the platform said; a little later, so that everything
            // that waited on the same channel does not come back in the same instant.
            let after = after.as_millis() as i64;
            let at = now + after + rng.random_range(0..=after / 10);
            Outcome::Retry { at, counts: false, pause_channel: true, reason: "rate limited".into(), parts_sent }
        }
        Err(SendError::Transient(reason)) => {
            let at = now + backoff(cfg, send.attempts, rng);
            Outcome::Retry { at, counts: true, pause_channel: false, reason, parts_sent }
        }
        Err(SendError::RecipientAway) => Outcome::Park,
        Err(SendError::Permanent { reason, unreachable }) => Outcome::Failed { reason, unreachable },
        Err(SendError::ChannelBroken(reason)) => Outcome::Broken { reason },
        Err(SendError::Partial { error, .. }) => {
            Outcome::Failed { reason: format!("a connector nested its partial failures: {error}"), unreachable: false }
        }
    }
}

/// Exponential backoff with "equal jitter": half the step is fixed, half random, so
/// sends that failed together (a platform outage) do not all retry together.
pub fn backoff(cfg: &Settings, attempts: i64, rng: &mut impl Rng) -> i64 {
    let step = cfg.backoff_base_ms.saturating_mul(1 << attempts.clamp(0, 20)).min(cfg.backoff_max_ms).max(2);
    step / 2 + rng.random_range(0..=step / 2)
}

#[cfg(test)]
mod tests {
    use parley_sdk::{Content, Outbound, Sent};
    use rand::SeedableRng;

    use super::*;
    use crate::outbox::queue::Lane;

    fn send(attempts: i64) -> Send {
        Send {
            id: 1,
            queue: "1/1".into(),
            lane: Lane::Live,
            channel_id: 1,
            attempts,
            what: What::Text { notification_id: None },
            outbound: Outbound {
                message_id: 0,
                chat_id: 0,
                external_id: "x".into(),
                content: Content::text("hi"),
                author_kind: "system".into(),
                author_name: None,
                created_at: String::new(),
                parts_sent: 0,
            },
        }
    }

    fn cfg() -> Settings {
        Settings { backoff_base_ms: 1_000, backoff_max_ms: 60_000, ..Settings::default() }
    }

    #[test]
    fn backoff_grows_with_jitter_within_bounds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempts in 0..10 {
            let step = (1_000i64 << attempts).min(60_000);
            let waits: Vec<i64> = (0..50).map(|_| backoff(&cfg(), attempts, &mut rng)).collect();
            assert!(waits.iter().all(|w| (step / 2..=step).contains(w)), "attempt {attempts}: {waits:?}");
            assert!(waits.iter().any(|w| *w != waits[0]), "attempt {attempts}: no jitter in {waits:?}");
        }
    }

    #[test]
    fn a_rate_limit_pauses_the_channel_never_earlier_than_asked() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let result = Err(SendError::RateLimited(std::time::Duration::from_secs(10)));
            match decide(result, &send(3), &cfg(), 1_000, &mut rng) {
                Outcome::Retry { at, counts, pause_channel, .. } => {
                    assert!((11_000..=12_000).contains(&at), "{at}");
                    assert!(!counts && pause_channel);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn outside_a_reply_window_only_templates_go() {
        const DAY: Duration = Duration::from_secs(24 * 3600);
        let hour = 3_600_000;
        let mut s = send(0);
        s.what =
            What::Message { message_id: 1, chat_id: 1, identity_id: 1, unreachable: None, last_inbound_at: Some(0) };
        assert_eq!(outside_window(None, &s, 100 * hour), None, "a platform without a window");
        assert_eq!(outside_window(Some(DAY), &s, 24 * hour), None, "24 hours to the millisecond is inside");
        let reason = outside_window(Some(DAY), &s, 30 * hour).expect("closed after 30 hours");
        assert!(reason.contains("24-hour") && reason.contains("30 hours ago"), "{reason}");
        let template = parley_sdk::Template { name: "t".into(), language: "en".into(), parameters: Vec::new() };
        s.outbound.content = Content { attachments: vec![template.to_attachment()], ..Content::default() };
        assert_eq!(outside_window(Some(DAY), &s, 30 * hour), None, "a template goes");
        s.outbound.content = Content::text("hi");
        s.what = What::Message { message_id: 1, chat_id: 1, identity_id: 1, unreachable: None, last_inbound_at: None };
        assert!(outside_window(Some(DAY), &s, 0).unwrap().contains("never written"));
        assert_eq!(
            outside_window(Some(DAY), &send(0), 30 * hour),
            None,
            "texts to linked operator chats are not replies"
        );
    }

    #[test]
    fn partial_failures_keep_what_was_taken() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let error = Box::new(SendError::Transient("reset".into()));
        match decide(Err(SendError::Partial { parts_sent: 2, error }), &send(0), &cfg(), 0, &mut rng) {
            Outcome::Retry { parts_sent: 2, counts: true, pause_channel: false, .. } => {}
            other => panic!("{other:?}"),
        }
        let ok = decide(Ok(Sent { platform_message_id: Some("9".into()) }), &send(0), &cfg(), 0, &mut rng);
        assert!(matches!(ok, Outcome::Sent(Some(id)) if id == "9"));
    }
}
