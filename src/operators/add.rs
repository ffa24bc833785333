//! Adding an operator, for the API (an admin adds one; the first-admin set-up link) and
//! the CLI (`parley operator add`): the details are checked and the password hashed
//! before anything is stored.

use super::{NewOperator, Operator, Role, password, setup};
use crate::error::{Error, Result};
use crate::store::Store;

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

/// Stores a new operator.
pub async fn add(store: &Store, email: &str, name: &str, role: Role, pass: String, now: i64) -> Result<Operator> {
    let new = prepare(email, name, role, pass).await?;
    store.write(move |db| super::create(db, new, now)).await
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
