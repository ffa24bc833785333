//! The hub as connectors see it (`parley_sdk::Hub`): ingest through the app's one door,
//! the addresses Parley is reached at, and cluster locks. It sits above [`App`],
//! which knows nothing of it, so the hook in ingest may use the whole app.

use std::sync::Arc;

use async_trait::async_trait;
use parley_sdk::{HubError, Inbound, Receipt};

use crate::app::App;
use crate::channels::lifecycle::Parts;
use crate::error::Error;

/// The hub handle given to connectors.
pub fn handle(app: &App) -> Arc<dyn parley_sdk::Hub> {
    Arc::new(HubHandle(app.clone()))
}

/// What the channel lifecycle needs of the app: among it, this hub for the channels'
/// background work.
pub fn channel_parts(app: &App) -> Parts<'_> {
    Parts {
        store: &app.store,
        connectors: &app.connectors,
        cache: &app.channel_cache,
        runners: &app.runners,
        hub: handle(app),
        shutdown: &app.shutdown,
    }
}

struct HubHandle(App);

#[async_trait]
impl parley_sdk::Hub for HubHandle {
    async fn ingest(&self, inbound: Inbound) -> Result<Receipt, HubError> {
        self.0.ingest(inbound).await.map_err(|e| match e {
            Error::Invalid(m) | Error::NotFound(m) => HubError::Rejected(m),
            other => HubError::Unavailable(other.to_string()),
        })
    }

    fn webhook_url(&self, channel_id: i64) -> String {
        format!("{}/hooks/{channel_id}", self.0.config.public_url())
    }

    fn file_url(&self, channel_id: i64, file_id: &str) -> Option<String> {
        Some(format!("/api/v1/channels/{channel_id}/files/{file_id}"))
    }

    async fn try_lock(&self, name: &str) -> Result<Option<parley_sdk::LockGuard>, HubError> {
        crate::locks::try_lock(&self.0.store, name).await
    }

    async fn load_state(&self, channel_id: i64) -> Result<Option<serde_json::Value>, HubError> {
        let read = self.0.store.read(move |db| crate::channels::state::load(db, channel_id)).await;
        read.map_err(|e| HubError::Unavailable(e.to_string()))
    }

    async fn save_state(&self, channel_id: i64, state: serde_json::Value) -> Result<(), HubError> {
        let now = self.0.now();
        let write = self.0.store.write(move |db| crate::channels::state::save(db, channel_id, &state, now)).await;
        write.map_err(|e| HubError::Unavailable(e.to_string()))
    }
}
