//! What an author does with a broadcast: create it, start it (now or at `send_at`),
//! pause, resume, cancel, and resend to the recipients whose send is unknown. Each is one
//! transaction with its `broadcast.updated` event.

use serde::Deserialize;
use serde_json::json;

use super::{audience, feed};
use crate::error::{Error, Result};
use crate::model::{Audience, Broadcast, BroadcastContent, BroadcastState, MessageState, RecipientState};
use crate::outbox::queue;
use crate::params;
use crate::store::{Db, Value, Wake};

/// What `POST /api/v1/broadcasts` takes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBroadcast {
    pub name: String,
    pub content: BroadcastContent,
    /// `{}` (or left out): every contact.
    #[serde(default)]
    pub audience: Audience,
    /// When it starts by itself: RFC 3339 with an offset, or a local time with `time_zone`.
    pub send_at: Option<String>,
    /// An IANA zone (`Europe/Berlin`) that `send_at` is written in.
    pub time_zone: Option<String>,
    /// At most this many messages a second (besides the channels' own limits).
    pub rate_per_second: Option<i64>,
}

/// Longest text of a broadcast (Telegram's limit for one message).
const MAX_TEXT: usize = 4_096;
/// Telegram's limit for a button's data.
const MAX_BUTTON_DATA: usize = 64;

fn check_content(c: &BroadcastContent) -> Result<()> {
    let text = c.text.as_deref().map(str::trim).unwrap_or_default();
    if text.is_empty() && c.attachments.is_empty() {
        return Err(Error::Invalid("a broadcast needs a text or an attachment".into()));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(Error::Invalid(format!("the text is longer than {MAX_TEXT} characters")));
    }
    if c.attachments.len() > 1 || c.attachments.iter().any(|a| a.url.as_deref().is_none_or(str::is_empty)) {
        return Err(Error::Invalid("a broadcast takes one attachment, given by its url".into()));
    }
    if c.buttons.len() > 10 {
        return Err(Error::Invalid("a broadcast has at most 10 buttons".into()));
    }
    for b in &c.buttons {
        if b.label.trim().is_empty() || b.label.chars().count() > 64 {
            return Err(Error::Invalid("a button needs a label of 1 to 64 characters".into()));
        }
        if [b.flow.is_some(), b.unsubscribe, b.data.is_some()].iter().filter(|x| **x).count() > 1 {
            return Err(Error::Invalid(format!("button {:?}: give one of flow, unsubscribe or data", b.label)));
        }
        if b.flow
            .as_deref()
            .is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
        {
            return Err(Error::Invalid(format!("button {:?}: a flow id is letters, digits, _ - .", b.label)));
        }
        if feed::button(b).data.len() > MAX_BUTTON_DATA {
            return Err(Error::Invalid(format!(
                "button {:?}: its data is longer than {MAX_BUTTON_DATA} bytes",
                b.label
            )));
        }
    }
    Ok(())
}

/// Stores a broadcast: a draft, or scheduled when it has `send_at`.
pub fn create(db: &mut Db, new: NewBroadcast, operator_id: Option<i64>, now: i64) -> Result<Broadcast> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::Invalid("a broadcast needs a name of 1 to 200 characters".into()));
    }
    check_content(&new.content)?;
    audience::check(db, &new.audience)?;
    if new.rate_per_second.is_some_and(|r| r < 1) {
        return Err(Error::Invalid("rate_per_second is at least 1 (leave it out for no limit of its own)".into()));
    }
    let send_at = match new.send_at.as_deref() {
        Some(s) => Some(super::schedule::resolve(s, new.time_zone.as_deref())?),
        None if new.time_zone.is_some() => return Err(Error::Invalid("time_zone needs send_at".into())),
        None => None,
    };
    let state = if send_at.is_some() { BroadcastState::Scheduled } else { BroadcastState::Draft };
    let id: i64 = db
        .query_one(
            "INSERT INTO broadcasts (name, content, audience, state, send_at, time_zone, rate_per_second, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            params![
                name,
                json!(new.content).to_string(),
                json!(new.audience).to_string(),
                state,
                send_at,
                new.time_zone.as_deref().map(str::trim),
                new.rate_per_second,
                operator_id,
                now
            ],
        )?
        .get("id")?;
    if send_at.is_some() {
        db.wake(Wake::Broadcasts);
    }
    super::announce(db, id, now)
}

