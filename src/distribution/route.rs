//! The distributor's decisions besides the queue: a chat reopened by its contact, an
//! operator who went Offline. (An assignee who did not answer in time: `timeout`.)

use super::assign::{Assigned, assign, operator_name};
use super::policy;
use super::queue;
use super::settings::{OnOffline, Settings};
use crate::error::Result;
use crate::inbox::assignments::{self, Reason};
use crate::model::{ChatStatus, Handler, Status};
use crate::params;
use crate::store::{Db, Row, StoreError};

/// The chat with its conversation's channel, for the checks every decision makes.
pub(super) const CHAT: &str = "SELECT c.id, c.status, c.handler, c.assignee_id, c.conversation_id, \
    COALESCE(dc.distribution, 1) AS distribution, o.status AS assignee_status FROM chats c \
    LEFT JOIN conversations v ON v.id = c.conversation_id \
    LEFT JOIN channels dc ON dc.id = COALESCE(v.channel_id, c.active_channel_id) \
    LEFT JOIN operators o ON o.id = c.assignee_id";

/// A row of [`CHAT`].
pub(super) struct ChatCheck {
    pub status: ChatStatus,
    pub handler: Handler,
    pub assignee_id: Option<i64>,
    pub conversation_id: Option<i64>,
    /// The conversation's channel hands chats out automatically.
    pub distribution: bool,
    pub assignee_status: Option<Status>,
}

impl ChatCheck {
    pub fn from_row(r: &Row) -> Result<Self, StoreError> {
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
    if assignments::routed(db, conversation)? {
        return Ok(None);
    }
    policy::take_turn(db)?;
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
        out.extend(assign(db, r.get("id")?, Some(operator), None, Reason::Offline, Some(&note), now)?);
    }
    Ok(out)
}
