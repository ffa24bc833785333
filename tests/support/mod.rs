//! Spawns the real app on 127.0.0.1:0 with a database of its own (a temporary SQLite
//! file, or a fresh PostgreSQL schema when `PARLEY_TEST_DATABASE_URL` is set) and
//! talks to it as a client would.

pub mod browser;
pub mod client;
pub mod discord_fake;
pub mod telegram_fake;
pub mod telegram_person;
pub mod visitor;
pub mod webhook_fake;
pub mod whatsapp_fake;

use std::sync::Arc;
use std::time::Duration;

use parley::{Config, Launched, ManualClock, Options};
use serde_json::{Value, json};

pub use client::Session;

/// Safety net for waits on events: a test that waits longer than this has failed.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub base: String,
    pub launched: Option<Launched>,
    pub config: Config,
    pub clock: Option<ManualClock>,
    pub setup_link: Option<String>,
    _dir: Arc<tempfile::TempDir>,
}

/// Which database the tests run on.
pub fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("PARLEY_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => fresh_pg_schema(&url),
        _ => format!("sqlite://{}/parley.db", dir.display()),
    }
}

/// A schema of its own for each test, so tests run in parallel on one database.
fn fresh_pg_schema(url: &str) -> String {
    let schema = format!("t_{}", parley::operators::sessions::random_token()[..12].to_lowercase().replace('-', "_"));
    let (u, s) = (url.to_owned(), schema.clone());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&u, postgres::NoTls)
            .unwrap_or_else(|e| panic!("PARLEY_TEST_DATABASE_URL={u} is set but PostgreSQL is unreachable: {e}"));
        client.batch_execute(&format!("CREATE SCHEMA {s}")).expect("create schema");
    })
    .join()
    .expect("schema thread");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let (config, dir) = fresh(configure);
    start(config, dir, None, true).await
}

/// An app whose event consumers (the distributor's loop, the notifier) do not run:
/// events it commits wait for the next start.
pub async fn spawn_app_without_consumers(configure: impl FnOnce(&mut Config)) -> TestApp {
    let (config, dir) = fresh(configure);
    start(config, dir, None, false).await
}

/// An app whose clock moves only when the test says so.
pub async fn spawn_app_clocked(configure: impl FnOnce(&mut Config)) -> TestApp {
    let (config, dir) = fresh(configure);
    let clock = ManualClock::new(parley::clock::system_now_ms());
    start(config, dir, Some(clock), true).await
}

/// Another node on the database at `url` (one an app or a `parley serve` already uses).
pub async fn spawn_node_on(url: &str) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = Config::default();
    config.database.url = url.to_owned();
    config.database.readers = 2;
    config.listen = "127.0.0.1:0".into();
    start(config, dir, None, true).await
}

/// A configuration on a database of its own, changed by `configure`.
pub fn fresh(configure: impl FnOnce(&mut Config)) -> (Config, Arc<tempfile::TempDir>) {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = Config::default();
    config.database.url = database_url(dir.path());
    config.database.readers = 2;
    config.listen = "127.0.0.1:0".into();
    configure(&mut config);
    (config, dir)
}

pub async fn start(
    config: Config,
    dir: Arc<tempfile::TempDir>,
    clock: Option<ManualClock>,
    consumers: bool,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind(&config.listen).await.expect("bind");
    let options = match &clock {
        Some(c) => Options { clock: Arc::new(c.clone()), consumers },
        None => Options { consumers, ..Options::default() },
    };
    let launched = parley::launch(config.clone(), listener, options).await.expect("launch");
    TestApp {
        base: format!("http://{}", launched.addr),
        setup_link: launched.setup_link.clone(),
        launched: Some(launched),
        config,
        clock,
        _dir: dir,
    }
}

impl TestApp {
    pub fn app(&self) -> &parley::App {
        &self.launched.as_ref().expect("running").app
    }

