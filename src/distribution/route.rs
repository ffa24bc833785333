//! The distributor's decisions besides the queue: a chat reopened by its contact, an
//! operator who went Offline, an assignee who did not answer in time.

use super::assign::{Assigned, assign, duration_words, operator_name};
use super::history::{self, Reason};
use super::policy;
use super::queue;
use super::settings::{OnOffline, Settings};
use crate::error::Result;
use crate::model::{ChatStatus, Handler, Status};
use crate::params;
use crate::store::{Db, Row, StoreError};

/// The chat with its conversation's channel, for the checks every decision makes.
const CHAT: &str = "SELECT c.id, c.status, c.handler, c.assignee_id, c.conversation_id, \
    COALESCE(dc.distribution, 1) AS distribution, o.status AS assignee_status FROM chats c \
    LEFT JOIN conversations v ON v.id = c.conversation_id \
    LEFT JOIN channels dc ON dc.id = COALESCE(v.channel_id, c.active_channel_id) \
    LEFT JOIN operators o ON o.id = c.assignee_id";

/// A row of [`CHAT`].
struct ChatCheck {
    status: ChatStatus,
    handler: Handler,
    assignee_id: Option<i64>,
    conversation_id: Option<i64>,
    /// The conversation's channel hands chats out automatically.
    distribution: bool,
    assignee_status: Option<Status>,
}

impl ChatCheck {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(ChatCheck {
            status: r.get("status")?,
            handler: r.get("handler")?,
            assignee_id: r.get("assignee_id")?,
            conversation_id: r.get("conversation_id")?,
            distribution: r.get("distribution")?,
            assignee_status: r.get("assignee_status")?,
        })
    }

    /// Open, answered by people, on a channel that distributes.
    fn distributable(&self) -> bool {
        self.status == ChatStatus::Open && self.handler == Handler::Human && self.distribution
    }
}

/// A chat its contact reopened goes back to its previous assignee if they are Online
/// (and have room); otherwise to whoever the policy picks, or to the queue. A chat with
/// no assignee is left to the queue, which keeps arrival order.
pub fn reopened(db: &mut Db, settings: &Settings, chat_id: i64, now: i64) -> Result<Option<Assigned>> {
    let Some(r) = db.query_opt(&format!("{CHAT} WHERE c.id = $1"), params![chat_id])? else { return Ok(None) };
    let chat = ChatCheck::from_row(&r)?;
    if !chat.distributable() {
        return Ok(None);
    }
    let (Some(previous), Some(conversation)) = (chat.assignee_id, chat.conversation_id) else { return Ok(None) };
    if history::routed(db, conversation)? {
        return Ok(None);
    }
    let candidates = policy::candidates(db)?;
    let back = chat.assignee_status == Some(Status::Online)
        && candidates.iter().any(|c| c.id == previous && policy::has_room(settings, c));
    if back {
        return assign(db, chat_id, Some(previous), Some(previous), Reason::Returned, None, now);
    }
    // Chats already waiting opened earlier: they go first.
    let to = if queue::head(db, 1)?.is_empty() { policy::choose(settings, &candidates, Some(previous)) } else { None };
    let reason = if to.is_some() { Reason::Policy } else { Reason::Reopened };
    assign(db, chat_id, Some(previous), to, reason, None, now)
}

/// With `on_offline = "requeue"`, the open chats an operator held when they went Offline
/// (at `at`) go back to the queue, each with a note.
pub fn went_offline(db: &mut Db, settings: &Settings, operator: i64, at: i64, now: i64) -> Result<Vec<Assigned>> {
    if settings.on_offline != OnOffline::Requeue {
        return Ok(Vec::new());
    }
    let still_offline =
        db.query_opt("SELECT 1 FROM operators WHERE id = $1 AND status = 'offline'", params![operator])?.is_some();
    if !still_offline {
        return Ok(Vec::new());
    }
    let rows = db.query(
        &format!(
            "{CHAT} WHERE c.assignee_id = $1 AND c.status = 'open' AND c.handler = 'human' \
             AND COALESCE(dc.distribution, 1) = 1 AND COALESCE(c.assigned_at, 0) <= $2 ORDER BY c.id"
        ),
        params![operator, at],
    )?;
    let note = format!("{} went Offline; the chat went back to the queue.", operator_name(db, operator)?);
    let mut out = Vec::new();
    for r in rows {
        out.extend(assign(db, r.i64(0), Some(operator), None, Reason::Offline, Some(&note), now)?);
    }
    Ok(out)
}

/// Whether a chat handed out automatically has waited the answer timeout (a read,
/// before taking a write).
pub fn any_unanswered(db: &mut Db, settings: &Settings, now: i64) -> Result<bool> {
    let timeout = settings.answer_timeout_seconds;
    Ok(timeout > 0
        && db
            .query_opt("SELECT 1 FROM awaiting_answer WHERE assigned_at <= $1 LIMIT 1", params![now - timeout * 1000])?
            .is_some())
}

/// Chats handed out automatically and not answered within the answer timeout go to the
/// next Online operator with room, with a note saying why. With nobody else to take it,
/// a chat stays and is looked at again on the next pass.
pub fn unanswered(db: &mut Db, settings: &Settings, now: i64) -> Result<Vec<Assigned>> {
    let timeout = settings.answer_timeout_seconds;
    if timeout <= 0 {
        return Ok(Vec::new());
    }
    let due = db.query(
        "SELECT w.chat_id, w.operator_id, w.after_message_id FROM awaiting_answer w \
         WHERE w.assigned_at <= $1 ORDER BY w.assigned_at, w.chat_id LIMIT 500",
        params![now - timeout * 1000],
    )?;
    let mut candidates = None;
    let mut out = Vec::new();
    for w in due {
        let (chat_id, operator, after) = (w.i64(0), w.i64(1), w.i64(2));
        let chat = db.query_opt(&format!("{CHAT} WHERE c.id = $1"), params![chat_id])?;
        let chat = chat.as_ref().map(ChatCheck::from_row).transpose()?;
        let current =
            chat.is_some_and(|c| c.status == ChatStatus::Open && c.assignee_id == Some(operator) && c.distribution);
        let answered = current
            && db
                .query_opt(
                    "SELECT 1 FROM messages WHERE chat_id = $1 AND id > $2 AND author_kind = 'operator' \
                     AND kind = 'message' LIMIT 1",
                    params![chat_id, after],
                )?
                .is_some();
        if !current || answered {
            db.exec("DELETE FROM awaiting_answer WHERE chat_id = $1", params![chat_id])?;
            continue;
        }
        let cands = match &mut candidates {
            Some(c) => c,
            None => candidates.insert(policy::candidates(db)?),
        };
        let Some(next) = policy::choose(settings, cands, Some(operator)) else { continue };
        let note = format!(
            "{} did not answer within {}; the chat went to {}.",
            operator_name(db, operator)?,
            duration_words(timeout),
            operator_name(db, next)?
        );
        if let Some(a) = assign(db, chat_id, Some(operator), Some(next), Reason::NoAnswer, Some(&note), now)? {
            policy::took(cands, next, a.record_id);
            out.push(a);
        }
    }
    Ok(out)
}
