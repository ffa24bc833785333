//! The simulator: a flow run against a throwaway run that lives in the request, not in
//! the database. Nothing is sent to a platform; the author plays the contact and sees
//! every step entered, what the bot says, the variables and the exit taken. HTTP steps
//! make their real call (outside any transaction); a wait is shown and skipped on
//! request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::check::{Diagnostic, check};
use super::engine::{self, Effect, Facts, Heard, State, Waiting};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimRequest {
    /// The flow's YAML.
    pub source: String,
    /// The run as the previous answer left it; absent: a new run.
    #[serde(default)]
    pub state: Option<State>,
    /// `start`, `message` (with `text`) or `timer` (a wait ends now).
    pub input: SimInput,
    /// The contact's fields as templates see them (`first_name`, ...).
    #[serde(default)]
    pub contact: BTreeMap<String, String>,
    /// The channel kind conditions see; `telegram` when absent.
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SimInput {
    Start,
    Message { text: String },
    Timer,
}

/// One thing that happened, in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimEvent {
    /// `step` (entered), `say` (a bot message), `http` (a call and its outcome), `wait`,
    /// `handoff`, `close`, `start_flow`, `tags`, `contact`, `dropped` (validation gave
    /// up), `unheard` (the run did not take the message), `end`.
    pub kind: String,
    pub step: Option<String>,
    pub text: Option<String>,
    pub buttons: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimResult {
    pub events: Vec<SimEvent>,
    /// The run now: pass it back with the next input.
    pub state: State,
    pub diagnostics: Vec<Diagnostic>,
}

fn ev(kind: &str, step: Option<&str>, text: Option<String>) -> SimEvent {
    SimEvent { kind: kind.into(), step: step.map(str::to_owned), text, buttons: Vec::new() }
}

pub async fn simulate(req: SimRequest, client: &reqwest::Client, now: i64) -> Result<SimResult> {
    let checked = check(&req.source);
    let diagnostics = checked.diagnostics.clone();
    let Some(flow) = checked.flow else {
        return Err(Error::Invalid(format!("the flow has errors: {}", checked.first_error().unwrap_or_default())));
    };
    let mut contact = BTreeMap::new();
    for field in super::template::CONTACT_FIELDS {
        if let Some(v) = req.contact.get(*field) {
            contact.insert(*field, v.clone());
        }
    }
    let facts = Facts {
        contact,
        tags: Vec::new(),
        channel_kind: req.channel.unwrap_or_else(|| "telegram".into()),
        operator_online: true,
        now_ms: now,
    };
    let mut events = Vec::new();
    let (mut state, mut effects) = match (req.input, req.state) {
        (SimInput::Start, _) => engine::start(&flow, &facts, None),
        (SimInput::Message { text }, None) => engine::start(&flow, &facts, Some(&text)),
        (SimInput::Message { text }, Some(mut state)) => {
            let effects = engine::hear(&flow, &mut state, &facts, Heard { text: &text });
            if effects.is_none() {
                events.push(ev("unheard", Some(&state.step), Some("the run does not wait for a message here".into())));
            }
            (state, effects.unwrap_or_default())
        }
        (SimInput::Timer, Some(mut state)) => {
            let effects = engine::rang(&flow, &mut state, &facts);
            (state, effects)
        }
        (SimInput::Timer, None) => return Err(Error::Invalid("a timer needs the run's state".into())),
    };
    // An HTTP step's answer leads to more effects; a few calls at most per input.
    for _ in 0..10 {
        let mut call = None;
        for e in effects.drain(..) {
            match e {
                Effect::Entered { step } => events.push(ev("step", Some(&step), None)),
                Effect::Send { content } => events.push(SimEvent {
                    kind: "say".into(),
                    step: Some(state.step.clone()),
                    text: content.text.or_else(|| content.attachments.first().and_then(|a| a.url.clone())),
                    buttons: content.buttons.into_iter().map(|b| b.label).collect(),
                }),
                Effect::Http { request } => call = Some(request),
                Effect::Wait { until_ms } => {
                    let text = format!("waits until {}", crate::clock::rfc3339(until_ms));
                    events.push(ev("wait", Some(&state.step), Some(text)));
                }
                Effect::Handoff { operator, .. } => {
                    let to = operator.map_or("the operators".to_owned(), |o| o);
                    events.push(ev("handoff", Some(&state.step), Some(format!("handed to {to}"))));
                }
                Effect::Close => events.push(ev("close", Some(&state.step), None)),
                Effect::StartFlow { flow } => events.push(ev("start_flow", Some(&state.step), Some(flow))),
                Effect::Unsubscribe => events.push(ev("tags", Some(&state.step), Some("+unsubscribed".into()))),
                Effect::Tags { add, remove } => {
                    let text = add.iter().map(|t| format!("+{t}")).chain(remove.iter().map(|t| format!("-{t}")));
                    events.push(ev("tags", Some(&state.step), Some(text.collect::<Vec<_>>().join(" "))));
                }
                Effect::Contact { field, value } => {
                    events.push(ev("contact", Some(&state.step), Some(format!("{field} = {value}"))))
                }
                Effect::Dropped { step } => events.push(ev("dropped", Some(&step), None)),
                Effect::Left { .. } => {}
            }
        }
        let Some(request) = call else { break };
        let outcome = super::jobs::call(client, &request).await;
        let said = match &outcome {
            Ok(v) => format!("{} {} → {v}", request.method, request.url),
            Err(e) => format!("{} {} → {e}", request.method, request.url),
        };
        events.push(ev("http", Some(&state.step), Some(said)));
        effects = engine::answered(&flow, &mut state, &facts, outcome);
    }
    if state.status != engine::RunStatus::Active || state.waiting == Waiting::Nothing {
        events.push(ev("end", Some(&state.step), Some(state.status.as_str().to_owned())));
    }
    Ok(SimResult { events, state, diagnostics })
}
