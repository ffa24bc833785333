//! The JSON shapes of chats, messages and contacts (docs/API.md), read in as few
//! queries as possible: one per page of chats, plus one for their last messages
//! and one for their channels.

use std::collections::HashMap;

use serde_json::{Value as Json, json};

use crate::clock::rfc3339;
use crate::error::Result;
use crate::store::{Db, Row, Value};

pub const MESSAGE_SELECT: &str = "SELECT m.id, m.chat_id, m.conversation_id, m.kind, m.direction, \
    m.author_kind, m.operator_id, o.name, m.channel_id, ch.kind, ch.name, m.text, m.attachments, \
    m.buttons, m.state, m.failure_reason, m.edited_at, m.created_at, m.entities \
    FROM messages m LEFT JOIN operators o ON o.id = m.operator_id \
    LEFT JOIN channels ch ON ch.id = m.channel_id";

pub const CHAT_SELECT: &str = "SELECT c.id, c.status, c.handler, c.unread_count, c.last_message_at, \
    c.created_at, c.updated_at, ct.id, ct.first_name, ct.last_name, ct.username, ct.phone, ct.email, \
    o.id, o.name, o.status, ch.id, ch.kind, ch.name, c.last_message_id, c.contact_id \
    FROM chats c JOIN contacts ct ON ct.id = c.contact_id \
    LEFT JOIN operators o ON o.id = c.assignee_id \
    LEFT JOIN channels ch ON ch.id = c.active_channel_id";

/// First and last name, else username, phone or email, else "Visitor #id".
pub fn display_name(
    id: i64,
    first: Option<String>,
    last: Option<String>,
    username: Option<String>,
    phone: Option<String>,
    email: Option<String>,
) -> String {
    let full = [first, last].into_iter().flatten().filter(|s| !s.trim().is_empty()).collect::<Vec<_>>().join(" ");
    if !full.is_empty() {
        return full;
    }
    username.map(|u| format!("@{u}")).or(phone).or(email).unwrap_or_else(|| format!("Visitor #{id}"))
}

pub fn channel_ref(id: Option<i64>, kind: Option<String>, name: Option<String>) -> Json {
    match id {
        Some(id) => json!({"id": id, "kind": kind, "name": name}),
        None => Json::Null,
    }
}

fn opt_time(ms: Option<i64>) -> Json {
    ms.map_or(Json::Null, |ms| Json::String(rfc3339(ms)))
}

/// The data of `message.created`, serialized straight from the two values (`json!`
/// would first copy both by serializing them into a new tree).
#[derive(serde::Serialize)]
pub struct MessageAndChat<'a> {
    pub message: &'a Json,
    pub chat: &'a Json,
}

impl<'a> MessageAndChat<'a> {
    /// A chat built by [`chat_knowing`] and its new last message.
    pub fn last_of(chat: &'a Json) -> Self {
        Self { message: &chat["last_message"], chat }
    }
}

/// A stored JSON list; an empty list when the column is NULL.
fn json_list(r: &Row, i: usize) -> Json {
    match r.json(i) {
        Ok(Json::Null) | Err(_) => Json::Array(Vec::new()),
        Ok(list) => list,
    }
}

pub fn message_json(r: &Row) -> Json {
    let author = r.opt_i64(6).map_or(Json::Null, |id| json!({"id": id, "name": r.str(7)}));
    let mut m = json!({
        "id": r.i64(0),
        "chat_id": r.i64(1),
        "conversation_id": r.opt_i64(2),
        "kind": r.str(3),
        "direction": r.str(4),
        "author_kind": r.str(5),
    });
    // Values already built are moved in: `json!` would copy them by serializing again.
    m["author"] = author;
    m["channel"] = channel_ref(r.opt_i64(8), r.opt_str(9), r.opt_str(10));
    m["text"] = r.opt_str(11).into();
    m["attachments"] = json_list(r, 12);
    m["buttons"] = json_list(r, 13);
    m["entities"] = json_list(r, 18);
    m["state"] = r.opt_str(14).into();
    m["failure_reason"] = r.opt_str(15).into();
    m["edited_at"] = opt_time(r.opt_i64(16));
    m["created_at"] = rfc3339(r.i64(17)).into();
    m
}

pub fn message(db: &mut Db, id: i64) -> Result<Json> {
    let row = db.query_one(&format!("{MESSAGE_SELECT} WHERE m.id = $1"), &[id.into()])?;
    Ok(message_json(&row))
}

/// `$start, $start+1, ...` for an `IN (...)` list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Chats as JSON, in the order of `rows` (rows from [`CHAT_SELECT`]).
pub fn chats_json(db: &mut Db, rows: &[Row]) -> Result<Vec<Json>> {
    chats_json_knowing(db, rows, None)
}

/// Like [`chats_json`], given a message the caller already has as JSON (ingest has just
/// built the chat's last message): it is not read again.
fn chats_json_knowing(db: &mut Db, rows: &[Row], known: Option<Json>) -> Result<Vec<Json>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut last: HashMap<i64, Json> = HashMap::new();
    if let Some(m) = known
        && let Some(id) = m["id"].as_i64()
    {
        last.insert(id, m);
    }
    let last_ids: Vec<Value> =
        rows.iter().filter_map(|r| r.opt_i64(19)).filter(|id| !last.contains_key(id)).map(Value::Int).collect();
    if !last_ids.is_empty() {
        let sql = format!("{MESSAGE_SELECT} WHERE m.id IN ({})", placeholders(1, last_ids.len()));
        for r in db.query(&sql, &last_ids)? {
            last.insert(r.i64(0), message_json(&r));
        }
    }
    let mut channels = channels_of(db, rows.iter().map(|r| Value::Int(r.i64(20))).collect())?;
    Ok(rows
        .iter()
        .map(|r| {
            let last_message = r.opt_i64(19).and_then(|id| last.remove(&id)).unwrap_or(Json::Null);
            let chans = channels.get_mut(&r.i64(20)).map(std::mem::take).unwrap_or_default();
            chat_json(r, last_message, chans)
        })
        .collect())
}

