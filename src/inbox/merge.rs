//! Merging a contact into another, recorded with exactly what moved so that an admin
//! can undo it.
//!
//! The source's identities, chat history and conversations move to the target; the
//! target's empty fields are filled from the source; one chat remains. The source
//! contact and its chat stay in the database, marked merged and hidden, so undoing
//! restores them as they were.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::contacts::index_terms;
use super::views;
use crate::audit;
use crate::error::{Error, Result, not_found};
use crate::model::{ChatStatus, Contact, Time};
use crate::params;
use crate::store::events::{self, Event, kinds};
use crate::store::{Db, column};

const CONTACT_FIELDS: &str =
    "first_name, last_name, username, phone, phone_e164, email, email_lc, tags, attributes, start_payload";

/// What a merge changed, stored in `merges.moved`.
#[derive(Debug, Serialize, Deserialize)]
struct Moved {
    /// The target's fields before the merge, in [`CONTACT_FIELDS`] order.
    target_fields: Vec<Option<String>>,
    identities: Vec<i64>,
    /// The source's chat, if it had one.
    source_chat: Option<ChatState>,
    /// The target's chat before the merge, if it had one.
    target_chat: Option<ChatState>,
    /// The source chat itself moved to the target (the target had no chat).
    chat_moved: bool,
    messages: Vec<i64>,
    conversations: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ChatState {
    id: i64,
    status: ChatStatus,
    conversation_id: Option<i64>,
    unread_count: i64,
    assignee_id: Option<i64>,
}

fn chat_state(db: &mut Db, contact_id: i64) -> Result<Option<ChatState>> {
    let Some(r) = db.query_opt(
        "SELECT id, status, conversation_id, unread_count, assignee_id FROM chats WHERE contact_id = $1",
        params![contact_id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(ChatState {
        id: r.get("id")?,
        status: r.get("status")?,
        conversation_id: r.get("conversation_id")?,
        unread_count: r.get("unread_count")?,
        assignee_id: r.get("assignee_id")?,
    }))
}

/// What a merge answers: the contact that remains.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Merged {
    pub contact: Contact,
    pub merge_id: i64,
}

/// What undoing a merge answers: both contacts as they are again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unmerged {
    pub source: Contact,
    pub target: Contact,
}

