//! The stored flows and their versions. Every change is a new version (who, when);
//! `current_version` is where new runs start, and runs keep the version they began on.
//! A text that does not pass the check is refused and changes nothing. Compiled flows
//! are kept in memory by version ([`Compiled`]): a version never changes once written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::check::{Diagnostic, check};
use super::{Action, Flow, Next, Trigger};
use crate::error::{Error, Result};
use crate::params;
use crate::store::Db;

crate::model::stored_enum! {
    /// Where a flow is written: a file (read-only through the API) or the API.
    pub enum Origin: "flow origin" {
        File = "file",
        Api = "api",
    }
}

/// A flow id: what `PUT /api/v1/flows/{id}` and file names use.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checked flows by version id.
#[derive(Default)]
pub struct Compiled(Mutex<HashMap<i64, Arc<Flow>>>);

impl Compiled {
    pub fn get(&self, db: &mut Db, version_id: i64) -> Result<Arc<Flow>> {
        if let Some(f) = self.0.lock().expect("flows cache").get(&version_id) {
            return Ok(f.clone());
        }
        let source: String = db
            .query_opt("SELECT source FROM flow_versions WHERE id = $1", params![version_id])?
            .ok_or_else(|| crate::error::not_found("flow version", version_id))?
            .get("source")?;
        let flow = check(&source)
            .flow
            .ok_or_else(|| Error::Invalid(format!("flow version {version_id} no longer passes the check")))?;
        let flow = Arc::new(flow);
        self.0.lock().expect("flows cache").insert(version_id, flow.clone());
        Ok(flow)
    }
}

/// What a save did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Saved {
    /// The version's number, 1 for a new flow.
    pub version: i64,
    /// False when the text was the current version's already.
    pub changed: bool,
    pub warnings: Vec<Diagnostic>,
}

/// Stores `source` as the flow's next version (and makes it current). `enabled` sets the
/// switch too; `None` keeps it (a new flow starts off).
pub fn save(
    db: &mut Db,
    id: &str,
    origin: Origin,
    source: &str,
    author: &str,
    enabled: Option<bool>,
    now: i64,
) -> Result<Saved> {
    if !valid_id(id) {
        return Err(Error::Invalid("a flow id is 1 to 64 lower-case letters, digits, `-` or `_`".into()));
    }
    let checked = check(source);
    if let Some(e) = checked.first_error() {
        return Err(Error::Invalid(format!("the flow has errors: {e}")));
    }
    let flow = checked.flow.as_ref().expect("no errors: a flow");
    let warnings = checked.diagnostics.clone();
    let existing = db.query_opt(
        "SELECT f.origin, f.current_version, v.source, v.number FROM flows f \
         JOIN flow_versions v ON v.id = f.current_version WHERE f.id = $1",
        params![id],
    )?;
    if let Some(r) = &existing {
        if r.get::<Origin>("origin")? != origin {
            return Err(Error::Conflict(format!("the flow `{id}` comes from a file and is read-only here")));
        }
        if r.get::<String>("source")? == source {
            if let Some(on) = enabled {
                set_enabled(db, id, on, author, now)?;
            }
            return Ok(Saved { version: r.get("number")?, changed: false, warnings });
        }
    }
    let number: i64 = db
        .query_one("SELECT COALESCE(MAX(number), 0) + 1 AS n FROM flow_versions WHERE flow_id = $1", params![id])?
        .get("n")?;
    let version_id: i64 = db
        .query_one(
            "INSERT INTO flow_versions (flow_id, number, name, source, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![id, number, flow.name.as_str(), source, author, now],
        )?
        .get("id")?;
    if existing.is_some() {
        db.exec(
            "UPDATE flows SET current_version = $1, updated_at = $2, updated_by = $3, \
             enabled = COALESCE(CAST($4 AS BIGINT), enabled) WHERE id = $5",
            params![version_id, now, author, enabled.map(i64::from), id],
        )?;
    } else {
        db.exec(
            "INSERT INTO flows (id, origin, enabled, current_version, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![id, origin, i64::from(enabled.unwrap_or(false)), version_id, now, author],
        )?;
    }
    Ok(Saved { version: number, changed: true, warnings })
}

pub fn set_enabled(db: &mut Db, id: &str, on: bool, author: &str, now: i64) -> Result<()> {
    let n = db.exec(
        "UPDATE flows SET enabled = $1, updated_at = $2, updated_by = $3 WHERE id = $4",
        params![i64::from(on), now, author, id],
    )?;
    if n == 0 {
        return Err(crate::error::not_found("flow", id));
    }
    Ok(())
}

/// Makes version `number` current again; runs under way stay where they are.
pub fn rollback(db: &mut Db, id: &str, number: i64, author: &str, now: i64) -> Result<()> {
    let version: i64 = db
        .query_opt("SELECT id FROM flow_versions WHERE flow_id = $1 AND number = $2", params![id, number])?
        .ok_or_else(|| Error::NotFound(format!("the flow `{id}` has no version {number}")))?
        .get("id")?;
    let origin: Origin = db
        .query_opt("SELECT origin FROM flows WHERE id = $1", params![id])?
        .ok_or_else(|| crate::error::not_found("flow", id))?
        .get("origin")?;
    if origin == Origin::File {
        return Err(Error::Conflict(format!("the flow `{id}` comes from a file: change the file instead")));
    }
    db.exec(
        "UPDATE flows SET current_version = $1, updated_at = $2, updated_by = $3 WHERE id = $4",
        params![version, now, author, id],
    )?;
    Ok(())
}

