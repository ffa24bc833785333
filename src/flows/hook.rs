//! The bot's hook in the ingest door ([`crate::inbox::door`]), deciding in the ingest
//! transaction (so a redelivered update decides nothing twice, and the chat's row, which
//! ingest has just updated, keeps concurrent updates of one chat one step apart):
//!
//! - a chat the operators have (handler `human`) stays theirs, unless this message
//!   opened a new conversation: closing a chat hands it back to the bot;
//! - a command, keyword, regex or button trigger starts its flow, even over a run;
//! - otherwise a run waiting for the contact hears the message;
//! - otherwise a new contact's first message, or any message, may start a flow;
//! - a message no flow takes in a chat the bot had goes to the operators.

use std::sync::Arc;

use parley_sdk::{Inbound, InboundKind, Receipt};

use super::catalog::{self, Compiled};
use super::drive::{self, ChatInfo, Drive};
use super::engine::{self, Heard};
use super::runs;
use super::{Flow, Trigger};
use crate::config::distribution::Settings;
use crate::error::Result;
use crate::inbox::door::IngestHook;
use crate::model::Handler;
use crate::params;
use crate::store::Db;

pub struct Bot {
    pub compiled: Arc<Compiled>,
    pub distribution: Settings,
}

/// The press data of a button that starts a flow for whoever presses it, followed by the
/// flow's id: what a broadcast's `{label, flow}` button sends.
pub const START_PRESS: &str = "flow:";

impl IngestHook for Bot {
    fn name(&self) -> &'static str {
        "flows"
    }

    fn after(&self, db: &mut Db, inbound: &Inbound, receipt: &Receipt, now: i64) -> Result<()> {
        // One query decides whether there is anything to do: no flow and no bot chat
        // costs this and nothing more.
        let r = db.query_one(
            &format!(
                "{} , (SELECT COUNT(*) FROM flows WHERE enabled = 1) AS flows, \
                 EXISTS (SELECT 1 FROM flow_pauses p WHERE p.contact_id = c.contact_id) AS paused {} WHERE c.id = $1",
                drive::CHAT_SELECT,
                drive::CHAT_FROM
            ),
            params![receipt.chat_id],
        )?;
        let chat = drive::chat_from(&r)?;
        let handler = chat.handler;
        if r.get::<bool>("paused")? || (handler == Handler::Human && r.get::<i64>("flows")? == 0) {
            return Ok(());
        }
        let text = match &inbound.kind {
            InboundKind::ButtonPress { data } => data.clone(),
            _ => inbound.content.text.clone().unwrap_or_default(),
        };
        let pressed = matches!(inbound.kind, InboundKind::ButtonPress { .. });
        // A broadcast's button names the flow it starts (`flow:<id>`, see [`START_PRESS`]):
        // the contact asked for it, so it starts even in a conversation people have.
        let named = text.strip_prefix(START_PRESS).filter(|_| pressed);
        if handler == Handler::Human && named.is_none() && !opened_by(db, &chat, receipt.message_id)? {
            return Ok(());
        }
        let drive = Drive { compiled: &self.compiled, distribution: &self.distribution };
        let flows = enabled(db, &self.compiled)?;

        if let Some((id, version, _)) = flows.iter().find(|(id, _, f)| {
            named.map_or_else(|| f.triggers.iter().any(|t| strong(t, &text, pressed)), |named| named == id)
        }) {
            drive::to_bot(db, &chat, now)?;
            let chat = ChatInfo { handler: Handler::Bot, ..chat };
            return drive.start_version(db, &chat, id, *version, Some(&text), now);
        }
        if let Some(run) = runs::active(db, chat.id)? {
            if run.conversation_id != chat.conversation_id {
                runs::stop(db, run.id, now)?;
            } else {
                let flow = self.compiled.get(db, run.version_id)?;
                let facts = drive::facts(db, &chat, now)?;
                let mut run = run;
                let heard = engine::hear(&flow, &mut run.state, &facts, Heard { text: &text });
                match heard {
                    Some(effects) => {
                        drive::to_bot(db, &chat, now)?;
                        let chat = ChatInfo { handler: Handler::Bot, ..chat };
                        return drive.carry(db, &chat, run, effects, now);
                    }
                    // Busy with a call: the message stays in the history, the run goes on.
                    None if run.state.waiting == engine::Waiting::Http => return Ok(()),
                    // A wait the message cut short: the run ends, the message is handled
                    // as any other below.
                    None => runs::stop(db, run.id, now)?,
                }
            }
        }
        let first = flows.iter().any(|(_, _, f)| f.triggers.iter().any(|t| matches!(t, Trigger::FirstMessage)))
            && first_message(db, chat.id)?;
        let weak = flows.iter().find(|(_, _, f)| {
            f.triggers.iter().any(|t| matches!(t, Trigger::Any) || (first && matches!(t, Trigger::FirstMessage)))
        });
        if let Some((id, version, _)) = weak {
            drive::to_bot(db, &chat, now)?;
            let chat = ChatInfo { handler: Handler::Bot, ..chat };
            return drive.start_version(db, &chat, id, *version, Some(&text), now);
        }
        if chat.handler == Handler::Bot {
            drive::to_humans(db, chat.id, now)?;
        }
        Ok(())
    }
}

