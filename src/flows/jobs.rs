//! The flows' durable jobs. An HTTP step's call is made by [`HttpStep::prepare`],
//! outside any transaction, and its answer moves the run on in the job's write; a wait
//! is a job due when it ends ([`WaitStep`]). Both check first that the run is still
//! where it was when the job was set (a contact who wrote, an operator who took over,
//! a new start: the job is stale and does nothing). After a restart or kill -9 a due job
//! runs again: a call may be repeated, but what the run sends is written once, with the
//! job's end.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::Compiled;
use super::drive::{self, Drive};
use super::engine::{self, Request, Response, Waiting};
use super::runs;
use crate::config::distribution::Settings;
use crate::error::Result;
use crate::jobs::{Done, Handler, Job, Kind, Prepared};
use crate::store::Db;

#[derive(Deserialize)]
struct Payload {
    run_id: i64,
    step: String,
    #[serde(default)]
    request: Option<Request>,
}

fn payload(job: &Job) -> Option<Payload> {
    match serde_json::from_value(job.payload.clone()) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(job.id = job.id, error = %e, "a flow job with an unreadable payload is dropped");
            None
        }
    }
}

pub struct HttpStep {
    pub compiled: Arc<Compiled>,
    pub distribution: Settings,
    pub client: reqwest::Client,
}

impl HttpStep {
    pub fn new(compiled: Arc<Compiled>, distribution: Settings) -> HttpStep {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client");
        HttpStep { compiled, distribution, client }
    }
}

impl Handler for HttpStep {
    fn kind(&self) -> Kind {
        Kind::FlowHttp
    }

    fn prepare(&self, job: &Job) -> Option<Prepared> {
        let request = payload(job)?.request?;
        let client = self.client.clone();
        Some(Box::pin(async move {
            match call(&client, &request).await {
                Ok(v) => json!({"ok": v}),
                Err(e) => json!({"error": e}),
            }
        }))
    }

    fn run(&self, db: &mut Db, job: &Job, now: i64) -> Result<Done> {
        let Some(p) = payload(job) else { return Ok(Done::Finished) };
        let response: Response = match &job.prepared {
            Some(v) if v.get("ok").is_some() => Ok(v["ok"].clone()),
            Some(v) => Err(v["error"].as_str().unwrap_or("the call failed").to_owned()),
            None => Err("the call was not made".to_owned()),
        };
        let drive = Drive { compiled: &self.compiled, distribution: &self.distribution };
        resume(db, &drive, p.run_id, &p.step, Waiting::Http, now, |flow, state, facts| {
            engine::answered(flow, state, facts, response)
        })?;
        Ok(Done::Finished)
    }
}

pub struct WaitStep {
    pub compiled: Arc<Compiled>,
    pub distribution: Settings,
}

impl Handler for WaitStep {
    fn kind(&self) -> Kind {
        Kind::FlowWait
    }

    fn run(&self, db: &mut Db, job: &Job, now: i64) -> Result<Done> {
        let Some(p) = payload(job) else { return Ok(Done::Finished) };
        let drive = Drive { compiled: &self.compiled, distribution: &self.distribution };
        resume(db, &drive, p.run_id, &p.step, Waiting::Timer, now, engine::rang)?;
        Ok(Done::Finished)
    }
}

/// Moves the run on if it still waits at `step` for `waiting`.
fn resume(
    db: &mut Db,
    drive: &Drive,
    run_id: i64,
    step: &str,
    waiting: Waiting,
    now: i64,
    next: impl FnOnce(&super::Flow, &mut engine::State, &engine::Facts) -> Vec<engine::Effect>,
) -> Result<()> {
    let Some(mut run) = runs::get(db, run_id)? else { return Ok(()) };
    let chat = drive::chat(db, run.chat_id)?;
    if !drive::current(&run, &chat) || run.state.waiting != waiting || run.state.step != step {
        tracing::debug!(run.id = run_id, "a flow job found its run moved on; nothing to do");
        return Ok(());
    }
    let flow = drive.compiled.get(db, run.version_id)?;
    let facts = drive::facts(db, &chat, now)?;
    let effects = next(&flow, &mut run.state, &facts);
    drive.carry(db, &chat, run, effects, now)
}

/// Makes the call: its JSON answer, or why there is none (a status that is not 2xx, a
/// timeout, an answer too big or not JSON).
pub async fn call(client: &reqwest::Client, r: &Request) -> Result<Value, String> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|_| format!("bad method {}", r.method))?;
    let mut req = client.request(method, &r.url).timeout(Duration::from_millis(r.timeout_ms));
    for (k, v) in &r.headers {
        req = req.header(k, v);
    }
    if let Some(body) = &r.body {
        let json = serde_json::from_str::<Value>(body).is_ok();
        req = req
            .header("content-type", if json { "application/json" } else { "text/plain; charset=utf-8" })
            .body(body.clone());
    }
    let mut res = req
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { format!("cannot connect: {e}") })?;
    let status = res.status();
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > r.max_bytes {
                    return Err(format!("the answer is larger than {} bytes", r.max_bytes));
                }
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err("timed out".to_owned()),
            Err(e) => return Err(format!("the answer broke off: {e}")),
        }
    }
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body).map_err(|_| "the answer is not JSON".to_owned())
}
