//! The outbox worker: claims queued outbound messages, hands each to its channel's
//! connector, and records `sent` or `failed` (with the reason) — or tries again
//! later, with exponential backoff or after the platform's retry-after.

use std::collections::HashMap;
use std::time::Duration;

use crate::app::App;
use crate::error::Result;
use crate::model::{AuthorKind, MessageState};
use crate::params;
use crate::store::events::{self, Event};
use crate::store::{Backend, Db, Value};
use futures_util::StreamExt;
use parley_sdk::{Content, Outbound, SendError};

/// How long a claimed message is reserved for the node that claimed it. A node that
/// dies mid-send leaves it to be claimed again after this.
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 256;
/// The longest a connector may take to send one message.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

struct Job {
    message_id: i64,
    chat_id: i64,
    channel_id: i64,
    identity_id: i64,
    attempts: i64,
    unreachable: Option<String>,
    outbound: Outbound,
}

/// What came of one attempt.
enum Outcome {
    Sent(Option<String>),
    /// `parts_sent`: what the platform has taken of the message so far.
    Retry {
        at: i64,
        counts: bool,
        reason: String,
        parts_sent: u32,
    },
    Park,
    Failed {
        reason: String,
        unreachable: bool,
    },
}

/// Runs until shutdown; wakes when a message is queued or the next retry is due.
pub async fn run(app: App) {
    if app.store.backend() == Backend::Sqlite {
        // One node only: whatever was claimed before a crash can go now.
        let now = app.clock.now_ms();
        let _ = app
            .store
            .write(move |db| {
                db.exec(
                    "UPDATE messages SET next_attempt_at = $1 WHERE state = 'queued' AND next_attempt_at > $1",
                    params![now],
                )
            })
            .await;
    }
    loop {
        let sent = match run_once(&app).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "outbox pass failed");
                0
            }
        };
        if sent > 0 {
            continue;
        }
        let now = app.clock.now_ms();
        let next = app
            .store
            .read(|db| -> Result<Option<i64>> {
                Ok(db.query_one("SELECT MIN(next_attempt_at) FROM messages WHERE state = 'queued'", &[])?.opt_i64(0))
            })
            .await
            .ok()
            .flatten();
        let wait = next.map_or(Duration::from_secs(5), |t| Duration::from_millis((t - now).clamp(5, 5_000) as u64));
        tokio::select! {
            _ = app.outbox_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = app.shutdown.cancelled() => return,
        }
    }
}

/// Claims and sends every message due now; returns how many were attempted.
pub async fn run_once(app: &App) -> Result<usize> {
    let now = app.clock.now_ms();
    let jobs = app.store.write(move |db| claim(db, now)).await?;
    let n = jobs.len();
    if n == 0 {
        return Ok(0);
    }
    // Messages of one chat go in order; different chats go at once.
    let mut by_chat: HashMap<i64, Vec<Job>> = HashMap::new();
    for job in jobs {
        by_chat.entry(job.chat_id).or_default().push(job);
    }
    futures_util::stream::iter(by_chat.into_values())
        .for_each_concurrent(app.config.outbox.concurrency.max(1), |jobs| async move {
            for job in jobs {
                let outcome = attempt(app, &job).await;
                if let Err(e) = record(app, job, outcome).await {
                    tracing::error!(error = %e, "cannot record a delivery result");
                }
            }
        })
        .await;
    Ok(n)
}

fn claim(db: &mut Db, now: i64) -> Result<Vec<Job>> {
    let lock = if db.backend() == Backend::Postgres { " FOR UPDATE OF m SKIP LOCKED" } else { "" };
    let rows = db.query(
        &format!(
            "SELECT m.id, m.chat_id, m.channel_id, m.identity_id, m.attempts, i.external_id, i.unreachable_reason, \
             m.text, m.attachments, m.buttons, m.author_kind, o.name, m.created_at, m.parts_sent \
             FROM messages m JOIN identities i ON i.id = m.identity_id LEFT JOIN operators o ON o.id = m.operator_id \
             WHERE m.state = 'queued' AND m.next_attempt_at <= $1 ORDER BY m.next_attempt_at, m.id LIMIT $2{lock}"
        ),
        params![now, BATCH],
    )?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in rows {
        db.exec("UPDATE messages SET next_attempt_at = $1 WHERE id = $2", params![now + LEASE_MS, r.i64(0)])?;
        let content = Content {
            text: r.opt_str(7),
            attachments: r.json::<Option<_>>(8)?.unwrap_or_default(),
            buttons: r.json::<Option<_>>(9)?.unwrap_or_default(),
            ..Content::default()
        };
        jobs.push(Job {
            message_id: r.i64(0),
            chat_id: r.i64(1),
            channel_id: r.i64(2),
            identity_id: r.i64(3),
            attempts: r.i64(4),
            unreachable: r.opt_str(6),
            outbound: Outbound {
                message_id: r.i64(0),
                chat_id: r.i64(1),
                external_id: r.str(5),
                content,
                author_kind: r.get::<AuthorKind>("author_kind")?.as_str().to_owned(),
                author_name: r.opt_str(11),
                created_at: crate::clock::rfc3339(r.i64(12)),
                parts_sent: u32::try_from(r.i64(13)).unwrap_or(0),
            },
        });
    }
    Ok(jobs)
}

