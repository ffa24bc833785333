//! The hook in ingest for the notifications bot: `/start <link code>` links the
//! operator's chat, and a linked operator's reply to a notification goes to the
//! customer of that chat. Everything else is ingested as a customer message. Both
//! are decided in the same transaction as the ingest they replace, so a redelivered
//! update does nothing twice.

use parley_sdk::{Content, Inbound, InboundKind, Receipt};

use super::links::{self, CODE_PREFIX, Linking};
use crate::app::App;
use crate::error::Result;
use crate::inbox::messages::{Author, enqueue};
use crate::params;
use crate::store::Db;

enum Outcome {
    Ingested(Receipt),
    Linked {
        name: String,
    },
    Refused,
    /// Nothing to do (a redelivery).
    Nothing,
    Relayed(Receipt),
}

/// What intercepted updates answer: no customer chat or message was made.
const NO_CHAT: Receipt = Receipt { chat_id: 0, message_id: 0, created: false };

/// Ingests `inbound`, unless it is a link code or a reply to a notification.
pub async fn ingest(app: &App, inbound: Inbound) -> Result<Receipt> {
    let code = inbound.start_payload.as_deref().filter(|p| p.starts_with(CODE_PREFIX)).map(str::to_owned);
    if code.is_none() && inbound.reply_to.is_none() {
        return app.ingest(inbound).await;
    }
    let now = app.now();
    let (channel_id, external_id) = (inbound.channel_id, inbound.external_id.clone());
    let outcome = app.store.write(move |db| decide(db, &inbound, code.as_deref(), now)).await?;
    let answer = match outcome {
        Outcome::Ingested(r) => return Ok(r),
        Outcome::Relayed(r) => {
            app.kick_outbox();
            return Ok(r);
        }
        Outcome::Nothing => return Ok(NO_CHAT),
        Outcome::Linked { name } => format!(
            "Connected: {name}, you will get Parley notifications here. Reply to a notification to answer the customer."
        ),
        Outcome::Refused => "This Parley link is unknown, used or expired. Open \"Connect Telegram\" again.".to_owned(),
    };
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = super::send::text(&app, channel_id, &external_id, answer).await {
            tracing::warn!(channel.id = channel_id, error = %e, "cannot answer a link code");
        }
    });
    Ok(NO_CHAT)
}

fn decide(db: &mut Db, inbound: &Inbound, code: Option<&str>, now: i64) -> Result<Outcome> {
    if let Some(code) = code {
        return Ok(match links::use_code(db, inbound.channel_id, &inbound.external_id, code, now)? {
            Linking::Linked { name, .. } => Outcome::Linked { name },
            Linking::Again => Outcome::Nothing,
            Linking::Refused => Outcome::Refused,
        });
    }
    if let Some(outcome) = relay(db, inbound, now)? {
        return Ok(outcome);
    }
    crate::inbox::ingest::ingest(db, inbound, now).map(Outcome::Ingested)
}

/// A linked operator's reply to one of their notifications: queued to the customer.
fn relay(db: &mut Db, inbound: &Inbound, now: i64) -> Result<Option<Outcome>> {
    let Some(reply_to) = inbound.reply_to.as_deref() else { return Ok(None) };
    let key = params![inbound.channel_id, inbound.platform_message_id.as_str()];
    if let Some(r) = db.query_opt(
        "SELECT r.message_id, m.chat_id FROM notify_replies r JOIN messages m ON m.id = r.message_id \
         WHERE r.channel_id = $1 AND r.platform_message_id = $2",
        key,
    )? {
        return Ok(Some(Outcome::Relayed(Receipt { chat_id: r.i64(1), message_id: r.i64(0), created: false })));
    }
    if inbound.kind != InboundKind::Message {
        return Ok(None);
    }
    let Some(r) = db.query_opt(
        "SELECT n.chat_id, n.operator_id FROM notifications n JOIN notify_links l \
         ON l.operator_id = n.operator_id AND l.channel_id = n.channel_id \
         WHERE n.channel_id = $1 AND n.platform_message_id = $2 AND l.external_id = $3",
        params![inbound.channel_id, reply_to, inbound.external_id.as_str()],
    )?
    else {
        return Ok(None);
    };
    let (chat_id, operator_id) = (r.i64(0), r.i64(1));
    let Some(text) = inbound.content.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Some(Outcome::Nothing));
    };
    let message_id = enqueue(db, chat_id, None, &Content::text(text), Author::Operator(operator_id), now)?;
    db.exec(
        "INSERT INTO notify_replies (channel_id, platform_message_id, message_id) VALUES ($1, $2, $3)",
        params![inbound.channel_id, inbound.platform_message_id.as_str(), message_id],
    )?;
    Ok(Some(Outcome::Relayed(Receipt { chat_id, message_id, created: true })))
}
