//! Chats, messages and contacts read from the database as [`crate::model`] values, in
//! as few queries as possible: one per page of chats, plus one for their last messages
//! and one for their channels. The JSON shapes (docs/API.md) are their serialization.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::error::Result;
use crate::model::{Assignee, AuthorRef, ChannelRef, Chat, ChatContact, Contact, Identity, Message, Time};
use crate::store::{Db, Row, StoreError, Value};

pub const MESSAGE_SELECT: &str = "SELECT m.id, m.chat_id, m.conversation_id, m.kind, m.direction, \
    m.author_kind, m.operator_id, o.name AS operator_name, m.channel_id, ch.kind AS channel_kind, \
    ch.name AS channel_name, m.text, m.attachments, m.buttons, m.state, m.failure_reason, m.edited_at, \
    m.created_at, m.entities, m.reactions, m.deleted_at \
    FROM messages m LEFT JOIN operators o ON o.id = m.operator_id \
    LEFT JOIN channels ch ON ch.id = m.channel_id";

pub const CHAT_SELECT: &str = "SELECT c.id, c.status, c.handler, c.unread_count, c.last_message_at, \
    c.created_at, c.updated_at, ct.id AS contact_id, ct.first_name, ct.last_name, ct.username, ct.phone, \
    ct.email, o.id AS assignee_id, o.name AS assignee_name, o.status AS assignee_status, \
    ch.id AS channel_id, ch.kind AS channel_kind, ch.name AS channel_name, c.last_message_id \
    FROM chats c JOIN contacts ct ON ct.id = c.contact_id \
    LEFT JOIN operators o ON o.id = c.assignee_id \
    LEFT JOIN channels ch ON ch.id = c.active_channel_id";

/// First and last name, else username, phone or email, else "Visitor #id".
pub fn display_name(
    id: i64,
    first: Option<&str>,
    last: Option<&str>,
    username: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
) -> String {
    let full = [first, last].into_iter().flatten().filter(|s| !s.trim().is_empty()).collect::<Vec<_>>().join(" ");
    if !full.is_empty() {
        return full;
    }
    username
        .map(|u| format!("@{u}"))
        .or(phone.map(str::to_owned))
        .or(email.map(str::to_owned))
        .unwrap_or_else(|| format!("Visitor #{id}"))
}

/// A contact's name fields, read by their column names.
pub struct NameFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl NameFields {
    pub fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(NameFields {
            first_name: r.get("first_name")?,
            last_name: r.get("last_name")?,
            username: r.get("username")?,
            phone: r.get("phone")?,
            email: r.get("email")?,
        })
    }

    /// See [`display_name`].
    pub fn display(&self, id: i64) -> String {
        display_name(
            id,
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.username.as_deref(),
            self.phone.as_deref(),
            self.email.as_deref(),
        )
    }
}

/// A stored JSON list; an empty list when the column is NULL.
fn json_list(r: &Row, column: &str) -> Result<Vec<Json>, StoreError> {
    Ok(r.get_json::<Option<Vec<Json>>>(column)?.unwrap_or_default())
}

/// A message from a row of [`MESSAGE_SELECT`].
pub fn message_from(r: &Row) -> Result<Message, StoreError> {
    let id = r.get("id")?;
    let author = match (r.get::<Option<i64>>("operator_id")?, r.get::<Option<String>>("operator_name")?) {
        (None, _) => None,
        (Some(id), Some(name)) => Some(AuthorRef { id, name }),
        (Some(op), None) => return Err(StoreError::Decode(format!("message {id}: operator {op} has no name"))),
    };
    Ok(Message {
        id,
        chat_id: r.get("chat_id")?,
        conversation_id: r.get("conversation_id")?,
        kind: r.get("kind")?,
        direction: r.get("direction")?,
        author_kind: r.get("author_kind")?,
        author,
        channel: ChannelRef::joined(r.get("channel_id")?, r.get("channel_kind")?, r.get("channel_name")?)?,
        text: r.get("text")?,
        attachments: json_list(r, "attachments")?,
        buttons: json_list(r, "buttons")?,
        state: r.get("state")?,
        failure_reason: r.get("failure_reason")?,
        edited_at: r.get("edited_at")?,
        created_at: r.get("created_at")?,
        deleted_at: r.get("deleted_at")?,
        entities: json_list(r, "entities")?,
        reactions: json_list(r, "reactions")?,
    })
}