/// Deletes a flow written through the API, with its versions, runs and counts.
pub fn delete(db: &mut Db, id: &str) -> Result<()> {
    let origin: Origin = db
        .query_opt("SELECT origin FROM flows WHERE id = $1", params![id])?
        .ok_or_else(|| crate::error::not_found("flow", id))?
        .get("origin")?;
    if origin == Origin::File {
        return Err(Error::Conflict(format!("the flow `{id}` comes from a file: remove the file instead")));
    }
    for run in
        crate::store::column::<i64>(&db.query("SELECT id FROM flow_runs WHERE flow_id = $1", params![id])?, "id")?
    {
        super::runs::cancel_jobs(db, run)?;
    }
    db.exec("DELETE FROM flow_runs WHERE flow_id = $1", params![id])?;
    db.exec("DELETE FROM flow_step_counts WHERE flow_id = $1", params![id])?;
    db.exec("DELETE FROM flows WHERE id = $1", params![id])?;
    db.exec("DELETE FROM flow_versions WHERE flow_id = $1", params![id])?;
    Ok(())
}

/// The enabled flows' ids and current version ids, in id order (the order triggers are
/// tried in).
pub fn enabled(db: &mut Db) -> Result<Vec<(String, i64)>> {
    let rows = db.query("SELECT id, current_version FROM flows WHERE enabled = 1 ORDER BY id", &[])?;
    rows.iter().map(|r| Ok((r.get("id")?, r.get("current_version")?))).collect()
}

