//! The closed sets of states of chats and messages, as stored (CHECK constraints in
//! migration 0008 list exactly these values).

stored_enum! {
    /// Where a chat stands.
    pub enum ChatStatus: "chat status" {
        Open = "open",
        Closed = "closed",
        /// The source of a contact merge: hidden until the merge is undone.
        Merged = "merged",
    }
}

stored_enum! {
    /// Who answers a chat: operators, or a bot flow until it hands over.
    pub enum Handler: "chat handler" {
        Human = "human",
        Bot = "bot",
    }
}

stored_enum! {
    pub enum Direction: "message direction" {
        In = "in",
        Out = "out",
    }
}

stored_enum! {
    /// A message goes to the contact; a note stays with the operators.
    pub enum MessageKind: "message kind" {
        Message = "message",
        Note = "note",
    }
}

stored_enum! {
    /// Who wrote a message.
    pub enum AuthorKind: "author kind" {
        Contact = "contact",
        Operator = "operator",
        Bot = "bot",
        Broadcast = "broadcast",
        /// Parley itself (distribution notes, notifications).
        System = "system",
    }
}

stored_enum! {
    /// Delivery of an outbound message. `delivered` and `read` come from platforms'
    /// receipts (the widget's read receipts today).
    pub enum MessageState: "message state" {
        Queued = "queued",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FromValue, Value};

    fn round_trips<T>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Result<T, crate::model::UnknownValue>,
    ) where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned + FromValue,
        Value: From<T>,
    {
        for v in all {
            assert_eq!(parse(as_str(*v)).unwrap(), *v);
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *v);
            assert_eq!(T::from_value(&Value::from(*v)).unwrap(), *v);
        }
        assert!(parse("bogus").is_err());
        assert!(serde_json::from_str::<T>("\"bogus\"").is_err());
        assert!(T::from_value(&Value::Text("bogus".into())).is_err());
        assert!(T::from_value(&Value::Null).is_err());
    }

    #[test]
    fn every_state_round_trips_and_unknown_ones_are_refused() {
        round_trips(ChatStatus::ALL, ChatStatus::as_str, ChatStatus::parse);
        round_trips(Handler::ALL, Handler::as_str, Handler::parse);
        round_trips(Direction::ALL, Direction::as_str, Direction::parse);
        round_trips(MessageKind::ALL, MessageKind::as_str, MessageKind::parse);
        round_trips(AuthorKind::ALL, AuthorKind::as_str, AuthorKind::parse);
        round_trips(MessageState::ALL, MessageState::as_str, MessageState::parse);
    }

    #[test]
    fn the_values_bots_and_broadcasts_need_exist() {
        assert_eq!(AuthorKind::parse("bot"), Ok(AuthorKind::Bot));
        assert_eq!(AuthorKind::parse("broadcast"), Ok(AuthorKind::Broadcast));
        assert_eq!(Handler::parse("bot"), Ok(Handler::Bot));
        assert_eq!(MessageState::parse("delivered"), Ok(MessageState::Delivered));
        assert_eq!(MessageState::parse("read"), Ok(MessageState::Read));
    }

    #[test]
    fn an_unknown_value_names_what_it_is_not() {
        let e = MessageState::parse("lost").unwrap_err();
        assert_eq!(e.to_string(), "unknown message state \"lost\"");
        let e = ChatStatus::from_value(&Value::Text("archived".into())).unwrap_err();
        assert_eq!(e, "unknown chat status \"archived\"");
    }
}
