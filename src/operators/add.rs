//! Adding an operator, for the API (an admin adds one; the first-admin set-up link) and
//! the CLI (`parley operator add`): the details are checked and the password hashed
//! before anything is stored.

use super::{NewOperator, Operator, Role, password, setup};
use crate::audit::{self, Action, Subject};
use crate::error::{Error, Result};
use crate::store::{Db, Store};

/// Validates a new operator's details and hashes the password off the async runtime
/// (argon2id is slow on purpose).
pub async fn prepare(email: &str, name: &str, role: Role, pass: String) -> Result<NewOperator> {
    let (email, name) = super::validate(email, name)?;
    password::check_strength(&pass)?;
    let password_hash = tokio::task::spawn_blocking(move || password::hash(&pass))
        .await
        .map_err(|_| Error::Invalid("cannot hash the password".into()))??;
    Ok(NewOperator { email, name, role, password_hash })
}

/// Stores a new operator, added by the operator `by` (`None`: the command line); the
/// audit log says who added whom.
pub async fn add(
    store: &Store,
    by: Option<i64>,
    email: &str,
    name: &str,
    role: Role,
    pass: String,
    now: i64,
) -> Result<Operator> {
    let new = prepare(email, name, role, pass).await?;
    store.write(move |db| create(db, by, new, now)).await
}

/// Stores a prepared operator and its entry in the audit log, in one transaction.
pub fn create(db: &mut Db, by: Option<i64>, new: NewOperator, now: i64) -> Result<Operator> {
    let op = super::create(db, new, now)?;
    let changes = serde_json::json!({"email": op.email, "name": op.name, "role": op.role});
    let change =
        audit::Change { subject: Subject::Operator, subject_id: Some(op.id), action: Action::Created, changes };
    audit::record(db, by, change, now)?;
    Ok(op)
}

/// The first admin, through the one-time set-up link `token` (used up by this).
pub async fn first_admin(
    store: &Store,
    token: String,
    email: &str,
    name: &str,
    pass: String,
    now: i64,
) -> Result<Operator> {
    let new = prepare(email, name, Role::Admin, pass).await?;
    store
        .write(move |db| {
            setup::consume(db, &token, now)?;
            super::create(db, new, now)
        })
        .await
}
