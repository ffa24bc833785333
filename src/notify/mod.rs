//! Operator notifications through the messenger they linked (Telegram): the one-time
//! link, the notifier that tells an operator what was assigned to them or written in
//! their chats while they are away from the console, and the hook in ingest that turns
//! a link code or a reply to a notification into what it means instead of a customer
//! message.

pub mod intercept;
pub mod links;
pub mod notifier;
pub mod send;

pub use intercept::ingest;
