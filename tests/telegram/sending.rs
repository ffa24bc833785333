//! Sending to Telegram: long texts, buttons, media, limits and failures.

use super::*;
use crate::support::client::EventStream;

/// An app set up by `configure`, a Telegram channel in webhook mode on the fake Bot API,
/// a customer's chat on it, and the admin's event socket.
struct Sending {
    app: TestApp,
    admin: Session,
    fake: FakeTelegram,
    id: i64,
    chat_id: i64,
    events: EventStream,
}

async fn sending(configure: impl FnOnce(&mut parley::config::Config)) -> Sending {
    let app = spawn_app_with(configure).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let chat_id = customer_chat(&app, &admin, &fake, id).await;
    let events = admin.events(0).await;
    Sending { app, admin, fake, id, chat_id, events }
}

#[tokio::test]
async fn long_text_buttons_photos_and_documents_are_sent() {
    let Sending { app, admin, fake, chat_id, mut events, .. } = sending(|c| c.limits.message_chars = 10_000).await;

    let long = format!("{}\n{}", "a".repeat(4000), "b".repeat(3000));
    let (status, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": long})).await;
    assert_eq!(status, 201, "{reply}");
    wait_state(&mut events, &reply["id"], "sent").await;
    let sent = fake.ok_calls("sendMessage");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].params["chat_id"], 555);
    assert_eq!(sent[0].params["text"], "a".repeat(4000));
    assert_eq!(sent[1].params["text"], "b".repeat(3000));

    // A bot's message with buttons and files.
    let content = parley_sdk::Content {
        text: Some("Pick a size".into()),
        attachments: vec![],
        buttons: vec![
            parley_sdk::Button { label: "M".into(), data: "size_m".into() },
            parley_sdk::Button { label: "Track".into(), data: "https://example.com/track".into() },
        ],
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
        text: None,
        attachments: vec![parley_sdk::Attachment {
            kind: "document".into(),
            file_id: Some("doc-1".into()),
            name: Some("invoice.pdf".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let now = app.app().now();
    let ids = app
        .app()
        .store
        .write(move |db| -> parley::error::Result<Vec<i64>> {
            use parley::inbox::messages::{Author, enqueue};
            Ok(vec![
                enqueue(db, chat_id, None, &content, Author::Bot, now)?,
                enqueue(db, chat_id, None, &photo, Author::Bot, now)?,
                enqueue(db, chat_id, None, &doc, Author::Bot, now)?,
            ])
        })
        .await
        .unwrap();
    for id in &ids {
        wait_state(&mut events, &json!(id), "sent").await;
    }
    let sent = fake.ok_calls("sendMessage");
    let keyboard = &sent[2].params["reply_markup"]["inline_keyboard"];
    assert_eq!(keyboard[0][0], json!({"text": "M", "callback_data": "size_m"}));
    assert_eq!(keyboard[1][0], json!({"text": "Track", "url": "https://example.com/track"}));
    let photos = fake.ok_calls("sendPhoto");
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].params["photo"], "https://example.com/p.jpg");
    assert_eq!(photos[0].params["caption"], "Your parcel");
    let docs = fake.ok_calls("sendDocument");
    assert_eq!(docs[0].params["document"], "doc-1");
}

#[tokio::test]
async fn rate_limits_pause_and_retry_and_slow_answers_are_waited_for() {
    let Sending { app: _app, admin, fake, chat_id, mut events, .. } = sending(|c| c.outbox.backoff_base_ms = 10).await;
    fake.fail("sendMessage", &[Failure::RetryAfter(1), Failure::Slow(std::time::Duration::from_millis(1500))]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "after the pause"})).await;
    let sent = wait_state(&mut events, &reply["id"], "sent").await;
    assert_eq!(sent["data"]["message"]["state"], "sent");
    // The fake refuses every send inside the retry_after window: one try after the 429.
    let attempts = fake.all_calls("sendMessage");
    assert_eq!(attempts.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);
    assert_eq!(fake.early_sends(), 0);
}

#[tokio::test]
async fn server_errors_are_retried_until_sent() {
    let Sending { app: _app, admin, fake, chat_id, mut events, .. } = sending(|c| c.outbox.backoff_base_ms = 10).await;
    fake.fail("sendMessage", &[Failure::ServerError]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "through a 500"})).await;
    wait_state(&mut events, &reply["id"], "sent").await;
    assert_eq!(fake.all_calls("sendMessage").iter().map(|c| c.status).collect::<Vec<_>>(), [500, 200]);
}

