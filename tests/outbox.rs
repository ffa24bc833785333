//! The outbox: replies are stored queued, sent by the worker, marked sent or failed;
//! rate limits and transient errors are retried; a restart sends what was queued.

use serde_json::json;

use crate::support::{spawn_app, spawn_app_clocked, spawn_app_with, webhook_fake::FakeReceiver};

#[tokio::test]
async fn a_reply_is_queued_then_sent_through_the_channel() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("dave", "d-1", "hi").await["chat_id"].as_i64().unwrap();
    let mut events = admin.events(0).await;

    let (status, message) =
        admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "Hello Dave!"})).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["state"], "queued");
    assert_eq!(message["author"]["name"], "Ada Admin");

    let received = fake.wait_received(1).await;
    assert_eq!(received[0]["text"], "Hello Dave!");
    assert_eq!(received[0]["user_id"], "dave");
    assert_eq!(received[0]["author_name"], "Ada Admin");
    let sent = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == message["id"]).await;
    assert_eq!(sent["data"]["message"]["state"], "sent");
}

#[tokio::test]
async fn notes_are_never_sent_to_the_contact() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("erin", "e-1", "hi").await["chat_id"].as_i64().unwrap();
    let (status, note) = admin.post(&format!("/api/v1/chats/{chat_id}/notes"), json!({"text": "VIP customer"})).await;
    assert_eq!(status, 201);
    assert_eq!(note["kind"], "note");
    assert_eq!(note["state"], serde_json::Value::Null);
    admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "after the note"})).await;
    let received = fake.wait_received(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["text"], "after the note");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_until_sent() {
    let app = spawn_app_with(|c| c.outbox.backoff_base_ms = 10).await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("frank", "f-1", "hi").await["chat_id"].as_i64().unwrap();
    fake.answer_with(&[(429, Some(1)), (500, None), (503, None)]);
    let mut events = admin.events(0).await;
    let (_, message) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "persistent"})).await;
    let sent = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == message["id"]).await;
    assert_eq!(sent["data"]["message"]["state"], "sent");
    assert_eq!(fake.attempts(), 4);
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_with_the_reason() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("gina", "g-1", "hi").await["chat_id"].as_i64().unwrap();
    fake.answer_with(&[(410, None)]);
    let mut events = admin.events(0).await;
    let (_, message) =
        admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "are you there?"})).await;
    let failed = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == message["id"]).await;
    assert_eq!(failed["data"]["message"]["state"], "failed");
    assert!(failed["data"]["message"]["failure_reason"].as_str().unwrap().contains("410"));
    assert_eq!(fake.attempts(), 1);
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    let (_, contact) = admin.get(&format!("/api/v1/contacts/{}", chat["contact"]["id"])).await;
    assert!(contact["identities"][0]["unreachable_reason"].is_string(), "{contact}");
}

#[tokio::test]
async fn a_restart_keeps_everything_and_sends_what_was_queued() {
    let app = spawn_app_clocked(|c| c.outbox.backoff_base_ms = 3_600_000).await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("hank", "h-1", "hi").await["chat_id"].as_i64().unwrap();
    // The receiver is down: the reply waits an hour for its next attempt.
    fake.answer_with(&[(503, None)]);
    let (_, message) =
        admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "queued across a restart"})).await;
    fake.wait_attempts(1).await;

    let app = app.restart().await;
    // An hour and more later, the retry is due.
    app.clock.as_ref().unwrap().advance(2 * 3_600_000);
    let admin = app.login("admin@example.com", "correct horse").await;
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    assert_eq!(chat["contact"]["name"], "hank");
    let received = fake.wait_received(1).await;
    assert_eq!(received[0]["message_id"], message["id"]);
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages")).await;
    let reply = history["messages"].as_array().unwrap().iter().find(|m| m["id"] == message["id"]).cloned().unwrap();
    let mut state = reply["state"].clone();
    let mut events = admin.events(0).await;
    while state != "sent" {
        let e = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == message["id"]).await;
        state = e["data"]["message"]["state"].clone();
    }
}
