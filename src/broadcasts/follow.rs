//! A recipient follows its message. The outbox (what came of a send) and the inbox (a
//! platform's delivery report) call [`message`] in the transaction that changes the
//! message, so a recipient's state is never behind it, even across a crash. A leaf: it
//! writes one row and knows nothing of the callers.

use crate::error::Result;
use crate::model::RecipientState::{self, *};
use crate::params;
use crate::store::Db;

/// The states a recipient may come from to reach `to`: a state never moves back (a
/// late `delivered` after `read`), and a failure after the contact read it cannot be.
fn from(to: RecipientState) -> &'static [RecipientState] {
    match to {
        Sent => &[Queued],
        Delivered => &[Queued, Sent],
        Read => &[Queued, Sent, Delivered],
        Failed | Blocked => &[Queued, Sent, Delivered],
        Unknown => &[Queued],
        Queued | Skipped | Cancelled => &[],
    }
}

/// The message `message_id` reached `to` (with `reason` for a failure); a message that
/// is no broadcast's changes nothing.
pub fn message(db: &mut Db, message_id: i64, to: RecipientState, reason: Option<&str>, now: i64) -> Result<()> {
    let allowed = from(to);
    if allowed.is_empty() {
        return Ok(());
    }
    let list = allowed.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
    db.exec(
        &format!(
            "UPDATE broadcast_recipients SET state = $1, reason = COALESCE($2, reason), updated_at = $3 \
             WHERE message_id = $4 AND state IN ({list})"
        ),
        params![to, reason, now, message_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        assert!(from(Read).contains(&Delivered));
        assert!(!from(Delivered).contains(&Read), "a late delivery report does not undo a read");
        assert!(!from(Failed).contains(&Read), "a failure after reading cannot be");
        assert!(from(Unknown) == [Queued], "only a send in flight becomes unknown");
        assert!(from(Skipped).is_empty() && from(Queued).is_empty());
    }
}
