//! Moving a run through its flow: a pure function of the flow, the run's state, the
//! facts about the contact and what just happened (a message, an HTTP answer, a timer).
//! It changes the state and returns the effects in order — messages to send, a call to
//! make, a timer to set, a handoff — which `runs` carries out in the transaction (and
//! the simulator into a transcript). Nothing here touches the database or the network.

use std::collections::BTreeMap;

use parley_sdk::{Attachment, Content};
use serde::Serialize;

use super::template::Values;
use super::*;

/// Steps one advance may take before it stops: a loop of steps that never listen.
const MAX_STEPS: usize = 100;

crate::model::stored_enum! {
    /// What a run waits for.
    pub enum Waiting: "run waiting" {
        Nothing = "nothing",
        /// The contact's answer or button press.
        Input = "input",
        /// An HTTP step's call (a job).
        Http = "http",
        /// A wait's timer (a job).
        Timer = "timer",
    }
}

crate::model::stored_enum! {
    pub enum RunStatus: "run status" {
        Active = "active",
        Finished = "finished",
        HandedOff = "handed_off",
        Stopped = "stopped",
    }
}

/// A run's position, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct State {
    pub step: String,
    pub status: RunStatus,
    pub waiting: Waiting,
    /// Failed answers to the current question.
    pub attempts: u32,
    pub vars: BTreeMap<String, String>,
    /// The text of the message the run last heard (for `{{message.text}}`).
    pub message_text: Option<String>,
}

impl State {
    pub fn new(flow: &Flow) -> State {
        State {
            step: flow.first().name.clone(),
            status: RunStatus::Active,
            waiting: Waiting::Nothing,
            attempts: 0,
            vars: BTreeMap::new(),
            message_text: None,
        }
    }
}

/// What the engine may know of the contact and the world.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub contact: BTreeMap<&'static str, String>,
    pub tags: Vec<String>,
    pub channel_kind: String,
    pub operator_online: bool,
    pub now_ms: i64,
}

/// An HTTP call to make, rendered.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout_ms: u64,
    pub max_bytes: u64,
}

/// What came of an HTTP call: the JSON answer, or why there is none.
pub type Response = Result<serde_json::Value, String>;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    Send {
        content: Content,
    },
    Http {
        request: Request,
    },
    Wait {
        until_ms: i64,
    },
    Handoff {
        operator: Option<String>,
        note: Option<String>,
    },
    StartFlow {
        flow: String,
    },
    Close,
    Unsubscribe,
    Tags {
        add: Vec<String>,
        remove: Vec<String>,
    },
    Contact {
        field: String,
        value: String,
    },
    /// For the counts per step.
    Entered {
        step: String,
    },
    Left {
        step: String,
    },
    Dropped {
        step: String,
    },
}

/// What the run heard: a message's text (a button press arrives as its text).
pub struct Heard<'a> {
    pub text: &'a str,
}

struct Ctx<'a> {
    flow: &'a Flow,
    facts: &'a Facts,
    state: &'a mut State,
    out: Vec<Effect>,
}

/// Starts a run at the flow's first step.
pub fn start(flow: &Flow, facts: &Facts, message_text: Option<&str>) -> (State, Vec<Effect>) {
    let mut state = State::new(flow);
    state.message_text = message_text.map(str::to_owned);
    let mut c = Ctx { flow, facts, state: &mut state, out: Vec::new() };
    let first = flow.first().name.clone();
    c.run_from(Next::Step(first));
    let out = c.out;
    (state, out)
}

