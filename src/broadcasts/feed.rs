//! The sender's pass: recipients of broadcasts that are sending go into the outbox's
//! broadcast lane, at most `depth` of each broadcast at a time, so the outbox (and the
//! memory of whoever reads it) stays small whatever the audience, and a pause has
//! little to withdraw. Operators' replies keep their priority in the outbox itself.
//!
//! A recipient's message is written to the contact's chat when it is queued, author
//! `broadcast`: a closed chat stays closed (no conversation is opened, the unread count
//! is not touched) and gets no event; an open chat's consoles see the message as any
//! other.

use parley_sdk::Button;
use serde_json::json;

use crate::error::Result;
use crate::inbox::{messages, views};
use crate::model::{
    AuthorKind, BroadcastButton, BroadcastContent, BroadcastState, ChatStatus, Direction, MessageKind, MessageState,
};
use crate::outbox::{Lane, queue};
use crate::params;
use crate::store::{Db, Row};

/// What a button press carries back for an unsubscribe button.
pub const UNSUBSCRIBE_DATA: &str = "unsubscribe";
/// The prefix of a button press that starts a bot flow: `flow:<flow id>` (the flows'
/// ingest hook starts it for the contact who presses it).
pub const FLOW_PREFIX: &str = crate::flows::hook::START_PRESS;

/// The platform button for a broadcast's button.
pub fn button(b: &BroadcastButton) -> Button {
    let data = match (&b.flow, b.unsubscribe, &b.data) {
        (Some(flow), _, _) => format!("{FLOW_PREFIX}{flow}"),
        (None, true, _) => UNSUBSCRIBE_DATA.to_owned(),
        (None, false, Some(data)) => data.clone(),
        (None, false, None) => b.label.clone(),
    };
    Button { label: b.label.clone(), data }
}

/// Recipients queued per broadcast in one pass (one write transaction): the writer is
/// shared with every send's record and every reply, so it is held briefly and often.
pub const BATCH: usize = 200;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Messages put into the outbox.
    pub queued: usize,
    /// Broadcasts still sending after the pass.
    pub sending: usize,
    /// Whether a broadcast had more room than one batch: the next pass should follow at once.
    pub more: bool,
}

/// The feeders' turn (`Db::take_turn`): "BCST". Nodes write side by side on PostgreSQL,
/// so two feeders could read the same recipients as still to queue and both queue them;
/// the turn makes one pass read what the previous one wrote.
pub(super) const TURN: i32 = 0x4243_5354;

/// Feeds every broadcast that is sending; finishes those with nobody left to send to.
pub fn pass(db: &mut Db, depth: usize, now: i64) -> Result<Pass> {
    db.take_turn(TURN)?;
    let rows = db.query(
        "SELECT id, content, rate_per_second, fed_at FROM broadcasts WHERE state = $1 ORDER BY id",
        params![BroadcastState::Sending],
    )?;
    let mut pass = Pass::default();
    for r in rows {
        let id: i64 = r.get("id")?;
        let n = feed(db, &r, depth, now)?;
        pass.queued += n;
        pass.more |= n == BATCH;
        if finish_if_done(db, id, now)? {
            continue;
        }
        pass.sending += 1;
    }
    Ok(pass)
}

/// Recipients of this broadcast in the outbox now and able to go (a widget visitor's
/// parked message waits for them without holding up the rest).
fn in_outbox(db: &mut Db, id: i64) -> Result<usize> {
    let n: i64 = db
        .query_one(
            "SELECT COUNT(*) AS n FROM broadcast_recipients r JOIN outbox o ON o.message_id = r.message_id \
             WHERE r.broadcast_id = $1 AND r.state = 'queued' AND o.parked = 0",
            params![id],
        )?
        .get("n")?;
    Ok(n as usize)
}