async fn attempt(app: &App, job: &Job) -> Outcome {
    if let Some(reason) = &job.unreachable {
        return Outcome::Failed {
            reason: format!("contact unreachable on this channel: {reason}"),
            unreachable: false,
        };
    }
    let channel_id = job.channel_id;
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
    let result = tokio::time::timeout(SEND_TIMEOUT, connector.send(channel, &job.outbound))
        .await
        .unwrap_or_else(|_| Err(SendError::Transient("the platform did not answer in time".into())));
    let now = app.clock.now_ms();
    let cfg = &app.config.outbox;
    let (parts_sent, result) = match result {
        Err(SendError::Partial { parts_sent, error }) => (parts_sent, Err(*error)),
        other => (job.outbound.parts_sent, other),
    };
    match result {
        Ok(sent) => Outcome::Sent(sent.platform_message_id),
        Err(SendError::RateLimited(after)) => Outcome::Retry {
            at: now + after.as_millis() as i64,
            counts: false,
            reason: "rate limited".into(),
            parts_sent,
        },
        Err(SendError::Transient(reason)) => {
            let exp = cfg.backoff_base_ms.saturating_mul(1 << job.attempts.clamp(0, 20));
            Outcome::Retry { at: now + exp.min(cfg.backoff_max_ms), counts: true, reason, parts_sent }
        }
        Err(SendError::RecipientAway) => Outcome::Park,
        Err(SendError::Permanent { reason, unreachable }) => Outcome::Failed { reason, unreachable },
        Err(SendError::Partial { error, .. }) => {
            Outcome::Failed { reason: format!("a connector nested its partial failures: {error}"), unreachable: false }
        }
    }
}

async fn record(app: &App, job: Job, outcome: Outcome) -> Result<()> {
    let result = match &outcome {
        Outcome::Sent(_) => "sent",
        Outcome::Retry { .. } => "retry",
        Outcome::Park => "parked",
        Outcome::Failed { .. } => "failed",
    };
    metrics::counter!("parley_outbox_attempts_total", "result" => result).increment(1);
    let now = app.clock.now_ms();
    let max_attempts = app.config.outbox.max_attempts;
    app.store
        .write(move |db| {
            let id = job.message_id;
            match outcome {
                Outcome::Sent(platform_id) => {
                    db.exec(
                        "UPDATE messages SET state = $3, platform_message_id = $1, next_attempt_at = NULL, \
                         attempts = attempts + 1 WHERE id = $2 AND state = 'queued'",
                        params![platform_id, id, MessageState::Sent],
                    )?;
                }
                Outcome::Retry { at, counts, reason, parts_sent } if !counts || job.attempts + 1 < max_attempts => {
                    tracing::info!(message.id = id, retry_in_ms = at - now, %reason, "delivery will be retried");
                    let inc = i64::from(counts);
                    db.exec(
                        "UPDATE messages SET next_attempt_at = $1, attempts = attempts + $2, parts_sent = $3 WHERE id = $4",
                        params![at, inc, i64::from(parts_sent), id],
                    )?;
                    return Ok(());
                }
                Outcome::Retry { reason, .. } => {
                    fail(db, id, &format!("gave up after {max_attempts} attempts: {reason}"))?;
                }
                Outcome::Park => {
                    db.exec("UPDATE messages SET next_attempt_at = NULL WHERE id = $1", params![id])?;
                    return Ok(());
                }
                Outcome::Failed { reason, unreachable } => {
                    fail(db, id, &reason)?;
                    if unreachable {
                        db.exec(
                            "UPDATE identities SET unreachable_reason = $1 WHERE id = $2",
                            params![reason, job.identity_id],
                        )?;
                    }
                }
            }
            let message = crate::inbox::views::message(db, id)?;
            events::append(db, Some(job.chat_id), Event::message_updated(&message), now)?;
            Ok(())
        })
        .await
}

fn fail(db: &mut Db, id: i64, reason: &str) -> Result<()> {
    db.exec(
        "UPDATE messages SET state = $3, failure_reason = $1, next_attempt_at = NULL, attempts = attempts + 1 WHERE id = $2",
        params![reason, id, MessageState::Failed],
    )?;
    Ok(())
}

/// The recipient behind `identity_id` is back: their parked messages can go now.
pub fn wake_identity(db: &mut Db, identity_id: i64, now: i64) -> Result<u64> {
    Ok(db.exec(
        "UPDATE messages SET next_attempt_at = $1 WHERE identity_id = $2 AND state = 'queued' AND next_attempt_at IS NULL",
        &[Value::Int(now), Value::Int(identity_id)],
    )?)
}
