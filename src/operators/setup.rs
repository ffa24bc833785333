//! The one-time link printed on a first start, with which the first admin sets a password.

use super::sessions::{random_token, token_hash};
use crate::error::{Error, Result};
use crate::params;
use crate::store::Db;

/// A new set-up token, valid until `expires_at`; only its hash is stored.
pub fn create(db: &mut Db, now: i64, expires_at: i64) -> Result<String> {
    let token = random_token();
    db.exec(
        "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
        params![token_hash(&token), now, expires_at],
    )?;
    Ok(token)
}

/// Whether `token` would create the first admin now: `NotFound` when it is unknown, used
/// or expired, `Conflict` once an operator exists (say one added with `parley operator
/// add`), as [`consume`] would answer.
pub fn check(db: &mut Db, token: &str, now: i64) -> Result<()> {
    if super::count(db)? > 0 {
        return Err(already_set_up());
    }
    let valid = db
        .query_opt(
            "SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            params![token_hash(token), now],
        )?
        .is_some();
    if valid { Ok(()) } else { Err(Error::NotFound("this set-up link is unknown, used or expired".into())) }
}

fn already_set_up() -> Error {
    Error::Conflict("Parley already has an admin; log in instead".into())
}

/// Uses the token up; fails if it is unknown, used or expired, or an operator exists.
pub fn consume(db: &mut Db, token: &str, now: i64) -> Result<()> {
    if super::count(db)? > 0 {
        return Err(already_set_up());
    }
    let used = db.exec(
        "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        params![now, token_hash(token)],
    )?;
    if used == 0 {
        return Err(Error::NotFound("this set-up link is unknown, used or expired".into()));
    }
    Ok(())
}
