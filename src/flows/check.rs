//! Checking a flow's YAML: parse errors and unknown fields from the parser, then what
//! only the whole flow can tell (a `goto` to no step, a bad regex, a placeholder that
//! does not exist) as errors, and what is probably a mistake (an unreachable step, a
//! step with no way out, a variable read but never saved) as warnings. Each carries the
//! line and column it is about. A flow with errors is never stored or run.

use std::collections::{BTreeSet, HashSet};

use regex::Regex;
use serde::Serialize;
use serde_saphyr::{Location, Spanned};

use super::format::{self, FlowFile, StepSpec};

use super::*;

mod steps;
use steps::StepCompiler;

/// Telegram's limits, the tightest of the channels': a message's text, a button's
/// callback data (a button's text travels as its data), buttons under one message.
pub const MAX_TEXT_CHARS: usize = 4096;
pub const MAX_BUTTON_BYTES: usize = 64;
pub const MAX_BUTTONS: usize = 10;
const MAX_HTTP_TIMEOUT_S: u64 = 30;
const MAX_HTTP_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diagnostic {
    pub severity: Severity,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl Diagnostic {
    /// `file:line:col: error: message`, as compilers print.
    pub fn render(&self, file: &str) -> String {
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{file}:{}:{}: {what}: {}", self.line, self.column, self.message)
    }
}

/// A checked flow and what the check said about it.
#[derive(Debug)]
pub struct Checked {
    /// `None` when there are errors.
    pub flow: Option<Flow>,
    /// Whether the file asks to run (`enabled:`, default yes).
    pub enabled: bool,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }
    pub fn first_error(&self) -> Option<String> {
        self.errors().next().map(|d| format!("line {}, column {}: {}", d.line, d.column, d.message))
    }
}

struct Report(Vec<Diagnostic>);

impl Report {
    fn at(&mut self, severity: Severity, loc: Location, message: impl Into<String>) {
        let (line, column) = (loc.line().max(1), loc.column().max(1));
        self.0.push(Diagnostic { severity, line, column, message: message.into() });
    }
    fn error<T>(&mut self, s: &Spanned<T>, message: impl Into<String>) {
        self.at(Severity::Error, s.referenced, message)
    }
    fn warn<T>(&mut self, s: &Spanned<T>, message: impl Into<String>) {
        self.at(Severity::Warning, s.referenced, message)
    }
}

/// Checks one flow's YAML text.
pub fn check(source: &str) -> Checked {
    let file: FlowFile = match serde_saphyr::from_str(source) {
        Ok(f) => f,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
            let message = plain(&e);
            let diagnostics = vec![Diagnostic { severity: Severity::Error, line, column, message }];
            return Checked { flow: None, enabled: false, diagnostics };
        }
    };
    let mut r = Report(Vec::new());
    let enabled = file.enabled.unwrap_or(true);
    let flow = compile(&file, &mut r);
    r.0.sort_by_key(|d| (d.line, d.column));
    let ok = !r.0.iter().any(|d| d.severity == Severity::Error);
    Checked { flow: if ok { flow } else { None }, enabled, diagnostics: r.0 }
}

/// The parser's message without its source snippet and location (we print those).
fn plain(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    // "error: line 3 column 5: unknown field ..." → the message alone.
    let msg = first.strip_prefix("error:").unwrap_or(first).trim();
    let msg = match msg.find(": ") {
        Some(i) if msg[..i].contains("line") => &msg[i + 2..],
        _ => msg,
    };
    msg.to_owned()
}

fn compile(file: &FlowFile, r: &mut Report) -> Option<Flow> {
    let names: HashSet<&str> = file.steps.value.0.iter().map(|(n, _)| n.as_str()).collect();
    if file.steps.value.0.is_empty() {
        r.error(&file.steps, "a flow needs at least one step");
        return None;
    }
    if file.name.value.trim().is_empty() {
        r.error(&file.name, "the flow's name is empty");
    }
    let triggers = file.triggers.iter().filter_map(|t| trigger(t, r)).collect();
    let mut saved: BTreeSet<String> = BTreeSet::new();
    let mut read: Vec<(String, Location)> = Vec::new();
    let mut steps = Vec::new();
    for (name, spec) in &file.steps.value.0 {
        if name == "end" {
            r.error(spec, "`end` is where a flow stops; a step cannot be called so");
        }
        let mut c = StepCompiler { r, names: &names, saved: &mut saved, read: &mut read };
        steps.push(c.step(name, spec));
    }
    for (var, loc) in &read {
        if !saved.contains(var) {
            r.at(Severity::Warning, *loc, format!("the variable `{var}` is never saved (by `save`, `set` or `http`)"));
        }
    }
    let steps: Vec<Step> = steps.into_iter().collect::<Option<_>>()?;
    reachability(&steps, &file.steps.value.0, r);
    Some(Flow::new(file.name.value.trim().to_owned(), triggers, steps))
}

