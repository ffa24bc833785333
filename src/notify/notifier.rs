//! Consumes committed events and tells operators, in their linked messenger, about
//! chats assigned or transferred to them and about contacts writing in their chats
//! while they have no console open. Each (event, operator) is claimed in the database
//! before sending, so with several nodes exactly one sends it.

use tokio::sync::broadcast::error::RecvError;

use super::links;
use crate::app::App;
use crate::error::Result;
use crate::model::{Chat, Message};
use crate::params;
use crate::store::EventRow;
use crate::store::events::{self, Event, EventKind};

/// Runs until shutdown, from the newest event on.
pub async fn run(app: App) {
    let mut live = app.store.subscribe();
    let mut last = app.store.last_published();
    loop {
        let event = tokio::select! {
            e = live.recv() => e,
            _ = app.shutdown.cancelled() => return,
        };
        match event {
            Ok(e) if e.id > last => {
                last = e.id;
                consider(&app, &e);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                // Read what was missed from the table.
                loop {
                    let from = last;
                    let Ok(rows) = app.store.read(move |db| events::after(db, from, 1000)).await else { break };
                    for e in &rows {
                        last = e.id;
                        consider(&app, e);
                    }
                    if rows.len() < 1000 {
                        break;
                    }
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Who should hear of an event, and what to tell them.
struct Notice {
    event_id: i64,
    operator_id: i64,
    chat_id: i64,
    text: String,
    /// Not sent when the operator has the console open on any node.
    unless_in_console: bool,
}

fn consider(app: &App, e: &EventRow) {
    // Cheap test first: most events are of kinds nobody is notified of.
    let Some(EventKind::ChatTransferred | EventKind::ChatAssigned | EventKind::MessageCreated) = e.event_kind() else {
        return;
    };
    let event = match e.decode() {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(event.id = e.id, error = %err, "the notifier skips an unreadable event");
            return;
        }
    };
    let notice = match &*event {
        Event::ChatTransferred(t) => {
            let (comment, by) = (Some(t.comment.as_ref()), Some(t.by_operator_id));
            assigned(e, &t.chat, Some(t.to_operator_id), by, comment)
        }
        Event::ChatAssigned(a) => assigned(e, &a.chat, a.operator_id, None, None),
        Event::MessageCreated(m) if m.message.is_from_contact() => written(app, e, &m.message, &m.chat),
        _ => None,
    };
    if let Some(n) = notice {
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(err) = deliver(&app, n).await {
                tracing::warn!(error = %err, "cannot notify an operator");
            }
        });
    }
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
    Some(Notice { event_id: e.id, operator_id, chat_id, text, unless_in_console: false })
}

fn written(app: &App, e: &EventRow, message: &Message, chat: &Chat) -> Option<Notice> {
    let operator_id = chat.assignee_id()?;
    if app.distribution.presence.connections(operator_id) > 0 {
        return None; // they see it in the console (on another node: checked in `deliver`)
    }
    let text = format!("{}: {}\n\nReply to this message to answer.", chat.contact.name, summary(message));
    Some(Notice { event_id: e.id, operator_id, chat_id: e.chat_id?, text, unless_in_console: true })
}

async fn deliver(app: &App, n: Notice) -> Result<()> {
    let op = n.operator_id;
    let Some((channel_id, external_id)) = app.store.read(move |db| links::linked(db, op)).await? else {
        return Ok(());
    };
    let (event_id, chat_id, now) = (n.event_id, n.chat_id, app.now());
    let (unless_in_console, node) = (n.unless_in_console, app.distribution.presence.node().to_owned());
    let claimed = app
        .store
        .write(move |db| -> Result<Option<i64>> {
            if unless_in_console && crate::distribution::presence::open_elsewhere(db, op, &node, now)? {
                return Ok(None);
            }
            Ok(db
                .query_opt(
                    "INSERT INTO notifications (event_id, operator_id, chat_id, channel_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, operator_id) DO NOTHING RETURNING id",
                    params![event_id, op, chat_id, channel_id, now],
                )?
                .map(|r| r.i64(0)))
        })
        .await?;
    let Some(id) = claimed else { return Ok(()) };
    match super::send::text(app, channel_id, &external_id, n.text).await {
        Ok(platform_id) => {
            app.store
                .write(move |db| {
                    db.exec("UPDATE notifications SET platform_message_id = $1 WHERE id = $2", params![platform_id, id])
                })
                .await?;
            metrics::counter!("parley_notifications_total", "result" => "sent").increment(1);
        }
        Err(why) => {
            metrics::counter!("parley_notifications_total", "result" => "failed").increment(1);
            tracing::warn!(operator.id = op, channel.id = channel_id, %why, "notification not delivered");
        }
    }
    Ok(())
}
