//! Every kind of event Parley appends, as one type.
//!
//! An event is stored as its `kind` text and its data as JSON (the `events` table); the
//! console's event socket pastes the stored data into its frames as it is. Both are
//! derived from [`Event`]: `kind()` names it, `data_json()` serializes the payload,
//! and [`Event::decode`] reads a stored row back, so consumers match on variants.
//!
//! Payloads borrow what the appender keeps using ([`Cow::Borrowed`]), or own what it
//! hands over ([`Cow::Owned`]: ingest gives its chat away): the event serializes them in
//! place, and the copy that local consumers get moves what is owned. Decoded events own
//! their data.
//!
//! Adding a kind (flows will add `flow.*`, broadcasts `broadcast.*`): a payload struct
//! with its fields in alphabetical order, and one line in the `events!` list below.
//! Consumers match with a catch-all arm, so a new kind reaches none of them by
//! accident; a node that does not know a kind yet gets an error from `decode` and
//! skips that event.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{Broadcast, Chat, Contact, Message, Operator, Reason, UnknownValue};

/// Declares [`Event`] and [`EventKind`] from one list of (variant, payload, kind).
macro_rules! events {
    ($($(#[$doc:meta])* $variant:ident($payload:ident $(<$lt:lifetime>)?) = $kind:literal,)+) => {
        /// One event, its data borrowed (`'a`) when appended, owned when decoded.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event<'a> {
            $($(#[$doc])* $variant($payload $(<$lt>)?),)+
        }

        stored_enum! {
            /// The kind of an event, as stored in `events.kind`.
            pub enum EventKind: "event kind" {
                $($variant = $kind,)+
            }
        }

        impl Event<'_> {
            pub fn kind(&self) -> EventKind {
                match self {
                    $(Event::$variant(_) => EventKind::$variant,)+
                }
            }

            /// The data as stored in `events.data`.
            pub fn data_json(&self) -> serde_json::Result<String> {
                match self {
                    $(Event::$variant(d) => serde_json::to_string(d),)+
                }
            }

            /// The same event owning its data: what it owned is moved, what it borrows
            /// is copied.
            pub fn into_static(self) -> Event<'static> {
                match self {
                    $(Event::$variant(d) => Event::$variant(d.into_static()),)+
                }
            }
        }

        /// The frame the event socket sends for an event (`http::events::frame`):
        /// `{id, kind, chat_id, at, data}`, one alternative per kind with its payload,
        /// built from this list so a new kind is documented by being declared.
        impl utoipa::PartialSchema for Event<'_> {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let mut one_of = utoipa::openapi::schema::OneOfBuilder::new();
                $(one_of = one_of.item(frame_schema($kind, <$payload as utoipa::ToSchema>::name()));)+
                one_of.into()
            }
        }

        impl utoipa::ToSchema for Event<'_> {
            fn name() -> std::borrow::Cow<'static, str> {
                "Event".into()
            }

            fn schemas(
                out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                $(
                    out.push((
                        <$payload as utoipa::ToSchema>::name().into_owned(),
                        <$payload as utoipa::PartialSchema>::schema(),
                    ));
                    <$payload as utoipa::ToSchema>::schemas(out);
                )+
            }
        }

        impl Event<'static> {
            /// A stored event read back: its kind, then its data as that kind's payload.
            pub fn decode(kind: &str, data: &str) -> Result<Self, DecodeError> {
                Ok(match EventKind::parse(kind)? {
                    $(EventKind::$variant => Event::$variant(serde_json::from_str(data)
                        .map_err(|e| DecodeError::Data(EventKind::$variant, e))?),)+
                })
            }
        }
    };
}

