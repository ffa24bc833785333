//! The notifications bot's hook in the ingest door ([`crate::inbox::door`]):
//! `/start <link code>` links the operator's chat, and a linked operator's reply to a
//! notification goes to the customer of that chat. Everything else passes on to the
//! inbox. Decided in the ingest transaction, answers queued in the outbox with it, so a
//! redelivered update does nothing twice.

use parley_sdk::{Content, Inbound, InboundKind, Receipt};

use super::links::{self, CODE_PREFIX, Linking};
use crate::error::Result;
use crate::inbox::door::{IngestHook, Verdict};
use crate::inbox::messages::{Author, enqueue};
use crate::params;
use crate::store::Db;

/// What intercepted updates answer: no customer chat or message was made.
const NO_CHAT: Receipt = Receipt { chat_id: 0, message_id: 0, created: false };

pub struct Intercept;

impl IngestHook for Intercept {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn before(&self, db: &mut Db, inbound: &Inbound, now: i64) -> Result<Verdict> {
        if let Some(code) = inbound.start_payload.as_deref().filter(|p| p.starts_with(CODE_PREFIX)) {
            return link(db, inbound, code, now);
        }
        relay(db, inbound, now)
    }
}

fn link(db: &mut Db, inbound: &Inbound, code: &str, now: i64) -> Result<Verdict> {
    let answer = match links::use_code(db, inbound.channel_id, &inbound.external_id, code, now)? {
        Linking::Linked { name, .. } => format!(
            "Connected: {name}, you will get Parley notifications here. Reply to a notification to answer the customer."
        ),
        Linking::Again => return Ok(Verdict::Taken(NO_CHAT)),
        Linking::Refused => {
            "This Parley link is unknown, used or expired. Open \"Connect Telegram\" or \"Connect Discord\" again."
                .to_owned()
        }
    };
    crate::outbox::queue::text(db, inbound.channel_id, &inbound.external_id, &answer, None, now)?;
    Ok(Verdict::Taken(NO_CHAT))
}

/// A linked operator's reply to one of their notifications: queued to the customer.
fn relay(db: &mut Db, inbound: &Inbound, now: i64) -> Result<Verdict> {
    let Some(reply_to) = inbound.reply_to.as_deref() else { return Ok(Verdict::Pass) };
    let key = params![inbound.channel_id, inbound.platform_message_id.as_str()];
    if let Some(r) = db.query_opt(
        "SELECT r.message_id, m.chat_id FROM notify_replies r JOIN messages m ON m.id = r.message_id \
         WHERE r.channel_id = $1 AND r.platform_message_id = $2",
        key,
    )? {
        return Ok(Verdict::Taken(Receipt {
            chat_id: r.get("chat_id")?,
            message_id: r.get("message_id")?,
            created: false,
        }));
    }
    if inbound.kind != InboundKind::Message {
        return Ok(Verdict::Pass);
    }
    let Some(r) = db.query_opt(
        "SELECT n.chat_id, n.operator_id FROM notifications n JOIN notify_links l \
         ON l.operator_id = n.operator_id AND l.channel_id = n.channel_id \
         WHERE n.channel_id = $1 AND n.platform_message_id = $2 AND l.external_id = $3",
        params![inbound.channel_id, reply_to, inbound.external_id.as_str()],
    )?
    else {
        return Ok(Verdict::Pass);
    };
    let (chat_id, operator_id): (i64, i64) = (r.get("chat_id")?, r.get("operator_id")?);
    let Some(text) = inbound.content.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Verdict::Taken(NO_CHAT));
    };
    let message_id = enqueue(db, chat_id, None, &Content::text(text), Author::Operator(operator_id), now)?;
    db.exec(
        "INSERT INTO notify_replies (channel_id, platform_message_id, message_id) VALUES ($1, $2, $3)",
        params![inbound.channel_id, inbound.platform_message_id.as_str(), message_id],
    )?;
    Ok(Verdict::Taken(Receipt { chat_id, message_id, created: true }))
}
