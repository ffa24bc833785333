//! Consumes committed events and tells operators, in their linked messenger, about
//! chats assigned or transferred to them and about contacts writing in their chats
//! while they have no console open. Each (event, operator) is claimed in the database
//! before sending, so with several nodes exactly one sends it.

use serde_json::Value as Json;
use tokio::sync::broadcast::error::RecvError;

use super::links;
use crate::app::App;
use crate::error::Result;
use crate::params;
use crate::store::{EventRow, events};

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
    let notice = match e.kind.as_str() {
        "chat.transferred" | "chat.assigned" => assigned(e),
        // Cheap tests first: most events are not a contact writing in an assigned chat.
        "message.created" if e.data.contains(r#""direction":"in""#) && !e.data.contains(r#""assignee":null"#) => {
            written(app, e)
        }
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

fn assigned(e: &EventRow) -> Option<Notice> {
    let data: Json = serde_json::from_str(&e.data).ok()?;
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
    Some(Notice { event_id: e.id, operator_id, chat_id, text, unless_in_console: false })
}

fn written(app: &App, e: &EventRow) -> Option<Notice> {
    let data: Json = serde_json::from_str(&e.data).ok()?;
    let (message, chat) = (&data["message"], &data["chat"]);
    if message["author_kind"] != "contact" {
        return None;
    }
    let operator_id = chat.pointer("/assignee/id").and_then(Json::as_i64)?;
    if app.distribution.presence.connections(operator_id) > 0 {
        return None; // they see it in the console (on another node: checked in `deliver`)
    }
    let text = format!("{}: {}\n\nReply to this message to answer.", contact_name(chat), summary(message));
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