/// A long text goes in two parts; when the second fails, the retry sends only the second:
/// the contact never sees the first twice.
#[tokio::test]
async fn a_long_text_failing_midway_resumes_with_the_part_not_yet_sent() {
    let Sending { app: _app, admin, fake, chat_id, mut events, .. } = sending(|c| {
        c.outbox.backoff_base_ms = 10;
        c.limits.message_chars = 10_000;
    })
    .await;
    fake.fail("sendMessage", &[Failure::Slow(std::time::Duration::ZERO), Failure::ServerError]);

    let long = format!("{}\n{}", "a".repeat(4000), "b".repeat(3000));
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": long})).await;
    wait_state(&mut events, &reply["id"], "sent").await;
    let calls = fake.all_calls("sendMessage");
    let seen: Vec<(u16, usize)> = calls.iter().map(|c| (c.status, c.params["text"].as_str().unwrap().len())).collect();
    assert_eq!(seen, [(200, 4000), (500, 3000), (200, 3000)]);
}

#[tokio::test]
async fn a_blocked_bot_fails_the_message_at_once_and_marks_the_contact_unreachable() {
    let Sending { app, admin, fake, id, chat_id, mut events } = sending(|_| {}).await;
    fake.fail("sendMessage", &[Failure::Blocked]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "are you there?"})).await;
    let failed = wait_state(&mut events, &reply["id"], "failed").await;
    assert!(failed["data"]["message"]["failure_reason"].as_str().unwrap().contains("blocked"), "{failed}");
    let contact = chat_of(&admin, id, 555).await;
    assert!(contact["identities"][0]["unreachable_reason"].as_str().unwrap().contains("blocked"));
    // Later replies fail without bothering Telegram.
    let (_, again) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "hello?"})).await;
    wait_state(&mut events, &again["id"], "failed").await;
    assert_eq!(fake.all_calls("sendMessage").len(), 1);

    // "chat not found" is just as final.
    let other = Person::new(556, "Zed");
    assert_eq!(fake.post_webhook(&app.base, TOKEN, other.text(1, "hi")).await, 200);
    let zed = chat_of(&admin, id, 556).await["chat_id"].as_i64().unwrap();
    fake.fail("sendMessage", &[Failure::ChatNotFound]);
    let (_, r) = admin.post(&format!("/api/v1/chats/{zed}/messages"), json!({"text": "x"})).await;
    let failed = wait_state(&mut events, &r["id"], "failed").await;
    assert!(failed["data"]["message"]["failure_reason"].as_str().unwrap().contains("chat not found"));
}

#[tokio::test]
async fn media_open_through_the_authenticated_proxy() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    fake.add_file("photo-9", "photos/file_9.jpg", b"\xff\xd8\xff fake jpeg");
    let eve = Person::new(42_000, "Eve");
    let photo = json!([{"file_id": "photo-9", "file_unique_id": "u9", "width": 10, "height": 10, "file_size": 14}]);
    let mut events = admin.events(0).await;
    assert_eq!(
        fake.post_webhook(&app.base, TOKEN, json!({"message": eve.message(1, json!({"photo": photo}))})).await,
        200
    );
    let e = events.wait_for("message.created", |_| true).await;
    let url = e["data"]["message"]["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/channels/{id}/files/photo-9"));

    let res = reqwest::Client::new()
        .get(format!("{}{url}", app.base))
        .header("cookie", admin.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"\xff\xd8\xff fake jpeg");
    let (status, _) = app.anonymous().get(&url).await;
    assert_eq!(status, 401);
    let (status, _) = admin.get(&format!("/api/v1/channels/{id}/files/unknown")).await;
    assert_eq!(status, 404);
    assert!(fake.ok_calls("getFile").iter().any(|c| c.params["file_id"] == "photo-9"));
}

#[tokio::test]
async fn a_burst_within_telegrams_limits_meets_no_429() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    fake.enforce_limits(true);
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    fake.quiet();
    let mut chats = Vec::new();
    let mut events = admin.events(0).await;
    for user in 0..45 {
        assert_eq!(fake.post_webhook(&app.base, TOKEN, Person::new(10_000 + user, "Fan").text(1, "hi")).await, 200);
    }
    while chats.len() < 45 {
        let e = events.wait_for("message.created", |e| e["data"]["message"]["direction"] == "in").await;
        chats.push(e["chat_id"].as_i64().unwrap());
    }
    let _ = id;
    let mut replies = Vec::new();
    for chat in &chats {
        let (status, r) = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "thanks!"})).await;
        assert_eq!(status, 201);
        replies.push(r["id"].clone());
    }
    let mut pending: std::collections::HashSet<i64> = replies.iter().map(|r| r.as_i64().unwrap()).collect();
    while !pending.is_empty() {
        let e = events.next().await.expect("the event socket closed");
        if e["kind"] == "message.updated" && e["data"]["message"]["state"] == "sent" {
            pending.remove(&e["data"]["message"]["id"].as_i64().unwrap());
        }
    }
    fake.wait_count("sendMessage", 45, crate::support::PATIENCE).await;
    assert_eq!(fake.throttled(), 0, "the throttle kept under 30 messages/s");
    assert_eq!(fake.ok_count("sendMessage"), 45);
}
