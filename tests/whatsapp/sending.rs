//! Replies to WhatsApp: what the Graph API receives, statuses moving the ticks, and
//! what each error code does.

use super::*;
use crate::support::spawn_app_with;
use crate::support::whatsapp_fake::Failure;

struct Sending {
    app: TestApp,
    admin: Session,
    fake: FakeGraph,
    id: i64,
    chat_id: i64,
    ada: Customer,
    events: EventStream,
}

async fn sending(configure: impl FnOnce(&mut parley::config::Config)) -> Sending {
    let app = spawn_app_with(configure).await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let ada = Customer::new("15550001111", "Ada");
    let chat_id = customer_chat(&app, &admin, id, &ada).await;
    let events = admin.events(0).await;
    Sending { app, admin, fake, id, chat_id, ada, events }
}

async fn reply(admin: &Session, chat_id: i64, body: Value) -> Value {
    let (status, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), body).await;
    assert_eq!(status, 201, "{reply}");
    reply["id"].clone()
}

#[tokio::test]
async fn statuses_move_the_ticks_to_delivered_and_read_and_never_back() {
    let Sending { app, admin, fake, id, chat_id, ada, mut events } = sending(|_| {}).await;
    let message = reply(&admin, chat_id, json!({"text": "Your order ships today"})).await;
    wait_state(&mut events, &message, "sent").await;
    let sent = fake.wait_send(1).await;
    assert_eq!(sent.body["to"], "15550001111");
    assert_eq!(sent.body["text"]["body"], "Your order ships today");
    let wamid = sent.wamid.unwrap();

    for state in ["sent", "delivered", "read"] {
        whatsapp_fake::deliver(&app.base, id, &ada.status(&wamid, state)).await;
        if state != "sent" {
            wait_state(&mut events, &message, state).await;
        }
    }
    // A late, redelivered "delivered" does not take the read tick away.
    whatsapp_fake::deliver(&app.base, id, &ada.status(&wamid, "delivered")).await;
    // A status for a message Parley never sent is acknowledged and ignored.
    whatsapp_fake::deliver(&app.base, id, &ada.status("wamid.unknown", "read")).await;
    let history = messages(&admin, chat_id).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["state"], "read");

    // A failed status shows its reason.
    let second = reply(&admin, chat_id, json!({"text": "Are you there?"})).await;
    wait_state(&mut events, &second, "sent").await;
    let wamid = fake.wait_send(2).await.wamid.unwrap();
    whatsapp_fake::deliver(&app.base, id, &ada.status(&wamid, "failed")).await;
    let e = wait_state(&mut events, &second, "failed").await;
    let reason = e["data"]["message"]["failure_reason"].as_str().unwrap();
    assert_eq!(
        reason,
        "WhatsApp error 131026: Message undeliverable (Receiver is incapable of receiving this message)"
    );
}

