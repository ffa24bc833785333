//! Operators: console users with a role and a status, their passwords, sessions and
//! API tokens, the login policy, and the one-time link that creates the first admin.

pub mod add;
pub mod limiter;
pub mod login;
pub mod password;
pub mod sessions;
pub mod setup;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::error::{Error, Result, not_found};
use crate::params;
use crate::store::{Db, Row, events};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }
    fn parse(s: &str) -> Role {
        if s == "admin" { Role::Admin } else { Role::Operator }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Online,
    Away,
    Offline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Away => "away",
            Status::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Operator {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: String,
    /// Whether the operator linked Telegram for notifications.
    pub notify_telegram: bool,
}

impl Operator {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn json(&self) -> Json {
        json!({
            "id": self.id, "email": self.email, "name": self.name, "role": self.role, "status": self.status,
            "notify": {"telegram": self.notify_telegram},
        })
    }
}

const SELECT: &str = "SELECT id, email, name, role, status, \
    (SELECT COUNT(*) FROM notify_links l WHERE l.operator_id = operators.id) FROM operators";

fn from_row(r: &Row) -> Operator {
    Operator {
        id: r.i64(0),
        email: r.str(1),
        name: r.str(2),
        role: Role::parse(&r.str(3)),
        status: r.str(4),
        notify_telegram: r.i64(5) > 0,
    }
}

pub fn get(db: &mut Db, id: i64) -> Result<Operator> {
    let r = db.query_opt(&format!("{SELECT} WHERE id = $1"), params![id])?.ok_or_else(|| not_found("operator", id))?;
    Ok(from_row(&r))
}

pub fn list(db: &mut Db) -> Result<Vec<Operator>> {
    Ok(db.query(&format!("{SELECT} ORDER BY name, id"), &[])?.iter().map(from_row).collect())
}

pub fn count(db: &mut Db) -> Result<i64> {
    Ok(db.query_one("SELECT COUNT(*) FROM operators", &[])?.i64(0))
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
             VALUES ($1, $2, $3, 'offline', $4, $5) RETURNING id",
            params![new.email.as_str(), new.name.as_str(), new.role.as_str(), new.password_hash, now],
        )
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => Error::Conflict(format!("an operator with email {} exists", new.email)),
            other => other,
        })?
        .i64(0);
    db.exec("INSERT INTO operator_status_log (operator_id, status, at) VALUES ($1, 'offline', $2)", params![id, now])?;
    get(db, id)
}

/// Changes an operator's status, logging it for the time-in-status report.
pub fn set_status(db: &mut Db, id: i64, status: Status, now: i64) -> Result<Operator> {
    let current = get(db, id)?;
    if current.status == status.as_str() {
        return Ok(current);
    }
    db.exec("UPDATE operators SET status = $1 WHERE id = $2", params![status.as_str(), id])?;
    db.exec(
        "INSERT INTO operator_status_log (operator_id, status, at) VALUES ($1, $2, $3)",
        params![id, status.as_str(), now],
    )?;
    let op = get(db, id)?;
    events::append(db, "operator.updated", None, &json!({"operator": op.json()}), now)?;
    Ok(op)
}

/// The stored password hash of the operator with this email, if any.
pub fn password_hash(db: &mut Db, email: &str) -> Result<Option<(i64, String)>> {
    Ok(db
        .query_opt("SELECT id, password_hash FROM operators WHERE email = $1", params![email.trim().to_lowercase()])?
        .map(|r| (r.i64(0), r.str(1))))
}
