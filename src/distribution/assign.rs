//! One change of a chat's assignee on the distributor's behalf: the conditional update
//! that makes it happen at most once, its record, an optional system note, the event.

use std::borrow::Cow;

use serde::Serialize;

use crate::error::Result;
use crate::inbox::assignments::{self, Reason};
use crate::inbox::messages::{Author, announce, insert_note};
use crate::inbox::views;
use crate::model::{ChatStatus, Message};
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event, kinds};

/// One change the distributor made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assigned {
    pub chat_id: i64,
    /// The new assignee; None: the chat went back to the queue.
    pub operator_id: Option<i64>,
    pub from_operator_id: Option<i64>,
    pub reason: Reason,
    /// The assignment record's id.
    #[serde(skip)]
    pub record_id: i64,
}

/// Gives `chat_id` to `to` (None: the queue) if it is still open and still assigned to
/// `expected`; None when that no longer holds (another job or node got there first).
pub fn assign(
    db: &mut Db,
    chat_id: i64,
    expected: Option<i64>,
    to: Option<i64>,
    reason: Reason,
    note: Option<&str>,
    now: i64,
) -> Result<Option<Assigned>> {
    let changed = db.exec(
        "UPDATE chats SET assignee_id = $1, assigned_at = $2, updated_at = $2 \
         WHERE id = $3 AND status = $5 AND assignee_id IS NOT DISTINCT FROM $4",
        params![to, now, chat_id, expected, ChatStatus::Open],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    let record_id = assignments::record(db, chat_id, to, expected, None, reason, now)?;
    let note = note.map(|text| system_note(db, chat_id, text, now)).transpose()?;
    let chat = views::chat(db, chat_id)?;
    let event = Event::ChatAssigned(kinds::ChatAssigned {
        chat: Cow::Borrowed(&chat),
        from_operator_id: expected,
        note: note.as_ref().map(Cow::Borrowed),
        operator_id: to,
        reason,
    });
    events::append(db, Some(chat_id), event, now)?;
    Ok(Some(Assigned { chat_id, operator_id: to, from_operator_id: expected, reason, record_id }))
}

/// A note from Parley itself, seen only by operators.
fn system_note(db: &mut Db, chat_id: i64, text: &str, now: i64) -> Result<Message> {
    let id = insert_note(db, chat_id, Author::System, text, now)?;
    let message = views::message(db, id)?;
    let chat = views::chat(db, chat_id)?;
    announce(db, &message, &chat, now)?;
    Ok(message)
}

/// The operator's name for notes.
pub fn operator_name(db: &mut Db, id: i64) -> Result<String> {
    Ok(db
        .query_opt("SELECT name FROM operators WHERE id = $1", params![id])?
        .map_or_else(|| Ok(format!("#{id}")), |r| r.get("name"))?)
}

/// `300` → "5 min", `90` → "90 s".
pub fn duration_words(seconds: i64) -> String {
    if seconds >= 60 && seconds % 60 == 0 { format!("{} min", seconds / 60) } else { format!("{seconds} s") }
}
