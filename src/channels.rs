//! Channels: the configured connections to platforms, and the registry of connectors
//! that serve each kind. Their life through the API is in `lifecycle`, the copy the
//! webhook path reads in `cache`.

pub mod cache;
pub mod lifecycle;
pub mod state;

use std::collections::HashMap;
use std::sync::Arc;

use parley_sdk::{Channel, Connector};
use serde_json::Value as Json;

use crate::error::{Error, Result, not_found};
use crate::params;
use crate::store::{Db, Row};

/// Connectors by channel kind.
#[derive(Default, Clone)]
pub struct Connectors(HashMap<&'static str, Arc<dyn Connector>>);

impl Connectors {
    pub fn add(&mut self, c: Arc<dyn Connector>) {
        self.0.insert(c.kind(), c);
    }
    pub fn get(&self, kind: &str) -> Option<Arc<dyn Connector>> {
        self.0.get(kind).cloned()
    }
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.0.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

const SELECT: &str = "SELECT id, kind, name, key, settings, distribution, created_at, broken_reason FROM channels";

/// A stored channel: what the connector sees, plus its public key.
#[derive(Debug, Clone)]
pub struct StoredChannel {
    pub channel: Channel,
    pub key: String,
    pub distribution: bool,
    pub created_at: i64,
    /// Why the platform refused the channel's credentials, until its settings change.
    pub broken_reason: Option<String>,
}

fn from_row(r: &Row) -> Result<StoredChannel> {
    Ok(StoredChannel {
        channel: Channel {
            id: r.get("id")?,
            kind: r.get("kind")?,
            name: r.get("name")?,
            settings: r.get_json("settings")?,
        },
        key: r.get("key")?,
        distribution: r.get("distribution")?,
        created_at: r.get("created_at")?,
        broken_reason: r.get("broken_reason")?,
    })
}

pub fn get(db: &mut Db, id: i64) -> Result<StoredChannel> {
    let r = db.query_opt(&format!("{SELECT} WHERE id = $1"), params![id])?.ok_or_else(|| not_found("channel", id))?;
    from_row(&r)
}

pub fn by_key(db: &mut Db, key: &str) -> Result<Option<StoredChannel>> {
    db.query_opt(&format!("{SELECT} WHERE key = $1"), params![key])?.as_ref().map(from_row).transpose()
}

pub fn list(db: &mut Db) -> Result<Vec<StoredChannel>> {
    db.query(&format!("{SELECT} ORDER BY id"), &[])?.iter().map(from_row).collect()
}

pub fn first_of_kind(db: &mut Db, kind: &str) -> Result<Option<StoredChannel>> {
    db.query_opt(&format!("{SELECT} WHERE kind = $1 ORDER BY id LIMIT 1"), params![kind])?
        .as_ref()
        .map(from_row)
        .transpose()
}

// Fields in alphabetical order, as the `json!` map that wrote it before it was typed.
/// A channel as an admin sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Channel)]
pub struct PublicChannel {
    /// Why the platform refused the channel's credentials (an expired token); cleared
    /// when its settings change. Left out while the channel works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_reason: Option<String>,
    pub created_at: crate::model::Time,
    /// Whether chats of this channel are handed out automatically.
    pub distribution: bool,
    pub id: i64,
    /// The public key the widget embeds.
    pub key: String,
    /// The connector: `widget`, `telegram`, `webhook`, ...
    pub kind: String,
    pub name: String,
    /// The connector's settings, secret ones cut to their last four characters.
    pub settings: Json,
}

/// The channel as an admin sees it: secret settings cut to their last four characters.
pub fn public(c: &StoredChannel, secrets: &[&str]) -> PublicChannel {
    let mut settings = c.channel.settings.clone();
    if let Some(map) = settings.as_object_mut() {
        for key in secrets {
            if let Some(Json::String(s)) = map.get_mut(*key) {
                let tail: String = s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
                *s = if s.chars().count() > 8 { format!("••••{tail}") } else { "••••".into() };
            }
        }
    }
    PublicChannel {
        id: c.channel.id,
        kind: c.channel.kind.clone(),
        name: c.channel.name.clone(),
        key: c.key.clone(),
        settings,
        distribution: c.distribution,
        created_at: crate::model::Time(c.created_at),
        broken_reason: c.broken_reason.clone(),
    }
}

pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid("a channel needs a name of 1 to 100 characters".into()));
    }
    Ok(name.to_owned())
}

pub fn create(db: &mut Db, kind: &str, name: &str, settings: &Json, now: i64) -> Result<StoredChannel> {
    let key = crate::operators::sessions::random_token()[..16].to_owned();
    let id = db
        .query_one(
            "INSERT INTO channels (kind, name, key, settings, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            params![kind, name, key, settings.to_string(), now],
        )?
        .get("id")?;
    get(db, id)
}

pub fn update(
    db: &mut Db,
    id: i64,
    name: Option<&str>,
    settings: Option<&Json>,
    distribution: Option<bool>,
) -> Result<StoredChannel> {
    get(db, id)?;
    if let Some(name) = name {
        db.exec("UPDATE channels SET name = $1 WHERE id = $2", params![name, id])?;
    }
    if let Some(settings) = settings {
        // New credentials get a new chance.
        db.exec(
            "UPDATE channels SET settings = $1, broken_reason = NULL WHERE id = $2",
            params![settings.to_string(), id],
        )?;
    }
    if let Some(d) = distribution {
        db.exec("UPDATE channels SET distribution = $1 WHERE id = $2", params![d, id])?;
    }
    get(db, id)
}

/// Settings sent in a PATCH, laid over the stored ones; a redacted secret sent back
/// unchanged (`••••1234`) keeps the stored value.
pub fn merge_settings(stored: &Json, patch: &Json) -> Json {
    let mut out = stored.clone();
    if let (Some(out_map), Some(patch_map)) = (out.as_object_mut(), patch.as_object()) {
        for (k, v) in patch_map {
            if v.as_str().is_some_and(|s| s.starts_with("••••")) {
                continue;
            }
            out_map.insert(k.clone(), v.clone());
        }
    }
    out
}