fn trigger(t: &Spanned<format::TriggerSpec>, r: &mut Report) -> Option<Trigger> {
    let s = &t.value;
    let kinds = [
        s.command.is_some(),
        s.keyword.is_some(),
        s.contains.is_some(),
        s.regex.is_some(),
        s.first_message.is_some(),
        s.any.is_some(),
        s.button.is_some(),
        s.api.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        r.error(t, "a trigger has exactly one of command, keyword, contains, regex, first_message, any, button, api");
        return None;
    }
    if s.payload.is_some() && s.command.is_none() {
        r.error(t, "`payload` goes with a `command` trigger");
    }
    let lower = |v: &format::OneOrMany| -> Vec<String> {
        v.clone().into_vec().into_iter().map(|k| k.trim().to_lowercase()).filter(|k| !k.is_empty()).collect()
    };
    Some(if let Some(c) = &s.command {
        let name = c.value.trim().trim_start_matches('/').to_lowercase();
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
            r.error(c, "a command is letters, digits and `_`, like `start`");
        }
        Trigger::Command { name, payload: s.payload.as_ref().map(|p| p.value.clone()) }
    } else if let Some(k) = &s.keyword {
        Trigger::Keyword(lower(k))
    } else if let Some(k) = &s.contains {
        Trigger::Contains(lower(k))
    } else if let Some(re) = &s.regex {
        Trigger::Regex(regex(re, r)?)
    } else if let Some(b) = &s.button {
        Trigger::Button(b.value.trim().to_lowercase())
    } else if s.first_message == Some(true) {
        Trigger::FirstMessage
    } else if s.any == Some(true) {
        Trigger::Any
    } else if s.api == Some(true) {
        Trigger::Api
    } else {
        r.error(t, "a trigger set to false does nothing; remove it");
        return None;
    })
}

fn regex(s: &Spanned<String>, r: &mut Report) -> Option<Regex> {
    match regex::RegexBuilder::new(&s.value).size_limit(1 << 20).build() {
        Ok(re) => Some(re),
        Err(e) => {
            let why = e.to_string();
            let why = why.lines().last().unwrap_or("invalid").trim().trim_start_matches("error: ");
            r.error(s, format!("bad regex `{}`: {why}", s.value));
            None
        }
    }
}

/// `30s`, `10m`, `2h`, `1d` (or plain seconds) in milliseconds.
pub fn duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit.trim() {
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    (n > 0 && n <= 90 * 86_400).then_some(n * unit_ms)
}

/// Warns of steps no path from the first step reaches.
fn reachability(steps: &[Step], specs: &[(String, Spanned<StepSpec>)], r: &mut Report) {
    let flow = Flow::new(String::new(), Vec::new(), steps.to_vec());
    let mut seen: HashSet<&str> = HashSet::new();
    let mut todo = vec![steps[0].name.as_str()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name) {
            continue;
        }
        let Some(step) = flow.step(name) else { continue };
        let mut next: Vec<&Next> = vec![&step.goto];
        for b in &step.buttons {
            if let ButtonThen::Goto(n) = &b.then {
                next.push(n);
            }
        }
        match &step.action {
            Action::Ask { validate: Some(v), .. } => next.push(&v.on_fail),
            Action::Condition(branches) => next.extend(branches.iter().map(|(_, n)| n)),
            Action::Http(h) => next.push(&h.on_error),
            Action::Wait { on_reply: Some(n), .. } => next.push(n),
            _ => {}
        }
        for n in next {
            if let Next::Step(s) = n {
                todo.push(s.as_str());
            }
        }
    }
    for (name, spec) in specs {
        if !seen.contains(name.as_str()) {
            r.warn(spec, format!("the step `{name}` is never reached from `{}`", steps[0].name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diags(src: &str) -> Vec<String> {
        check(src).diagnostics.iter().map(|d| d.render("f.yaml")).collect()
    }

    #[test]
    fn the_example_passes_without_a_word() {
        let c = check(include_str!("../../config/flows/examples/order-status.yaml"));
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
        assert_eq!(c.flow.unwrap().steps.len(), 5);
    }

    #[test]
    fn errors_point_at_their_line_and_column() {
        let src = "name: X\nsteps:\n  a:\n    send: hi\n    goto: nowhere\n";
        assert_eq!(diags(src), ["f.yaml:5:11: error: `nowhere` is not a step of this flow (nor `end`)"]);
        let src = "name: X\nsteps:\n  a:\n    ask: number?\n    validate:\n      regex: \"([0-9]\"\n    goto: end\n";
        let d = diags(src);
        assert!(d[0].starts_with("f.yaml:6:14: error: bad regex `([0-9]`"), "{d:?}");
        let src = "name: X\nsteps:\n  a:\n    send: hi\n    sned: typo\n";
        let d = diags(src);
        assert!(d[0].starts_with("f.yaml:5:5: error: ") && d[0].contains("sned"), "{d:?}");
        let src = "name: X\nsteps:\n  a:\n    send: \"{{contact.age}}\"\n    goto: end\n";
        assert!(diags(src)[0].starts_with("f.yaml:4:11: error: unknown contact field `age`"));
    }

    #[test]
    fn warnings_name_unreachable_steps_dead_ends_and_unsaved_variables() {
        let src = "name: X\nsteps:\n  a:\n    send: \"{{vars.nope}}\"\n  b:\n    send: never\n    goto: end\n";
        let d = diags(src);
        assert!(d.iter().any(|d| d.starts_with("f.yaml:4:5: warning: the step `a` has no way out")), "{d:?}");
        assert!(d.iter().any(|d| d.contains("warning: the variable `nope` is never saved")), "{d:?}");
        assert!(d.iter().any(|d| d.starts_with("f.yaml:6:5: warning: the step `b` is never reached")), "{d:?}");
        assert!(check(src).flow.is_some(), "warnings do not stop a flow");
    }
}
