//! Runs as stored: one per contact and flow (a new start of the same flow takes the
//! same row), the state in typed columns, the flow's variables as a JSON object of
//! strings. At most one run of a chat is active; it belongs to the conversation it
//! started in, so a chat closed and opened again starts afresh.

use std::collections::BTreeMap;

use super::engine::{RunStatus, State, Waiting};
use crate::error::Result;
use crate::params;
use crate::store::{Db, Row};

#[derive(Debug, Clone)]
pub struct Run {
    pub id: i64,
    pub contact_id: i64,
    pub chat_id: i64,
    pub flow_id: String,
    pub version_id: i64,
    pub conversation_id: Option<i64>,
    pub state: State,
}

const SELECT: &str = "SELECT id, contact_id, chat_id, flow_id, version_id, conversation_id, step, status, waiting, \
    attempts, vars, message_text FROM flow_runs";

fn from_row(r: &Row) -> Result<Run> {
    Ok(Run {
        id: r.get("id")?,
        contact_id: r.get("contact_id")?,
        chat_id: r.get("chat_id")?,
        flow_id: r.get("flow_id")?,
        version_id: r.get("version_id")?,
        conversation_id: r.get("conversation_id")?,
        state: State {
            step: r.get("step")?,
            status: r.get("status")?,
            waiting: r.get("waiting")?,
            attempts: r.get::<i64>("attempts")?.clamp(0, u32::MAX as i64) as u32,
            vars: r.get_json::<BTreeMap<String, String>>("vars")?,
            message_text: r.get("message_text")?,
        },
    })
}

/// The chat's active run, if any.
pub fn active(db: &mut Db, chat_id: i64) -> Result<Option<Run>> {
    db.query_opt(&format!("{SELECT} WHERE chat_id = $1 AND status = $2 LIMIT 1"), params![chat_id, RunStatus::Active])?
        .map(|r| from_row(&r))
        .transpose()
}

pub fn get(db: &mut Db, id: i64) -> Result<Option<Run>> {
    db.query_opt(&format!("{SELECT} WHERE id = $1"), params![id])?.map(|r| from_row(&r)).transpose()
}

/// Whose run it is: the contact, their chat, the conversation it belongs to.
pub struct Owner {
    pub contact_id: i64,
    pub chat_id: i64,
    pub conversation_id: Option<i64>,
}

/// Stores a run that starts now (replacing the contact's earlier run of the flow);
/// returns its id.
pub fn begin(db: &mut Db, owner: &Owner, flow_id: &str, version_id: i64, state: &State, now: i64) -> Result<i64> {
    let Owner { contact_id, chat_id, conversation_id } = *owner;
    let vars = serde_json::to_string(&state.vars).unwrap_or_else(|_| "{}".into());
    let id = db
        .query_one(
            "INSERT INTO flow_runs (contact_id, chat_id, flow_id, version_id, conversation_id, step, status, waiting, \
             attempts, vars, message_text, started_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (contact_id, flow_id) DO UPDATE SET chat_id = excluded.chat_id, version_id = excluded.version_id, \
             conversation_id = excluded.conversation_id, step = excluded.step, status = excluded.status, \
             waiting = excluded.waiting, attempts = excluded.attempts, vars = excluded.vars, \
             message_text = excluded.message_text, started_at = excluded.started_at, updated_at = excluded.updated_at \
             RETURNING id",
            params![
                contact_id,
                chat_id,
                flow_id,
                version_id,
                conversation_id,
                state.step.as_str(),
                state.status,
                state.waiting,
                state.attempts as i64,
                vars,
                state.message_text.as_deref(),
                now
            ],
        )?
        .get("id")?;
    Ok(id)
}

/// Writes a run's new state.
pub fn save(db: &mut Db, id: i64, state: &State, now: i64) -> Result<()> {
    let vars = serde_json::to_string(&state.vars).unwrap_or_else(|_| "{}".into());
    db.exec(
        "UPDATE flow_runs SET step = $1, status = $2, waiting = $3, attempts = $4, vars = $5, message_text = $6, \
         updated_at = $7 WHERE id = $8",
        params![
            state.step.as_str(),
            state.status,
            state.waiting,
            state.attempts as i64,
            vars,
            state.message_text.as_deref(),
            now,
            id
        ],
    )?;
    Ok(())
}

/// Ends a run that will not go on (another flow started, an operator took over).
pub fn stop(db: &mut Db, id: i64, now: i64) -> Result<()> {
    cancel_jobs(db, id)?;
    db.exec(
        "UPDATE flow_runs SET status = $1, waiting = $2, updated_at = $3 WHERE id = $4 AND status = $5",
        params![RunStatus::Stopped, Waiting::Nothing, now, id, RunStatus::Active],
    )?;
    Ok(())
}

/// Stops every active run of the chat.
pub fn stop_all(db: &mut Db, chat_id: i64, now: i64) -> Result<()> {
    while let Some(run) = active(db, chat_id)? {
        stop(db, run.id, now)?;
    }
    Ok(())
}

pub fn http_key(run_id: i64) -> String {
    format!("flow_http/{run_id}")
}

pub fn wait_key(run_id: i64) -> String {
    format!("flow_wait/{run_id}")
}

/// Drops the run's pending call and timer.
pub fn cancel_jobs(db: &mut Db, run_id: i64) -> Result<()> {
    crate::jobs::cancel(db, &http_key(run_id))?;
    crate::jobs::cancel(db, &wait_key(run_id))?;
    Ok(())
}

/// Adds the counts of entered, finished and dropped per step.
pub fn count(db: &mut Db, flow_id: &str, step: &str, entered: i64, finished: i64, dropped: i64) -> Result<()> {
    db.exec(
        "INSERT INTO flow_step_counts (flow_id, step, entered, finished, dropped) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (flow_id, step) DO UPDATE SET entered = flow_step_counts.entered + excluded.entered, \
         finished = flow_step_counts.finished + excluded.finished, dropped = flow_step_counts.dropped + excluded.dropped",
        params![flow_id, step, entered, finished, dropped],
    )?;
    Ok(())
}
