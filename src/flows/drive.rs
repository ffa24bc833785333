//! Runs meet the chat: starting a flow for a chat, handing a run what happened, and
//! carrying out the engine's effects inside the caller's transaction — bot messages
//! through `inbox::messages::enqueue` (the outbox's bot lane), HTTP calls and waits as
//! durable jobs, a handoff by giving the chat to people. Shared by the ingest hook, the
//! jobs and the API.

use std::collections::BTreeMap;

use serde_json::json;

use super::catalog::Compiled;
use super::engine::{self, Effect, Facts, RunStatus};
use super::runs::{self, Run};
use crate::config::distribution::Settings;
use crate::error::Result;
use crate::inbox::messages::{Author, enqueue, insert_note};
use crate::inbox::views;
use crate::jobs::{self, Kind};
use crate::model::{ChatStatus, Handler};
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event};

/// One flow starting another may go this deep in one go.
const MAX_CHAIN: usize = 5;

/// What the bot needs to know of a chat.
#[derive(Debug, Clone)]
pub struct ChatInfo {
    pub id: i64,
    pub contact_id: i64,
    pub conversation_id: Option<i64>,
    pub status: ChatStatus,
    pub handler: Handler,
    pub channel_kind: String,
}

/// The columns [`chat_from`] reads, for queries that want more besides.
pub const CHAT_SELECT: &str = "SELECT c.id, c.contact_id, c.conversation_id, c.status, c.handler, \
    COALESCE(ch.kind, '') AS channel_kind";
pub const CHAT_FROM: &str = "FROM chats c LEFT JOIN channels ch ON ch.id = c.active_channel_id";

pub fn chat(db: &mut Db, chat_id: i64) -> Result<ChatInfo> {
    let r = db
        .query_opt(&format!("{CHAT_SELECT} {CHAT_FROM} WHERE c.id = $1"), params![chat_id])?
        .ok_or_else(|| crate::error::not_found("chat", chat_id))?;
    chat_from(&r)
}

pub fn chat_from(r: &crate::store::Row) -> Result<ChatInfo> {
    Ok(ChatInfo {
        id: r.get("id")?,
        contact_id: r.get("contact_id")?,
        conversation_id: r.get("conversation_id")?,
        status: r.get("status")?,
        handler: r.get("handler")?,
        channel_kind: r.get("channel_kind")?,
    })
}

/// The facts conditions and templates read.
pub fn facts(db: &mut Db, chat: &ChatInfo, now: i64) -> Result<Facts> {
    let r = db.query_one(
        "SELECT first_name, last_name, username, email, phone, tags, \
         (SELECT COUNT(*) FROM operators WHERE status = 'online') AS online FROM contacts WHERE id = $1",
        params![chat.contact_id],
    )?;
    let mut contact = BTreeMap::new();
    for field in ["first_name", "last_name", "username", "email", "phone"] {
        if let Some(v) = r.get::<Option<String>>(field)? {
            contact.insert(field, v);
        }
    }
    let name = [contact.get("first_name"), contact.get("last_name")]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    contact.insert("name", name);
    Ok(Facts {
        contact,
        tags: r.get_json("tags")?,
        channel_kind: chat.channel_kind.clone(),
        operator_online: r.get::<i64>("online")? > 0,
        now_ms: now,
    })
}

/// Where the bot's decisions need the app's settings.
pub struct Drive<'a> {
    pub compiled: &'a Compiled,
    pub distribution: &'a Settings,
}

