//! The one door into the inbox: every inbound event, from every channel (the widget
//! included), enters through [`ingest`], in one write transaction. An ordered list of
//! hooks decides inside that transaction: before the message is stored, a hook may take
//! it instead of the inbox (the notifications bot takes link codes and operators'
//! replies); after, each hook sees what was stored (the bot flow engine will claim the
//! chat there). A redelivered update meets the same decisions, so nothing happens twice.

use std::sync::Arc;

use parley_sdk::{Inbound, Receipt};

use crate::error::Result;
use crate::store::Db;

/// What a hook decided before ingest.
pub enum Verdict {
    /// Not for this hook: the next one, then the inbox, sees it.
    Pass,
    /// Taken: nothing more is done with it; the platform is answered with this receipt.
    Taken(Receipt),
}

/// A decision in the ingest transaction.
pub trait IngestHook: Send + Sync + 'static {
    /// For logs.
    fn name(&self) -> &'static str;

    /// Before the inbox stores `inbound`: take it or pass it on.
    fn before(&self, _db: &mut Db, _inbound: &Inbound, _now: i64) -> Result<Verdict> {
        Ok(Verdict::Pass)
    }

    /// After the inbox stored `inbound` as a new message (`receipt.created`).
    fn after(&self, _db: &mut Db, _inbound: &Inbound, _receipt: &Receipt, _now: i64) -> Result<()> {
        Ok(())
    }
}

/// The hooks, in the order they decide; cheap to clone into a write job.
#[derive(Clone, Default)]
pub struct Hooks(Arc<Vec<Arc<dyn IngestHook>>>);

impl Hooks {
    pub fn new(hooks: Vec<Arc<dyn IngestHook>>) -> Hooks {
        Hooks(Arc::new(hooks))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|h| h.name()).collect()
    }
}

/// Runs the hooks and the inbox's ingest for one inbound event.
pub fn ingest(db: &mut Db, hooks: &Hooks, inbound: &Inbound, now: i64) -> Result<Receipt> {
    for hook in hooks.0.iter() {
        if let Verdict::Taken(receipt) = hook.before(db, inbound, now)? {
            tracing::debug!(hook = hook.name(), "an inbound event was taken before ingest");
            return Ok(receipt);
        }
    }
    let receipt = super::ingest::ingest(db, inbound, now)?;
    if receipt.created {
        for hook in hooks.0.iter() {
            hook.after(db, inbound, &receipt, now)?;
        }
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use parley_sdk::{Content, InboundKind, Profile};

    use super::*;
    use crate::store::Store;

    /// Writes down what it was asked, and takes messages that say "mine".
    struct Recorder {
        name: &'static str,
        takes: bool,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl IngestHook for Recorder {
        fn name(&self) -> &'static str {
            self.name
        }
        fn before(&self, _db: &mut Db, inbound: &Inbound, _now: i64) -> Result<Verdict> {
            self.seen.lock().unwrap().push(format!("{} before {}", self.name, inbound.platform_message_id));
            if self.takes && inbound.content.text.as_deref() == Some("mine") {
                return Ok(Verdict::Taken(Receipt { chat_id: 0, message_id: 0, created: false }));
            }
            Ok(Verdict::Pass)
        }
        fn after(&self, _db: &mut Db, inbound: &Inbound, receipt: &Receipt, _now: i64) -> Result<()> {
            assert!(receipt.created && receipt.message_id > 0);
            self.seen.lock().unwrap().push(format!("{} after {}", self.name, inbound.platform_message_id));
            Ok(())
        }
    }

    fn inbound(channel_id: i64, id: &str, text: &str) -> Inbound {
        Inbound {
            channel_id,
            external_id: "u1".into(),
            platform_message_id: id.into(),
            kind: InboundKind::Message,
            profile: Profile::default(),
            content: Content::text(text),
            reply_to: None,
            start_payload: None,
        }
    }

    #[tokio::test]
    async fn hooks_decide_in_order_a_taker_stops_the_rest_and_after_sees_only_new_messages() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()), 1)?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hook = |name, takes| -> Arc<dyn IngestHook> { Arc::new(Recorder { name, takes, seen: seen.clone() }) };
        let hooks = Hooks::new(vec![hook("first", false), hook("taker", true), hook("last", false)]);
        assert_eq!(hooks.names(), ["first", "taker", "last"]);
        let counts = store
            .write(move |db| -> Result<(i64, i64)> {
                let channel = db
                    .query_one(
                        "INSERT INTO channels (kind, name, key, created_at) VALUES ('webhook', 'Hooks', 'k', 0) RETURNING id",
                        &[],
                    )?
                    .get("id")?;
                ingest(db, &hooks, &inbound(channel, "m1", "hello"), 1)?;
                let taken = ingest(db, &hooks, &inbound(channel, "m2", "mine"), 2)?;
                assert!(!taken.created);
                let again = ingest(db, &hooks, &inbound(channel, "m1", "hello"), 3)?;
                assert!(!again.created, "a redelivery is a no-op");
                let count = |db: &mut Db, id: &str| -> Result<i64> {
                    Ok(db
                        .query_one("SELECT COUNT(*) AS n FROM messages WHERE platform_message_id = $1", crate::params![id])?
                        .get("n")?)
                };
                Ok((count(db, "m1")?, count(db, "m2")?))
            })
            .await?;
        assert_eq!(counts, (1, 0), "the taken message was not stored");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "first before m1",
                "taker before m1",
                "last before m1",
                "first after m1",
                "taker after m1",
                "last after m1",
                "first before m2",
                "taker before m2",
                "first before m1",
                "taker before m1",
                "last before m1",
            ]
        );
        Ok(())
    }
}
