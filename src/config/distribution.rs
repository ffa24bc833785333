//! The `[distribution]` section of `config/parley.toml`.

use serde::{Deserialize, Serialize};

/// How the distributor chooses among the Online operators who can take a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// In turn: the operator who was given a chat longest ago goes first.
    RoundRobin,
    /// The operator with the fewest open chats goes first (round robin among equals).
    FewestOpen,
}

/// What happens to an operator's open chats when they go Offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOffline {
    /// They stay assigned to the operator.
    Keep,
    /// They go back to the queue and are handed out again.
    Requeue,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub policy: Policy,
    /// Most open chats an operator is given automatically; 0 means no limit.
    pub max_open_per_operator: i64,
    /// A chat handed out automatically and not answered within this time goes to the
    /// next Online operator; 0 turns this off.
    pub answer_timeout_seconds: i64,
    /// An Online or Away operator with no console connected for this long becomes
    /// Offline; 0 turns this off.
    pub offline_grace_seconds: i64,
    pub on_offline: OnOffline,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            policy: Policy::RoundRobin,
            max_open_per_operator: 0,
            answer_timeout_seconds: 300,
            offline_grace_seconds: 120,
            on_offline: OnOffline::Keep,
        }
    }
}
