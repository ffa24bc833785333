//! Parley: a bot-and-messenger hub. One chat per contact across channels, bots,
//! broadcasts and human operators. See ARCHITECTURE.md for the map.
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod broadcasts;
pub mod channels;
pub mod clock;
pub mod config;
pub mod consumers;
pub mod distribution;
pub mod error;
pub mod flows;
pub mod http;
pub mod hub;
pub mod inbox;
pub mod jobs;
pub mod locks;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod operators;
pub mod outbox;
pub mod reports;
pub mod runners;
pub mod store;
pub mod widget;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use app::App;

/// mimalloc instead of the system allocator: building and dropping the JSON of every
/// message spent about a tenth of the ingest path in glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;

/// How to start: the clock (tests pass a [`ManualClock`]).
pub struct Options {
    pub clock: Arc<dyn Clock>,
    /// Whether the event consumers (the distributor's loop, the notifier) run. Tests
    /// turn them off to stop an app between an event and its handling.
    pub consumers: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), consumers: true }
    }
}

/// A running Parley.
pub struct Launched {
    pub addr: SocketAddr,
    pub app: App,
    /// The first-admin link, when the database has no operator yet.
    pub setup_link: Option<String>,
    pub server: JoinHandle<()>,
}

impl Launched {
    /// Stops accepting work, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(self) {
        self.app.shutdown.cancel();
        let _ = self.server.await;
    }
}

/// Opens the database, starts the workers and serves HTTP on `listener`.
pub async fn launch(config: Config, listener: TcpListener, options: Options) -> anyhow::Result<Launched> {
    metrics::install();
    let url = config.database.url.clone();
    let (readers, writers) = (config.database.readers, config.database.writers);
    let store = tokio::task::spawn_blocking(move || store::Store::open_with(&url, readers, writers))
        .await?
        .with_context(|| format!("cannot open the database {}", config.database.url))?;

    let mut connectors = channels::Connectors::default();
    connectors.add(Arc::new(parley_telegram::TelegramConnector::new()));
    connectors.add(Arc::new(parley_discord::DiscordConnector::new()));
    connectors.add(Arc::new(parley_webhook::WebhookConnector::new()));
    connectors.add(Arc::new(parley_whatsapp::WhatsAppConnector::new()));
    let visitors = parley_widget::Visitors::default();
    connectors.add(Arc::new(parley_widget::WidgetConnector::new(visitors.clone())));
    metrics::register_kinds(&connectors.kinds());

    let app = App::new(store, config, options.clock, connectors, visitors);
    ensure_widget_channel(&app).await?;
    let setup_link = first_admin_link(&app).await?;

    tokio::spawn(outbox::run(app.clone()));
    tokio::spawn(app.clone().watch_presence());
    if options.consumers {
        tokio::spawn(distribution::run(app.clone()));
        let notifier = consumers::Reader::new(notify::Notifier);
        tokio::spawn(consumers::run(notifier, app.store.clone(), app.clock.clone(), app.shutdown.clone()));
    }
    // Flow files are loaded before the first request, then watched for changes.
    let seen = flows::files::check_dir(std::path::Path::new(&app.config.flows.dir))
        .with_context(|| format!("cannot read the flows directory {}", app.config.flows.dir))?;
    let now = app.now();
    app.store.write(move |db| flows::files::sync(db, &seen, now)).await?;
    let dir = std::path::PathBuf::from(&app.config.flows.dir);
    tokio::spawn(flows::files::watch(app.store.clone(), app.clock.clone(), dir, app.shutdown.clone()));
    let depth = app.config.broadcasts.outbox_depth;
    tokio::spawn(broadcasts::worker::run(app.store.clone(), app.clock.clone(), depth, app.shutdown.clone()));
    tokio::spawn(jobs::runner::run(app.store.clone(), app.clock.clone(), app.jobs.clone(), app.shutdown.clone()));
    channels::lifecycle::start_all(&hub::channel_parts(&app)).await?;
    let addr = listener.local_addr()?;
    let router = http::router(app.clone());
    let shutdown = app.shutdown.clone();
    let server = tokio::spawn(async move {
        let serve = axum::serve(
            // Small frames (events, widget replies) must leave at once, not wait for the
            // client's delayed ACK of the previous one (Nagle): p99 round trips fall ~2×.
            axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            }),
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "the HTTP server stopped");
        }
    });
    tracing::info!(listen = %addr, "Parley is up");
    Ok(Launched { addr, app, setup_link, server })
}

/// A first start gets a widget channel, so `/demo` works out of the box.
async fn ensure_widget_channel(app: &App) -> anyhow::Result<()> {
    let now = app.now();
    app.store
        .write(move |db| -> error::Result<()> {
            if channels::list(db)?.is_empty() {
                let settings = parley_widget::default_settings();
                channels::create(db, "widget", "Website", &settings, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// With no operator yet, a one-time link that lets the first admin set a password.
async fn first_admin_link(app: &App) -> anyhow::Result<Option<String>> {
    let now = app.now();
    let expires = now + app.config.auth.setup_link_hours * 3_600_000;
    let token = app
        .store
        .write(move |db| -> error::Result<Option<String>> {
            if operators::count(db)? > 0 {
                return Ok(None);
            }
            operators::setup::create(db, now, expires).map(Some)
        })
        .await?;
    Ok(token.map(|t| format!("{}/setup?token={t}", app.config.public_url())))
}
