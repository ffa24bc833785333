//! Linking an operator's messenger chat: a one-time code that the operator's `/start`
//! hands back to the notifications bot — in a Telegram deep link
//! (`https://t.me/<bot>?start=<code>`), or sent to the Discord bot in a DM.

use crate::channels::{self, StoredChannel};
use crate::error::{Error, Result};
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event};

/// Link codes start with this, so a `/start` meant as a link is told apart from a
/// campaign's deep-link payload.
pub const CODE_PREFIX: &str = "op-";
/// How long a link works.
pub const CODE_TTL_MS: i64 = 15 * 60_000;

fn hash(code: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(code.as_bytes()))
}

/// The messengers that carry notifications: channel kinds whose bots can be linked.
pub const KINDS: [&str; 2] = ["telegram", "discord"];

/// The channel of `kind` that sends notifications: `channel_id` if given, else the one
/// whose settings say `notify_operators: true`, else the only channel of that kind.
pub fn notify_channel(db: &mut Db, kind: &str, channel_id: Option<i64>) -> Result<StoredChannel> {
    let of_kind: Vec<StoredChannel> = channels::list(db)?.into_iter().filter(|c| c.channel.kind == kind).collect();
    let chosen = match channel_id {
        Some(id) => of_kind.iter().find(|c| c.channel.id == id),
        None => of_kind.iter().find(|c| c.channel.settings["notify_operators"] == true).or(if of_kind.len() == 1 {
            of_kind.first()
        } else {
            None
        }),
    };
    chosen.cloned().ok_or_else(|| {
        let label = if kind == "discord" { "Discord" } else { "Telegram" };
        Error::Invalid(format!(
            "no {label} channel is chosen as the notifications bot: set settings.notify_operators on one"
        ))
    })
}

/// A new one-time code for `operator_id` on `channel_id`; returns the code.
pub fn create_code(db: &mut Db, operator_id: i64, channel_id: i64, now: i64) -> Result<String> {
    let token = crate::operators::sessions::random_token();
    let code: String =
        format!("{CODE_PREFIX}{}", token.chars().filter(char::is_ascii_alphanumeric).take(32).collect::<String>());
    db.exec(
        "INSERT INTO notify_codes (code_hash, operator_id, channel_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        params![hash(&code), operator_id, channel_id, now, now + CODE_TTL_MS],
    )?;
    Ok(code)
}

/// What a `/start <code>` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Linking {
    Linked {
        operator_id: i64,
        name: String,
    },
    /// The same chat used this code before (a redelivered update).
    Again,
    /// Unknown, expired, used by someone else, or for another bot.
    Refused,
}

pub fn use_code(db: &mut Db, channel_id: i64, external_id: &str, code: &str, now: i64) -> Result<Linking> {
    let Some(r) = db.query_opt(
        "SELECT operator_id, channel_id, expires_at, used_at, used_by FROM notify_codes WHERE code_hash = $1",
        params![hash(code)],
    )?
    else {
        return Ok(Linking::Refused);
    };
    let operator_id: i64 = r.get("operator_id")?;
    if r.get::<i64>("channel_id")? != channel_id {
        return Ok(Linking::Refused);
    }
    // A used code (used_at set) is only accepted again from the chat that used it.
    if r.get::<Option<i64>>("used_at")?.is_some() {
        let used_by: Option<String> = r.get("used_by")?;
        return Ok(if used_by.as_deref() == Some(external_id) { Linking::Again } else { Linking::Refused });
    }
    if r.get::<i64>("expires_at")? < now {
        return Ok(Linking::Refused);
    }
    db.exec(
        "UPDATE notify_codes SET used_at = $1, used_by = $2 WHERE code_hash = $3",
        params![now, external_id, hash(code)],
    )?;
    // One operator per chat and one chat per operator: the newest link wins.
    db.exec(
        "DELETE FROM notify_links WHERE operator_id = $1 OR (channel_id = $2 AND external_id = $3)",
        params![operator_id, channel_id, external_id],
    )?;
    db.exec(
        "INSERT INTO notify_links (operator_id, channel_id, external_id, created_at) VALUES ($1, $2, $3, $4)",
        params![operator_id, channel_id, external_id, now],
    )?;
    let op = crate::operators::get(db, operator_id)?;
    events::append(db, None, Event::operator_updated(&op), now)?;
    Ok(Linking::Linked { operator_id, name: op.name })
}

/// Disconnects the operator's messenger; false when none was linked.
pub fn unlink(db: &mut Db, operator_id: i64, now: i64) -> Result<bool> {
    let n = db.exec("DELETE FROM notify_links WHERE operator_id = $1", params![operator_id])?;
    db.exec("DELETE FROM notify_codes WHERE operator_id = $1 AND used_at IS NULL", params![operator_id])?;
    if n > 0 {
        let op = crate::operators::get(db, operator_id)?;
        events::append(db, None, Event::operator_updated(&op), now)?;
    }
    Ok(n > 0)
}

/// The (channel, chat) an operator linked, if any.
pub fn linked(db: &mut Db, operator_id: i64) -> Result<Option<(i64, String)>> {
    let Some(r) =
        db.query_opt("SELECT channel_id, external_id FROM notify_links WHERE operator_id = $1", params![operator_id])?
    else {
        return Ok(None);
    };
    Ok(Some((r.get("channel_id")?, r.get("external_id")?)))
}
