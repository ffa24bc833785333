//! The ingest hook that notifies an operator, in their linked messenger, of a contact's
//! message in a chat assigned to them while they have no console open on any node.
//! Decided in the ingest transaction (the notice and its outbox text commit with the
//! message, once, whatever the redeliveries), so the common case — an unassigned chat,
//! or an operator at the console — costs one read of the chat's assignee.

use parley_sdk::{Inbound, Receipt};

use crate::distribution::Presence;
use crate::error::Result;
use crate::inbox::door::IngestHook;
use crate::inbox::views;
use crate::store::Db;

pub struct Away {
    /// This node's consoles.
    pub presence: Presence,
}

impl IngestHook for Away {
    fn name(&self) -> &'static str {
        "notify-away"
    }

    fn after(&self, db: &mut Db, _inbound: &Inbound, receipt: &Receipt, now: i64) -> Result<()> {
        if !receipt.created {
            return Ok(()); // a redelivery: noticed when it was new
        }
        let chat_id = receipt.chat_id;
        let Some(operator_id) = crate::inbox::access::assignee(db, chat_id)? else {
            return Ok(());
        };
        if self.presence.connections(operator_id) > 0
            || crate::distribution::presence::open_elsewhere(db, operator_id, self.presence.node(), now)?
        {
            return Ok(()); // they see it in the console
        }
        let (chat, message) = (views::chat(db, chat_id)?, views::message(db, receipt.message_id)?);
        let text = format!("{}: {}\n\nReply to this message to answer.", chat.contact.name, super::summary(&message));
        super::notice(db, super::Subject::Message(receipt.message_id), operator_id, chat_id, &text, now)?;
        Ok(())
    }
}
