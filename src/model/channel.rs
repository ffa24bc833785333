//! A reference to a channel, as chats, messages and identities carry it.

use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// `{id, kind, name}`. The kind stays text: it names a connector, and connectors are
/// added as crates (`widget`, `telegram`, `webhook`, ...) without touching the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelRef {
    pub id: i64,
    pub kind: String,
    pub name: String,
}

impl ChannelRef {
    /// From the columns of a LEFT JOIN on channels: none when the id is NULL; a channel
    /// row without kind or name cannot exist (NOT NULL), so it is an error.
    pub fn joined(id: Option<i64>, kind: Option<String>, name: Option<String>) -> Result<Option<Self>, StoreError> {
        match (id, kind, name) {
            (None, _, _) => Ok(None),
            (Some(id), Some(kind), Some(name)) => Ok(Some(ChannelRef { id, kind, name })),
            (Some(id), _, _) => Err(StoreError::Decode(format!("channel {id} joined without its kind or name"))),
        }
    }
}
