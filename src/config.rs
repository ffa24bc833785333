//! Settings: `config/parley.toml` (every key optional), then `PARLEY_*` environment
//! variables on top. `PARLEY_DATABASE_URL` sets `[database] url`, `PARLEY_LISTEN` sets
//! `listen`: the variable's name is the key's path joined with `_`, in upper case.

pub mod distribution;

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: String,
    /// Address at which browsers and platforms reach Parley (webhooks, links).
    /// Empty: `http://` + `listen`.
    pub public_url: String,
    pub database: Database,
    pub http: Http,
    pub auth: Auth,
    pub inbox: Inbox,
    pub outbox: Outbox,
    pub limits: Limits,
    pub widget: Widget,
    pub distribution: distribution::Settings,
    pub flows: Flows,
    pub broadcasts: Broadcasts,
    pub log: Log,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Flows {
    /// Where flow files live: every `*.yaml` directly in it runs (a subfolder does not).
    pub dir: String,
}

impl Default for Flows {
    fn default() -> Self {
        Self { dir: "config/flows".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    pub url: String,
    pub readers: usize,
    /// Writer connections on PostgreSQL, each committing its own batches (SQLite has one):
    /// a node waits on round trips to the database, and several writers overlap them.
    /// Experimental above 1 (docs/BENCHMARKS.md).
    pub writers: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Http {
    /// Proxies (CIDRs, e.g. `10.0.0.0/8`, `::1/128`) whose `X-Forwarded-For` and
    /// `Forwarded` headers tell the client's address. Empty: the socket's peer is the
    /// client, whatever headers it sends.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    pub session_days: i64,
    /// Failures for one account from one address before its delays start.
    pub login_max_failures: u32,
    /// Failures from one address, for any accounts, before its delays start.
    pub login_address_failures: u32,
    /// Failures for one account from addresses it never logged in from.
    pub login_account_failures: u32,
    /// The longest a delay grows to. Configs written for the fixed lockout that came
    /// before call it `login_lockout_seconds`; that name is still read.
    #[serde(alias = "login_lockout_seconds")]
    pub login_max_delay_seconds: u64,
    pub setup_link_hours: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Operators see every chat.
    All,
    /// Operators see their own chats and unassigned ones; admins see all.
    Own,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inbox {
    pub visibility: Visibility,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Outbox {
    pub max_attempts: i64,
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
    /// Sends in flight at once. A quarter of them (at least one) is kept for the live
    /// lane (operators, system messages, notifications): bots and broadcasts never take all.
    pub concurrency: usize,
    /// The longest one send may take before it counts as a transient failure.
    pub send_timeout_ms: u64,
}

/// `[broadcasts]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Broadcasts {
    /// Recipients of one broadcast in the outbox at once: enough to keep the send slots
    /// busy, few enough that a pause or a cancel stops what is left at once.
    pub outbox_depth: usize,
    /// Messages (besides `/stop`) by which a contact unsubscribes, compared case-blind.
    pub unsubscribe_words: Vec<String>,
    /// What a contact is told when they unsubscribe.
    pub unsubscribed_text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub body_bytes: usize,
    pub message_chars: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Widget {
    pub new_visitors_per_minute: u32,
    pub messages_per_minute: u32,
    pub connections_per_ip: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `parley=debug,tower_http=info`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            database: Database::default(),
            http: Http::default(),
            auth: Auth::default(),
            inbox: Inbox::default(),
            outbox: Outbox::default(),
            limits: Limits::default(),
            widget: Widget::default(),
            distribution: distribution::Settings::default(),
            flows: Flows::default(),
            broadcasts: Broadcasts::default(),
            log: Log::default(),
        }
    }
}
impl Default for Database {
    fn default() -> Self {
        Self { url: "sqlite://data/parley.db".into(), readers: 4, writers: 1 }
    }
}
impl Default for Auth {
    fn default() -> Self {
        Self {
            session_days: 30,
            login_max_failures: 5,
            login_address_failures: 20,
            login_account_failures: 50,
            login_max_delay_seconds: 300,
            setup_link_hours: 24,
        }
    }
}
impl Default for Inbox {
    fn default() -> Self {
        Self { visibility: Visibility::All }
    }
}
impl Default for Outbox {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            backoff_base_ms: 1_000,
            backoff_max_ms: 300_000,
            concurrency: 32,
            send_timeout_ms: 30_000,
        }
    }
}
impl Default for Broadcasts {
    fn default() -> Self {
        Self {
            outbox_depth: 1_000,
            unsubscribe_words: vec!["stop".into(), "unsubscribe".into()],
            unsubscribed_text: "You will receive no more broadcasts. Send /start to subscribe again.".into(),
        }
    }
}
impl Default for Limits {
    fn default() -> Self {
        Self { body_bytes: 1 << 20, message_chars: 4_000 }
    }
}
impl Default for Widget {
    fn default() -> Self {
        Self { new_visitors_per_minute: 20, messages_per_minute: 60, connections_per_ip: 50 }
    }
}
impl Default for Log {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

impl Config {
    /// Reads `path` if it exists (a missing default file is fine), then the environment.
    pub fn load(path: &Path, required: bool) -> anyhow::Result<Config> {
        let mut table = match std::fs::read_to_string(path) {
            Ok(text) => text.parse::<toml::Table>().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        Self::apply_env(&mut table, std::env::vars())?;
        Config::deserialize(toml::Value::Table(table)).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The address webhooks and links are built on, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Applies `PARLEY_*` variables, finding each one's key in the default config.
    pub fn apply_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) -> anyhow::Result<()> {
        let defaults = toml::Table::try_from(Config::default())?;
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("PARLEY_") else {
                continue;
            };
            let Some(path) = key_path(&defaults, &rest.to_ascii_lowercase()) else {
                continue;
            };
            let default = lookup(&defaults, &path);
            let parsed = match default {
                Some(toml::Value::String(_)) | None => toml::Value::String(value),
                Some(_) => value
                    .parse::<toml::Value>()
                    .or_else(|_| format!("v = {value}").parse::<toml::Table>().map(|t| t["v"].clone()))
                    .map_err(|e| anyhow::anyhow!("{name}: {e}"))?,
            };
            insert(table, &path, parsed);
        }
        Ok(())
    }
}

/// `database_url` → `["database", "url"]` when that key exists in `defaults`.
fn key_path(defaults: &toml::Table, flat: &str) -> Option<Vec<String>> {
    if defaults.contains_key(flat) && !defaults[flat].is_table() {
        return Some(vec![flat.to_owned()]);
    }
    for (key, value) in defaults {
        if let (toml::Value::Table(sub), Some(rest)) =
            (value, flat.strip_prefix(key.as_str()).and_then(|r| r.strip_prefix('_')))
            && let Some(mut path) = key_path(sub, rest)
        {
            path.insert(0, key.clone());
            return Some(path);
        }
    }
    None
}

fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let v = table.get(first)?;
    if rest.is_empty() { Some(v) } else { lookup(v.as_table()?, rest) }
}

fn insert(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return;
    }
    let entry = table.entry(first.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(sub) = entry {
        insert(sub, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_nested_keys() {
        let mut table = toml::Table::new();
        let vars = [
            ("PARLEY_DATABASE_URL", "postgres://x"),
            ("PARLEY_PUBLIC_URL", "https://hub.example"),
            ("PARLEY_OUTBOX_MAX_ATTEMPTS", "3"),
            ("PARLEY_INBOX_VISIBILITY", "own"),
            ("OTHER", "x"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()));
        Config::apply_env(&mut table, vars.into_iter()).unwrap();
        let c = Config::deserialize(toml::Value::Table(table)).unwrap();
        assert_eq!(c.database.url, "postgres://x");
        assert_eq!(c.public_url(), "https://hub.example");
        assert_eq!(c.outbox.max_attempts, 3);
        assert_eq!(c.inbox.visibility, Visibility::Own);
        assert_eq!(c.listen, "127.0.0.1:8080");
    }

    #[test]
    fn shipped_config_file_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/parley.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let shipped: toml::Table = text.parse().unwrap();
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        assert_eq!(shipped, defaults, "config/parley.toml must list every key with its default");
    }
}