events! {
    /// A chat was created, or reopened by its contact writing.
    ChatOpened(ChatOpened<'a>) = "chat.opened",
    /// Closed, reopened by hand, read, its active channel changed, merged.
    ChatUpdated(ChatUpdated<'a>) = "chat.updated",
    /// The distributor gave the chat to an operator, or back to the queue.
    ChatAssigned(ChatAssigned<'a>) = "chat.assigned",
    /// An operator handed the chat to another.
    ChatTransferred(ChatTransferred<'a>) = "chat.transferred",
    MessageCreated(MessageCreated<'a>) = "message.created",
    /// Delivery state or text changed.
    MessageUpdated(MessageUpdated<'a>) = "message.updated",
    ContactUpdated(ContactUpdated<'a>) = "contact.updated",
    ContactMerged(ContactMerged) = "contact.merged",
    /// Status or linked messengers changed.
    OperatorUpdated(OperatorUpdated<'a>) = "operator.updated",
    /// A broadcast's state or figures changed: a few of these a second while it sends,
    /// never one per recipient.
    BroadcastUpdated(BroadcastUpdated<'a>) = "broadcast.updated",
}

/// One alternative of [`Event`]'s schema: the frame of one kind.
fn frame_schema(kind: &str, payload: std::borrow::Cow<'static, str>) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Ref, SchemaType, Type};
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    let int =
        || ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)));
    ObjectBuilder::new()
        .title(Some(kind))
        .property("id", int())
        .property("kind", ObjectBuilder::new().schema_type(Type::String).enum_values(Some([kind])))
        .property("chat_id", int().schema_type(SchemaType::from_iter([Type::Integer, Type::Null])))
        .property("at", <super::Time as utoipa::PartialSchema>::schema())
        .property("data", Ref::from_schema_name(payload))
        .required("id")
        .required("kind")
        .required("chat_id")
        .required("at")
        .required("data")
        .build()
}

/// Why a stored event could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Kind(#[from] UnknownValue),
    #[error("data of {0}: {1}")]
    Data(EventKind, serde_json::Error),
}

// Payloads: fields in alphabetical order, as the JSON was written before it was typed.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatOpened<'a> {
    pub chat: Cow<'a, Chat>,
    /// A closed chat reopened, rather than a new one.
    pub reopened: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatUpdated<'a> {
    pub chat: Cow<'a, Chat>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatAssigned<'a> {
    pub chat: Cow<'a, Chat>,
    pub from_operator_id: Option<i64>,
    /// The system note saying why, when there is one.
    pub note: Option<Cow<'a, Message>>,
    /// None: back to the queue.
    pub operator_id: Option<i64>,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatTransferred<'a> {
    pub by_operator_id: i64,
    pub chat: Cow<'a, Chat>,
    pub comment: Cow<'a, str>,
    pub from_operator_id: Option<i64>,
    /// The comment as a note, when there is one.
    pub note: Option<Cow<'a, Message>>,
    pub to_operator_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageCreated<'a> {
    /// The chat after the message (for a message, not a note, it is the chat's last).
    pub chat: Cow<'a, Chat>,
    pub message: Cow<'a, Message>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageUpdated<'a> {
    pub message: Cow<'a, Message>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactUpdated<'a> {
    pub contact: Cow<'a, Contact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactMerged {
    pub merge_id: i64,
    pub source_chat_id: Option<i64>,
    pub source_id: i64,
    pub target_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OperatorUpdated<'a> {
    pub operator: Cow<'a, Operator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BroadcastUpdated<'a> {
    pub broadcast: Cow<'a, Broadcast>,
}

/// A payload's field owning its value, for [`Event::into_static`].
fn owned<T: Clone>(c: Cow<'_, T>) -> Cow<'static, T> {
    Cow::Owned(c.into_owned())
}

impl ChatOpened<'_> {
    fn into_static(self) -> ChatOpened<'static> {
        ChatOpened { chat: owned(self.chat), reopened: self.reopened }
    }
}

impl ChatUpdated<'_> {
    fn into_static(self) -> ChatUpdated<'static> {
        ChatUpdated { chat: owned(self.chat) }
    }
}

impl ChatAssigned<'_> {
    fn into_static(self) -> ChatAssigned<'static> {
        ChatAssigned {
            chat: owned(self.chat),
            from_operator_id: self.from_operator_id,
            note: self.note.map(owned),
            operator_id: self.operator_id,
            reason: self.reason,
        }
    }
}

impl ChatTransferred<'_> {
    fn into_static(self) -> ChatTransferred<'static> {
        ChatTransferred {
            by_operator_id: self.by_operator_id,
            chat: owned(self.chat),
            comment: Cow::Owned(self.comment.into_owned()),
            from_operator_id: self.from_operator_id,
            note: self.note.map(owned),
            to_operator_id: self.to_operator_id,
        }
    }
}

impl MessageCreated<'_> {
    fn into_static(self) -> MessageCreated<'static> {
        MessageCreated { chat: owned(self.chat), message: owned(self.message) }
    }
}

impl MessageUpdated<'_> {
    fn into_static(self) -> MessageUpdated<'static> {
        MessageUpdated { message: owned(self.message) }
    }
}

impl ContactUpdated<'_> {
    fn into_static(self) -> ContactUpdated<'static> {
        ContactUpdated { contact: owned(self.contact) }
    }
}

impl ContactMerged {
    fn into_static(self) -> ContactMerged {
        self
    }
}

impl BroadcastUpdated<'_> {
    fn into_static(self) -> BroadcastUpdated<'static> {
        BroadcastUpdated { broadcast: owned(self.broadcast) }
    }
}

impl OperatorUpdated<'_> {
    fn into_static(self) -> OperatorUpdated<'static> {
        OperatorUpdated { operator: owned(self.operator) }
    }
}

/// Short constructors for the common shapes, borrowing what the caller has.
impl<'a> Event<'a> {
    pub fn chat_updated(chat: &'a Chat) -> Self {
        Event::ChatUpdated(ChatUpdated { chat: Cow::Borrowed(chat) })
    }

    pub fn message_created(message: &'a Message, chat: &'a Chat) -> Self {
        Event::MessageCreated(MessageCreated { chat: Cow::Borrowed(chat), message: Cow::Borrowed(message) })
    }

    pub fn message_updated(message: &'a Message) -> Self {
        Event::MessageUpdated(MessageUpdated { message: Cow::Borrowed(message) })
    }

    pub fn contact_updated(contact: &'a Contact) -> Self {
        Event::ContactUpdated(ContactUpdated { contact: Cow::Borrowed(contact) })
    }

    pub fn broadcast_updated(broadcast: &'a Broadcast) -> Self {
        Event::BroadcastUpdated(BroadcastUpdated { broadcast: Cow::Borrowed(broadcast) })
    }

    pub fn operator_updated(operator: &'a Operator) -> Self {
        Event::OperatorUpdated(OperatorUpdated { operator: Cow::Borrowed(operator) })
    }

    /// The chat the event carries, if it carries one whole.
    pub fn chat(&self) -> Option<&Chat> {
        match self {
            Event::ChatOpened(e) => Some(&e.chat),
            Event::ChatUpdated(e) => Some(&e.chat),
            Event::ChatAssigned(e) => Some(&e.chat),
            Event::ChatTransferred(e) => Some(&e.chat),
            Event::MessageCreated(e) => Some(&e.chat),
            Event::MessageUpdated(_)
            | Event::ContactUpdated(_)
            | Event::ContactMerged(_)
            | Event::OperatorUpdated(_)
            | Event::BroadcastUpdated(_) => None,
        }
    }
}