    /// Stops the app and starts it again on the same database and a new port.
    pub async fn restart(mut self) -> TestApp {
        if let Some(l) = self.launched.take() {
            let store = l.app.store.clone();
            l.shutdown().await;
            // Every task of the stopped app has let go of its store (so its threads end
            // and nothing of it still writes) before the next one opens the database.
            wait_for("the stopped app to drop its store", || store.handles() == 1).await;
        }
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".into();
        start(config, self._dir.clone(), self.clock.clone(), true).await
    }

    /// Stops the app; its database (and the directory holding it) stays for the next
    /// process to open: another app, or `parley serve` in a child process.
    #[allow(dead_code, reason = "tests/broadcasts (a test target of its own) uses it")]
    pub async fn stop(mut self) -> (Config, Arc<tempfile::TempDir>) {
        if let Some(l) = self.launched.take() {
            let store = l.app.store.clone();
            l.shutdown().await;
            wait_for("the stopped app to drop its store", || store.handles() == 1).await;
        }
        (self.config.clone(), self._dir.clone())
    }

    pub fn anonymous(&self) -> Session {
        Session::new(&self.base, None, 0)
    }

    /// Creates the first admin through the one-time set-up link.
    pub async fn admin(&self) -> Session {
        let link = self.setup_link.as_ref().expect("a fresh app prints a set-up link");
        let token = link.split("token=").nth(1).expect("token in link").to_owned();
        let anon = self.anonymous();
        let res = anon
            .raw_post("/api/v1/setup", &json!({"token": token, "email": "admin@example.com", "name": "Ada Admin", "password": "correct horse"}))
            .await;
        assert_eq!(res.status(), 201, "setup failed");
        Session::from_login(&self.base, res).await
    }

    /// Adds an operator (as `admin`) and logs in as them.
    pub async fn operator(&self, admin: &Session, name: &str) -> Session {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let (status, _) = admin
            .post(
                "/api/v1/operators",
                json!({"email": email, "name": name, "role": "operator", "password": "operator pass"}),
            )
            .await;
        assert_eq!(status, 201);
        self.login(&email, "operator pass").await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let res = self.anonymous().raw_post("/api/v1/login", &json!({"email": email, "password": password})).await;
        assert_eq!(res.status(), 200, "login of {email} failed");
        Session::from_login(&self.base, res).await
    }

    /// A webhook channel with a fake receiver for what Parley sends.
    pub async fn webhook_channel(&self, admin: &Session, fake: &webhook_fake::FakeReceiver) -> WebhookChannel {
        let secret = "0123456789abcdef-secret";
        let (status, body) = admin
            .post(
                "/api/v1/channels",
                json!({"kind": "webhook", "name": "Hooks", "settings": {"secret": secret, "url": fake.url()}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        WebhookChannel { id: body["id"].as_i64().unwrap(), secret: secret.into(), base: self.base.clone() }
    }
}

/// A generic webhook channel: sends signed inbound messages as a platform would.
#[derive(Clone)]
pub struct WebhookChannel {
    pub id: i64,
    pub secret: String,
    base: String,
}

impl WebhookChannel {
    /// POSTs one signed inbound message; returns the status and JSON answer.
    pub async fn inbound(&self, body: Value) -> (u16, Value) {
        let res = self.raw_inbound(body).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// POSTs one signed inbound message; the answer as it came.
    pub async fn raw_inbound(&self, body: Value) -> reqwest::Response {
        let raw = body.to_string();
        reqwest::Client::new()
            .post(format!("{}/hooks/{}", self.base, self.id))
            .header("content-type", "application/json")
            .header("x-parley-signature", parley_webhook::sign(&self.secret, raw.as_bytes()))
            .body(raw)
            .send()
            .await
            .expect("webhook POST")
    }

    /// A text message from `user` with platform id `id`.
    pub async fn text(&self, user: &str, id: &str, text: &str) -> Value {
        let (status, body) =
            self.inbound(json!({"user_id": user, "message_id": id, "text": text, "first_name": user})).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// Waits until `done` holds, checking every few milliseconds, for [`PATIENCE`] at most.
pub async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
