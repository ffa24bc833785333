//! What operators do with the bot for one contact: start a flow for them, pause the bot
//! (no flow starts or goes on; the chat is the operators'), resume it.

use serde::Serialize;

use super::drive::{self, ChatInfo, Drive};
use super::runs;
use crate::error::{Error, Result};
use crate::inbox::Viewer;
use crate::model::{ChatStatus, Handler};
use crate::params;
use crate::store::Db;

/// The bot's standing with one contact.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BotState {
    pub contact_id: i64,
    pub chat_id: i64,
    /// `bot` or `human`: who answers the chat now.
    pub handler: Handler,
    pub paused: bool,
    /// The flow of the active run, and its step.
    pub flow: Option<String>,
    pub step: Option<String>,
}

fn chat_of(db: &mut Db, viewer: &Viewer, contact_id: i64) -> Result<ChatInfo> {
    let chat_id: i64 = db
        .query_opt("SELECT id FROM chats WHERE contact_id = $1", params![contact_id])?
        .ok_or_else(|| Error::NotFound(format!("contact {contact_id} has no chat")))?
        .get("id")?;
    crate::inbox::access::chat(db, viewer, chat_id)?;
    drive::chat(db, chat_id)
}

pub fn state(db: &mut Db, viewer: &Viewer, contact_id: i64) -> Result<BotState> {
    let chat = chat_of(db, viewer, contact_id)?;
    let paused = db.query_opt("SELECT 1 FROM flow_pauses WHERE contact_id = $1", params![contact_id])?.is_some();
    let run = runs::active(db, chat.id)?;
    Ok(BotState {
        contact_id,
        chat_id: chat.id,
        handler: chat.handler,
        paused,
        flow: run.as_ref().map(|r| r.flow_id.clone()),
        step: run.map(|r| r.state.step),
    })
}

/// Starts `flow_id` for the contact now (reopening a closed chat), whatever their chat
/// was doing; a pause is lifted.
pub fn start(
    db: &mut Db,
    drive: &Drive,
    viewer: &Viewer,
    contact_id: i64,
    flow_id: &str,
    now: i64,
) -> Result<BotState> {
    if super::catalog::current(db, flow_id)?.is_none() {
        return Err(crate::error::not_found("flow", flow_id));
    }
    let mut chat = chat_of(db, viewer, contact_id)?;
    db.exec("DELETE FROM flow_pauses WHERE contact_id = $1", params![contact_id])?;
    if chat.status == ChatStatus::Closed {
        crate::inbox::chats::reopen(db, viewer, chat.id, now)?;
        chat = drive::chat(db, chat.id)?;
    }
    drive::to_bot(db, &chat, now)?;
    let chat = ChatInfo { handler: Handler::Bot, ..chat };
    drive.start(db, &chat, flow_id, None, now)?;
    state(db, viewer, contact_id)
}

/// Pauses the bot for the contact: its run stops and the chat is the operators'.
pub fn pause(db: &mut Db, viewer: &Viewer, contact_id: i64, now: i64) -> Result<BotState> {
    let chat = chat_of(db, viewer, contact_id)?;
    db.exec(
        "INSERT INTO flow_pauses (contact_id, paused_by, paused_at) VALUES ($1, $2, $3) ON CONFLICT (contact_id) DO NOTHING",
        params![contact_id, viewer.operator_id, now],
    )?;
    runs::stop_all(db, chat.id, now)?;
    if chat.handler == Handler::Bot {
        drive::to_humans(db, chat.id, now)?;
    }
    state(db, viewer, contact_id)
}

/// Lets the bot answer the contact again, from their next conversation (or their next
/// message, if the bot had the chat).
pub fn resume(db: &mut Db, viewer: &Viewer, contact_id: i64) -> Result<BotState> {
    chat_of(db, viewer, contact_id)?;
    db.exec("DELETE FROM flow_pauses WHERE contact_id = $1", params![contact_id])?;
    state(db, viewer, contact_id)
}
