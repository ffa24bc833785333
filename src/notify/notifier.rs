//! The notifier: a durable event consumer ([`crate::consumers`]) that tells operators,
//! in their linked messenger, about chats assigned or transferred to them and about
//! contacts writing in their chats while they have no console open. Each notice is a
//! `notifications` row and an outbox text, written in the transaction that moves the
//! notifier's position: after a restart it resumes where it stopped, and with several
//! nodes each event is notified once.

use serde_json::Value as Json;

use super::links;
use crate::consumers::Consumer;
use crate::distribution::Presence;
use crate::error::Result;
use crate::params;
use crate::store::{Db, EventRow};

pub struct Notifier {
    /// This node's consoles: an operator with one open here is not notified of messages.
    pub presence: Presence,
}

impl Consumer for Notifier {
    const NAME: &'static str = "notifier";
    const KINDS: &'static [&'static str] = &["chat.assigned", "chat.transferred", "message.created"];
    type Output = usize;

    fn handle(&self, db: &mut Db, events: &[EventRow], now: i64) -> Result<usize> {
        let mut sent = 0;
        for e in events {
            let Ok(data) = serde_json::from_str::<Json>(&e.data) else {
                tracing::warn!(event.id = e.id, "an event that is not JSON; not notified");
                continue;
            };
            let notice = match e.kind.as_str() {
                "chat.transferred" | "chat.assigned" => assigned(e, &data),
                "message.created" => self.written(db, e, &data, now)?,
                _ => None,
            };
            if let Some(n) = notice {
                sent += usize::from(queue(db, &n, now)?);
            }
        }
        Ok(sent)
    }
}

/// Who should hear of an event, and what to tell them.
struct Notice {
    event_id: i64,
    operator_id: i64,
    chat_id: i64,
    text: String,
}

fn contact_name(chat: &Json) -> String {
    chat.pointer("/contact/name").and_then(Json::as_str).unwrap_or("a contact").to_owned()
}

/// The text of a message, or what it carries.
fn summary(message: &Json) -> String {
    if let Some(t) = message["text"].as_str().filter(|t| !t.trim().is_empty()) {
        let short: String = t.chars().take(500).collect();
        return if short.len() < t.len() { format!("{short}…") } else { short };
    }
    match message["attachments"].get(0) {
        Some(a) => format!("[{}]", a["name"].as_str().or(a["kind"].as_str()).unwrap_or("attachment")),
        None => "—".into(),
    }
}

fn assigned(e: &EventRow, data: &Json) -> Option<Notice> {
    let chat = &data["chat"];
    let operator_id = data["to_operator_id"]
        .as_i64()
        .or(data["operator_id"].as_i64())
        .or(chat.pointer("/assignee/id").and_then(Json::as_i64))?;
    if data["by_operator_id"].as_i64() == Some(operator_id) {
        return None; // took it themselves
    }
    let name = contact_name(chat);
    let mut text = format!("Chat with {name} is now yours.");
    if chat["last_message"].is_object() {
        text.push_str(&format!("\n\nLast message: {}", summary(&chat["last_message"])));
    }
    if let Some(c) = data["comment"].as_str().filter(|c| !c.trim().is_empty()) {
        text.push_str(&format!("\nComment: {c}"));
    }
    text.push_str(&format!("\n\nReply to this message to answer {name}."));
    let chat_id = e.chat_id.or(chat["id"].as_i64())?;
    Some(Notice { event_id: e.id, operator_id, chat_id, text })
}

impl Notifier {
    /// A contact wrote in a chat whose assignee has no console open on any node.
    fn written(&self, db: &mut Db, e: &EventRow, data: &Json, now: i64) -> Result<Option<Notice>> {
        let (message, chat) = (&data["message"], &data["chat"]);
        if message["direction"] != "in" || message["author_kind"] != "contact" {
            return Ok(None);
        }
        let (Some(operator_id), Some(chat_id)) = (chat.pointer("/assignee/id").and_then(Json::as_i64), e.chat_id)
        else {
            return Ok(None);
        };
        if self.presence.connections(operator_id) > 0
            || crate::distribution::presence::open_elsewhere(db, operator_id, self.presence.node(), now)?
        {
            return Ok(None); // they see it in the console
        }
        let text = format!("{}: {}\n\nReply to this message to answer.", contact_name(chat), summary(message));
        Ok(Some(Notice { event_id: e.id, operator_id, chat_id, text }))
    }
}

/// Records the notice and queues its text to the operator's linked chat; false when the
/// operator linked nothing or the notice exists already.
fn queue(db: &mut Db, n: &Notice, now: i64) -> Result<bool> {
    let Some((channel_id, external_id)) = links::linked(db, n.operator_id)? else { return Ok(false) };
    let Some(r) = db.query_opt(
        "INSERT INTO notifications (event_id, operator_id, chat_id, channel_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, operator_id) DO NOTHING RETURNING id",
        params![n.event_id, n.operator_id, n.chat_id, channel_id, now],
    )?
    else {
        return Ok(false);
    };
    crate::outbox::queue::text(db, channel_id, &external_id, &n.text, Some(r.i64(0)), now)?;
    Ok(true)
}