/// The channels each contact can be reached on, in channel order, each once (two
/// identities on one channel are possible after a merge). Deduplicated here rather than
/// with DISTINCT/ORDER BY, which cost SQLite two temporary b-trees on every ingest.
fn channels_of(db: &mut Db, contact_ids: Vec<Value>) -> Result<HashMap<i64, Vec<Json>>> {
    let sql = format!(
        "SELECT i.contact_id, ch.id, ch.kind, ch.name FROM identities i \
         JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id IN ({})",
        placeholders(1, contact_ids.len())
    );
    let mut rows = db.query(&sql, &contact_ids)?;
    rows.sort_by_key(|r| (r.i64(0), r.i64(1)));
    rows.dedup_by_key(|r| (r.i64(0), r.i64(1)));
    let mut channels: HashMap<i64, Vec<Json>> = HashMap::new();
    for r in rows {
        channels.entry(r.i64(0)).or_default().push(channel_ref(r.opt_i64(1), r.opt_str(2), r.opt_str(3)));
    }
    Ok(channels)
}

fn chat_json(r: &Row, last_message: Json, channels: Vec<Json>) -> Json {
    let contact_id = r.i64(7);
    let assignee = r.opt_i64(13).map_or(Json::Null, |id| json!({"id": id, "name": r.str(14), "status": r.str(15)}));
    let mut chat = json!({
        "id": r.i64(0),
        "status": r.str(1),
        "handler": r.str(2),
        "unread_count": r.i64(3),
        "last_message_at": rfc3339(r.i64(4)),
        "created_at": rfc3339(r.i64(5)),
        "updated_at": rfc3339(r.i64(6)),
        "contact": {
            "id": contact_id,
            "name": display_name(contact_id, r.opt_str(8), r.opt_str(9), r.opt_str(10), r.opt_str(11), r.opt_str(12)),
            "username": r.opt_str(10),
            "phone": r.opt_str(11),
            "email": r.opt_str(12),
        },
    });
    // Moved in rather than copied by `json!` (see message_json).
    chat["assignee"] = assignee;
    chat["active_channel"] = channel_ref(r.opt_i64(16), r.opt_str(17), r.opt_str(18));
    chat["channels"] = Json::Array(channels);
    chat["last_message"] = last_message;
    chat
}

pub fn chat(db: &mut Db, id: i64) -> Result<Json> {
    chat_knowing(db, id, None)
}

/// The chat as JSON, given its last message already built by the caller; the message
/// is then found as the chat's `last_message`.
pub fn chat_knowing(db: &mut Db, id: i64, last_message: Option<Json>) -> Result<Json> {
    let row = db
        .query_opt(&format!("{CHAT_SELECT} WHERE c.id = $1"), &[id.into()])?
        .ok_or_else(|| crate::error::not_found("chat", id))?;
    Ok(chats_json_knowing(db, &[row], last_message)?.remove(0))
}

pub const CONTACT_SELECT: &str = "SELECT ct.id, ct.first_name, ct.last_name, ct.username, ct.phone, \
    ct.email, ct.tags, ct.attributes, ct.start_payload, ct.created_at, c.id \
    FROM contacts ct LEFT JOIN chats c ON c.contact_id = ct.id";

pub fn contacts_json(db: &mut Db, rows: &[Row]) -> Result<Vec<Json>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Value> = rows.iter().map(|r| Value::Int(r.i64(0))).collect();
    let sql = format!(
        "SELECT i.contact_id, i.id, i.external_id, i.username, i.unreachable_reason, ch.id, ch.kind, ch.name \
         FROM identities i JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id IN ({}) ORDER BY i.id",
        placeholders(1, ids.len())
    );
    let mut identities: HashMap<i64, Vec<Json>> = HashMap::new();
    for r in db.query(&sql, &ids)? {
        identities.entry(r.i64(0)).or_default().push(json!({
            "id": r.i64(1),
            "external_id": r.str(2),
            "username": r.opt_str(3),
            "unreachable_reason": r.opt_str(4),
            "channel": channel_ref(r.opt_i64(5), r.opt_str(6), r.opt_str(7)),
        }));
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id = r.i64(0);
            json!({
                "id": id,
                "name": display_name(id, r.opt_str(1), r.opt_str(2), r.opt_str(3), r.opt_str(4), r.opt_str(5)),
                "first_name": r.opt_str(1),
                "last_name": r.opt_str(2),
                "username": r.opt_str(3),
                "phone": r.opt_str(4),
                "email": r.opt_str(5),
                "tags": r.json::<Json>(6).unwrap_or(json!([])),
                "attributes": r.json::<Json>(7).unwrap_or(json!({})),
                "start_payload": r.opt_str(8),
                "created_at": rfc3339(r.i64(9)),
                "chat_id": r.opt_i64(10),
                "identities": identities.remove(&id).unwrap_or_default(),
            })
        })
        .collect())
}

pub fn contact(db: &mut Db, id: i64) -> Result<Json> {
    let row = db
        .query_opt(&format!("{CONTACT_SELECT} WHERE ct.id = $1 AND ct.merged_into IS NULL"), &[id.into()])?
        .ok_or_else(|| crate::error::not_found("contact", id))?;
    Ok(contacts_json(db, &[row])?.remove(0))
}