fn refuse(id: i64, state: BroadcastState, what: &str) -> Error {
    Error::Conflict(format!("broadcast {id} is {state}: it cannot be {what}"))
}

/// Writes every recipient row (one per contact of the audience), then lets it send.
pub fn start(db: &mut Db, id: i64, now: i64) -> Result<Broadcast> {
    let state = super::state(db, id)?;
    if !matches!(state, BroadcastState::Draft | BroadcastState::Scheduled) {
        return Err(refuse(id, state, "started"));
    }
    let audience: Audience =
        db.query_one("SELECT audience FROM broadcasts WHERE id = $1", params![id])?.get_json("audience")?;
    write_recipients(db, id, &audience, now)?;
    set_state(db, id, BroadcastState::Sending, now)?;
    db.exec("UPDATE broadcasts SET started_at = $1 WHERE id = $2", params![now, id])?;
    db.wake(Wake::Broadcasts);
    super::announce(db, id, now)
}

/// Rows per INSERT: few statements for 100,000 recipients, well under both databases'
/// limits on parameters.
const ROWS_PER_INSERT: usize = 500;

fn write_recipients(db: &mut Db, id: i64, a: &Audience, now: i64) -> Result<()> {
    audience::walk(db, a, |db, picks| {
        for chunk in picks.chunks(ROWS_PER_INSERT) {
            let mut values = Vec::with_capacity(chunk.len());
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 6 + 2);
            args.push(id.into());
            args.push(now.into());
            for p in chunk {
                let n = args.len();
                values.push(format!("($1, ${}, ${}, ${}, ${}, ${}, $2)", n + 1, n + 2, n + 3, n + 4, n + 5));
                let state = if p.skipped.is_some() { RecipientState::Skipped } else { RecipientState::Queued };
                args.push(p.contact_id.into());
                args.push(p.identity.map(|i| i.0).into());
                args.push(p.identity.map(|i| i.1).into());
                args.push(state.into());
                args.push(p.skipped.into());
            }
            db.exec(
                &format!(
                    "INSERT INTO broadcast_recipients (broadcast_id, contact_id, identity_id, channel_id, state, reason, \
                     updated_at) VALUES {} ON CONFLICT (broadcast_id, contact_id) DO NOTHING",
                    values.join(", ")
                ),
                &args,
            )?;
        }
        Ok(())
    })
}

fn set_state(db: &mut Db, id: i64, state: BroadcastState, now: i64) -> Result<()> {
    let finished = state.is_over().then_some(now);
    db.exec(
        "UPDATE broadcasts SET state = $1, updated_at = $2, finished_at = COALESCE($3, finished_at) WHERE id = $4",
        params![state, now, finished, id],
    )?;
    Ok(())
}

/// Nothing more goes out: what waits in the outbox is taken back out (sends already in
/// flight end as they will). Its messages stay queued in their chats until resumed.
pub fn pause(db: &mut Db, id: i64, now: i64) -> Result<Broadcast> {
    // After any feeding pass of another node, so none queues again what this takes back.
    db.take_turn(super::feed::TURN)?;
    let state = super::state(db, id)?;
    if state != BroadcastState::Sending {
        return Err(refuse(id, state, "paused"));
    }
    withdraw(db, id)?;
    set_state(db, id, BroadcastState::Paused, now)?;
    super::announce(db, id, now)
}

pub fn resume(db: &mut Db, id: i64, now: i64) -> Result<Broadcast> {
    let state = super::state(db, id)?;
    if state != BroadcastState::Paused {
        return Err(refuse(id, state, "resumed"));
    }
    set_state(db, id, BroadcastState::Sending, now)?;
    db.wake(Wake::Broadcasts);
    super::announce(db, id, now)
}