/// The contact wrote while the run waits for them. `None`: the run does not take it
/// (it waits for something else, or was ended by the message), so triggers may.
pub fn hear(flow: &Flow, state: &mut State, facts: &Facts, heard: Heard) -> Option<Vec<Effect>> {
    let step = flow.step(&state.step)?.clone();
    match state.waiting {
        Waiting::Input => {}
        Waiting::Timer => {
            // A contact who writes cancels the wait.
            let Action::Wait { on_reply: Some(next), .. } = &step.action else {
                state.waiting = Waiting::Nothing;
                state.status = RunStatus::Stopped;
                return None;
            };
            state.message_text = Some(heard.text.to_owned());
            let mut c = Ctx { flow, facts, state, out: Vec::new() };
            c.leave(&step.name);
            c.run_from(next.clone());
            return Some(c.out);
        }
        Waiting::Http | Waiting::Nothing => return None,
    }
    state.message_text = Some(heard.text.to_owned());
    let text = heard.text.trim();
    let pressed =
        step.buttons.iter().find(|b| b.text.eq_ignore_ascii_case(text) || b.text.to_lowercase() == text.to_lowercase());
    let mut c = Ctx { flow, facts, state, out: Vec::new() };
    if let Some(b) = pressed {
        c.leave(&step.name);
        match &b.then {
            ButtonThen::Goto(next) => c.run_from(next.clone()),
            ButtonThen::Flow(f) => c.finish_with(Effect::StartFlow { flow: f.clone() }, RunStatus::Finished),
        }
        return Some(c.out);
    }
    match &step.action {
        Action::Ask { save, validate, .. } => {
            let ok = validate.as_ref().is_none_or(|v| v.checks.iter().all(|ch| passes(ch, text, &step)));
            if ok {
                if let Some(var) = save {
                    c.state.vars.insert(var.clone(), normalized(validate.as_ref(), text));
                }
                c.leave(&step.name);
                c.run_from(step.goto.clone());
            } else {
                let v = validate.as_ref().expect("a failure comes from a validation");
                c.state.attempts += 1;
                if c.state.attempts >= v.attempts {
                    c.out.push(Effect::Dropped { step: step.name.clone() });
                    c.run_from(v.on_fail.clone());
                } else {
                    if let Some(e) = &v.error {
                        let text = c.render(e);
                        c.send(text, Vec::new());
                    }
                    c.speak(&step);
                }
            }
        }
        // Buttons and no question: what is not a button shows them again, unless the
        // step says where free text goes.
        _ if step.goto != Next::End => {
            c.leave(&step.name);
            c.run_from(step.goto.clone());
        }
        _ => c.speak(&step),
    }
    Some(c.out)
}

/// The HTTP step's call came back.
pub fn answered(flow: &Flow, state: &mut State, facts: &Facts, response: Response) -> Vec<Effect> {
    let mut c = Ctx { flow, facts, state, out: Vec::new() };
    let Some(step) = flow.step(&c.state.step).cloned() else { return Vec::new() };
    let Action::Http(http) = &step.action else { return Vec::new() };
    if c.state.waiting != Waiting::Http {
        return Vec::new();
    }
    c.leave(&step.name);
    match response {
        Ok(json) => {
            for (var, path) in &http.save {
                let value = lookup(&json, path).map(text_of).unwrap_or_default();
                c.state.vars.insert(var.clone(), value);
            }
            c.run_from(step.goto.clone());
        }
        Err(why) => {
            c.state.vars.insert("http_error".into(), why);
            c.run_from(http.on_error.clone());
        }
    }
    c.out
}

/// A wait's timer rang.
pub fn rang(flow: &Flow, state: &mut State, facts: &Facts) -> Vec<Effect> {
    let mut c = Ctx { flow, facts, state, out: Vec::new() };
    let Some(step) = flow.step(&c.state.step).cloned() else { return Vec::new() };
    if c.state.waiting != Waiting::Timer {
        return Vec::new();
    }
    c.leave(&step.name);
    c.run_from(step.goto.clone());
    c.out
}