#[tokio::test]
async fn long_texts_split_buttons_become_lists_beyond_three_and_files_go_by_link() {
    let Sending { app, admin, fake, chat_id, mut events, .. } = sending(|c| c.limits.message_chars = 10_000).await;
    let long = format!("{}\n{}", "a".repeat(4000), "b".repeat(3000));
    let first = reply(&admin, chat_id, json!({"text": long})).await;
    wait_state(&mut events, &first, "sent").await;
    let sends = fake.sends();
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].body["text"]["body"], "a".repeat(4000));
    assert_eq!(sends[1].body["text"]["body"], "b".repeat(3000));

    // Buttons and files come from bots and flows, through the same enqueue as replies.
    let choices = |n: usize| parley_sdk::Content {
        text: Some("Pick a size".into()),
        buttons: (0..n).map(|i| parley_sdk::Button { label: format!("Size {i}"), data: format!("size-{i}") }).collect(),
        ..Default::default()
    };
    let photo = parley_sdk::Content {
        text: Some("Your parcel".into()),
        attachments: vec![parley_sdk::Attachment {
            kind: "photo".into(),
            url: Some("https://example.com/p.jpg".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let doc = parley_sdk::Content {
        attachments: vec![parley_sdk::Attachment {
            kind: "document".into(),
            file_id: Some("8001".into()),
            name: Some("invoice.pdf".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (three, four) = (choices(3), choices(4));
    let now = app.app().now();
    let ids = app
        .app()
        .store
        .write(move |db| -> parley::error::Result<Vec<i64>> {
            use parley::inbox::messages::{Author, enqueue};
            Ok(vec![
                enqueue(db, chat_id, None, &three, Author::Bot, now)?,
                enqueue(db, chat_id, None, &four, Author::Bot, now)?,
                enqueue(db, chat_id, None, &photo, Author::Bot, now)?,
                enqueue(db, chat_id, None, &doc, Author::Bot, now)?,
            ])
        })
        .await
        .unwrap();
    for id in &ids {
        wait_state(&mut events, &json!(id), "sent").await;
    }
    let sends = fake.sends();
    let buttons = &sends[2].body["interactive"];
    assert_eq!(buttons["type"], "button");
    assert_eq!(buttons["body"]["text"], "Pick a size");
    assert_eq!(buttons["action"]["buttons"][0], json!({"type": "reply", "reply": {"id": "size-0", "title": "Size 0"}}));
    let list = &sends[3].body["interactive"];
    assert_eq!(list["type"], "list", "four choices do not fit three buttons");
    assert_eq!(list["action"]["sections"][0]["rows"][3], json!({"id": "size-3", "title": "Size 3"}));
    assert_eq!(sends[4].body["image"], json!({"link": "https://example.com/p.jpg", "caption": "Your parcel"}));
    assert_eq!(sends[5].body["document"], json!({"id": "8001", "filename": "invoice.pdf"}));
}

#[tokio::test]
async fn server_errors_and_the_pair_rate_limit_retry_re_engagement_and_undeliverable_fail_with_the_reason() {
    let Sending { admin, fake, chat_id, mut events, .. } = sending(|c| c.outbox.backoff_base_ms = 10).await;
    fake.fail(&[
        Failure::Graph(500, 131000, None),
        Failure::Graph(400, 131056, None),
        Failure::Graph(429, 130429, Some(1)),
    ]);
    let retried = reply(&admin, chat_id, json!({"text": "third time lucky"})).await;
    wait_state(&mut events, &retried, "sent").await;
    let attempts: Vec<u16> = fake.calls().iter().filter(|c| c.path.ends_with("/messages")).map(|c| c.status).collect();
    assert_eq!(attempts, [500, 400, 429, 200]);

    fake.fail(&[Failure::Graph(400, 131047, None)]);
    let closed = reply(&admin, chat_id, json!({"text": "too late"})).await;
    let e = wait_state(&mut events, &closed, "failed").await;
    let reason = e["data"]["message"]["failure_reason"].as_str().unwrap();
    assert!(reason.starts_with("WhatsApp error 131047") && reason.contains("template"), "{reason}");

    fake.fail(&[Failure::Graph(400, 131026, None)]);
    let undeliverable = reply(&admin, chat_id, json!({"text": "hello?"})).await;
    let e = wait_state(&mut events, &undeliverable, "failed").await;
    assert!(e["data"]["message"]["failure_reason"].as_str().unwrap().starts_with("WhatsApp error 131026"));
    assert_eq!(fake.sends().len(), 1, "permanent refusals are not retried");
}

#[tokio::test]
async fn an_invalid_token_fails_the_message_and_marks_the_channel_broken_until_it_changes() {
    let Sending { admin, fake, id, chat_id, mut events, .. } = sending(|_| {}).await;
    fake.fail(&[Failure::Graph(401, 190, None)]);
    let message = reply(&admin, chat_id, json!({"text": "hi"})).await;
    let e = wait_state(&mut events, &message, "failed").await;
    assert!(e["data"]["message"]["failure_reason"].as_str().unwrap().contains("190"));
    let (_, c) = admin.get(&format!("/api/v1/channels/{id}")).await;
    let broken = c["broken_reason"].as_str().expect("the channel shows why it is broken");
    assert!(broken.contains("new access token"), "{broken}");

    // New settings (a new token, checked again) clear it.
    let (status, c) =
        admin.patch(&format!("/api/v1/channels/{id}"), json!({"settings": {"access_token": TOKEN}})).await;
    assert_eq!(status, 200, "{c}");
    assert!(c.get("broken_reason").is_none(), "{c}");
}
