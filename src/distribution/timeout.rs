//! The answer timeout, as a durable job per chat ([`crate::jobs`]): when the distributor
//! hands a chat out, a job watches it ([`crate::inbox::assignments::watch`]); if the assignee has not answered when the
//! timeout is up, the chat goes to the next Online operator with room, with a note
//! saying why. The job survives restarts; answering, closing or moving the chat makes it
//! end quietly when it runs.

use super::assign::{assign, duration_words, operator_name};
use super::policy;
use super::route::{CHAT, ChatCheck};
use super::settings::Settings;
use crate::error::Result;
use crate::inbox::assignments::{Reason, Watch};
use crate::jobs::{self, Done, Job, Kind};
use crate::model::{AuthorKind, ChatStatus, MessageKind};
use crate::params;
use crate::store::Db;

/// With nobody else to take an overdue chat, it is looked at again this much later.
const AGAIN_MS: i64 = 1_000;

/// The job's handler.
pub struct AnswerTimeout {
    settings: Settings,
}

impl AnswerTimeout {
    pub fn new(settings: Settings) -> Self {
        AnswerTimeout { settings }
    }
}

impl jobs::Handler for AnswerTimeout {
    fn kind(&self) -> Kind {
        Kind::AnswerTimeout
    }

    fn run(&self, db: &mut Db, job: &Job, now: i64) -> Result<Done> {
        let timeout = self.settings.answer_timeout_seconds;
        let Ok(w) = serde_json::from_value::<Watch>(job.payload.clone()) else {
            tracing::warn!(job.id = job.id, "an answer-timeout job without its chat; dropped");
            return Ok(Done::Finished);
        };
        if timeout <= 0 {
            return Ok(Done::Finished);
        }
        let due = w.assigned_at + timeout * 1000;
        if now < due {
            return Ok(Done::Later(due));
        }
        let chat = db.query_opt(&format!("{CHAT} WHERE c.id = $1"), params![w.chat_id])?;
        let chat = chat.as_ref().map(ChatCheck::from_row).transpose()?;
        let current = chat
            .is_some_and(|c| c.status == ChatStatus::Open && c.assignee_id == Some(w.operator_id) && c.distribution);
        if !current || answered(db, &w)? {
            return Ok(Done::Finished);
        }
        policy::take_turn(db)?;
        let candidates = policy::candidates(db)?;
        let Some(next) = policy::choose(&self.settings, &candidates, Some(w.operator_id)) else {
            return Ok(Done::Later(now + AGAIN_MS));
        };
        let note = format!(
            "{} did not answer within {}; the chat went to {}.",
            operator_name(db, w.operator_id)?,
            duration_words(timeout),
            operator_name(db, next)?
        );
        if let Some(a) = assign(db, w.chat_id, Some(w.operator_id), Some(next), Reason::NoAnswer, Some(&note), now)? {
            tracing::info!(chat.id = a.chat_id, operator.id = a.operator_id, "unanswered chat moved on");
            metrics::counter!("parley_distribution_assigned_total", "reason" => Reason::NoAnswer.as_str()).increment(1);
        }
        // The new assignee's watch replaced this job under the same key.
        Ok(Done::Finished)
    }
}

fn answered(db: &mut Db, w: &Watch) -> Result<bool> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM messages WHERE chat_id = $1 AND id > $2 AND author_kind = $3 AND kind = $4 LIMIT 1",
            params![w.chat_id, w.after_message_id, AuthorKind::Operator, MessageKind::Message],
        )?
        .is_some())
}