/// Stops for good: recipients not sent yet are `cancelled`, their waiting messages fail
/// with the reason (so a chat shows what was never sent).
pub fn cancel(db: &mut Db, id: i64, now: i64) -> Result<Broadcast> {
    // After any feeding pass of another node, so none queues again what this takes back.
    db.take_turn(super::feed::TURN)?;
    let state = super::state(db, id)?;
    if state.is_over() {
        return Err(refuse(id, state, "cancelled"));
    }
    let withdrawn = withdraw(db, id)?;
    const REASON: &str = "the broadcast was cancelled before this was sent";
    for message_id in withdrawn {
        db.exec(
            "UPDATE messages SET state = $1, failure_reason = $2 WHERE id = $3 AND state = $4",
            params![MessageState::Failed, REASON, message_id, MessageState::Queued],
        )?;
        announce_message(db, message_id, now)?;
    }
    // Those in flight are left to their send; the rest never go.
    db.exec(
        "UPDATE broadcast_recipients SET state = $1, updated_at = $2 WHERE broadcast_id = $3 \
         AND state = $4 AND (message_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = \
         broadcast_recipients.message_id))",
        params![RecipientState::Cancelled, now, id, RecipientState::Queued],
    )?;
    set_state(db, id, BroadcastState::Cancelled, now)?;
    super::announce(db, id, now)
}

/// Sends again to the recipients whose send was in flight when Parley stopped: each gets
/// a new message (the first one stays in the chat, failed, saying why).
pub fn resend_unknown(db: &mut Db, id: i64, now: i64) -> Result<Broadcast> {
    let state = super::state(db, id)?;
    if state == BroadcastState::Cancelled {
        return Err(refuse(id, state, "resent"));
    }
    db.exec(
        "UPDATE broadcast_recipients SET state = $1, reason = NULL, message_id = NULL, updated_at = $2 \
         WHERE broadcast_id = $3 AND state = $4",
        params![RecipientState::Queued, now, id, RecipientState::Unknown],
    )?;
    if state == BroadcastState::Done {
        db.exec(
            "UPDATE broadcasts SET state = $1, finished_at = NULL WHERE id = $2",
            params![BroadcastState::Sending, id],
        )?;
        db.wake(Wake::Broadcasts);
    }
    super::announce(db, id, now)
}

/// Takes the broadcast's messages that wait in the outbox (not being sent) back out;
/// returns their ids.
fn withdraw(db: &mut Db, id: i64) -> Result<Vec<i64>> {
    let rows = db.query(
        "SELECT o.id, o.queue, o.message_id FROM broadcast_recipients r JOIN outbox o ON o.message_id = r.message_id \
         WHERE r.broadcast_id = $1 AND r.state = 'queued' AND o.lease_until = 0",
        params![id],
    )?;
    let mut ids = Vec::with_capacity(rows.len());
    for r in rows {
        queue::finish(db, r.get("id")?, &r.get::<String>("queue")?)?;
        ids.push(r.get("message_id")?);
    }
    Ok(ids)
}

/// `message.updated` for a broadcast's message, only where a console looks: open chats.
pub fn announce_message(db: &mut Db, message_id: i64, now: i64) -> Result<()> {
    let open = db
        .query_opt(
            "SELECT 1 FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.id = $1 AND c.status = 'open'",
            params![message_id],
        )?
        .is_some();
    if open {
        let message = crate::inbox::views::message(db, message_id)?;
        crate::store::events::append(db, Some(message.chat_id), crate::model::Event::message_updated(&message), now)?;
    }
    Ok(())
}

/// Scheduled broadcasts whose time has come start.
pub fn start_due(db: &mut Db, now: i64) -> Result<usize> {
    let due: Vec<i64> = crate::store::column(
        &db.query(
            "SELECT id FROM broadcasts WHERE state = $1 AND send_at <= $2 ORDER BY send_at, id",
            params![BroadcastState::Scheduled, now],
        )?,
        "id",
    )?;
    for id in &due {
        start(db, *id, now)?;
    }
    Ok(due.len())
}
