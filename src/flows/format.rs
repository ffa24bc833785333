//! The YAML format of a flow, as written: every field known (`deny_unknown_fields`), and
//! the values a check may complain about carry their line and column (`Spanned`), so
//! errors point into the file. `check` turns this into a [`super::Flow`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_saphyr::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Files run unless they say `enabled: false` (the shipped examples do).
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub triggers: Vec<S<TriggerSpec>>,
    pub steps: S<Steps>,
}

/// One way a flow starts. Exactly one kind per entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// `/start` on Telegram (without the slash); `payload` narrows it to a deep link.
    pub command: Option<S<String>>,
    pub payload: Option<S<String>>,
    /// The whole message, case-insensitive.
    pub keyword: Option<OneOrMany>,
    /// Somewhere in the message, case-insensitive.
    pub contains: Option<OneOrMany>,
    pub regex: Option<S<String>>,
    /// A new contact's first message.
    pub first_message: Option<bool>,
    /// Any message no other flow took.
    pub any: Option<bool>,
    /// A press of a button with this text (a button of another message or flow).
    pub button: Option<S<String>>,
    /// Started by `POST /api/v1/contacts/{id}/flows/{flow}` (always allowed; says so).
    pub api: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// The steps in the order written: the first is where the flow starts.
#[derive(Debug, Default)]
pub struct Steps(pub Vec<(String, S<StepSpec>)>);

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Steps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of step names to steps")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Steps, A::Error> {
                let mut steps = Vec::new();
                while let Some((name, step)) = map.next_entry::<String, S<StepSpec>>()? {
                    if steps.iter().any(|(n, _): &(String, _)| *n == name) {
                        return Err(serde::de::Error::custom(format!("the step `{name}` is defined twice")));
                    }
                    steps.push((name, step));
                }
                Ok(Steps(steps))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// A step: what it says (`send`, `buttons`, `media`), at most one action, where it goes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub send: Option<S<String>>,
    pub buttons: Option<Vec<S<ButtonSpec>>>,
    pub media: Option<S<MediaSpec>>,
    pub set: Option<S<SetSpec>>,
    pub ask: Option<S<String>>,
    pub save: Option<S<String>>,
    pub validate: Option<S<ValidateSpec>>,
    pub condition: Option<Vec<S<BranchSpec>>>,
    pub http: Option<S<HttpSpec>>,
    pub on_error: Option<S<String>>,
    /// `30s`, `10m`, `2h`, `1d`.
    pub wait: Option<S<String>>,
    /// Where a contact who writes during the wait goes (otherwise the message is
    /// handled as any other and the wait is dropped).
    pub on_reply: Option<S<String>>,
    pub handoff: Option<S<HandoffSpec>>,
    pub start_flow: Option<S<String>>,
    pub close: Option<S<bool>>,
    pub unsubscribe: Option<S<bool>>,
    pub goto: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonSpec {
    pub text: S<String>,
    pub goto: Option<S<String>>,
    /// Starts another flow instead.
    pub flow: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSpec {
    pub url: S<String>,
    /// `photo` (default), `document`, `video`, `audio`.
    #[serde(default)]
    pub kind: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetSpec {
    /// Variables, each a template.
    #[serde(default)]
    pub vars: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub tag: Vec<String>,
    #[serde(default)]
    pub untag: Vec<String>,
    /// `first_name`, `last_name`, `email`, `phone`: templates.
    #[serde(default)]
    pub contact: BTreeMap<String, S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateSpec {
    pub regex: Option<S<String>>,
    /// `email`, `phone`, `number`, `date` or `button` (one of the step's buttons).
    pub is: Option<S<String>>,
    pub error: Option<S<String>>,
    pub attempts: Option<S<u32>>,
    pub on_fail: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    pub when: S<WhenSpec>,
    pub goto: S<String>,
}

/// A condition; every field given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenSpec {
    pub var: Option<String>,
    /// With `var` or `contact`: equal, case-insensitive.
    pub equals: Option<String>,
    pub matches: Option<S<String>>,
    /// With `var` or `contact`: whether it has a value.
    pub exists: Option<bool>,
    /// A contact field: `first_name`, `last_name`, `username`, `email`, `phone`.
    pub contact: Option<S<String>>,
    pub tag: Option<String>,
    /// The channel kind the contact writes through: `telegram`, `widget`, ...
    pub channel: Option<String>,
    pub operator_online: Option<bool>,
    pub time: Option<S<TimeSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// `09:00`
    pub from: String,
    /// `18:00`
    pub to: String,
    /// An IANA time zone, `Europe/Berlin`; UTC when absent.
    #[serde(default)]
    pub tz: Option<String>,
    /// Days it holds on, `mon`..`sun`; every day when absent.
    #[serde(default)]
    pub days: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    #[serde(default)]
    pub method: Option<S<String>>,
    pub url: S<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub body: Option<S<String>>,
    #[serde(default)]
    pub timeout_s: Option<S<u64>>,
    #[serde(default)]
    pub max_bytes: Option<S<u64>>,
    /// Variable ← a dotted path into the JSON answer (`status`, `order.items.0.name`).
    #[serde(default)]
    pub save: BTreeMap<String, S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSpec {
    /// The operator's email: the chat goes to them rather than through distribution.
    #[serde(default)]
    pub operator: Option<S<String>>,
    /// A note for the operators.
    #[serde(default)]
    pub note: Option<String>,
}
