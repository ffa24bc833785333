//! Bot flows: scripts of steps that answer contacts before (or instead of) operators.
//!
//! A flow is a YAML document (`format`), checked into a [`Flow`] (`check`: errors and
//! warnings with line and column). `engine` moves a run through its steps as a pure
//! function of the flow, the run's state and what happened, returning effects; `runs`
//! stores runs; the effects are carried out inside the caller's transaction (messages
//! through the outbox's bot lane, jobs for HTTP calls and waits, the chat's handler).
//! `drive` starts runs and carries their effects out. `hook` is the ingest door's hook
//! that claims chats for the bot; `jobs` the handlers of its durable jobs; `catalog` the
//! stored flows and their versions; `files` loads `config/flows/*.yaml`; `control` is
//! what operators do (start a flow for a contact, pause, resume); `simulate` runs a flow
//! against a throwaway run.

pub mod catalog;
pub mod check;
pub mod control;
pub mod drive;
pub mod engine;
pub mod files;
pub mod format;
pub mod hook;
pub mod jobs;
pub mod runs;
pub mod simulate;
pub mod template;

use std::collections::HashMap;

use regex::Regex;
use serde::Serialize;

pub use check::{Diagnostic, Severity, check};
pub use template::Template;

/// Where a step goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Next {
    Step(String),
    End,
}

impl Next {
    pub fn parse(name: &str) -> Next {
        if name == "end" { Next::End } else { Next::Step(name.to_owned()) }
    }
}

/// A checked flow, ready to run.
#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    pub triggers: Vec<Trigger>,
    pub steps: Vec<Step>,
    index: HashMap<String, usize>,
}

impl Flow {
    pub fn new(name: String, triggers: Vec<Trigger>, steps: Vec<Step>) -> Flow {
        let index = steps.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        Flow { name, triggers, steps, index }
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.index.get(name).map(|&i| &self.steps[i])
    }

    pub fn first(&self) -> &Step {
        &self.steps[0]
    }
}

#[derive(Debug, Clone)]
pub enum Trigger {
    Command { name: String, payload: Option<String> },
    Keyword(Vec<String>),
    Contains(Vec<String>),
    Regex(Regex),
    Button(String),
    FirstMessage,
    Any,
    Api,
}

#[derive(Debug, Clone)]
pub struct Button {
    pub text: String,
    pub then: ButtonThen,
}

#[derive(Debug, Clone)]
pub enum ButtonThen {
    Goto(Next),
    Flow(String),
}

#[derive(Debug, Clone)]
pub struct Media {
    pub url: Template,
    pub kind: String,
}

#[derive(Debug, Clone, Default)]
pub struct Set {
    pub vars: Vec<(String, Template)>,
    pub tag: Vec<String>,
    pub untag: Vec<String>,
    pub contact: Vec<(String, Template)>,
}

#[derive(Debug, Clone)]
pub enum Check {
    Regex(Regex),
    Email,
    Phone,
    Number,
    Date,
    Button,
}

#[derive(Debug, Clone)]
pub struct Validate {
    pub checks: Vec<Check>,
    pub error: Option<Template>,
    pub attempts: u32,
    pub on_fail: Next,
}

#[derive(Debug, Clone, Default)]
pub struct When {
    pub var: Option<String>,
    pub contact: Option<String>,
    pub equals: Option<String>,
    pub matches: Option<Regex>,
    pub exists: Option<bool>,
    pub tag: Option<String>,
    pub channel: Option<String>,
    pub operator_online: Option<bool>,
    pub time: Option<TimeWindow>,
}

#[derive(Debug, Clone)]
pub struct TimeWindow {
    /// Minutes since midnight.
    pub from: u32,
    pub to: u32,
    pub tz: jiff::tz::TimeZone,
    /// Monday = 1 … Sunday = 7; empty: every day.
    pub days: Vec<i8>,
}

#[derive(Debug, Clone)]
pub struct Http {
    pub method: String,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    pub timeout_ms: u64,
    pub max_bytes: u64,
    pub save: Vec<(String, String)>,
    pub on_error: Next,
}

/// What a step does after speaking; at most one per step.
#[derive(Debug, Clone)]
pub enum Action {
    None,
    Ask { question: Template, save: Option<String>, validate: Option<Validate> },
    Condition(Vec<(When, Next)>),
    Http(Http),
    Wait { ms: i64, on_reply: Option<Next> },
    Handoff { operator: Option<String>, note: Option<String> },
    StartFlow(String),
    Close,
    Unsubscribe,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub set: Option<Set>,
    pub send: Option<Template>,
    pub buttons: Vec<Button>,
    pub media: Option<Media>,
    pub action: Action,
    pub goto: Next,
}

impl Step {
    /// Whether the step stops to hear the contact (a question, or buttons to press).
    pub fn listens(&self) -> bool {
        matches!(self.action, Action::Ask { .. }) || (matches!(self.action, Action::None) && !self.buttons.is_empty())
    }
}
