//! Console sessions and API tokens: random tokens of which only a SHA-256 is stored.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Operator;
use crate::error::Result;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A console login, sent as a cookie.
    Session,
    /// An integration's bearer token.
    Api,
}

/// Creates a session or token and returns the token (shown once, never stored).
pub fn create(
    db: &mut Db,
    operator_id: i64,
    kind: Kind,
    name: Option<&str>,
    expires_at: Option<i64>,
    now: i64,
) -> Result<String> {
    let token = random_token();
    db.exec(
        "INSERT INTO sessions (token_hash, operator_id, kind, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            token_hash(&token),
            operator_id,
            if kind == Kind::Session { "session" } else { "api" },
            name,
            now,
            expires_at
        ],
    )?;
    Ok(token)
}

/// The operator a token belongs to, if it is valid now.
pub fn lookup(db: &mut Db, token: &str, now: i64) -> Result<Option<Operator>> {
    let row = db.query_opt(
        "SELECT o.id, o.email, o.name, o.role, o.status, \
         (SELECT COUNT(*) FROM notify_links l JOIN channels c ON c.id = l.channel_id \
          WHERE l.operator_id = o.id AND c.kind = 'telegram') AS telegram_links, \
         (SELECT COUNT(*) FROM notify_links l JOIN channels c ON c.id = l.channel_id \
          WHERE l.operator_id = o.id AND c.kind = 'discord') AS discord_links \
         FROM sessions s JOIN operators o ON o.id = s.operator_id \
         WHERE s.token_hash = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)",
        params![token_hash(token), now],
    )?;
    row.map(|r| super::from_row(&r)).transpose()
}

pub fn delete(db: &mut Db, token: &str) -> Result<()> {
    db.exec("DELETE FROM sessions WHERE token_hash = $1", params![token_hash(token)])?;
    Ok(())
}