pub fn message(db: &mut Db, id: i64) -> Result<Message> {
    let row = db.query_one(&format!("{MESSAGE_SELECT} WHERE m.id = $1"), &[id.into()])?;
    Ok(message_from(&row)?)
}

/// `$start, $start+1, ...` for an `IN (...)` list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A row of [`CHAT_SELECT`], before its last message and channels are known.
struct ChatRow {
    chat: Chat,
    last_message_id: Option<i64>,
}

fn chat_from(r: &Row) -> Result<ChatRow, StoreError> {
    let id = r.get("id")?;
    let (status, handler, unread_count) = (r.get("status")?, r.get("handler")?, r.get("unread_count")?);
    let (last_message_at, created_at, updated_at) =
        (r.get("last_message_at")?, r.get("created_at")?, r.get("updated_at")?);
    let contact_id = r.get("contact_id")?;
    let names = NameFields::from_row(r)?;
    let name = names.display(contact_id);
    let assignee = match (r.get::<Option<i64>>("assignee_id")?, r.get("assignee_name")?, r.get("assignee_status")?) {
        (None, _, _) => None,
        (Some(id), Some(name), Some(status)) => Some(Assignee { id, name, status }),
        (Some(op), _, _) => return Err(StoreError::Decode(format!("chat {id}: operator {op} has no name or status"))),
    };
    let active_channel = ChannelRef::joined(r.get("channel_id")?, r.get("channel_kind")?, r.get("channel_name")?)?;
    Ok(ChatRow {
        chat: Chat {
            id,
            status,
            handler,
            unread_count,
            last_message_at,
            created_at,
            updated_at,
            contact: ChatContact {
                id: contact_id,
                name,
                username: names.username,
                phone: names.phone,
                email: names.email,
            },
            assignee,
            active_channel,
            channels: Vec::new(),
            last_message: None,
        },
        last_message_id: r.get("last_message_id")?,
    })
}

/// Chats in the order of `rows` (rows from [`CHAT_SELECT`]).
pub fn chats_from(db: &mut Db, rows: &[Row]) -> Result<Vec<Chat>> {
    chats_knowing(db, rows, None)
}

/// Like [`chats_from`], given a message the caller already has (ingest has just built
/// the chat's last message): it is not read again.
fn chats_knowing(db: &mut Db, rows: &[Row], known: Option<Message>) -> Result<Vec<Chat>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let chats = rows.iter().map(chat_from).collect::<Result<Vec<_>, _>>()?;
    let mut last: HashMap<i64, Message> = HashMap::new();
    if let Some(m) = known {
        last.insert(m.id, m);
    }
    let last_ids: Vec<Value> =
        chats.iter().filter_map(|c| c.last_message_id).filter(|id| !last.contains_key(id)).map(Value::Int).collect();
    if !last_ids.is_empty() {
        let sql = format!("{MESSAGE_SELECT} WHERE m.id IN ({})", placeholders(1, last_ids.len()));
        for r in db.query(&sql, &last_ids)? {
            let m = message_from(&r)?;
            last.insert(m.id, m);
        }
    }
    let mut channels = channels_of(db, chats.iter().map(|c| Value::Int(c.chat.contact.id)).collect())?;
    Ok(chats
        .into_iter()
        .map(|ChatRow { mut chat, last_message_id }| {
            chat.last_message = last_message_id.and_then(|id| last.remove(&id));
            chat.channels = channels.get_mut(&chat.contact.id).map(std::mem::take).unwrap_or_default();
            chat
        })
        .collect())
}

