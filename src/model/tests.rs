//! The typed values serialize to exactly the JSON the views wrote before they were
//! typed (the console and stored events rely on it), and events read back as written.

use std::borrow::Cow;

use serde_json::{Value as Json, json};

use super::event::{self, Event, EventKind};
use super::*;

/// The JSON text as `serde_json::Value` writes it in the app's own build: object keys
/// sorted (a `BTreeMap`). Test builds differ: a dev-dependency (thirtyfour) turns on
/// serde_json's `preserve_order`, so `to_string()` alone would keep insertion order here.
fn sorted(v: &Json) -> String {
    match v {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Json::String((*k).clone()), sorted(&map[*k]))).collect();
            format!("{{{}}}", fields.join(","))
        }
        Json::Array(items) => format!("[{}]", items.iter().map(sorted).collect::<Vec<_>>().join(",")),
        scalar => scalar.to_string(),
    }
}

fn channel() -> ChannelRef {
    ChannelRef { id: 3, kind: "telegram".into(), name: "Bot".into() }
}

fn message() -> Message {
    Message {
        // Stored JSON is kept as it is: written here with its keys already in order.
        attachments: vec![json!({"extra": {"w": 1}, "file_id": "f", "kind": "photo"})],
        author: Some(AuthorRef { id: 5, name: "Ada".into() }),
        author_kind: AuthorKind::Operator,
        buttons: Vec::new(),
        channel: Some(channel()),
        chat_id: 13,
        conversation_id: Some(2),
        created_at: Time(1_700_000_000_123),
        deleted_at: None,
        direction: Direction::Out,
        edited_at: None,
        entities: vec![json!({"kind": "bold", "length": 2, "offset": 0})],
        failure_reason: None,
        id: 17,
        kind: MessageKind::Message,
        reactions: Vec::new(),
        state: Some(MessageState::Queued),
        text: Some("hé \"quoted\"".into()),
    }
}

fn chat() -> Chat {
    Chat {
        active_channel: Some(channel()),
        assignee: Some(Assignee { id: 5, name: "Ada".into(), status: Status::Online }),
        channels: vec![channel()],
        contact: ChatContact { email: None, id: 7, name: "Ivy".into(), phone: Some("+1".into()), username: None },
        created_at: Time(1_000),
        handler: Handler::Human,
        id: 13,
        last_message: Some(message()),
        last_message_at: Time(2_000),
        status: ChatStatus::Open,
        unread_count: 1,
        updated_at: Time(3_000),
    }
}

/// The message as `views::message_json` built it before it was typed.
fn message_as_before(m: &Message) -> Json {
    let mut v = json!({
        "id": m.id, "chat_id": m.chat_id, "conversation_id": m.conversation_id, "kind": "message",
        "direction": "out", "author_kind": "operator",
    });
    v["author"] = json!({"id": 5, "name": "Ada"});
    v["channel"] = json!({"id": 3, "kind": "telegram", "name": "Bot"});
    v["text"] = json!(m.text);
    v["attachments"] = json!(m.attachments);
    v["buttons"] = json!([]);
    v["entities"] = json!(m.entities);
    v["state"] = json!("queued");
    v["failure_reason"] = Json::Null;
    v["edited_at"] = Json::Null;
    v["created_at"] = json!("2023-11-14T22:13:20.123Z");
    v["deleted_at"] = Json::Null;
    v
}

/// The chat as `views::chat_json` built it before it was typed.
fn chat_as_before(c: &Chat) -> Json {
    let mut v = json!({
        "id": 13, "status": "open", "handler": "human", "unread_count": 1,
        "last_message_at": "1970-01-01T00:00:02.000Z", "created_at": "1970-01-01T00:00:01.000Z",
        "updated_at": "1970-01-01T00:00:03.000Z",
        "contact": {"id": 7, "name": "Ivy", "username": null, "phone": "+1", "email": null},
    });
    v["assignee"] = json!({"id": 5, "name": "Ada", "status": "online"});
    v["active_channel"] = json!({"id": 3, "kind": "telegram", "name": "Bot"});
    v["channels"] = json!([{"id": 3, "kind": "telegram", "name": "Bot"}]);
    v["last_message"] = message_as_before(c.last_message.as_ref().unwrap());
    v
}

