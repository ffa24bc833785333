//! Operator notifications through the messenger they linked (Telegram or Discord): the one-time
//! link, the notifier (an event consumer) that tells an operator what was assigned to
//! them or written in their chats while they are away from the console, and the hook in
//! the ingest door that turns a link code or a reply to a notification into what it
//! means instead of a customer message. Every text goes out through the outbox.

mod away;
pub mod intercept;
pub mod links;
pub mod notifier;

pub use away::Away;
pub use intercept::Intercept;
pub use notifier::Notifier;

use crate::error::Result;
use crate::model::Message;
use crate::params;
use crate::store::Db;

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

/// What a notice is about: each is sent once per operator, whichever node sends it.
#[derive(Debug, Clone, Copy)]
enum Subject {
    /// An event the notifier handled (a chat assigned or transferred).
    Event(i64),
    /// A contact's message, noticed in its ingest transaction: before its event has an
    /// id (on PostgreSQL a batch's events get theirs as it ends).
    Message(i64),
}

impl Subject {
    /// The key stored in `notifications.event_id`: an event's id as it is, a message's
    /// negated, so that the two never meet (ids are positive).
    fn key(self) -> i64 {
        match self {
            Subject::Event(id) => id,
            Subject::Message(id) => -id,
        }
    }
}

/// Records the notice of `subject` for `operator_id` and queues its text to the chat they
/// linked; false when they linked nothing or the notice exists already.
fn notice(db: &mut Db, subject: Subject, operator_id: i64, chat_id: i64, text: &str, now: i64) -> Result<bool> {
    let Some((channel_id, external_id)) = links::linked(db, operator_id)? else { return Ok(false) };
    let Some(r) = db.query_opt(
        "INSERT INTO notifications (event_id, operator_id, chat_id, channel_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, operator_id) DO NOTHING RETURNING id",
        params![subject.key(), operator_id, chat_id, channel_id, now],
    )?
    else {
        return Ok(false);
    };
    crate::outbox::queue::text(db, channel_id, &external_id, text, Some(r.get("id")?), now)?;
    Ok(true)
}