/// The channels each contact can be reached on, in channel order, each once (two
/// identities on one channel are possible after a merge). Deduplicated here rather than
/// with DISTINCT/ORDER BY, which cost SQLite two temporary b-trees on every ingest.
fn channels_of(db: &mut Db, contact_ids: Vec<Value>) -> Result<HashMap<i64, Vec<ChannelRef>>> {
    let sql = format!(
        "SELECT i.contact_id, ch.id, ch.kind, ch.name FROM identities i \
         JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id IN ({})",
        placeholders(1, contact_ids.len())
    );
    let mut found = Vec::new();
    for r in db.query(&sql, &contact_ids)? {
        found.push((
            r.get::<i64>("contact_id")?,
            ChannelRef { id: r.get("id")?, kind: r.get("kind")?, name: r.get("name")? },
        ));
    }
    found.sort_by_key(|(contact, c)| (*contact, c.id));
    found.dedup_by_key(|(contact, c)| (*contact, c.id));
    let mut channels: HashMap<i64, Vec<ChannelRef>> = HashMap::new();
    for (contact, c) in found {
        channels.entry(contact).or_default().push(c);
    }
    Ok(channels)
}

pub fn chat(db: &mut Db, id: i64) -> Result<Chat> {
    chat_knowing(db, id, None)
}

/// The chat, given its last message already built by the caller; the message is then
/// found as the chat's `last_message`.
pub fn chat_knowing(db: &mut Db, id: i64, last_message: Option<Message>) -> Result<Chat> {
    let row = db
        .query_opt(&format!("{CHAT_SELECT} WHERE c.id = $1"), &[id.into()])?
        .ok_or_else(|| crate::error::not_found("chat", id))?;
    Ok(chats_knowing(db, &[row], last_message)?.remove(0))
}

pub const CONTACT_SELECT: &str = "SELECT ct.id, ct.first_name, ct.last_name, ct.username, ct.phone, \
    ct.email, ct.tags, ct.attributes, ct.start_payload, ct.unsubscribed_at, ct.created_at, c.id AS chat_id \
    FROM contacts ct LEFT JOIN chats c ON c.contact_id = ct.id";

pub fn contacts_from(db: &mut Db, rows: &[Row]) -> Result<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = rows.iter().map(|r| r.get("id").map(Value::Int)).collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "SELECT i.contact_id, i.id, i.external_id, i.username, i.unreachable_reason, ch.id AS channel_id, \
         ch.kind AS channel_kind, ch.name AS channel_name \
         FROM identities i JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id IN ({}) ORDER BY i.id",
        placeholders(1, ids.len())
    );
    let mut identities: HashMap<i64, Vec<Identity>> = HashMap::new();
    for r in db.query(&sql, &ids)? {
        identities.entry(r.get("contact_id")?).or_default().push(Identity {
            id: r.get("id")?,
            external_id: r.get("external_id")?,
            username: r.get("username")?,
            unreachable_reason: r.get("unreachable_reason")?,
            channel: ChannelRef {
                id: r.get("channel_id")?,
                kind: r.get("channel_kind")?,
                name: r.get("channel_name")?,
            },
        });
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r.get("id")?;
        let names = NameFields::from_row(r)?;
        let name = names.display(id);
        let NameFields { first_name, last_name, username, phone, email } = names;
        out.push(Contact {
            id,
            name,
            first_name,
            last_name,
            username,
            phone,
            email,
            tags: r.get_json("tags")?,
            attributes: r.get_json("attributes")?,
            start_payload: r.get("start_payload")?,
            unsubscribed: r.get::<Option<i64>>("unsubscribed_at")?.is_some(),
            created_at: r.get::<Time>("created_at")?,
            chat_id: r.get("chat_id")?,
            identities: identities.remove(&id).unwrap_or_default(),
        });
    }
    Ok(out)
}

pub fn contact(db: &mut Db, id: i64) -> Result<Contact> {
    let row = db
        .query_opt(&format!("{CONTACT_SELECT} WHERE ct.id = $1 AND ct.merged_into IS NULL"), &[id.into()])?
        .ok_or_else(|| crate::error::not_found("contact", id))?;
    Ok(contacts_from(db, &[row])?.remove(0))
}
