//! Listing chats, and the operator's actions on one: close, reopen, read, transfer,
//! choose the channel replies go through.

use std::borrow::Cow;

use serde::Serialize;

use super::Viewer;
use super::assignments::{self, Reason};
use super::views::{self, CHAT_SELECT};
use crate::error::{Error, Result};
use crate::model::{Chat, ChatStatus};
use crate::params;
use crate::store::events::{self, Event, kinds};
use crate::store::{Db, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum View {
    All,
    Unread,
    Mine,
    Operator,
    /// Chats a bot flow is answering.
    Bot,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// `open` (default), `closed` or `all`.
    #[serde(default = "default_status")]
    pub status: String,
    #[serde(default = "default_view")]
    pub view: View,
    pub operator_id: Option<i64>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    /// Paging: `last_message_at` (RFC 3339) of the previous page's last chat.
    pub before: Option<String>,
}

fn default_status() -> String {
    "open".into()
}
fn default_view() -> View {
    View::All
}

/// A page of chats, the counts of the tabs, and where the event socket picks up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatList {
    pub chats: Vec<Chat>,
    pub counts: Counts,
    pub last_event_id: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub closed: i64,
    pub mine: i64,
    pub open: i64,
    pub unread: i64,
}

pub fn list(db: &mut Db, viewer: &Viewer, q: &ChatQuery) -> Result<ChatList> {
    let status = match ChatStatus::parse(&q.status) {
        Ok(s @ (ChatStatus::Open | ChatStatus::Closed)) => s,
        _ => return Err(Error::Invalid("status must be open or closed".into())),
    };
    // The console opens its event socket with `after` = this id, read before the list:
    // nothing between the list and the socket is missed, nothing older is replayed.
    let last_event_id = crate::store::events::last_id(db)?;
    let mut sql = format!("{CHAT_SELECT} WHERE c.status = $1");
    let mut args: Vec<Value> = vec![status.into()];
    let mut arg = |sql: &mut String, clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    match q.view {
        View::All => {}
        View::Unread => sql.push_str(" AND c.unread_count > 0"),
        View::Bot => sql.push_str(" AND c.handler = 'bot'"),
        View::Mine => arg(&mut sql, " AND c.assignee_id = ?", viewer.operator_id.into()),
        View::Operator => {
            let id = q.operator_id.ok_or_else(|| Error::Invalid("view=operator needs operator_id".into()))?;
            arg(&mut sql, " AND c.assignee_id = ?", id.into());
        }
    }
    if viewer.sees_own_only() {
        arg(&mut sql, " AND (c.assignee_id IS NULL OR c.assignee_id = ?)", viewer.operator_id.into());
    }
    if let Some(before) = &q.before {
        let ms = crate::clock::parse_time(before).ok_or_else(|| Error::Invalid("before must be a time".into()))?;
        arg(&mut sql, " AND c.last_message_at < ?", ms.into());
    }
    if let Some(term) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let term = term.to_lowercase();
        arg(
            &mut sql,
            " AND c.contact_id IN (SELECT contact_id FROM contact_terms WHERE term >= ?",
            term.clone().into(),
        );
        arg(&mut sql, " AND term < ?)", format!("{term}\u{10FFFF}").into());
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    arg(&mut sql, " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?", limit.into());
    let rows = db.query(&sql, &args)?;
    let chats = views::chats_from(db, &rows)?;
    Ok(ChatList { chats, counts: counts(db, viewer)?, last_event_id })
}

