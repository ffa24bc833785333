//! Parley's domain values as Rust types: chats, messages, contacts, operators, channel
//! references, and the closed sets of states they are in.
//!
//! The JSON the API returns and the events carry is serialized from these types. Their
//! fields are declared in alphabetical order on purpose: that is the order in which
//! `serde_json::Value` (a sorted map in the app's build) wrote the same shapes before
//! they were typed, so stored event data stays byte for byte what it was (`tests.rs`).
//!
//! States are enums ([`stored_enum!`]): written to SQL with `as_str()`, read from rows
//! with an error naming the column on an unknown value, and guarded by CHECK
//! constraints in the schema (migration 0008). SQL text still names states literally
//! in predicates (`WHERE state = 'queued'`): partial indexes such as `messages_outbox`
//! and `messages_inbound_once` are only used when the query repeats their constant.

#[macro_use]
mod stored_enum;
mod assignment;
mod broadcast;
mod channel;
mod chat;
mod contact;
pub mod event;
mod message;
mod operator;
mod states;
mod time;

pub use assignment::Reason;
pub use broadcast::{
    Audience, Between, Broadcast, BroadcastButton, BroadcastContent, BroadcastState, Figures, ReasonCount,
    RecipientState, TagFilter,
};
pub use channel::ChannelRef;
pub use chat::{Assignee, Chat, ChatContact};
pub use contact::{Contact, Identity};
pub use event::{Event, EventKind};
pub use message::{Author, AuthorRef, Message};
pub use operator::{Notify, Operator, Role, Status};
pub use states::{AuthorKind, ChatStatus, Direction, Handler, MessageKind, MessageState};
pub use stored_enum::UnknownValue;
pub(crate) use stored_enum::stored_enum;
pub use time::Time;

#[cfg(test)]
mod tests;
