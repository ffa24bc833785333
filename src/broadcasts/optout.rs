//! Opting out of broadcasts from the messenger: `/stop` (Telegram's convention), one of
//! the unsubscribe words, or a broadcast's unsubscribe button. An ingest hook: the
//! contact is marked unsubscribed and told so, in the ingest transaction, and the word
//! does not reopen the chat for an operator. `/start` or "subscribe" from an
//! unsubscribed contact subscribes them again and goes on to the inbox as usual.

use parley_sdk::{Content, Inbound, InboundKind, Receipt};

use super::feed::UNSUBSCRIBE_DATA;
use crate::error::Result;
use crate::inbox::door::{IngestHook, Verdict};
use crate::inbox::{contacts, messages};
use crate::params;
use crate::store::Db;

pub struct OptOut {
    /// Lower case.
    words: Vec<String>,
    confirmation: String,
}

impl OptOut {
    pub fn new(settings: &crate::config::Broadcasts) -> OptOut {
        OptOut {
            words: settings
                .unsubscribe_words
                .iter()
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
            confirmation: settings.unsubscribed_text.clone(),
        }
    }
}

/// What a message asks of the subscription, if anything.
#[derive(Debug, PartialEq, Eq)]
enum Ask {
    Stop,
    Start,
}

/// `/stop`, `/stop@bot`: a bot command, possibly addressed to the bot by name.
fn is_command(text: &str, name: &str) -> bool {
    text.strip_prefix(name).is_some_and(|rest| rest.is_empty() || rest.starts_with('@') || rest.starts_with(' '))
}

impl OptOut {
    fn ask(&self, inbound: &Inbound) -> Option<Ask> {
        let text = match &inbound.kind {
            InboundKind::ButtonPress { data } if data == UNSUBSCRIBE_DATA => return Some(Ask::Stop),
            InboundKind::Message => inbound.content.text.as_deref()?.trim().to_lowercase(),
            _ => return None,
        };
        if is_command(&text, "/stop") || self.words.contains(&text) {
            Some(Ask::Stop)
        } else if is_command(&text, "/start") || text == "subscribe" {
            Some(Ask::Start)
        } else {
            None
        }
    }
}

impl IngestHook for OptOut {
    fn name(&self) -> &'static str {
        "broadcasts.optout"
    }

    fn before(&self, db: &mut Db, inbound: &Inbound, now: i64) -> Result<Verdict> {
        let Some(ask) = self.ask(inbound) else { return Ok(Verdict::Pass) };
        let Some(me) = db.query_opt(
            "SELECT i.contact_id, ct.unsubscribed_at, c.id AS chat_id FROM identities i \
             JOIN contacts ct ON ct.id = i.contact_id LEFT JOIN chats c ON c.contact_id = i.contact_id \
             WHERE i.channel_id = $1 AND i.external_id = $2",
            params![inbound.channel_id, inbound.external_id.as_str()],
        )?
        else {
            // A first message: the contact is created by the inbox as usual.
            return Ok(Verdict::Pass);
        };
        let contact_id: i64 = me.get("contact_id")?;
        let unsubscribed = me.get::<Option<i64>>("unsubscribed_at")?.is_some();
        let chat_id: Option<i64> = me.get("chat_id")?;
        match ask {
            Ask::Start => {
                if unsubscribed {
                    contacts::set_unsubscribed(db, contact_id, false, now)?;
                }
                Ok(Verdict::Pass)
            }
            Ask::Stop => {
                let mut receipt = Receipt { chat_id: chat_id.unwrap_or(0), message_id: 0, created: false };
                // Told once: a redelivered `/stop` finds the contact unsubscribed already.
                if !unsubscribed {
                    contacts::set_unsubscribed(db, contact_id, true, now)?;
                    if let Some(chat_id) = chat_id {
                        let content = Content::text(self.confirmation.clone());
                        let author = messages::Author::System;
                        receipt.message_id =
                            messages::enqueue(db, chat_id, Some(inbound.channel_id), &content, author, now)?;
                    }
                }
                Ok(Verdict::Taken(receipt))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use parley_sdk::Profile;

    use super::*;

    fn inbound(kind: InboundKind, text: &str) -> Inbound {
        Inbound {
            channel_id: 1,
            external_id: "u".into(),
            platform_message_id: "m".into(),
            kind,
            profile: Profile::default(),
            content: Content::text(text),
            reply_to: None,
            start_payload: None,
        }
    }

    #[test]
    fn stop_words_and_the_button_unsubscribe_start_subscribes() {
        let hook = OptOut::new(&crate::config::Broadcasts::default());
        let ask = |kind, text| hook.ask(&inbound(kind, text));
        assert_eq!(ask(InboundKind::Message, "/stop"), Some(Ask::Stop));
        assert_eq!(ask(InboundKind::Message, "/stop@parley_bot"), Some(Ask::Stop));
        assert_eq!(ask(InboundKind::Message, "  Unsubscribe "), Some(Ask::Stop));
        assert_eq!(ask(InboundKind::Message, "please stop calling"), None, "a sentence is a message");
        assert_eq!(ask(InboundKind::Message, "/stopwatch"), None);
        assert_eq!(ask(InboundKind::ButtonPress { data: UNSUBSCRIBE_DATA.into() }, ""), Some(Ask::Stop));
        assert_eq!(ask(InboundKind::ButtonPress { data: "other".into() }, "stop"), None);
        assert_eq!(ask(InboundKind::Message, "/start"), Some(Ask::Start));
        assert_eq!(ask(InboundKind::Message, "/start promo"), Some(Ask::Start));
        assert_eq!(ask(InboundKind::Edit, "stop"), None);
    }
}