/// The enabled flows (id, current version, checked flow), in the order their triggers
/// are tried.
fn enabled(db: &mut Db, compiled: &Compiled) -> Result<Vec<(String, i64, Arc<Flow>)>> {
    let mut out = Vec::new();
    for (id, version) in catalog::enabled(db)? {
        match compiled.get(db, version) {
            Ok(f) => out.push((id, version, f)),
            Err(e) => tracing::warn!(flow.id = id, error = %e, "an enabled flow cannot be read; skipped"),
        }
    }
    Ok(out)
}

/// Whether `message_id` opened the chat's conversation: the message before it is of
/// another conversation (or there is none).
fn opened_by(db: &mut Db, chat: &ChatInfo, message_id: i64) -> Result<bool> {
    let previous = db.query_opt(
        "SELECT conversation_id FROM messages WHERE chat_id = $1 AND id < $2 ORDER BY id DESC LIMIT 1",
        params![chat.id, message_id],
    )?;
    Ok(match previous {
        None => true,
        Some(r) => r.get::<Option<i64>>("conversation_id")? != chat.conversation_id,
    })
}

/// Whether the chat has exactly one message from its contact.
fn first_message(db: &mut Db, chat_id: i64) -> Result<bool> {
    let n: i64 = db
        .query_one(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages WHERE chat_id = $1 AND direction = 'in' LIMIT 2) m",
            params![chat_id],
        )?
        .get("n")?;
    Ok(n == 1)
}

/// Triggers that start their flow whatever the contact is doing.
pub fn strong(t: &Trigger, text: &str, pressed: bool) -> bool {
    let lower = text.trim().to_lowercase();
    match t {
        Trigger::Command { name, payload } => command(text)
            .is_some_and(|(n, p)| n == *name && payload.as_deref().is_none_or(|want| p.as_deref() == Some(want))),
        Trigger::Keyword(words) => words.contains(&lower),
        Trigger::Contains(words) => words.iter().any(|w| lower.contains(w.as_str())),
        Trigger::Regex(re) => re.is_match(text.trim()),
        Trigger::Button(label) => pressed && *label == lower,
        Trigger::FirstMessage | Trigger::Any | Trigger::Api => false,
    }
}

/// `/start PAYLOAD` or `/start@bot PAYLOAD` → ("start", Some("PAYLOAD")).
pub fn command(text: &str) -> Option<(String, Option<String>)> {
    let rest = text.trim().strip_prefix('/')?;
    let (head, payload) = match rest.split_once(char::is_whitespace) {
        Some((h, p)) => (h, Some(p.trim().to_owned()).filter(|p| !p.is_empty())),
        None => (rest, None),
    };
    let name = head.split('@').next().unwrap_or("").to_lowercase();
    (!name.is_empty()).then_some((name, payload))
}