impl Ctx<'_> {
    fn values(&self) -> Values<'_> {
        Values {
            contact: self.facts.contact.clone(),
            vars: Some(&self.state.vars),
            message_text: self.state.message_text.as_deref(),
        }
    }

    fn render(&self, t: &Template) -> String {
        t.render(&self.values())
    }

    fn send(&mut self, text: String, buttons: Vec<parley_sdk::Button>) {
        let content = Content { text: Some(text), buttons, ..Content::default() };
        self.out.push(Effect::Send { content });
    }

    fn leave(&mut self, step: &str) {
        self.out.push(Effect::Left { step: step.to_owned() });
    }

    fn finish_with(&mut self, effect: Effect, status: RunStatus) {
        self.out.push(effect);
        self.state.status = status;
        self.state.waiting = Waiting::Nothing;
    }

    /// A step's words: its text (or question) with its buttons, and its media.
    fn speak(&mut self, step: &Step) {
        let buttons: Vec<parley_sdk::Button> =
            step.buttons.iter().map(|b| parley_sdk::Button { label: b.text.clone(), data: b.text.clone() }).collect();
        let question = match &step.action {
            Action::Ask { question, .. } => Some(self.render(question)),
            _ => None,
        };
        let said = step.send.as_ref().map(|t| self.render(t));
        match (said, question) {
            (Some(s), Some(q)) => {
                self.send(s, Vec::new());
                self.send(q, buttons);
            }
            (Some(t), None) | (None, Some(t)) => self.send(t, buttons),
            (None, None) => {}
        }
        if let Some(m) = &step.media {
            let url = self.render(&m.url);
            let attachment = Attachment { kind: m.kind.clone(), url: Some(url), ..Attachment::default() };
            self.out.push(Effect::Send { content: Content { attachments: vec![attachment], ..Content::default() } });
        }
    }

    fn run_from(&mut self, mut next: Next) {
        for _ in 0..MAX_STEPS {
            let Next::Step(name) = next else {
                self.state.status = RunStatus::Finished;
                self.state.waiting = Waiting::Nothing;
                return;
            };
            let Some(step) = self.flow.step(&name).cloned() else {
                self.state.status = RunStatus::Stopped;
                self.state.waiting = Waiting::Nothing;
                return;
            };
            self.state.step = name.clone();
            self.state.attempts = 0;
            self.out.push(Effect::Entered { step: name.clone() });
            if let Some(set) = &step.set {
                self.set(set);
            }
            self.speak(&step);
            match &step.action {
                Action::Ask { .. } => {
                    self.state.waiting = Waiting::Input;
                    return;
                }
                Action::None if !step.buttons.is_empty() => {
                    self.state.waiting = Waiting::Input;
                    return;
                }
                Action::None => {}
                Action::Condition(branches) => {
                    let taken = branches.iter().find(|(w, _)| self.holds(w)).map(|(_, n)| n.clone());
                    self.leave(&name);
                    next = taken.unwrap_or_else(|| step.goto.clone());
                    continue;
                }
                Action::Http(h) => {
                    let request = self.request(h);
                    self.out.push(Effect::Http { request });
                    self.state.waiting = Waiting::Http;
                    return;
                }
                Action::Wait { ms, .. } => {
                    self.out.push(Effect::Wait { until_ms: self.facts.now_ms + ms });
                    self.state.waiting = Waiting::Timer;
                    return;
                }
                Action::Handoff { operator, note } => {
                    self.leave(&name);
                    let e = Effect::Handoff { operator: operator.clone(), note: note.clone() };
                    self.finish_with(e, RunStatus::HandedOff);
                    return;
                }
                Action::StartFlow(f) => {
                    self.leave(&name);
                    self.finish_with(Effect::StartFlow { flow: f.clone() }, RunStatus::Finished);
                    return;
                }
                Action::Close => {
                    self.leave(&name);
                    self.finish_with(Effect::Close, RunStatus::Finished);
                    return;
                }
                Action::Unsubscribe => self.out.push(Effect::Unsubscribe),
            }
            self.leave(&name);
            next = step.goto.clone();
        }
        // A loop that never listens: stop rather than spin.
        self.state.status = RunStatus::Stopped;
        self.state.waiting = Waiting::Nothing;
    }

    fn set(&mut self, set: &Set) {
        for (var, t) in &set.vars {
            let v = self.render(t);
            self.state.vars.insert(var.clone(), v);
        }
        if !set.tag.is_empty() || !set.untag.is_empty() {
            self.out.push(Effect::Tags { add: set.tag.clone(), remove: set.untag.clone() });
        }
        for (field, t) in &set.contact {
            let value = self.render(t);
            self.out.push(Effect::Contact { field: field.clone(), value });
        }
    }

    fn request(&self, h: &Http) -> Request {
        Request {
            method: h.method.clone(),
            url: self.render(&h.url),
            headers: h.headers.iter().map(|(k, v)| (k.clone(), self.render(v))).collect(),
            body: h.body.as_ref().map(|b| self.render(b)),
            timeout_ms: h.timeout_ms,
            max_bytes: h.max_bytes,
        }
    }

    fn holds(&self, w: &When) -> bool {
        let value = match (&w.var, &w.contact) {
            (Some(v), _) => self.state.vars.get(v).cloned().filter(|s| !s.is_empty()),
            (None, Some(f)) => self.facts.contact.get(f.as_str()).cloned().filter(|s| !s.is_empty()),
            (None, None) => None,
        };
        if let Some(e) = w.exists
            && value.is_some() != e
        {
            return false;
        }
        if let Some(eq) = &w.equals
            && !value.as_deref().is_some_and(|v| v.trim().eq_ignore_ascii_case(eq.trim()))
        {
            return false;
        }
        if let Some(re) = &w.matches
            && !value.as_deref().is_some_and(|v| re.is_match(v))
        {
            return false;
        }
        if let Some(tag) = &w.tag
            && !self.facts.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
        {
            return false;
        }
        if let Some(kind) = &w.channel
            && !self.facts.channel_kind.eq_ignore_ascii_case(kind)
        {
            return false;
        }
        if let Some(online) = w.operator_online
            && self.facts.operator_online != online
        {
            return false;
        }
        if let Some(t) = &w.time
            && !within(t, self.facts.now_ms)
        {
            return false;
        }
        true
    }
}

