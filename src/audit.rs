//! The audit log: what admins changed (channels, operators, settings, merges and their
//! undoing; flows and broadcasts when they come), by whom, when, and what changed.
//!
//! An entry is written by [`record`] inside the transaction that makes the change, so
//! there is no change without its entry and no entry for a change that was rolled back.
//! A new kind of change adds its [`Subject`] or [`Action`] (and the CHECK constraint of
//! `audit_log` lists the same values) and calls [`record`] once.

use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::error::Result;
use crate::model::Time;
use crate::params;
use crate::store::{Db, Row};

crate::model::stored_enum! {
    /// What kind of thing was changed.
    pub enum Subject: "audit subject" {
        Channel = "channel",
        Operator = "operator",
        Settings = "settings",
        Merge = "merge",
        Flow = "flow",
        Broadcast = "broadcast",
    }
}

crate::model::stored_enum! {
    /// What was done to it.
    pub enum Action: "audit action" {
        Created = "created",
        Updated = "updated",
        Deleted = "deleted",
        Deactivated = "deactivated",
        Reactivated = "reactivated",
        Merged = "merged",
        Undone = "undone",
        Published = "published",
        Started = "started",
        Stopped = "stopped",
        Cancelled = "cancelled",
    }
}

/// One change, as [`record`] takes it.
pub struct Change {
    pub subject: Subject,
    /// The changed thing's id, when it has one.
    pub subject_id: Option<i64>,
    pub action: Action,
    /// What changed: [`diff`] of the thing before and after, or what was created.
    /// Secrets are redacted before they get here, as the API shows them.
    pub changes: Json,
}

/// Appends `change`, made by the operator `actor` (`None`: the command line), to the log.
pub fn record(db: &mut Db, actor: Option<i64>, change: Change, now: i64) -> Result<i64> {
    let row = db.query_one(
        "INSERT INTO audit_log (at, actor_id, subject, subject_id, action, changes) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        params![now, actor, change.subject, change.subject_id, change.action, change.changes.to_string()],
    )?;
    Ok(row.get("id")?)
}

/// The fields that differ between `before` and `after` (objects compared field by
/// field, nested ones by their dotted path): `{"name": {"from": "A", "to": "B"}}`.
pub fn diff(before: &Json, after: &Json) -> Json {
    let mut out = Map::new();
    walk("", before, after, &mut out);
    Json::Object(out)
}

fn walk(path: &str, before: &Json, after: &Json, out: &mut Map<String, Json>) {
    match (before, after) {
        (Json::Object(b), Json::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                walk(&sub, b.get(k).unwrap_or(&Json::Null), a.get(k).unwrap_or(&Json::Null), out);
            }
        }
        (b, a) if b != a => {
            out.insert(path.to_owned(), json!({"from": b, "to": a}));
        }
        _ => {}
    }
}

/// Who made a change, as the log shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Actor {
    pub id: i64,
    pub name: String,
}

/// One entry of the log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub action: Action,
    /// `null`: made from the command line.
    pub actor: Option<Actor>,
    pub at: Time,
    #[schema(value_type = Object)]
    pub changes: Json,
    pub id: i64,
    pub subject: Subject,
    pub subject_id: Option<i64>,
}

/// A page of the log, newest first; `next_before` fetches the next (older) page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub next_before: Option<i64>,
}

fn entry(r: &Row) -> Result<Entry> {
    let actor = match r.get::<Option<i64>>("actor_id")? {
        Some(id) => Some(Actor { id, name: r.get("actor_name")? }),
        None => None,
    };
    Ok(Entry {
        action: r.get("action")?,
        actor,
        at: r.get("at")?,
        changes: r.get_json("changes")?,
        id: r.get("id")?,
        subject: r.get("subject")?,
        subject_id: r.get("subject_id")?,
    })
}

/// Up to `limit` entries older than `before` (all when `None`), newest first.
pub fn page(db: &mut Db, before: Option<i64>, limit: i64) -> Result<Page> {
    let limit = limit.clamp(1, 200);
    let rows = db.query(
        "SELECT a.id, a.at, a.actor_id, o.name AS actor_name, a.subject, a.subject_id, a.action, a.changes \
         FROM audit_log a LEFT JOIN operators o ON o.id = a.actor_id \
         WHERE a.id < $1 ORDER BY a.id DESC LIMIT $2",
        params![before.unwrap_or(i64::MAX), limit + 1],
    )?;
    let mut entries = rows.iter().map(entry).collect::<Result<Vec<_>>>()?;
    let next_before = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Page { entries, next_before })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_names_each_changed_field_by_its_path() {
        let before = json!({"name": "Bot", "settings": {"token": "••••1234", "mode": "polling"}, "same": 1});
        let after =
            json!({"name": "Bot 2", "settings": {"token": "••••9876", "mode": "polling", "new": true}, "same": 1});
        assert_eq!(
            diff(&before, &after),
            json!({
                "name": {"from": "Bot", "to": "Bot 2"},
                "settings.new": {"from": null, "to": true},
                "settings.token": {"from": "••••1234", "to": "••••9876"},
            })
        );
        assert_eq!(diff(&after, &after), json!({}));
    }
}