pub fn merge(db: &mut Db, target: i64, source: i64, operator_id: i64, now: i64) -> Result<Merged> {
    if target == source {
        return Err(Error::Invalid("a contact cannot be merged into itself".into()));
    }
    views::contact(db, target)?;
    views::contact(db, source)?;
    let fields = db.query_one(&format!("SELECT {CONTACT_FIELDS} FROM contacts WHERE id = $1"), params![target])?;
    let source_chat = chat_state(db, source)?;
    let target_chat = chat_state(db, target)?;
    let mut moved = Moved {
        target_fields: CONTACT_FIELDS.split(", ").map(|name| fields.get(name)).collect::<Result<_, _>>()?,
        identities: column(&db.query("SELECT id FROM identities WHERE contact_id = $1", params![source])?, "id")?,
        chat_moved: source_chat.is_some() && target_chat.is_none(),
        messages: Vec::new(),
        conversations: Vec::new(),
        source_chat,
        target_chat,
    };

    // Fill the target's empty fields; tags are united, attributes added where missing.
    db.exec(
        "UPDATE contacts SET first_name = COALESCE(t.first_name, s.first_name), \
         last_name = COALESCE(t.last_name, s.last_name), username = COALESCE(t.username, s.username), \
         phone = COALESCE(t.phone, s.phone), phone_e164 = COALESCE(t.phone_e164, s.phone_e164), \
         email = COALESCE(t.email, s.email), email_lc = COALESCE(t.email_lc, s.email_lc), \
         start_payload = COALESCE(t.start_payload, s.start_payload), updated_at = $3 \
         FROM contacts t, contacts s WHERE contacts.id = $1 AND t.id = $1 AND s.id = $2",
        params![target, source, now],
    )?;
    let tags_attrs = db.query_one("SELECT tags, attributes FROM contacts WHERE id = $1", params![source])?;
    let (mut tags, src_tags): (Vec<String>, Vec<String>) = (fields.get_json("tags")?, tags_attrs.get_json("tags")?);
    for t in src_tags {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut attrs: serde_json::Map<String, Json> = fields.get_json("attributes")?;
    let src_attrs: serde_json::Map<String, Json> = tags_attrs.get_json("attributes")?;
    for (k, v) in src_attrs {
        attrs.entry(k).or_insert(v);
    }
    db.exec(
        "UPDATE contacts SET tags = $1, attributes = $2 WHERE id = $3",
        params![json!(tags).to_string(), Json::Object(attrs).to_string(), target],
    )?;
    db.exec("UPDATE identities SET contact_id = $1 WHERE contact_id = $2", params![target, source])?;

    let remaining_chat = match (&moved.source_chat, &moved.target_chat) {
        (Some(s), None) => {
            db.exec("UPDATE chats SET contact_id = $1 WHERE id = $2", params![target, s.id])?;
            Some(s.id)
        }
        (Some(s), Some(t)) => {
            moved.messages = column(&db.query("SELECT id FROM messages WHERE chat_id = $1", params![s.id])?, "id")?;
            moved.conversations =
                column(&db.query("SELECT id FROM conversations WHERE chat_id = $1", params![s.id])?, "id")?;
            db.exec("UPDATE messages SET chat_id = $1 WHERE chat_id = $2", params![t.id, s.id])?;
            db.exec("UPDATE conversations SET chat_id = $1 WHERE chat_id = $2", params![t.id, s.id])?;
            // The merged chat is open if either was; it keeps the target's open conversation.
            let (status, conversation) = if t.status == ChatStatus::Open {
                (ChatStatus::Open, t.conversation_id)
            } else if s.status == ChatStatus::Open {
                (ChatStatus::Open, s.conversation_id)
            } else {
                (ChatStatus::Closed, None)
            };
            db.exec(
                "UPDATE chats SET status = $1, conversation_id = $2, unread_count = $3, \
                 assignee_id = COALESCE(assignee_id, $4) WHERE id = $5",
                params![status, conversation, t.unread_count + s.unread_count, s.assignee_id, t.id],
            )?;
            db.exec(
                "UPDATE chats SET status = $1, conversation_id = NULL, unread_count = 0, last_message_id = NULL WHERE id = $2",
                params![ChatStatus::Merged, s.id],
            )?;
            refresh_last_message(db, t.id)?;
            Some(t.id)
        }
        (None, t) => t.as_ref().map(|t| t.id),
    };
    db.exec("UPDATE contacts SET merged_into = $1, updated_at = $2 WHERE id = $3", params![target, now, source])?;
    db.exec("DELETE FROM contact_terms WHERE contact_id = $1", params![source])?;
    index_terms(db, target)?;

    let merge_id = db
        .query_one(
            "INSERT INTO merges (target_id, source_id, operator_id, moved, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            params![target, source, operator_id, json!(moved).to_string(), now],
        )?
        .get("id")?;
    let merged = kinds::ContactMerged {
        merge_id,
        source_chat_id: moved.source_chat.as_ref().map(|c| c.id),
        source_id: source,
        target_id: target,
    };
    events::append(db, remaining_chat, Event::ContactMerged(merged), now)?;
    let changes = json!({"merge_id": merge_id, "source_id": source, "target_id": target,
        "identities_moved": moved.identities.len(), "messages_moved": moved.messages.len()});
    let change = audit::Change {
        subject: audit::Subject::Merge,
        subject_id: Some(merge_id),
        action: audit::Action::Merged,
        changes,
    };
    audit::record(db, Some(operator_id), change, now)?;
    if let Some(chat_id) = remaining_chat {
        let chat = views::chat(db, chat_id)?;
        events::append(db, Some(chat_id), Event::chat_updated(&chat), now)?;
    }
    let contact = views::contact(db, target)?;
    Ok(Merged { contact, merge_id })
}

/// Points the chat's last message at its newest message.
fn refresh_last_message(db: &mut Db, chat_id: i64) -> Result<()> {
    db.exec(
        "UPDATE chats SET last_message_id = (SELECT MAX(id) FROM messages WHERE chat_id = $1 AND kind = 'message'), \
         last_message_at = COALESCE((SELECT MAX(created_at) FROM messages WHERE chat_id = $1 AND kind = 'message'), last_message_at) \
         WHERE id = $1",
        params![chat_id],
    )?;
    Ok(())
}

/// Undoes a merge: both contacts and their chats as they were before it. Messages
/// that arrived on the target's chat after the merge stay there.
/// `by` is the admin, named in the audit log.
pub fn undo(db: &mut Db, merge_id: i64, by: i64, now: i64) -> Result<Unmerged> {
    let m = db
        .query_opt("SELECT target_id, source_id, moved, undone_at FROM merges WHERE id = $1", params![merge_id])?
        .ok_or_else(|| not_found("merge", merge_id))?;
    if m.get::<Option<i64>>("undone_at")?.is_some() {
        return Err(Error::Conflict(format!("merge {merge_id} was already undone")));
    }
    let (target, source): (i64, i64) = (m.get("target_id")?, m.get("source_id")?);
    let moved: Moved = m.get_json("moved")?;
    let later = db.query_opt(
        "SELECT id FROM merges WHERE id > $1 AND undone_at IS NULL AND (target_id IN ($2, $3) OR source_id IN ($2, $3))",
        params![merge_id, target, source],
    )?;
    if let Some(r) = later {
        return Err(Error::Conflict(format!(
            "undo merge {} first: it involves the same contacts",
            r.get::<i64>("id")?
        )));
    }
    let f = &moved.target_fields;
    db.exec(
        "UPDATE contacts SET first_name = $1, last_name = $2, username = $3, phone = $4, phone_e164 = $5, \
             email = $6, email_lc = $7, tags = $8, attributes = $9, start_payload = $10, updated_at = $11 WHERE id = $12",
        params![
            f[0].clone(), f[1].clone(), f[2].clone(), f[3].clone(), f[4].clone(), f[5].clone(),
            f[6].clone(), f[7].clone(), f[8].clone(), f[9].clone(), now, target
        ],
    )?;
    db.exec("UPDATE contacts SET merged_into = NULL, updated_at = $1 WHERE id = $2", params![now, source])?;
    for id in &moved.identities {
        db.exec("UPDATE identities SET contact_id = $1 WHERE id = $2", params![source, *id])?;
    }
    let mut chats = Vec::new();
    if let Some(s) = &moved.source_chat {
        if moved.chat_moved {
            db.exec("UPDATE chats SET contact_id = $1 WHERE id = $2", params![source, s.id])?;
        } else if let Some(t) = &moved.target_chat {
            for id in &moved.messages {
                db.exec("UPDATE messages SET chat_id = $1 WHERE id = $2", params![s.id, *id])?;
            }
            for id in &moved.conversations {
                db.exec("UPDATE conversations SET chat_id = $1 WHERE id = $2", params![s.id, *id])?;
            }
            db.exec(
                "UPDATE chats SET status = $1, conversation_id = $2, unread_count = $3, assignee_id = $4 WHERE id = $5",
                params![s.status, s.conversation_id, s.unread_count, s.assignee_id, s.id],
            )?;
            if t.status != ChatStatus::Open || t.conversation_id.is_none() {
                db.exec(
                    "UPDATE chats SET status = $1, conversation_id = $2 WHERE id = $3",
                    params![t.status, t.conversation_id, t.id],
                )?;
            }
            db.exec(
                "UPDATE chats SET unread_count = $1, assignee_id = $2 WHERE id = $3",
                params![t.unread_count, t.assignee_id, t.id],
            )?;
            refresh_last_message(db, s.id)?;
            refresh_last_message(db, t.id)?;
            chats.push(t.id);
        }
        chats.push(s.id);
    }
    db.exec("UPDATE merges SET undone_at = $1 WHERE id = $2", params![now, merge_id])?;
    let changes = json!({"source_id": source, "target_id": target});
    let change = audit::Change {
        subject: audit::Subject::Merge,
        subject_id: Some(merge_id),
        action: audit::Action::Undone,
        changes,
    };
    audit::record(db, Some(by), change, now)?;
    index_terms(db, target)?;
    index_terms(db, source)?;
    for chat_id in chats {
        let chat = views::chat(db, chat_id)?;
        events::append(db, Some(chat_id), Event::chat_updated(&chat), now)?;
    }
    Ok(Unmerged { target: views::contact(db, target)?, source: views::contact(db, source)? })
}

// Fields in alphabetical order, as the `json!` map that wrote it before it was typed.
/// A merge as the console lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MergeRecord {
    pub created_at: Time,
    pub id: i64,
    pub operator_id: Option<i64>,
    pub source_id: i64,
    pub target_id: i64,
    pub undone_at: Option<Time>,
}

/// The latest 200 merges, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MergeList {
    pub merges: Vec<MergeRecord>,
}

pub fn list(db: &mut Db) -> Result<MergeList> {
    let rows = db.query(
        "SELECT id, target_id, source_id, operator_id, created_at, undone_at FROM merges ORDER BY id DESC LIMIT 200",
        &[],
    )?;
    let merges = rows
        .iter()
        .map(|r| {
            Ok(MergeRecord {
                id: r.get("id")?,
                target_id: r.get("target_id")?,
                source_id: r.get("source_id")?,
                operator_id: r.get("operator_id")?,
                created_at: r.get("created_at")?,
                undone_at: r.get("undone_at")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(MergeList { merges })
}
