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
use super::template::{Template, valid_var};
use super::*;

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

struct StepCompiler<'a> {
    r: &'a mut Report,
    names: &'a HashSet<&'a str>,
    saved: &'a mut BTreeSet<String>,
    read: &'a mut Vec<(String, Location)>,
}

impl StepCompiler<'_> {
    fn target(&mut self, s: &Spanned<String>) -> Next {
        let name = s.value.trim();
        if name != "end" && !self.names.contains(name) {
            self.r.error(s, format!("`{name}` is not a step of this flow (nor `end`)"));
        }
        Next::parse(name)
    }

    fn template(&mut self, s: &Spanned<String>, env: bool) -> Option<Template> {
        match Template::parse(&s.value, env) {
            Ok(t) => {
                for v in t.vars() {
                    self.read.push((v.to_owned(), s.referenced));
                }
                Some(t)
            }
            Err((_, message)) => {
                self.r.error(s, message);
                None
            }
        }
    }

    fn save(&mut self, s: &Spanned<String>) -> String {
        let name = s.value.trim().trim_start_matches("vars.").to_owned();
        if !valid_var(&name) {
            self.r.error(s, format!("`{name}` is not a variable name (letters, digits and `_`)"));
        }
        self.saved.insert(name.clone());
        name
    }

    fn step(&mut self, name: &str, spec: &Spanned<StepSpec>) -> Option<Step> {
        let s = &spec.value;
        let actions = [
            s.ask.is_some(),
            s.condition.is_some(),
            s.http.is_some(),
            s.wait.is_some(),
            s.handoff.is_some(),
            s.start_flow.is_some(),
            s.close.as_ref().is_some_and(|c| c.value),
            s.unsubscribe.as_ref().is_some_and(|c| c.value),
        ];
        if actions.iter().filter(|a| **a).count() > 1 {
            self.r.error(spec, format!("the step `{name}` has more than one of ask, condition, http, wait, handoff, start_flow, close, unsubscribe; split it"));
        }
        for (field, given, needs) in [
            ("save", s.save.is_some(), s.ask.is_some()),
            ("validate", s.validate.is_some(), s.ask.is_some()),
            ("on_error", s.on_error.is_some(), s.http.is_some()),
            ("on_reply", s.on_reply.is_some(), s.wait.is_some()),
        ] {
            if given && !needs {
                self.r.error(
                    spec,
                    format!(
                        "`{field}` in the step `{name}` belongs to a step that {}",
                        match field {
                            "on_error" => "makes an http call",
                            "on_reply" => "waits",
                            _ => "asks",
                        }
                    ),
                );
            }
        }
        let send = s.send.as_ref().and_then(|t| {
            if t.value.chars().count() > MAX_TEXT_CHARS {
                self.r.warn(t, format!("longer than Telegram's {MAX_TEXT_CHARS} characters: it will be sent in parts"));
            }
            self.template(t, false)
        });
        let buttons = s.buttons.as_deref().unwrap_or(&[]);
        if buttons.len() > MAX_BUTTONS {
            self.r.error(
                spec,
                format!("the step `{name}` has {} buttons; at most {MAX_BUTTONS} fit under a message", buttons.len()),
            );
        }
        if !buttons.is_empty() && s.send.is_none() && s.ask.is_none() {
            self.r
                .error(spec, format!("the step `{name}` has buttons but nothing to send them with (`send` or `ask`)"));
        }
        let buttons = buttons.iter().map(|b| self.button(b)).collect::<Vec<_>>();
        let media = s.media.as_ref().map(|m| {
            let kind = m.value.kind.as_ref().map_or("photo".to_owned(), |k| k.value.clone());
            if !["photo", "document", "video", "audio"].contains(&kind.as_str()) {
                self.r.error(
                    m.value.kind.as_ref().unwrap_or(&m.value.url),
                    "media kind is photo, document, video or audio",
                );
            }
            Media { url: self.template(&m.value.url, false).unwrap_or_default(), kind }
        });
        let set = s.set.as_ref().map(|set| self.set(set));
        let action = self.action(name, s, buttons.is_empty())?;
        let goto = match &s.goto {
            Some(g) => self.target(g),
            None => {
                let ends = matches!(
                    action,
                    Action::Handoff { .. } | Action::StartFlow(_) | Action::Close | Action::Unsubscribe
                ) || (!buttons.is_empty() && matches!(action, Action::None));
                if !ends {
                    self.r.warn(
                        spec,
                        format!(
                            "the step `{name}` has no way out: the flow ends there (say `goto: end` if that is meant)"
                        ),
                    );
                }
                Next::End
            }
        };
        Some(Step {
            name: name.to_owned(),
            set,
            send,
            buttons: buttons.into_iter().collect::<Option<_>>()?,
            media,
            action,
            goto,
        })
    }

    fn button(&mut self, b: &Spanned<format::ButtonSpec>) -> Option<Button> {
        let text = b.value.text.value.trim().to_owned();
        if text.is_empty() {
            self.r.error(&b.value.text, "a button's text is empty");
        }
        if text.len() > MAX_BUTTON_BYTES {
            self.r.error(
                &b.value.text,
                format!("a button's text is at most {MAX_BUTTON_BYTES} bytes (Telegram's callback data)"),
            );
        }
        let then = match (&b.value.goto, &b.value.flow) {
            (Some(g), None) => ButtonThen::Goto(self.target(g)),
            (None, Some(f)) => ButtonThen::Flow(f.value.trim().to_owned()),
            _ => {
                self.r.error(b, "a button has either `goto` or `flow`");
                return None;
            }
        };
        Some(Button { text, then })
    }

    fn set(&mut self, s: &Spanned<format::SetSpec>) -> Set {
        let mut out = Set { tag: s.value.tag.clone(), untag: s.value.untag.clone(), ..Set::default() };
        for (k, v) in &s.value.vars {
            let name = self.save(&Spanned { value: k.clone(), referenced: v.referenced, defined: v.defined });
            out.vars.push((name, self.template(v, false).unwrap_or_default()));
        }
        for (field, v) in &s.value.contact {
            if !["first_name", "last_name", "email", "phone"].contains(&field.as_str()) {
                self.r.error(v, format!("a flow may set first_name, last_name, email or phone, not `{field}`"));
            }
            out.contact.push((field.clone(), self.template(v, false).unwrap_or_default()));
        }
        out
    }

    fn action(&mut self, name: &str, s: &StepSpec, no_buttons: bool) -> Option<Action> {
        if let Some(q) = &s.ask {
            let question = self.template(q, false).unwrap_or_default();
            let save = s.save.as_ref().map(|v| self.save(v));
            let validate = s.validate.as_ref().map(|v| self.validate(v, no_buttons));
            return Some(Action::Ask { question, save, validate });
        }
        if let Some(branches) = &s.condition {
            let mut out = Vec::new();
            for b in branches {
                let when = self.when(&b.value.when)?;
                out.push((when, self.target(&b.value.goto)));
            }
            return Some(Action::Condition(out));
        }
        if let Some(h) = &s.http {
            return Some(Action::Http(self.http(h, s)));
        }
        if let Some(w) = &s.wait {
            let Some(ms) = duration_ms(&w.value) else {
                self.r.error(w, "a wait is a number and a unit, like 30s, 10m, 2h or 1d");
                return None;
            };
            return Some(Action::Wait { ms, on_reply: s.on_reply.as_ref().map(|t| self.target(t)) });
        }
        if let Some(h) = &s.handoff {
            return Some(Action::Handoff {
                operator: h.value.operator.as_ref().map(|o| o.value.trim().to_lowercase()),
                note: h.value.note.clone(),
            });
        }
        if let Some(f) = &s.start_flow {
            if f.value.trim().is_empty() {
                self.r.error(f, "start_flow names a flow");
            }
            return Some(Action::StartFlow(f.value.trim().to_owned()));
        }
        if s.close.as_ref().is_some_and(|c| c.value) {
            return Some(Action::Close);
        }
        if s.unsubscribe.as_ref().is_some_and(|c| c.value) {
            return Some(Action::Unsubscribe);
        }
        let _ = name;
        Some(Action::None)
    }

    fn validate(&mut self, v: &Spanned<format::ValidateSpec>, no_buttons: bool) -> Validate {
        let s = &v.value;
        let mut checks = Vec::new();
        if let Some(re) = &s.regex
            && let Some(re) = regex(re, self.r)
        {
            checks.push(Check::Regex(re));
        }
        if let Some(is) = &s.is {
            match is.value.as_str() {
                "email" => checks.push(Check::Email),
                "phone" => checks.push(Check::Phone),
                "number" => checks.push(Check::Number),
                "date" => checks.push(Check::Date),
                "button" if no_buttons => self.r.error(is, "`is: button` needs buttons in the step"),
                "button" => checks.push(Check::Button),
                other => self.r.error(is, format!("`{other}` is not a check: email, phone, number, date or button")),
            }
        }
        if s.regex.is_none() && s.is.is_none() {
            self.r.error(v, "validate needs `regex` or `is`");
        }
        let attempts = s.attempts.as_ref().map_or(3, |a| a.value);
        if let Some(a) = &s.attempts
            && a.value == 0
        {
            self.r.error(a, "attempts is at least 1");
        }
        let on_fail = match &s.on_fail {
            Some(t) => self.target(t),
            None => Next::End,
        };
        Validate {
            checks,
            error: s.error.as_ref().and_then(|e| self.template(e, false)),
            attempts: attempts.max(1),
            on_fail,
        }
    }

    fn when(&mut self, w: &Spanned<format::WhenSpec>) -> Option<When> {
        let s = &w.value;
        let mut out = When {
            var: s.var.clone(),
            equals: s.equals.clone(),
            exists: s.exists,
            tag: s.tag.clone(),
            channel: s.channel.clone(),
            operator_online: s.operator_online,
            ..When::default()
        };
        if let Some(v) = &s.var {
            self.read.push((v.clone(), w.referenced));
        }
        if let Some(c) = &s.contact {
            if !template::CONTACT_FIELDS.contains(&c.value.as_str()) {
                self.r.error(c, format!("unknown contact field `{}`", c.value));
            }
            out.contact = Some(c.value.clone());
        }
        if let Some(m) = &s.matches {
            out.matches = regex(m, self.r);
        }
        if (s.equals.is_some() || s.matches.is_some() || s.exists.is_some()) && s.var.is_none() && s.contact.is_none() {
            self.r.error(w, "equals, matches and exists compare a `var` or a `contact` field");
        }
        if let Some(t) = &s.time {
            out.time = self.time(t);
        }
        let any = out.var.is_some()
            || out.contact.is_some()
            || out.tag.is_some()
            || out.channel.is_some()
            || out.operator_online.is_some()
            || s.time.is_some();
        if !any {
            self.r.error(w, "a condition needs var, contact, tag, channel, operator_online or time");
        }
        Some(out)
    }

    fn time(&mut self, t: &Spanned<format::TimeSpec>) -> Option<TimeWindow> {
        let s = &t.value;
        let hm = |x: &str| -> Option<u32> {
            let (h, m) = x.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60).then_some(h * 60 + m)
        };
        let (Some(from), Some(to)) = (hm(&s.from), hm(&s.to)) else {
            self.r.error(t, "time from and to are HH:MM, like 09:00 and 18:00");
            return None;
        };
        let tz = match s.tz.as_deref() {
            None => jiff::tz::TimeZone::UTC,
            Some(name) => match jiff::tz::TimeZone::get(name) {
                Ok(tz) => tz,
                Err(_) => {
                    self.r.error(t, format!("unknown time zone `{name}` (an IANA name like Europe/Berlin)"));
                    return None;
                }
            },
        };
        let week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut days = Vec::new();
        for d in &s.days {
            match week.iter().position(|w| d.trim().to_lowercase().starts_with(w)) {
                Some(i) => days.push(i as i8 + 1),
                None => self.r.error(t, format!("`{d}` is not a day (mon … sun)")),
            }
        }
        Some(TimeWindow { from, to, tz, days })
    }

    fn http(&mut self, h: &Spanned<format::HttpSpec>, step: &StepSpec) -> Http {
        let s = &h.value;
        let method = s.method.as_ref().map_or("GET".to_owned(), |m| m.value.trim().to_uppercase());
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            self.r.error(
                s.method.as_ref().unwrap_or(&s.url),
                format!("`{method}` is not GET, POST, PUT, PATCH or DELETE"),
            );
        }
        let url = self.template(&s.url, true).unwrap_or_default();
        if !(s.url.value.starts_with("http://") || s.url.value.starts_with("https://")) {
            self.r.error(&s.url, "the url starts with http:// or https://");
        }
        let timeout_s = s.timeout_s.as_ref().map_or(10, |t| t.value);
        if let Some(t) = &s.timeout_s
            && !(1..=MAX_HTTP_TIMEOUT_S).contains(&t.value)
        {
            self.r.error(t, format!("timeout_s is 1 to {MAX_HTTP_TIMEOUT_S}"));
        }
        let max_bytes = s.max_bytes.as_ref().map_or(65_536, |b| b.value);
        if let Some(b) = &s.max_bytes
            && !(1..=MAX_HTTP_BYTES).contains(&b.value)
        {
            self.r.error(b, format!("max_bytes is 1 to {MAX_HTTP_BYTES}"));
        }
        let headers = s.headers.iter().map(|(k, v)| (k.clone(), self.template(v, true).unwrap_or_default())).collect();
        let body = s.body.as_ref().and_then(|b| self.template(b, true));
        let mut save = Vec::new();
        for (var, path) in &s.save {
            let name = self.save(&Spanned { value: var.clone(), referenced: path.referenced, defined: path.defined });
            save.push((name, path.value.trim().to_owned()));
        }
        let on_error = match &step.on_error {
            Some(t) => self.target(t),
            None => {
                self.r.warn(h, "no `on_error`: a failed call ends the flow");
                Next::End
            }
        };
        Http {
            method,
            url,
            headers,
            body,
            timeout_ms: timeout_s.clamp(1, MAX_HTTP_TIMEOUT_S) * 1000,
            max_bytes,
            save,
            on_error,
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