#[test]
fn chats_and_messages_serialize_byte_for_byte_as_before() {
    let (m, c) = (message(), chat());
    assert_eq!(serde_json::to_string(&m).unwrap(), sorted(&message_as_before(&m)));
    assert_eq!(serde_json::to_string(&c).unwrap(), sorted(&chat_as_before(&c)));
}

#[test]
fn contacts_and_operators_keep_their_shapes() {
    let contact = Contact {
        attributes: serde_json::from_str(r#"{"a":1,"plan":"pro"}"#).unwrap(),
        chat_id: Some(13),
        created_at: Time(0),
        email: Some("i@example.com".into()),
        first_name: Some("Ivy".into()),
        id: 7,
        identities: vec![Identity {
            channel: channel(),
            external_id: "42".into(),
            id: 11,
            unreachable_reason: None,
            username: Some("ivy".into()),
        }],
        last_name: None,
        name: "Ivy".into(),
        phone: None,
        start_payload: None,
        tags: vec!["vip".into()],
        unsubscribed: false,
        username: Some("ivy".into()),
    };
    let text = serde_json::to_string(&contact).unwrap();
    let before = json!({
        "id": 7, "name": "Ivy", "first_name": "Ivy", "last_name": null, "username": "ivy", "phone": null,
        "email": "i@example.com", "tags": ["vip"], "attributes": {"a": 1, "plan": "pro"}, "start_payload": null,
        "unsubscribed": false, "created_at": "1970-01-01T00:00:00.000Z", "chat_id": 13,
        "identities": [{"id": 11, "external_id": "42", "username": "ivy", "unreachable_reason": null,
            "channel": {"id": 3, "kind": "telegram", "name": "Bot"}}],
    });
    assert_eq!(text, sorted(&before));

    let op = Operator {
        active: true,
        email: "a@example.com".into(),
        id: 5,
        name: "Ada".into(),
        notify: Notify { discord: false, telegram: true },
        role: Role::Admin,
        status: Status::Away,
    };
    let before = json!({"active": true, "id": 5, "email": "a@example.com", "name": "Ada", "role": "admin", "status": "away",
        "notify": {"discord": false, "telegram": true}});
    assert_eq!(serde_json::to_string(&op).unwrap(), sorted(&before));
}

#[test]
fn event_data_is_what_the_untyped_appends_wrote() {
    let (m, c) = (message(), chat());
    let created = Event::message_created(c.last_message.as_ref().unwrap(), &c);
    assert_eq!(created.kind().as_str(), "message.created");
    let before = json!({"message": message_as_before(&m), "chat": chat_as_before(&c)});
    assert_eq!(created.data_json().unwrap(), sorted(&before));

    let transferred = Event::ChatTransferred(event::ChatTransferred {
        by_operator_id: 5,
        chat: Cow::Borrowed(&c),
        comment: Cow::Borrowed("over to you"),
        from_operator_id: None,
        note: Some(Cow::Borrowed(&m)),
        to_operator_id: 6,
    });
    let before = json!({"chat": chat_as_before(&c), "from_operator_id": null, "to_operator_id": 6,
        "by_operator_id": 5, "comment": "over to you", "note": message_as_before(&m)});
    assert_eq!(transferred.data_json().unwrap(), sorted(&before));

    let assigned = Event::ChatAssigned(event::ChatAssigned {
        chat: Cow::Borrowed(&c),
        from_operator_id: Some(4),
        note: None,
        operator_id: None,
        reason: Reason::NoAnswer,
    });
    let before = json!({"chat": chat_as_before(&c), "operator_id": null, "from_operator_id": 4,
        "reason": "no_answer", "note": null});
    assert_eq!(assigned.data_json().unwrap(), sorted(&before));

    let merged =
        Event::ContactMerged(event::ContactMerged { merge_id: 1, source_chat_id: Some(2), source_id: 3, target_id: 4 });
    let before = json!({"target_id": 4, "source_id": 3, "merge_id": 1, "source_chat_id": 2});
    assert_eq!(merged.data_json().unwrap(), sorted(&before));
}

#[test]
fn every_kind_reads_back_as_written() {
    let (m, c) = (message(), chat());
    let op = Operator {
        active: true,
        email: "a@example.com".into(),
        id: 5,
        name: "Ada".into(),
        notify: Notify { discord: true, telegram: false },
        role: Role::Operator,
        status: Status::Offline,
    };
    let contact: Contact = serde_json::from_value(json!({
        "attributes": {}, "chat_id": null, "created_at": "1970-01-01T00:00:00.000Z", "email": null,
        "first_name": null, "id": 7, "identities": [], "last_name": null, "name": "Visitor #7", "phone": null,
        "start_payload": null, "tags": [], "username": null
    }))
    .unwrap();
    let broadcast: Broadcast = serde_json::from_value(json!({
        "audience": {"tags": {"any": ["vip"]}, "last_active": {"after": "2026-01-01T00:00:00.000Z"}},
        "content": {"text": "Sale", "buttons": [{"label": "More", "flow": "tips"}], "attachments": []},
        "created_at": "1970-01-01T00:00:00.000Z", "finished_at": null, "id": 3, "name": "Sale",
        "figures": {"blocked": 1, "cancelled": 0, "delivered": 2, "failed": 0, "queued": 5, "read": 1, "sent": 9,
            "skipped": 1, "total": 19, "unknown": 0},
        "rate_per_second": null, "reasons": [{"count": 1, "reason": "blocked", "state": "blocked"}],
        "send_at": null, "started_at": "1970-01-01T00:00:01.000Z", "state": "sending", "time_zone": null
    }))
    .unwrap();
    let events = [
        Event::ChatOpened(event::ChatOpened { chat: Cow::Borrowed(&c), reopened: true }),
        Event::chat_updated(&c),
        Event::ChatAssigned(event::ChatAssigned {
            chat: Cow::Borrowed(&c),
            from_operator_id: None,
            note: Some(Cow::Borrowed(&m)),
            operator_id: Some(5),
            reason: Reason::Policy,
        }),
        Event::ChatTransferred(event::ChatTransferred {
            by_operator_id: 5,
            chat: Cow::Borrowed(&c),
            comment: Cow::Borrowed(""),
            from_operator_id: Some(4),
            note: None,
            to_operator_id: 5,
        }),
        Event::message_created(&m, &c),
        Event::message_updated(&m),
        Event::contact_updated(&contact),
        Event::ContactMerged(event::ContactMerged { merge_id: 1, source_chat_id: None, source_id: 3, target_id: 4 }),
        Event::operator_updated(&op),
        Event::broadcast_updated(&broadcast),
    ];
    let kinds: Vec<EventKind> = events.iter().map(Event::kind).collect();
    assert_eq!(kinds, EventKind::ALL, "every kind is covered here");
    for e in &events {
        let decoded = Event::decode(e.kind().as_str(), &e.data_json().unwrap()).unwrap();
        assert_eq!(&decoded, e);
        assert_eq!(&e.clone().into_static(), e, "the copy a local consumer gets is the event");
    }
}

#[test]
fn an_unknown_kind_or_bad_data_is_an_error_not_a_guess() {
    let e = Event::decode("flow.started", "{}").unwrap_err();
    assert_eq!(e.to_string(), "unknown event kind \"flow.started\"");
    let e = Event::decode("message.updated", r#"{"message": {"id": 1}}"#).unwrap_err();
    assert!(e.to_string().starts_with("data of message.updated:"), "{e}");
    let e = Event::decode("chat.updated", &json!({"chat": {"status": "archived"}}).to_string()).unwrap_err();
    assert!(e.to_string().contains("data of chat.updated"), "{e}");
}
