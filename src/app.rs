//! The application's shared state.

use std::ops::Deref;
use std::sync::Arc;

use parley_sdk::{Inbound, Receipt};
use tokio::sync::broadcast;
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
    pub channel_cache: crate::channels::cache::ChannelCache,
    pub login_limiter: LoginLimiter,
    /// The ingest door's hooks, in the order they decide.
    pub ingest_hooks: crate::inbox::door::Hooks,
    /// Durable jobs' handlers, by kind.
    pub jobs: crate::jobs::Handlers,
    /// Checked flows by version (shared with the bot's hook and jobs).
    pub flows: Arc<crate::flows::catalog::Compiled>,
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
        let limiter = LoginLimiter::new(&config.auth);
        let distribution = crate::distribution::Distributor::new(config.distribution.clone());
        let flows = Arc::new(crate::flows::catalog::Compiled::default());
        let bot = crate::flows::hook::Bot { compiled: flows.clone(), distribution: config.distribution.clone() };
        App(Arc::new(Inner {
            store,
            clock,
            connectors,
            channel_cache: Default::default(),
            login_limiter: limiter,
            ingest_hooks: crate::inbox::door::Hooks::new(vec![
                Arc::new(crate::notify::Intercept),
                Arc::new(bot),
                Arc::new(crate::notify::Away { presence: distribution.presence.clone() }),
                Arc::new(crate::broadcasts::optout::OptOut::new(&config.broadcasts)),
            ]),
            jobs: crate::jobs::Handlers::new(vec![
                Arc::new(crate::distribution::timeout::AnswerTimeout::new(config.distribution.clone())),
                Arc::new(crate::flows::jobs::HttpStep::new(flows.clone(), config.distribution.clone())),
                Arc::new(crate::flows::jobs::WaitStep {
                    compiled: flows.clone(),
                    distribution: config.distribution.clone(),
                }),
            ]),
            flows,
            ephemeral: broadcast::channel(1024).0,
            shutdown: CancellationToken::new(),
            visitors,
            online: tokio::sync::watch::Sender::new(false),
            widget_limits: crate::widget::limits::WidgetLimits::new(&config.widget),
            runners: crate::runners::Runners::default(),
            distribution,
            config,
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The one door for inbound events of every channel: the ingest hooks, then the
    /// inbox, in one transaction; returns after commit.
    pub async fn ingest(&self, inbound: Inbound) -> Result<Receipt, Error> {
        let (now, hooks, channel_id) = (self.now(), self.ingest_hooks.clone(), inbound.channel_id);
        let receipt = self.store.write(move |db| crate::inbox::door::ingest(db, &hooks, &inbound, now)).await;
        let result = match &receipt {
            Ok(r) if r.created => "created",
            Ok(_) => "duplicate",
            Err(_) => "refused",
        };
        // The kind from the channels' cache (the webhook path has just filled it).
        let kind = match self.channel_cache.get(&self.store, channel_id).await {
            Ok(c) => c.channel.kind.clone(),
            Err(_) => "unknown".to_owned(),
        };
        metrics::counter!("parley_inbound_total", "kind" => kind, "result" => result).increment(1);
        receipt
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
}
