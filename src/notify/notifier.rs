//! The notifier: a durable event consumer ([`crate::consumers`]) that tells operators,
//! in their linked messenger, about chats assigned or transferred to them. Each notice
//! is a `notifications` row and an outbox text, written in the transaction that moves
//! the notifier's position: after a restart it resumes where it stopped, and with
//! several nodes each event is notified once. (A contact writing while the assignee is
//! away from the console is noticed in the ingest transaction itself: [`super::Away`].)

use crate::consumers::Consumer;
use crate::error::Result;
use crate::model::Chat;
use crate::store::events::{Event, EventKind};
use crate::store::{Db, EventRow};

pub struct Notifier;

impl Consumer for Notifier {
    const NAME: &'static str = "notifier";
    const KINDS: &'static [EventKind] = &[EventKind::ChatAssigned, EventKind::ChatTransferred];
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
                _ => None,
            };
            if let Some((operator_id, chat_id, text)) = notice {
                sent += usize::from(super::notice(db, super::Subject::Event(e.id), operator_id, chat_id, &text, now)?);
            }
        }
        Ok(sent)
    }
}

/// A chat given to `to` (or, with no operator named, to its assignee), unless they
/// took it themselves: (operator, chat, text).
fn assigned(
    e: &EventRow,
    chat: &Chat,
    to: Option<i64>,
    by: Option<i64>,
    comment: Option<&str>,
) -> Option<(i64, i64, String)> {
    let operator_id = to.or(chat.assignee_id())?;
    if by == Some(operator_id) {
        return None; // took it themselves
    }
    let name = &chat.contact.name;
    let mut text = format!("Chat with {name} is now yours.");
    if let Some(last) = &chat.last_message {
        text.push_str(&format!("\n\nLast message: {}", super::summary(last)));
    }
    if let Some(c) = comment.filter(|c| !c.trim().is_empty()) {
        text.push_str(&format!("\nComment: {c}"));
    }
    text.push_str(&format!("\n\nReply to this message to answer {name}."));
    Some((operator_id, e.chat_id.unwrap_or(chat.id), text))
}