fn feed(db: &mut Db, b: &Row, depth: usize, now: i64) -> Result<usize> {
    let id: i64 = b.get("id")?;
    let mut room = depth.saturating_sub(in_outbox(db, id)?);
    if let Some(rate) = b.get::<Option<i64>>("rate_per_second")?.filter(|r| *r > 0) {
        // At most a second's worth at once, however long the sender was away.
        let elapsed = (now - b.get::<i64>("fed_at")?).clamp(0, 1_000);
        room = room.min((elapsed * rate / 1_000) as usize);
    }
    let room = room.min(BATCH);
    if room == 0 {
        return Ok(0);
    }
    // Recipients without a message yet, and those a pause took out of the outbox.
    let due = db.query(
        "SELECT r.id, r.contact_id, r.identity_id, r.channel_id, r.message_id FROM broadcast_recipients r \
         WHERE r.broadcast_id = $1 AND r.state = 'queued' AND (r.message_id IS NULL OR NOT EXISTS \
         (SELECT 1 FROM outbox o WHERE o.message_id = r.message_id)) ORDER BY r.id LIMIT $2",
        params![id, room as i64],
    )?;
    if due.is_empty() {
        return Ok(0);
    }
    let content: BroadcastContent = b.get_json("content")?;
    let columns = Columns::of(&content);
    for r in &due {
        queue_one(db, r, &columns, now)?;
    }
    db.exec("UPDATE broadcasts SET fed_at = $1 WHERE id = $2", params![now, id])?;
    Ok(due.len())
}

/// A broadcast's content as the `messages` columns hold it.
struct Columns {
    text: Option<String>,
    attachments: Option<String>,
    buttons: Option<String>,
}

impl Columns {
    fn of(c: &BroadcastContent) -> Columns {
        let buttons: Vec<Button> = c.buttons.iter().map(button).collect();
        Columns {
            text: c.text.clone(),
            attachments: (!c.attachments.is_empty()).then(|| json!(c.attachments).to_string()),
            buttons: (!buttons.is_empty()).then(|| json!(buttons).to_string()),
        }
    }
}

fn queue_one(db: &mut Db, r: &Row, content: &Columns, now: i64) -> Result<()> {
    let (contact_id, channel_id): (i64, i64) = (r.get("contact_id")?, r.get("channel_id")?);
    let chat = match db
        .query_opt("SELECT id, status, conversation_id FROM chats WHERE contact_id = $1", params![contact_id])?
    {
        Some(c) => c,
        // A contact with no chat yet (one added by an integration) gets a closed one.
        None => db.query_one(
            "INSERT INTO chats (contact_id, status, active_channel_id, last_message_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4, $4) RETURNING id, status, conversation_id",
            params![contact_id, ChatStatus::Closed, channel_id, now],
        )?,
    };
    let chat_id: i64 = chat.get("id")?;
    let message_id = match r.get::<Option<i64>>("message_id")? {
        Some(id) => id,
        None => {
            let open = chat.get::<ChatStatus>("status")? == ChatStatus::Open;
            let id = write_message(db, r, chat_id, chat.get("conversation_id")?, content, now)?;
            db.exec(
                "UPDATE chats SET last_message_id = $1, last_message_at = $2, updated_at = $2 WHERE id = $3",
                params![id, now, chat_id],
            )?;
            if open {
                let message = views::message(db, id)?;
                let chat = views::chat_knowing(db, chat_id, Some(message))?;
                messages::announce_last(db, chat, now)?;
            }
            id
        }
    };
    queue::message(db, message_id, chat_id, channel_id, Lane::Broadcast, now)?;
    Ok(())
}

fn write_message(
    db: &mut Db,
    r: &Row,
    chat_id: i64,
    conversation_id: Option<i64>,
    content: &Columns,
    now: i64,
) -> Result<i64> {
    let id: i64 = db
        .query_one(
            "INSERT INTO messages (chat_id, conversation_id, kind, direction, author_kind, channel_id, identity_id, \
             text, attachments, buttons, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            params![
                chat_id,
                conversation_id,
                MessageKind::Message,
                Direction::Out,
                AuthorKind::Broadcast,
                r.get::<i64>("channel_id")?,
                r.get::<i64>("identity_id")?,
                content.text.as_deref(),
                content.attachments.as_deref(),
                content.buttons.as_deref(),
                MessageState::Queued,
                now
            ],
        )?
        .get("id")?;
    db.exec("UPDATE broadcast_recipients SET message_id = $1 WHERE id = $2", params![id, r.get::<i64>("id")?])?;
    Ok(id)
}

/// Done when no recipient is left queued.
fn finish_if_done(db: &mut Db, id: i64, now: i64) -> Result<bool> {
    let left = db.query_opt(
        "SELECT 1 FROM broadcast_recipients WHERE broadcast_id = $1 AND state = 'queued' LIMIT 1",
        params![id],
    )?;
    if left.is_some() {
        return Ok(false);
    }
    db.exec(
        "UPDATE broadcasts SET state = $1, finished_at = $2, updated_at = $2 WHERE id = $3 AND state = $4",
        params![BroadcastState::Done, now, id, BroadcastState::Sending],
    )?;
    super::announce(db, id, now)?;
    Ok(true)
}
