//! Console sessions and API tokens: random tokens of which only a SHA-256 is stored.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use std::net::IpAddr;

use serde::Serialize;

use super::Operator;
use crate::error::{Error, Result};
use crate::model::Time;
use crate::params;
use crate::store::Db;

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

crate::model::stored_enum! {
    pub enum Kind: "session kind" {
        /// A console login, sent as a cookie.
        Session = "session",
        /// An integration's bearer token.
        Api = "api",
    }
}

/// A session or token as its owner sees it in the console (never the token itself).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub created_at: Time,
    /// The client address it was created from, when known.
    pub created_from: Option<String>,
    /// Whether this is the session or token the request was made with.
    pub current: bool,
    pub expires_at: Option<Time>,
    /// Names it in `DELETE /api/v1/me/sessions/{id}` or `/me/tokens/{id}`.
    pub id: String,
    pub kind: Kind,
    /// An API token's name.
    pub name: Option<String>,
}

/// The public id of a token: the head of its hash, which names it and opens nothing.
fn public_id(hash: &str) -> &str {
    &hash[..16]
}

/// Creates a session or token and returns the token (shown once, never stored).
pub fn create(
    db: &mut Db,
    operator_id: i64,
    kind: Kind,
    name: Option<&str>,
    from: Option<IpAddr>,
    expires_at: Option<i64>,
    now: i64,
) -> Result<String> {
    let token = random_token();
    let hash = token_hash(&token);
    db.exec(
        "INSERT INTO sessions (token_hash, public_id, operator_id, kind, name, created_from, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![hash.as_str(), public_id(&hash), operator_id, kind, name, from.map(|a| a.to_string()), now, expires_at],
    )?;
    Ok(token)
}

/// The operator's live sessions (or tokens), newest first; `current` is the caller's token.
pub fn list(db: &mut Db, operator_id: i64, kind: Kind, current: &str, now: i64) -> Result<Vec<SessionInfo>> {
    let rows = db.query(
        "SELECT token_hash, public_id, kind, name, created_from, created_at, expires_at FROM sessions \
         WHERE operator_id = $1 AND kind = $2 AND (expires_at IS NULL OR expires_at > $3) \
         ORDER BY created_at DESC, public_id",
        params![operator_id, kind, now],
    )?;
    let current = token_hash(current);
    rows.iter()
        .map(|r| {
            Ok(SessionInfo {
                created_at: r.get("created_at")?,
                created_from: r.get("created_from")?,
                current: r.get::<String>("token_hash")? == current,
                expires_at: r.get("expires_at")?,
                id: r.get("public_id")?,
                kind: r.get("kind")?,
                name: r.get("name")?,
            })
        })
        .collect()
}

/// Ends one of the operator's sessions (or tokens) by its public id.
pub fn revoke(db: &mut Db, operator_id: i64, kind: Kind, id: &str) -> Result<()> {
    let n = db.exec(
        "DELETE FROM sessions WHERE operator_id = $1 AND kind = $2 AND public_id = $3",
        params![operator_id, kind, id],
    )?;
    if n == 0 {
        return Err(Error::NotFound(format!(
            "you have no {} {id:?}",
            if kind == Kind::Api { "API token" } else { "session" }
        )));
    }
    Ok(())
}

/// Ends every session and token of the operator (when an admin deactivates them).
pub fn revoke_all(db: &mut Db, operator_id: i64) -> Result<u64> {
    Ok(db.exec("DELETE FROM sessions WHERE operator_id = $1", params![operator_id])?)
}

/// The operator a token belongs to, if it is valid now.
pub fn lookup(db: &mut Db, token: &str, now: i64) -> Result<Option<Operator>> {
    let row = db.query_opt(
        "SELECT o.id, o.email, o.name, o.role, o.status, (o.deactivated_at IS NULL) AS active, \
         (SELECT COUNT(*) FROM notify_links l JOIN channels c ON c.id = l.channel_id \
          WHERE l.operator_id = o.id AND c.kind = 'telegram') AS telegram_links, \
         (SELECT COUNT(*) FROM notify_links l JOIN channels c ON c.id = l.channel_id \
          WHERE l.operator_id = o.id AND c.kind = 'discord') AS discord_links \
         FROM sessions s JOIN operators o ON o.id = s.operator_id \
         WHERE s.token_hash = $1 AND (s.expires_at IS NULL OR s.expires_at > $2) AND o.deactivated_at IS NULL",
        params![token_hash(token), now],
    )?;
    row.map(|r| super::from_row(&r)).transpose()
}

pub fn delete(db: &mut Db, token: &str) -> Result<()> {
    db.exec("DELETE FROM sessions WHERE token_hash = $1", params![token_hash(token)])?;
    Ok(())
}
