//! Which Online operator gets the next chat: round robin or fewest open chats, within
//! the per-operator limit.

use super::settings::{Policy, Settings};
use crate::error::Result;
use crate::store::Db;

/// An Online operator and their load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    /// Open chats assigned to them now.
    pub open: i64,
    /// Id of the last assignment record that gave them a chat (0: never), so round
    /// robin follows the order chats were actually given, on every node.
    pub last_given: i64,
}

/// The distributor's turn (`Db::take_turn`): "DIST".
const TURN: i32 = 0x4449_5354;

/// Before a hand-out is decided: hand-outs on other nodes commit first and wait for this
/// one, so each decides on the load the previous one left (round robin holds across
/// nodes). Reads that only ask whether there is work need not.
pub fn take_turn(db: &mut Db) -> Result<()> {
    Ok(db.take_turn(TURN)?)
}

/// Every Online operator with their load, by id.
pub fn candidates(db: &mut Db) -> Result<Vec<Candidate>> {
    let rows = db.query(
        "SELECT o.id, \
         (SELECT COUNT(*) FROM chats c WHERE c.assignee_id = o.id AND c.status = 'open') AS open, \
         COALESCE((SELECT MAX(a.id) FROM assignments a WHERE a.operator_id = o.id), 0) AS last_given \
         FROM operators o WHERE o.status = 'online' ORDER BY o.id",
        &[],
    )?;
    rows.iter()
        .map(|r| Ok(Candidate { id: r.get("id")?, open: r.get("open")?, last_given: r.get("last_given")? }))
        .collect()
}

/// Whether the operator may be given one more chat.
pub fn has_room(settings: &Settings, c: &Candidate) -> bool {
    settings.max_open_per_operator <= 0 || c.open < settings.max_open_per_operator
}

/// The operator who gets the next chat, other than `exclude`; None when nobody Online
/// has room.
pub fn choose(settings: &Settings, candidates: &[Candidate], exclude: Option<i64>) -> Option<i64> {
    let eligible = candidates.iter().filter(|c| Some(c.id) != exclude && has_room(settings, c));
    match settings.policy {
        Policy::RoundRobin => eligible.min_by_key(|c| (c.last_given, c.id)),
        Policy::FewestOpen => eligible.min_by_key(|c| (c.open, c.last_given, c.id)),
    }
    .map(|c| c.id)
}

/// Updates the loads after `operator` was given a chat by record `record_id`.
pub fn took(candidates: &mut [Candidate], operator: i64, record_id: i64) {
    if let Some(c) = candidates.iter_mut().find(|c| c.id == operator) {
        c.open += 1;
        c.last_given = record_id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, open: i64, last_given: i64) -> Candidate {
        Candidate { id, open, last_given }
    }

    #[test]
    fn round_robin_goes_in_turn_and_respects_the_limit() {
        let s = Settings { max_open_per_operator: 2, ..Settings::default() };
        let mut ops = vec![c(1, 0, 0), c(2, 0, 0), c(3, 2, 0)];
        let mut given = Vec::new();
        for record in 1..=4 {
            let Some(id) = choose(&s, &ops, None) else { break };
            took(&mut ops, id, record);
            given.push(id);
        }
        assert_eq!(given, [1, 2, 1, 2], "operator 3 is at the limit");
        assert_eq!(choose(&s, &ops, None), None, "everyone is full");
    }

    #[test]
    fn fewest_open_prefers_the_least_loaded_and_skips_the_excluded() {
        let s = Settings { policy: Policy::FewestOpen, ..Settings::default() };
        let ops = [c(1, 3, 1), c(2, 1, 5), c(3, 1, 2)];
        assert_eq!(choose(&s, &ops, None), Some(3), "tie on load: given a chat longest ago");
        assert_eq!(choose(&s, &ops, Some(3)), Some(2));
        assert_eq!(choose(&s, &[], None), None);
    }
}
