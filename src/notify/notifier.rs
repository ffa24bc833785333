//! The notifier: a durable event consumer ([`crate::consumers`]) that tells operators,
//! in their linked messenger, about chats assigned or transferred to them and about
//! contacts writing in their chats while they have no console open. Each notice is a
//! `notifications` row and an outbox text, written in the transaction that moves the
//! notifier's position: after a restart it resumes where it stopped, and with several
//! nodes each event is notified once.

use super::links;
use crate::consumers::Consumer;
use crate::distribution::Presence;
use crate::error::Result;
use crate::model::{Chat, Message};
use crate::params;
use crate::store::events::{Event, EventKind};
use crate::store::{Db, EventRow};

pub struct Notifier {
    /// This node's consoles: an operator with one open here is not notified of messages.
    pub presence: Presence,
}

impl Consumer for Notifier {
    const NAME: &'static str = "notifier";
    const KINDS: &'static [EventKind] =
        &[EventKind::ChatAssigned, EventKind::ChatTransferred, EventKind::MessageCreated];
    type Output = usize;

    fn handle(&self, db: &mut Db, events: &[EventRow], now: i64) -> Result<usize> {
        let mut sent = 0;
        for e in events {
            let event = match e.decode() {
                Ok(event) => event,
                Err(err) => {
                    tracing::warn!(event.id = e.id, error = %err, "the notifier skips an unreadable event");
                    continue;
                }
            };
            let notice = match &*event {
                Event::ChatTransferred(t) => {
                    let (comment, by) = (Some(t.comment.as_ref()), Some(t.by_operator_id));
                    assigned(e, &t.chat, Some(t.to_operator_id), by, comment)
                }
                Event::ChatAssigned(a) => assigned(e, &a.chat, a.operator_id, None, None),
                Event::MessageCreated(m) if m.message.is_from_contact() => {
                    self.written(db, e, &m.message, &m.chat, now)?
                }
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

/// The text of a message, or what it carries.
fn summary(message: &Message) -> String {
    if let Some(t) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let short: String = t.chars().take(500).collect();
        return if short.len() < t.len() { format!("{short}…") } else { short };
    }
    match message.attachments.first() {
        Some(a) => format!("[{}]", a["name"].as_str().or(a["kind"].as_str()).unwrap_or("attachment")),
        None => "—".into(),
    }
}

/// A chat given to `to` (or, with no operator named, to its assignee), unless they
/// took it themselves.
fn assigned(e: &EventRow, chat: &Chat, to: Option<i64>, by: Option<i64>, comment: Option<&str>) -> Option<Notice> {
    let operator_id = to.or(chat.assignee_id())?;
    if by == Some(operator_id) {
        return None; // took it themselves
    }
    let name = &chat.contact.name;
    let mut text = format!("Chat with {name} is now yours.");
    if let Some(last) = &chat.last_message {
        text.push_str(&format!("\n\nLast message: {}", summary(last)));
    }
    if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
        text.push_str(&format!("\nComment: {c}"));
    }
    text.push_str(&format!("\n\nReply to this message to answer {name}."));
    let chat_id = e.chat_id.unwrap_or(chat.id);
    Some(Notice { event_id: e.id, operator_id, chat_id, text })
}

impl Notifier {
    /// A contact wrote in a chat whose assignee has no console open on any node.
    fn written(&self, db: &mut Db, e: &EventRow, message: &Message, chat: &Chat, now: i64) -> Result<Option<Notice>> {
        let (Some(operator_id), Some(chat_id)) = (chat.assignee_id(), e.chat_id) else { return Ok(None) };
        if self.presence.connections(operator_id) > 0
            || crate::distribution::presence::open_elsewhere(db, operator_id, self.presence.node(), now)?
        {
            return Ok(None); // they see it in the console
        }
        let text = format!("{}: {}\n\nReply to this message to answer.", chat.contact.name, summary(message));
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