/// Whether `now_ms` falls in the window, in its time zone (a window past midnight,
/// 22:00–06:00, wraps).
pub fn within(t: &TimeWindow, now_ms: i64) -> bool {
    let Ok(ts) = jiff::Timestamp::from_millisecond(now_ms) else { return false };
    let local = ts.to_zoned_datetime(t.tz.clone());
    let minute = local.hour() as u32 * 60 + local.minute() as u32;
    let day = local.weekday().to_monday_one_offset();
    if !t.days.is_empty() && !t.days.contains(&day) {
        return false;
    }
    if t.from <= t.to { (t.from..t.to).contains(&minute) } else { minute >= t.from || minute < t.to }
}

fn passes(check: &Check, text: &str, step: &Step) -> bool {
    match check {
        Check::Regex(re) => re.is_match(text),
        Check::Email => crate::inbox::contacts::email_key(text).is_some(),
        Check::Phone => crate::inbox::contacts::phone_key(text).is_some(),
        Check::Number => text.replace(',', ".").parse::<f64>().is_ok_and(f64::is_finite),
        Check::Date => parse_date(text).is_some(),
        Check::Button => step.buttons.iter().any(|b| b.text.eq_ignore_ascii_case(text)),
    }
}

/// An answer as saved: a date as YYYY-MM-DD, anything else as typed.
fn normalized(v: Option<&Validate>, text: &str) -> String {
    if v.is_some_and(|v| v.checks.iter().any(|c| matches!(c, Check::Date)))
        && let Some(d) = parse_date(text)
    {
        return d.to_string();
    }
    text.to_owned()
}

/// `2026-12-31`, `31.12.2026` or `31/12/2026`.
fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return Some(d);
    }
    let parts: Vec<&str> = text.split(['.', '/']).collect();
    let [d, m, y] = parts.as_slice() else { return None };
    jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

/// `a.b.0.c` in a JSON value.
fn lookup<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').filter(|p| !p.is_empty()).try_fold(json, |v, key| match v {
        serde_json::Value::Array(a) => a.get(key.parse::<usize>().ok()?),
        _ => v.get(key),
    })
}

fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
