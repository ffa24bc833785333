//! The widget channel's side in the hub: what a visitor may see of their own chat,
//! their pre-chat details, and read receipts. The WebSocket itself is in
//! `http/widget.rs`; the protocol and tokens are in the `parley-widget` crate.

pub mod access;
pub mod limits;

use parley_sdk::Profile;
use parley_widget::WidgetMessage;
use serde_json::{Value as Json, json};

use crate::error::Result;
use crate::model::{AuthorKind, Direction, MessageState};
use crate::params;
use crate::store::events::{self, Event};
use crate::store::{Db, Row, column};

/// Where a visitor stands: their identity and chat once they exist.
#[derive(Debug, Clone, Default)]
pub struct VisitorState {
    pub identity_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub chat_id: Option<i64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.direction, m.author_kind, o.name AS operator_name, m.text, m.attachments, \
    m.buttons, m.platform_message_id, m.created_at, m.state FROM messages m LEFT JOIN operators o ON o.id = m.operator_id";

fn message_from(r: &Row) -> Result<WidgetMessage> {
    let direction: Direction = r.get("direction")?;
    let client_id = r
        .get::<Option<String>>("platform_message_id")?
        .filter(|_| direction == Direction::In)
        .and_then(|p| p.strip_prefix("c:").map(str::to_owned));
    Ok(WidgetMessage {
        id: r.get("id")?,
        author_kind: r.get::<AuthorKind>("author_kind")?.as_str().to_owned(),
        author_name: r.get("operator_name")?,
        text: r.get("text")?,
        attachments: r.get_json::<Option<Json>>("attachments")?.unwrap_or(json!([])),
        buttons: r.get_json::<Option<Vec<parley_sdk::Button>>>("buttons")?.unwrap_or_default(),
        client_id,
        created_at: crate::clock::rfc3339(r.get("created_at")?),
        read: r.get::<Option<MessageState>>("state")? == Some(MessageState::Read),
        direction: direction.as_str().to_owned(),
    })
}

pub fn state(db: &mut Db, channel_id: i64, visitor: &str) -> Result<VisitorState> {
    let Some(r) = db.query_opt(
        "SELECT i.id AS identity_id, ct.id AS contact_id, c.id AS chat_id, ct.first_name, ct.last_name, ct.email, ct.phone FROM identities i \
         JOIN contacts ct ON ct.id = i.contact_id LEFT JOIN chats c ON c.contact_id = ct.id \
         WHERE i.channel_id = $1 AND i.external_id = $2",
        params![channel_id, visitor],
    )?
    else {
        return Ok(VisitorState::default());
    };
    // Either name may be unknown (NULL); the visitor has a name only if one of them is set.
    let names: [Option<String>; 2] = [r.get("first_name")?, r.get("last_name")?];
    let name = names.into_iter().flatten().collect::<Vec<_>>().join(" ");
    Ok(VisitorState {
        identity_id: Some(r.get("identity_id")?),
        contact_id: Some(r.get("contact_id")?),
        // LEFT JOIN: a visitor who has not written yet has no chat.
        chat_id: r.get("chat_id")?,
        name: (!name.is_empty()).then_some(name),
        email: r.get("email")?,
        phone: r.get("phone")?,
    })
}

/// The visitor's messages on this widget channel after `after` (notes never), oldest
/// first; at most the newest 500.
pub fn history(db: &mut Db, chat_id: i64, channel_id: i64, after: i64) -> Result<Vec<WidgetMessage>> {
    let rows = db.query(
        &format!(
            "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.channel_id = $2 AND m.kind = 'message' AND m.id > $3 \
             ORDER BY m.id DESC LIMIT 500"
        ),
        params![chat_id, channel_id, after],
    )?;
    rows.iter().rev().map(message_from).collect()
}

pub fn message(db: &mut Db, id: i64) -> Result<WidgetMessage> {
    let r = db.query_one(&format!("{MESSAGE_SELECT} WHERE m.id = $1"), params![id])?;
    message_from(&r)
}

/// Pre-chat details: creates the visitor's contact if needed, so an email or phone
/// that matches another contact shows up among its duplicates at once.
pub fn prechat(db: &mut Db, channel_id: i64, visitor: &str, profile: &Profile, now: i64) -> Result<VisitorState> {
    let (_, contact_id) = crate::inbox::ingest::identity_for(db, channel_id, visitor, profile, None, now)?;
    let contact = crate::inbox::views::contact(db, contact_id)?;
    events::append(db, contact.chat_id, Event::contact_updated(&contact), now)?;
    state(db, channel_id, visitor)
}

/// The visitor has seen operator messages up to `up_to`: they become `read`.
pub fn mark_read(db: &mut Db, chat_id: i64, channel_id: i64, up_to: i64, now: i64) -> Result<usize> {
    let ids: Vec<i64> = column(
        &db.query(
            "SELECT id FROM messages WHERE chat_id = $1 AND channel_id = $2 AND direction = 'out' AND kind = 'message' \
             AND id <= $3 AND state IN ('sent', 'delivered')",
            params![chat_id, channel_id, up_to],
        )?,
        "id",
    )?;
    for id in &ids {
        db.exec("UPDATE messages SET state = $1 WHERE id = $2", params![MessageState::Read, *id])?;
        let message = crate::inbox::views::message(db, *id)?;
        events::append(db, Some(chat_id), Event::message_updated(&message), now)?;
    }
    Ok(ids.len())
}

/// The widget identities of a chat's contact: (channel id, visitor id).
pub fn visitors_of_chat(db: &mut Db, chat_id: i64) -> Result<Vec<(i64, String)>> {
    db.query(
        "SELECT i.channel_id, i.external_id FROM chats c JOIN identities i ON i.contact_id = c.contact_id \
         JOIN channels ch ON ch.id = i.channel_id WHERE c.id = $1 AND ch.kind = 'widget'",
        params![chat_id],
    )?
    .iter()
    .map(|r| Ok((r.get("channel_id")?, r.get("external_id")?)))
    .collect()
}

pub fn anyone_online(db: &mut Db) -> Result<bool> {
    Ok(db.query_opt("SELECT 1 FROM operators WHERE status = 'online' LIMIT 1", &[])?.is_some())
}
