//! Prometheus metrics: one recorder for the process, rendered at `/metrics`.
//!
//! Every series of docs/METRICS.md is there from the first scrape: the recorder is
//! installed before anything else starts, the counters are registered at zero, the
//! process and store figures are read at each scrape ([`render`], [`observe_store`]).

use std::sync::OnceLock;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::Result;
use crate::store::{Db, Store};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();

/// Buckets for durations in seconds: 0.5 ms to 10 s.
const SECONDS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Buckets for how many jobs a store transaction took.
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Installs the recorder once; later calls (more apps in one test process) reuse it.
pub fn install() {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("parley_store_batch_jobs".into()), BATCH))
            .and_then(|b| b.install_recorder())
            .ok()?;
        describe();
        Some(handle)
    });
}

/// Names, units and help texts (docs/METRICS.md lists the same), and the series that
/// must show before anything happened.
fn describe() {
    describe_gauge!("parley_build_info", "Always 1; the labels say which build runs");
    metrics::gauge!("parley_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let process = PROCESS.get_or_init(metrics_process::Collector::default);
    process.describe();
    process.collect();

    describe_counter!("parley_http_requests_total", "HTTP requests answered, by route, method and status");
    describe_histogram!(
        "parley_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route, method and status"
    );
    describe_counter!("parley_inbound_total", "Inbound messages and events, by channel kind and result");
    describe_counter!("parley_outbox_attempts_total", "Send attempts, by channel kind and result");
    describe_gauge!("parley_outbox_depth", "Sends waiting in the outbox (parked ones included)");
    describe_gauge!("parley_outbox_parked", "Sends parked until their contact can be reached again");
    describe_gauge!("parley_outbox_oldest_age_seconds", Unit::Seconds, "Age of the oldest waiting send (0: none)");
    describe_histogram!("parley_store_batch_jobs", "Write jobs committed together in one store transaction");
    describe_histogram!(
        "parley_store_transaction_seconds",
        Unit::Seconds,
        "One write transaction, from its first job to its commit"
    );
    describe_histogram!("parley_store_commit_seconds", Unit::Seconds, "The COMMIT of a write transaction");
    describe_gauge!("parley_websockets_open", "Open WebSockets, by kind (console, widget)");
    describe_gauge!("parley_consumer_lag_events", "Events committed that a consumer has not handled yet, by consumer");
    describe_counter!("parley_notifications_total", "Operator notifications, by result");
    describe_counter!("parley_distribution_assigned_total", "Chats handed out, by reason");
    for kind in ["console", "widget"] {
        metrics::gauge!("parley_websockets_open", "kind" => kind).increment(0.0);
    }
    for result in ["sent", "failed"] {
        metrics::counter!("parley_notifications_total", "result" => result).absolute(0);
    }
    for reason in crate::model::Reason::ALL {
        metrics::counter!("parley_distribution_assigned_total", "reason" => reason.as_str()).absolute(0);
    }
}

/// Registers at zero the per-kind counters of every channel kind the hub knows, so a
/// dashboard's rate shows 0 rather than nothing before the first message.
pub fn register_kinds(kinds: &[&'static str]) {
    for &kind in kinds {
        for result in ["created", "duplicate", "refused"] {
            metrics::counter!("parley_inbound_total", "kind" => kind, "result" => result).absolute(0);
        }
        for result in ["sent", "retry", "parked", "failed", "channel_broken"] {
            metrics::counter!("parley_outbox_attempts_total", "kind" => kind, "result" => result).absolute(0);
        }
    }
}

/// The text exposition, with the process's figures read now.
pub fn render() -> String {
    if let Some(p) = PROCESS.get() {
        p.collect();
    }
    HANDLE.get().and_then(Option::as_ref).map(PrometheusHandle::render).unwrap_or_default()
}

/// Reads what only the database knows: the outbox's depth and oldest send, and each
/// event consumer's lag behind the newest committed event.
pub async fn observe_store(store: &Store, now: i64) -> Result<()> {
    store.read(move |db| read_store_figures(db, now)).await
}

fn read_store_figures(db: &mut Db, now: i64) -> Result<()> {
    let outbox = db.query_one(
        // Counts, not SUM(parked): PostgreSQL sums BIGINTs into NUMERIC.
        "SELECT COUNT(*) AS n, (SELECT COUNT(*) FROM outbox WHERE parked = 1) AS parked, \
         MIN(created_at) AS oldest FROM outbox",
        &[],
    )?;
    metrics::gauge!("parley_outbox_depth").set(outbox.get::<i64>("n")? as f64);
    metrics::gauge!("parley_outbox_parked").set(outbox.get::<i64>("parked")? as f64);
    let age = outbox.get::<Option<i64>>("oldest")?.map_or(0, |t| (now - t).max(0));
    metrics::gauge!("parley_outbox_oldest_age_seconds").set(age as f64 / 1000.0);
    let newest: i64 = db.query_one("SELECT COALESCE(MAX(id), 0) AS n FROM events", &[])?.get("n")?;
    for r in db.query("SELECT name, position FROM consumers", &[])? {
        let (name, position): (String, i64) = (r.get("name")?, r.get("position")?);
        metrics::gauge!("parley_consumer_lag_events", "consumer" => name).set((newest - position).max(0) as f64);
    }
    Ok(())
}

/// One open WebSocket of `kind`, counted in `parley_websockets_open` until dropped.
pub struct OpenSocket(&'static str);

impl OpenSocket {
    pub fn new(kind: &'static str) -> Self {
        metrics::gauge!("parley_websockets_open", "kind" => kind).increment(1.0);
        OpenSocket(kind)
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        metrics::gauge!("parley_websockets_open", "kind" => self.0).decrement(1.0);
    }
}
