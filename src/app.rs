//! The application's shared state, and the hub as connectors see it.

use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use parley_sdk::{HubError, Inbound, Receipt};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::channels::Connectors;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::Error;
use crate::operators::limiter::LoginLimiter;
use crate::store::Store;

/// Everything a request handler or worker needs; cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub connectors: Connectors,
    /// Channels as the webhook path reads them.
    pub channel_cache: crate::channel_cache::ChannelCache,
    /// Wakes the outbox worker when a message is queued.
    pub outbox_wake: Notify,
    pub login_limiter: LoginLimiter,
    /// Frames that are pushed but never stored (typing indicators).
    pub ephemeral: broadcast::Sender<Arc<serde_json::Value>>,
    pub shutdown: CancellationToken,
    /// Widget visitors with an open connection.
    pub visitors: parley_widget::Visitors,
    /// Whether any operator is Online; widgets show their offline text when not.
    pub online: tokio::sync::watch::Sender<bool>,
    /// Per-IP limits for the widget.
    pub widget_limits: crate::widget::limits::WidgetLimits,
    /// Channels' background work (Telegram long polling).
    pub runners: crate::runners::Runners,
    /// Automatic distribution of chats; console connections (for the grace period, and for
    /// messenger notifications, which go to operators with no console open).
    pub distribution: crate::distribution::Distributor,
}

impl Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl App {
    pub fn new(
        store: Store,
        config: Config,
        clock: Arc<dyn Clock>,
        connectors: Connectors,
        visitors: parley_widget::Visitors,
    ) -> App {
        let limiter = LoginLimiter::new(config.auth.login_max_failures, config.auth.login_lockout_seconds);
        App(Arc::new(Inner {
            store,
            clock,
            connectors,
            channel_cache: Default::default(),
            outbox_wake: Notify::new(),
            login_limiter: limiter,
            ephemeral: broadcast::channel(1024).0,
            shutdown: CancellationToken::new(),
            visitors,
            online: tokio::sync::watch::Sender::new(false),
            widget_limits: crate::widget::limits::WidgetLimits::new(&config.widget),
            runners: crate::runners::Runners::default(),
            distribution: crate::distribution::Distributor::default(),
            config,
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Ingests one inbound event; returns after commit.
    pub async fn ingest(&self, inbound: Inbound) -> Result<Receipt, Error> {
        let now = self.now();
        let receipt = self.store.write(move |db| crate::inbox::ingest::ingest(db, &inbound, now)).await?;
        metrics::counter!("parley_inbound_total", "created" => if receipt.created { "yes" } else { "duplicate" })
            .increment(1);
        Ok(receipt)
    }

    /// The hub handle given to connectors.
    pub fn hub(&self) -> Arc<dyn parley_sdk::Hub> {
        Arc::new(HubHandle(self.clone()))
    }

    /// Keeps [`Inner::online`] true while any operator is Online, on this node or another.
    pub async fn watch_presence(self) {
        let mut events = self.store.subscribe();
        loop {
            if let Ok(online) = self.store.read(crate::widget::anyone_online).await {
                self.online.send_if_modified(|v| std::mem::replace(v, online) != online);
            }
            loop {
                tokio::select! {
                    e = events.recv() => match e {
                        Ok(e) if e.event_kind() == Some(crate::store::events::EventKind::OperatorUpdated) => break,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(_) => return,
                    },
                    _ = self.shutdown.cancelled() => return,
                }
            }
        }
    }

    /// Tells the outbox worker a message is waiting.
    pub fn kick_outbox(&self) {
        self.outbox_wake.notify_one();
    }
}

struct HubHandle(App);

#[async_trait]
impl parley_sdk::Hub for HubHandle {
    async fn ingest(&self, inbound: Inbound) -> Result<Receipt, HubError> {
        // Link codes and replies to notifications are taken out before ingest.
        crate::notify::ingest(&self.0, inbound).await.map_err(|e| match e {
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
        crate::locks::try_lock(&self.0, name).await
    }
}
