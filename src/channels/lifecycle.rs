//! A channel's life through the API: created or changed with its settings checked (and
//! completed, e.g. a bot's name from `getMe`) by its connector, its background work
//! (re)started, this node's cached copy dropped. At launch every stored channel starts.

use std::sync::Arc;

use parley_sdk::Hub;
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

use super::cache::ChannelCache;
use super::{Connectors, StoredChannel, merge_settings, validate_name};
use crate::audit::{self, Action, Change, Subject};
use crate::error::{Error, Result};
use crate::runners::Runners;
use crate::store::Store;

/// What a channel's life touches besides its row.
pub struct Parts<'a> {
    pub store: &'a Store,
    pub connectors: &'a Connectors,
    pub cache: &'a ChannelCache,
    pub runners: &'a Runners,
    /// What the channels' background work ingests through.
    pub hub: Arc<dyn Hub>,
    /// Stops their background work.
    pub shutdown: &'a CancellationToken,
}

/// A change to a channel; `None` leaves that part as it is.
#[derive(Debug, Default)]
pub struct Patch {
    pub name: Option<String>,
    /// Laid over the stored settings ([`merge_settings`]).
    pub settings: Option<Json>,
    pub distribution: Option<bool>,
}

/// The channel as the audit log keeps it: as an admin sees it, secrets redacted.
fn audited(c: &StoredChannel, secrets: &[&str]) -> Json {
    serde_json::to_value(super::public(c, secrets)).unwrap_or_default()
}

/// Creates a channel; `by` is the admin, named in the audit log.
pub async fn create(
    parts: &Parts<'_>,
    by: i64,
    kind: &str,
    name: &str,
    settings: Json,
    now: i64,
) -> Result<StoredChannel> {
    let connector = parts.connectors.get(kind).ok_or_else(|| {
        Error::Invalid(format!("unknown channel kind {kind:?}; known kinds: {}", parts.connectors.kinds().join(", ")))
    })?;
    if !settings.is_object() {
        return Err(Error::Invalid("settings must be an object".into()));
    }
    let name = validate_name(name)?;
    let settings = connector.prepare_settings(settings).await.map_err(Error::Invalid)?;
    let kind = kind.to_owned();
    let secrets = connector.secret_settings();
    let c = parts
        .store
        .write(move |db| -> Result<StoredChannel> {
            let c = super::create(db, &kind, &name, &settings, now)?;
            let change = Change {
                subject: Subject::Channel,
                subject_id: Some(c.channel.id),
                action: Action::Created,
                changes: audited(&c, secrets),
            };
            audit::record(db, Some(by), change, now)?;
            Ok(c)
        })
        .await?;
    parts.runners.start(connector, c.channel.clone(), parts.hub.clone(), parts.shutdown);
    Ok(c)
}

/// Changes a channel; `by` is the admin, and the audit log keeps what changed.
pub async fn update(parts: &Parts<'_>, by: i64, id: i64, patch: Patch, now: i64) -> Result<StoredChannel> {
    let stored = parts.store.read(move |db| super::get(db, id)).await?;
    let connector = parts
        .connectors
        .get(&stored.channel.kind)
        .ok_or_else(|| Error::Invalid("this channel's kind is not available".into()))?;
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    let settings = match patch.settings {
        Some(p) if p.is_object() => {
            let merged = merge_settings(&stored.channel.settings, &p);
            Some(connector.prepare_settings(merged).await.map_err(Error::Invalid)?)
        }
        Some(_) => return Err(Error::Invalid("settings must be an object".into())),
        None => None,
    };
    let distribution = patch.distribution;
    let settings_changed = settings.is_some();
    let secrets = connector.secret_settings();
    let c = parts
        .store
        .write(move |db| -> Result<StoredChannel> {
            let before = super::get(db, id)?;
            let c = super::update(db, id, name.as_deref(), settings.as_ref(), distribution)?;
            let changes = audit::diff(&audited(&before, secrets), &audited(&c, secrets));
            let change = Change { subject: Subject::Channel, subject_id: Some(id), action: Action::Updated, changes };
            audit::record(db, Some(by), change, now)?;
            Ok(c)
        })
        .await?;
    parts.cache.forget(id);
    // Only new settings change what the background work does (a name does not).
    if settings_changed {
        parts.runners.start(connector, c.channel.clone(), parts.hub.clone(), parts.shutdown);
    }
    Ok(c)
}

/// Starts every stored channel's background work (at launch).
pub async fn start_all(parts: &Parts<'_>) -> Result<()> {
    for c in parts.store.read(super::list).await? {
        if let Some(connector) = parts.connectors.get(&c.channel.kind) {
            parts.runners.start(connector, c.channel, parts.hub.clone(), parts.shutdown);
        }
    }
    Ok(())
}
