//! Ingest through the generic webhook channel: an inbound message reaches the
//! operator's socket, a redelivery is a no-op, a closed chat reopens with its history.

use serde_json::json;

use crate::support::{spawn_app, webhook_fake::FakeReceiver};

#[tokio::test]
async fn inbound_message_reaches_the_operator_socket_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let mut events = admin.events(0).await;

    let first = channel.text("alice", "m-1", "Hello, is my order shipped?").await;
    assert_eq!(first["created"], true);
    let e = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "Hello, is my order shipped?").await;
    let chat_id = e["chat_id"].as_i64().unwrap();
    assert_eq!(e["data"]["chat"]["contact"]["name"], "alice");
    assert_eq!(e["data"]["chat"]["unread_count"], 1);
    assert_eq!(e["data"]["message"]["direction"], "in");
    assert_eq!(e["data"]["message"]["author_kind"], "contact");

    // The platform delivers the same message again: nothing new is stored.
    let again = channel.text("alice", "m-1", "Hello, is my order shipped?").await;
    assert_eq!(again["created"], false);
    assert_eq!(again["message_id"], first["message_id"]);
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages")).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    assert_eq!(chat["unread_count"], 1);
}

#[tokio::test]
async fn a_closed_chat_reopens_with_its_whole_history_and_a_new_conversation() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("bob", "b-1", "first question").await["chat_id"].as_i64().unwrap();
    let conversation_1 =
        admin.get(&format!("/api/v1/chats/{chat_id}/messages")).await.1["messages"][0]["conversation_id"].clone();

    let (status, closed) = admin.post(&format!("/api/v1/chats/{chat_id}/close"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(closed["status"], "closed");
    let (_, list) = admin.get("/api/v1/chats?status=closed").await;
    assert!(list["chats"].as_array().unwrap().iter().any(|c| c["id"] == chat_id));

    let mut events = admin.events(0).await;
    channel.text("bob", "b-2", "me again").await;
    let opened = events.wait_for("chat.opened", |e| e["chat_id"] == chat_id && e["data"]["reopened"] == true).await;
    assert_eq!(opened["data"]["reopened"], true);
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    assert_eq!(chat["status"], "open");
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages")).await;
    let texts: Vec<_> = history["messages"].as_array().unwrap().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("first question"), json!("me again")]);
    assert_ne!(history["messages"][1]["conversation_id"], conversation_1);
    let (_, open) = admin.get("/api/v1/chats?status=open").await;
    assert!(open["chats"].as_array().unwrap().iter().any(|c| c["id"] == chat_id));
}

#[tokio::test]
async fn an_edit_updates_the_stored_message() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat_id = channel.text("carol", "c-1", "helo").await["chat_id"].as_i64().unwrap();
    let mut events = admin.events(0).await;
    let (status, _) =
        channel.inbound(json!({"user_id": "carol", "message_id": "c-1", "text": "hello", "edited": true})).await;
    assert_eq!(status, 200);
    let e = events.wait_for("message.updated", |e| e["chat_id"] == chat_id).await;
    assert_eq!(e["data"]["message"]["text"], "hello");
    assert!(e["data"]["message"]["edited_at"].is_string());
}

/// Channels are kept in memory for the webhook path; a new secret must still count from
/// the moment it is saved.
#[tokio::test]
async fn a_rotated_webhook_secret_takes_effect_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let mut channel = app.webhook_channel(&admin, &fake).await;
    channel.text("dora", "d-1", "before").await;

    let (status, _) = admin
        .patch(&format!("/api/v1/channels/{}", channel.id), json!({"settings": {"secret": "a-brand-new-secret-42"}}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = channel.inbound(json!({"user_id": "dora", "message_id": "d-2", "text": "old secret"})).await;
    assert_eq!(status, 401, "the old secret still worked after the change");
    channel.secret = "a-brand-new-secret-42".into();
    channel.text("dora", "d-3", "new secret").await;
}

#[tokio::test]
async fn forged_or_malformed_webhooks_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let client = reqwest::Client::new();
    let url = format!("{}/hooks/{}", app.base, channel.id);

    let body = json!({"user_id": "mallory", "message_id": "x", "text": "hi"}).to_string();
    let forged = client.post(&url).header("x-parley-signature", "sha256=00").body(body.clone()).send().await.unwrap();
    assert_eq!(forged.status(), 401);
    let unsigned = client.post(&url).body(body).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let (status, err) = channel.inbound(json!({"message_id": "x"})).await;
    assert_eq!((status, &err["error"]["message"]), (422, &json!("`user_id` is required")), "{err}");
    let not_json =
        client.post(&url).header("x-parley-signature", parley_webhook::sign(&channel.secret, b"{nope")).body("{nope");
    let res = not_json.send().await.unwrap();
    assert_eq!(res.status(), 400, "a body that is not JSON");
    let (status, _) = channel.inbound(json!({"user_id": "mallory", "message_id": "x"})).await;
    assert_eq!(status, 422, "a message without text or attachments");
    let unknown = client.post(format!("{}/hooks/999999", app.base)).body("{}").send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    let (_, chats) = admin.get("/api/v1/chats").await;
    assert_eq!(chats["chats"].as_array().unwrap().len(), 0);
}