fn counts(db: &mut Db, viewer: &Viewer) -> Result<Counts> {
    let own = if viewer.sees_own_only() {
        " WHERE (assignee_id IS NULL OR assignee_id = $1)"
    } else {
        " WHERE CAST($1 AS BIGINT) IS NOT NULL"
    };
    let r = db.query_one(
        &format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT) AS open, \
             CAST(COALESCE(SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS closed, \
             CAST(COALESCE(SUM(CASE WHEN status = 'open' AND unread_count > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS unread, \
             CAST(COALESCE(SUM(CASE WHEN status = 'open' AND assignee_id = $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS mine \
             FROM chats{own}"
        ),
        params![viewer.operator_id],
    )?;
    Ok(Counts { open: r.get("open")?, closed: r.get("closed")?, unread: r.get("unread")?, mine: r.get("mine")? })
}

/// The chat as the viewer may see it.
pub use super::access::chat as get;

fn changed(db: &mut Db, chat_id: i64, now: i64) -> Result<Chat> {
    db.exec("UPDATE chats SET updated_at = $1 WHERE id = $2", params![now, chat_id])?;
    let chat = views::chat(db, chat_id)?;
    events::append(db, Some(chat_id), Event::chat_updated(&chat), now)?;
    Ok(chat)
}

/// Closes a resolved chat: nothing is deleted; it moves to Closed.
pub fn close(db: &mut Db, viewer: &Viewer, chat_id: i64, now: i64) -> Result<Chat> {
    get(db, viewer, chat_id)?;
    close_by(db, chat_id, Some(viewer.operator_id), now)
}

/// Closes the chat on behalf of `by` (None: Parley itself, e.g. a bot's `close` step).
pub fn close_by(db: &mut Db, chat_id: i64, by: Option<i64>, now: i64) -> Result<Chat> {
    let chat = views::chat(db, chat_id)?;
    if chat.status == ChatStatus::Closed {
        return Ok(chat);
    }
    db.exec(
        "UPDATE conversations SET closed_at = $1, closed_by = $2 WHERE id = (SELECT conversation_id FROM chats WHERE id = $3)",
        params![now, by, chat_id],
    )?;
    super::figures::record_closed(db, chat_id)?;
    db.exec(
        "UPDATE chats SET status = $1, conversation_id = NULL, unread_count = 0 WHERE id = $2",
        params![ChatStatus::Closed, chat_id],
    )?;
    changed(db, chat_id, now)
}

/// Reopens a closed chat by hand, starting a new conversation.
pub fn reopen(db: &mut Db, viewer: &Viewer, chat_id: i64, now: i64) -> Result<Chat> {
    let chat = get(db, viewer, chat_id)?;
    if chat.status == ChatStatus::Open {
        return Ok(chat);
    }
    let conversation_id: i64 = db
        .query_one(
            "INSERT INTO conversations (chat_id, channel_id, opened_at) \
             SELECT id, active_channel_id, $1 FROM chats WHERE id = $2 RETURNING id",
            params![now, chat_id],
        )?
        .get("id")?;
    db.exec(
        "UPDATE chats SET status = $1, conversation_id = $2 WHERE id = $3",
        params![ChatStatus::Open, conversation_id, chat_id],
    )?;
    changed(db, chat_id, now)
}

pub fn mark_read(db: &mut Db, viewer: &Viewer, chat_id: i64, now: i64) -> Result<Chat> {
    let chat = get(db, viewer, chat_id)?;
    if chat.unread_count == 0 {
        return Ok(chat);
    }
    db.exec("UPDATE chats SET unread_count = 0 WHERE id = $1", params![chat_id])?;
    changed(db, chat_id, now)
}

/// Hands the chat to another operator; the comment becomes a note only operators see.
pub fn transfer(db: &mut Db, viewer: &Viewer, chat_id: i64, to: i64, comment: &str, now: i64) -> Result<Chat> {
    let before = get(db, viewer, chat_id)?;
    db.query_opt("SELECT id FROM operators WHERE id = $1", params![to])?
        .ok_or_else(|| Error::Invalid(format!("operator {to} does not exist")))?;
    if before.assignee_id() == Some(to) {
        // Not a transfer: it would count as one in the reports and say "from 2 to 2".
        return Err(Error::Conflict(format!("the chat is already assigned to operator {to}")));
    }
    db.exec("UPDATE chats SET assignee_id = $1, assigned_at = $2 WHERE id = $3", params![to, now, chat_id])?;
    let (from, by, transfer) = (before.assignee_id(), Some(viewer.operator_id), Reason::Transfer);
    assignments::record(db, chat_id, Some(to), from, by, transfer, now)?;
    let comment = comment.trim();
    let note = if comment.is_empty() { None } else { Some(super::messages::note(db, viewer, chat_id, comment, now)?) };
    db.exec("UPDATE chats SET updated_at = $1 WHERE id = $2", params![now, chat_id])?;
    let chat = views::chat(db, chat_id)?;
    let event = Event::ChatTransferred(kinds::ChatTransferred {
        by_operator_id: viewer.operator_id,
        chat: Cow::Borrowed(&chat),
        comment: Cow::Borrowed(comment),
        from_operator_id: from,
        note: note.as_ref().map(Cow::Borrowed),
        to_operator_id: to,
    });
    events::append(db, Some(chat_id), event, now)?;
    Ok(chat)
}

/// Makes replies go through `channel_id`, one of the contact's channels.
pub fn set_channel(db: &mut Db, viewer: &Viewer, chat_id: i64, channel_id: i64, now: i64) -> Result<Chat> {
    let chat = get(db, viewer, chat_id)?;
    if !chat.reaches_through(channel_id) {
        return Err(Error::Invalid(format!("the contact has no identity on channel {channel_id}")));
    }
    db.exec("UPDATE chats SET active_channel_id = $1 WHERE id = $2", params![channel_id, chat_id])?;
    changed(db, chat_id, now)
}