impl Drive<'_> {
    /// Starts the current version of `flow_id` for the chat, ending any other run.
    pub fn start(&self, db: &mut Db, chat: &ChatInfo, flow_id: &str, text: Option<&str>, now: i64) -> Result<()> {
        self.start_chained(db, chat, flow_id, text, now, 0)
    }

    /// [`Drive::start`] when the caller has just read the flow's current version.
    pub fn start_version(
        &self,
        db: &mut Db,
        chat: &ChatInfo,
        flow_id: &str,
        version_id: i64,
        text: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.begin(db, chat, flow_id, version_id, text, now, 0)
    }

    fn start_chained(
        &self,
        db: &mut Db,
        chat: &ChatInfo,
        flow_id: &str,
        text: Option<&str>,
        now: i64,
        depth: usize,
    ) -> Result<()> {
        let Some((version_id, _)) = super::catalog::current(db, flow_id)? else {
            tracing::warn!(flow.id = flow_id, chat.id = chat.id, "a flow to start does not exist");
            return Ok(());
        };
        self.begin(db, chat, flow_id, version_id, text, now, depth)
    }

    #[expect(clippy::too_many_arguments, reason = "the start's whole context; split it would hide nothing")]
    fn begin(
        &self,
        db: &mut Db,
        chat: &ChatInfo,
        flow_id: &str,
        version_id: i64,
        text: Option<&str>,
        now: i64,
        depth: usize,
    ) -> Result<()> {
        runs::stop_all(db, chat.id, now)?;
        let flow = self.compiled.get(db, version_id)?;
        let facts = facts(db, chat, now)?;
        let (state, effects) = engine::start(&flow, &facts, text);
        let owner =
            runs::Owner { contact_id: chat.contact_id, chat_id: chat.id, conversation_id: chat.conversation_id };
        let run_id = runs::begin(db, &owner, flow_id, version_id, &state, now)?;
        // A restart of the same flow reuses the row: its old call and timer go.
        runs::cancel_jobs(db, run_id)?;
        let run = Run {
            id: run_id,
            contact_id: chat.contact_id,
            chat_id: chat.id,
            flow_id: flow_id.to_owned(),
            version_id,
            conversation_id: chat.conversation_id,
            state,
        };
        // `begin` stored the state the start left the run in.
        self.apply(db, chat, run, effects, now, depth)
    }

    /// Stores the run's new state and carries out its effects, in order.
    pub fn carry(&self, db: &mut Db, chat: &ChatInfo, run: Run, effects: Vec<Effect>, now: i64) -> Result<()> {
        runs::save(db, run.id, &run.state, now)?;
        self.apply(db, chat, run, effects, now, 0)
    }

    fn apply(
        &self,
        db: &mut Db,
        chat: &ChatInfo,
        run: Run,
        effects: Vec<Effect>,
        now: i64,
        depth: usize,
    ) -> Result<()> {
        let mut counts: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
        let mut then = None;
        for e in &effects {
            match e {
                Effect::Send { content } => {
                    enqueue(db, chat.id, None, content, Author::Bot, now)?;
                }
                Effect::Http { request } => {
                    let payload = json!({"run_id": run.id, "step": run.state.step, "request": request});
                    jobs::schedule(db, Kind::FlowHttp, &runs::http_key(run.id), &payload, now, now)?;
                }
                Effect::Wait { until_ms } => {
                    let payload = json!({"run_id": run.id, "step": run.state.step});
                    jobs::schedule(db, Kind::FlowWait, &runs::wait_key(run.id), &payload, *until_ms, now)?;
                }
                Effect::Handoff { operator, note } => {
                    self.handoff(db, chat, &run.flow_id, operator.as_deref(), note.as_deref(), now)?
                }
                Effect::StartFlow { flow } => then = Some(flow.clone()),
                Effect::Close => crate::inbox::chats::close_by(db, chat.id, None, now).map(|_| ())?,
                // The same opt-out as `/stop` and the contact card's switch: broadcasts skip them.
                Effect::Unsubscribe => {
                    crate::inbox::contacts::set_unsubscribed(db, chat.contact_id, true, now).map(drop)?
                }
                Effect::Tags { add, remove } => tags(db, chat, add, remove, now)?,
                Effect::Contact { field, value } => contact_field(db, chat, field, value, now)?,
                Effect::Entered { step } => counts.entry(step).or_default().0 += 1,
                Effect::Left { step } => counts.entry(step).or_default().1 += 1,
                Effect::Dropped { step } => counts.entry(step).or_default().2 += 1,
            }
        }
        for (step, (entered, finished, dropped)) in counts {
            runs::count(db, &run.flow_id, step, entered, finished, dropped)?;
        }
        if let Some(flow) = then
            && depth < MAX_CHAIN
        {
            let text = run.state.message_text.clone();
            self.start_chained(db, chat, &flow, text.as_deref(), now, depth + 1)?;
        }
        Ok(())
    }

    /// The chat goes to people: its handler is `human`, the contact's last message is
    /// unread for them, and distribution hands it out as any chat (or to the operator
    /// the flow names).
    fn handoff(
        &self,
        db: &mut Db,
        chat: &ChatInfo,
        flow_id: &str,
        operator: Option<&str>,
        note: Option<&str>,
        now: i64,
    ) -> Result<()> {
        to_humans(db, chat.id, now)?;
        let text = match note {
            Some(n) => format!("The bot (flow {flow_id}) handed this chat over: {n}"),
            None => format!("The bot (flow {flow_id}) handed this chat over."),
        };
        let note_id = insert_note(db, chat.id, Author::System, &text, now)?;
        let message = views::message(db, note_id)?;
        let c = views::chat(db, chat.id)?;
        crate::inbox::messages::announce(db, &message, &c, now)?;
        let assignee: Option<i64> =
            db.query_one("SELECT assignee_id FROM chats WHERE id = $1", params![chat.id])?.get("assignee_id")?;
        let wanted = match operator {
            Some(email) => db
                .query_opt("SELECT id FROM operators WHERE email = $1", params![email])?
                .map(|r| r.get::<i64>("id"))
                .transpose()?,
            None => None,
        };
        match (wanted, assignee) {
            (Some(to), from) if from != Some(to) => {
                let reason = crate::inbox::assignments::Reason::Policy;
                crate::distribution::assign::assign(db, chat.id, from, Some(to), reason, None, now)?;
            }
            (None, Some(_)) => {
                // The chat's assignee of an earlier conversation: back to them if they
                // are Online, otherwise the policy or the queue, as for a reopened chat.
                crate::distribution::route::reopened(db, self.distribution, chat.id, now)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The bot takes the chat: not handed out, not unread for operators.
pub fn to_bot(db: &mut Db, chat: &ChatInfo, now: i64) -> Result<()> {
    if chat.handler == Handler::Bot {
        return Ok(());
    }
    db.exec(
        "UPDATE chats SET handler = $1, unread_count = 0, updated_at = $2 WHERE id = $3",
        params![Handler::Bot, now, chat.id],
    )?;
    let c = views::chat(db, chat.id)?;
    events::append(db, Some(chat.id), Event::chat_updated(&c), now)?;
    Ok(())
}

/// The chat goes to operators, its last message unread for them.
pub fn to_humans(db: &mut Db, chat_id: i64, now: i64) -> Result<()> {
    db.exec(
        "UPDATE chats SET handler = $1, unread_count = CASE WHEN unread_count = 0 THEN 1 ELSE unread_count END, \
         updated_at = $2 WHERE id = $3",
        params![Handler::Human, now, chat_id],
    )?;
    let c = views::chat(db, chat_id)?;
    events::append(db, Some(chat_id), Event::chat_updated(&c), now)?;
    Ok(())
}

fn tags(db: &mut Db, chat: &ChatInfo, add: &[String], remove: &[String], now: i64) -> Result<()> {
    let r = db.query_one("SELECT tags FROM contacts WHERE id = $1", params![chat.contact_id])?;
    let mut tags: Vec<String> = r.get_json("tags")?;
    let before = tags.clone();
    tags.retain(|t| !remove.iter().any(|x| x.eq_ignore_ascii_case(t)));
    for t in add {
        if !tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
            tags.push(t.trim().to_owned());
        }
    }
    if tags != before {
        db.exec(
            "UPDATE contacts SET tags = $1, updated_at = $2 WHERE id = $3",
            params![json!(tags).to_string(), now, chat.contact_id],
        )?;
        let contact = views::contact(db, chat.contact_id)?;
        events::append(db, Some(chat.id), Event::contact_updated(&contact), now)?;
    }
    Ok(())
}

fn contact_field(db: &mut Db, chat: &ChatInfo, field: &str, value: &str, now: i64) -> Result<()> {
    let value = value.trim();
    let sql = match field {
        "first_name" => "UPDATE contacts SET first_name = $1, updated_at = $2 WHERE id = $3",
        "last_name" => "UPDATE contacts SET last_name = $1, updated_at = $2 WHERE id = $3",
        "email" => {
            let Some(key) = crate::inbox::contacts::email_key(value) else { return Ok(()) };
            db.exec("UPDATE contacts SET email_lc = $1 WHERE id = $2", params![key, chat.contact_id])?;
            "UPDATE contacts SET email = $1, updated_at = $2 WHERE id = $3"
        }
        "phone" => {
            let Some(key) = crate::inbox::contacts::phone_key(value) else { return Ok(()) };
            db.exec("UPDATE contacts SET phone_e164 = $1 WHERE id = $2", params![key, chat.contact_id])?;
            "UPDATE contacts SET phone = $1, updated_at = $2 WHERE id = $3"
        }
        _ => return Ok(()),
    };
    db.exec(sql, params![value, now, chat.contact_id])?;
    crate::inbox::contacts::index_terms(db, chat.contact_id)?;
    let contact = views::contact(db, chat.contact_id)?;
    events::append(db, Some(chat.id), Event::contact_updated(&contact), now)?;
    Ok(())
}

/// Whether a stored run still speaks for its chat: active, of the chat's open
/// conversation, with the bot handling it.
pub fn current(run: &Run, chat: &ChatInfo) -> bool {
    run.state.status == RunStatus::Active
        && run.conversation_id == chat.conversation_id
        && chat.handler == Handler::Bot
        && chat.status == ChatStatus::Open
}
