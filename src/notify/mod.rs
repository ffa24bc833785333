//! Operator notifications through the messenger they linked (Telegram): the one-time
//! link, the notifier (an event consumer) that tells an operator what was assigned to
//! them or written in their chats while they are away from the console, and the hook in
//! the ingest door that turns a link code or a reply to a notification into what it
//! means instead of a customer message. Every text goes out through the outbox.

pub mod intercept;
pub mod links;
pub mod notifier;

pub use intercept::Intercept;
pub use notifier::Notifier;
