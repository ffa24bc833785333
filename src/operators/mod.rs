//! Operators: console users with a role and a status, their passwords, sessions and
//! API tokens, the login policy, and the one-time link that creates the first admin.

pub mod add;
pub mod limiter;
pub mod login;
pub mod password;
pub mod sessions;
pub mod setup;

use crate::audit;
use crate::error::{Error, Result, not_found};
pub use crate::model::{Notify, Operator, Role, Status};
use crate::params;
use crate::store::events::{self, Event};
use crate::store::{Db, Row};

const SELECT: &str = "SELECT id, email, name, role, status, (deactivated_at IS NULL) AS active, \
    (SELECT COUNT(*) FROM notify_links l JOIN channels c ON c.id = l.channel_id \
     WHERE l.operator_id = operators.id AND c.kind = 'telegram') AS telegram_links, \
    (SELECT COUNT(*) FROM notify_links l JOIN channels c ON c.id = l.channel_id \
     WHERE l.operator_id = operators.id AND c.kind = 'discord') AS discord_links FROM operators";

/// An operator from a row of [`SELECT`] (or a query with the same column names).
pub(crate) fn from_row(r: &Row) -> Result<Operator> {
    Ok(Operator {
        active: r.get("active")?,
        id: r.get("id")?,
        email: r.get("email")?,
        name: r.get("name")?,
        role: r.get("role")?,
        status: r.get("status")?,
        notify: Notify { telegram: r.get::<i64>("telegram_links")? > 0, discord: r.get::<i64>("discord_links")? > 0 },
    })
}

pub fn get(db: &mut Db, id: i64) -> Result<Operator> {
    let r = db.query_opt(&format!("{SELECT} WHERE id = $1"), params![id])?.ok_or_else(|| not_found("operator", id))?;
    from_row(&r)
}

pub fn list(db: &mut Db) -> Result<Vec<Operator>> {
    db.query(&format!("{SELECT} ORDER BY name, id"), &[])?.iter().map(from_row).collect()
}

pub fn count(db: &mut Db) -> Result<i64> {
    Ok(db.query_one("SELECT COUNT(*) AS n FROM operators", &[])?.get("n")?)
}

/// A validated new operator; the password is already hashed.
pub struct NewOperator {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// Checks an operator's email and name before anything is hashed or stored.
pub fn validate(email: &str, name: &str) -> Result<(String, String)> {
    let email = email.trim().to_lowercase();
    let name = name.trim().to_owned();
    if crate::inbox::contacts::email_key(&email).is_none() {
        return Err(Error::Invalid(format!("{email:?} is not an email address")));
    }
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid("the name must have 1 to 100 characters".into()));
    }
    Ok((email, name))
}

pub fn create(db: &mut Db, new: NewOperator, now: i64) -> Result<Operator> {
    let id = db
        .query_one(
            "INSERT INTO operators (email, name, role, status, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![new.email.as_str(), new.name.as_str(), new.role, Status::Offline, new.password_hash, now],
        )
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => Error::Conflict(format!("an operator with email {} exists", new.email)),
            other => other,
        })?
        .get("id")?;
    db.exec(
        "INSERT INTO operator_status_log (operator_id, status, at) VALUES ($1, $2, $3)",
        params![id, Status::Offline, now],
    )?;
    get(db, id)
}

/// Changes an operator's status, logging it for the time-in-status report.
pub fn set_status(db: &mut Db, id: i64, status: Status, now: i64) -> Result<Operator> {
    let current = get(db, id)?;
    if current.status == status {
        return Ok(current);
    }
    db.exec("UPDATE operators SET status = $1 WHERE id = $2", params![status, id])?;
    db.exec("INSERT INTO operator_status_log (operator_id, status, at) VALUES ($1, $2, $3)", params![id, status, now])?;
    let op = get(db, id)?;
    events::append(db, None, Event::operator_updated(&op), now)?;
    Ok(op)
}

/// The stored password hash of the operator with this email, if any.
pub fn password_hash(db: &mut Db, email: &str) -> Result<Option<(i64, String)>> {
    let email = email.trim().to_lowercase();
    let Some(r) = db.query_opt("SELECT id, password_hash FROM operators WHERE email = $1", params![email])? else {
        return Ok(None);
    };
    Ok(Some((r.get("id")?, r.get("password_hash")?)))
}

/// Deactivates an operator for good or until reactivated: they go Offline, every
/// session and token of theirs ends at once, and they cannot log in. `by` is the admin.
pub fn deactivate(db: &mut Db, id: i64, by: i64, now: i64) -> Result<Operator> {
    if id == by {
        return Err(Error::Invalid("you cannot deactivate yourself; ask another admin".into()));
    }
    let before = get(db, id)?;
    if !before.active {
        return Ok(before);
    }
    db.exec("UPDATE operators SET deactivated_at = $1 WHERE id = $2", params![now, id])?;
    let revoked = sessions::revoke_all(db, id)?;
    if before.status != Status::Offline {
        db.exec("UPDATE operators SET status = $1 WHERE id = $2", params![Status::Offline, id])?;
        db.exec(
            "INSERT INTO operator_status_log (operator_id, status, at) VALUES ($1, $2, $3)",
            params![id, Status::Offline, now],
        )?;
    }
    let op = get(db, id)?;
    // Consoles open elsewhere hear of it, and close.
    events::append(db, None, Event::operator_updated(&op), now)?;
    let mut changes = audit::diff(&serde_json::json!(before), &serde_json::json!(op));
    changes["sessions_ended"] = revoked.into();
    audit::record(
        db,
        Some(by),
        audit::Change {
            subject: audit::Subject::Operator,
            subject_id: Some(id),
            action: audit::Action::Deactivated,
            changes,
        },
        now,
    )?;
    Ok(op)
}

/// Lets a deactivated operator log in again (with their old password).
pub fn reactivate(db: &mut Db, id: i64, by: i64, now: i64) -> Result<Operator> {
    let before = get(db, id)?;
    if before.active {
        return Ok(before);
    }
    db.exec("UPDATE operators SET deactivated_at = NULL WHERE id = $1", params![id])?;
    let op = get(db, id)?;
    events::append(db, None, Event::operator_updated(&op), now)?;
    let changes = audit::diff(&serde_json::json!(before), &serde_json::json!(op));
    audit::record(
        db,
        Some(by),
        audit::Change {
            subject: audit::Subject::Operator,
            subject_id: Some(id),
            action: audit::Action::Reactivated,
            changes,
        },
        now,
    )?;
    Ok(op)
}