/// The current version of `id`, if the flow exists.
pub fn current(db: &mut Db, id: &str) -> Result<Option<(i64, bool)>> {
    db.query_opt("SELECT current_version, enabled FROM flows WHERE id = $1", params![id])?
        .map(|r| Ok((r.get("current_version")?, r.get("enabled")?)))
        .transpose()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowSummary {
    pub id: String,
    pub name: String,
    pub origin: Origin,
    pub enabled: bool,
    /// The current version's number.
    pub version: i64,
    /// The triggers in words: `/start`, `keyword: menu, order`, ...
    pub triggers: Vec<String>,
    pub updated_at: String,
    pub updated_by: String,
    /// Runs under way now.
    pub active_runs: i64,
}

pub fn list(db: &mut Db, compiled: &Compiled) -> Result<Vec<FlowSummary>> {
    let rows = db.query(
        "SELECT f.id, f.origin, f.enabled, f.current_version, f.updated_at, f.updated_by, v.number, v.name, \
         (SELECT COUNT(*) FROM flow_runs r WHERE r.flow_id = f.id AND r.status = 'active') AS active_runs \
         FROM flows f JOIN flow_versions v ON v.id = f.current_version ORDER BY f.id",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let flow = compiled.get(db, r.get("current_version")?)?;
        out.push(FlowSummary {
            id: r.get("id")?,
            name: r.get("name")?,
            origin: r.get("origin")?,
            enabled: r.get("enabled")?,
            version: r.get("number")?,
            triggers: flow.triggers.iter().map(describe).collect(),
            updated_at: crate::clock::rfc3339(r.get("updated_at")?),
            updated_by: r.get("updated_by")?,
            active_runs: r.get("active_runs")?,
        });
    }
    Ok(out)
}

pub fn describe(t: &Trigger) -> String {
    match t {
        Trigger::Command { name, payload: None } => format!("/{name}"),
        Trigger::Command { name, payload: Some(p) } => format!("/{name} {p}"),
        Trigger::Keyword(k) => format!("keyword: {}", k.join(", ")),
        Trigger::Contains(k) => format!("contains: {}", k.join(", ")),
        Trigger::Regex(re) => format!("regex: {}", re.as_str()),
        Trigger::Button(b) => format!("button: {b}"),
        Trigger::FirstMessage => "a new contact's first message".into(),
        Trigger::Any => "any message no other flow took".into(),
        Trigger::Api => "an API call".into(),
    }
}

/// One step as the console's diagram draws it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub name: String,
    /// `send`, `ask`, `condition`, `http`, `wait`, `handoff`, `start_flow`, `close`, `unsubscribe`.
    pub kind: String,
    /// What it says (the template as written), if anything.
    pub text: Option<String>,
    /// Where it may go: (label, step or `end`).
    pub exits: Vec<Exit>,
    pub entered: i64,
    pub finished: i64,
    pub dropped: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Exit {
    pub label: String,
    pub to: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowDetail {
    #[serde(flatten)]
    pub summary: FlowSummary,
    pub source: String,
    pub warnings: Vec<Diagnostic>,
    pub steps: Vec<StepView>,
}

pub fn get(db: &mut Db, compiled: &Compiled, id: &str) -> Result<FlowDetail> {
    let summary =
        list(db, compiled)?.into_iter().find(|f| f.id == id).ok_or_else(|| crate::error::not_found("flow", id))?;
    let r = db.query_one(
        "SELECT v.id, v.source FROM flows f JOIN flow_versions v ON v.id = f.current_version WHERE f.id = $1",
        params![id],
    )?;
    let source: String = r.get("source")?;
    let flow = compiled.get(db, r.get("id")?)?;
    let counts =
        db.query("SELECT step, entered, finished, dropped FROM flow_step_counts WHERE flow_id = $1", params![id])?;
    let mut by_step = HashMap::new();
    for c in counts {
        by_step.insert(c.get::<String>("step")?, (c.get("entered")?, c.get("finished")?, c.get("dropped")?));
    }
    let steps = flow
        .steps
        .iter()
        .map(|s| {
            let (entered, finished, dropped) = by_step.get(&s.name).copied().unwrap_or((0, 0, 0));
            StepView {
                name: s.name.clone(),
                kind: kind(&s.action, s.send.is_some()).into(),
                text: step_text(s),
                exits: exits(s),
                entered,
                finished,
                dropped,
            }
        })
        .collect();
    Ok(FlowDetail { summary, warnings: check(&source).diagnostics, source, steps })
}

fn kind(a: &Action, sends: bool) -> &'static str {
    match a {
        Action::None if sends => "send",
        Action::None => "set",
        Action::Ask { .. } => "ask",
        Action::Condition(_) => "condition",
        Action::Http(_) => "http",
        Action::Wait { .. } => "wait",
        Action::Handoff { .. } => "handoff",
        Action::StartFlow(_) => "start_flow",
        Action::Close => "close",
        Action::Unsubscribe => "unsubscribe",
    }
}

fn step_text(s: &super::Step) -> Option<String> {
    let show = |t: &super::Template| {
        t.0.iter()
            .map(|p| match p {
                super::template::Part::Text(t) => t.clone(),
                super::template::Part::Contact(f) => format!("{{{{contact.{f}}}}}"),
                super::template::Part::Var(v) => format!("{{{{vars.{v}}}}}"),
                super::template::Part::MessageText => "{{message.text}}".into(),
                super::template::Part::Env(e) => format!("{{{{env.{e}}}}}"),
            })
            .collect::<String>()
    };
    match &s.action {
        Action::Ask { question, .. } => Some(show(question)),
        Action::Http(h) => Some(format!("{} {}", h.method, show(&h.url))),
        _ => s.send.as_ref().map(show),
    }
}

fn exits(s: &super::Step) -> Vec<Exit> {
    let to = |n: &Next| match n {
        Next::Step(s) => s.clone(),
        Next::End => "end".into(),
    };
    let mut out: Vec<Exit> = s
        .buttons
        .iter()
        .map(|b| Exit {
            label: format!("button “{}”", b.text),
            to: match &b.then {
                super::ButtonThen::Goto(n) => to(n),
                super::ButtonThen::Flow(f) => format!("flow {f}"),
            },
        })
        .collect();
    match &s.action {
        Action::Ask { validate: Some(v), .. } => {
            out.push(Exit { label: "validation failed".into(), to: to(&v.on_fail) })
        }
        Action::Condition(b) => out
            .extend(b.iter().enumerate().map(|(i, (_, n))| Exit { label: format!("condition {}", i + 1), to: to(n) })),
        Action::Http(h) => out.push(Exit { label: "on error".into(), to: to(&h.on_error) }),
        Action::Wait { on_reply: Some(n), .. } => out.push(Exit { label: "on reply".into(), to: to(n) }),
        Action::StartFlow(f) => out.push(Exit { label: "start flow".into(), to: format!("flow {f}") }),
        _ => {}
    }
    let listens_only = !s.buttons.is_empty() && matches!(s.action, Action::None) && s.goto == Next::End;
    let ends = matches!(s.action, Action::Handoff { .. } | Action::StartFlow(_) | Action::Close);
    if !listens_only && !ends {
        out.push(Exit { label: "next".into(), to: to(&s.goto) });
    }
    out
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    pub number: i64,
    pub name: String,
    pub author: String,
    pub created_at: String,
    pub current: bool,
    /// Runs under way on this version.
    pub active_runs: i64,
}

pub fn versions(db: &mut Db, id: &str) -> Result<Vec<VersionView>> {
    let current = current(db, id)?.ok_or_else(|| crate::error::not_found("flow", id))?.0;
    let rows = db.query(
        "SELECT v.id, v.number, v.name, v.author, v.created_at, \
         (SELECT COUNT(*) FROM flow_runs r WHERE r.version_id = v.id AND r.status = 'active') AS active_runs \
         FROM flow_versions v WHERE v.flow_id = $1 ORDER BY v.number DESC",
        params![id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(VersionView {
                number: r.get("number")?,
                name: r.get("name")?,
                author: r.get("author")?,
                created_at: crate::clock::rfc3339(r.get("created_at")?),
                current: r.get::<i64>("id")? == current,
                active_runs: r.get("active_runs")?,
            })
        })
        .collect()
}
