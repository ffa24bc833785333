//! The event socket: a console that reconnects with `after` misses nothing.

use serde_json::json;

use crate::support::{spawn_app, webhook_fake::FakeReceiver};

#[tokio::test]
async fn reconnecting_with_after_replays_every_missed_event_in_order() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let mut events = admin.events(0).await;
    channel.text("ivy", "i-1", "one").await;
    let seen = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "one").await;
    let last = seen["id"].as_i64().unwrap();
    events.close().await;

    // While the console is away, things happen.
    let chat_id = channel.text("ivy", "i-2", "two").await["chat_id"].as_i64().unwrap();
    channel.text("jack", "j-1", "three").await;
    admin.post(&format!("/api/v1/chats/{chat_id}/close"), json!({})).await;

    let mut events = admin.events(last).await;
    let texts_and_kinds = [
        ("message.created", Some("two")),
        ("chat.opened", None),
        ("message.created", Some("three")),
        ("chat.updated", None),
    ];
    let mut previous = last;
    for (kind, text) in texts_and_kinds {
        let e = events.next().await.unwrap();
        assert_eq!(e["kind"], kind, "{e}");
        if let Some(t) = text {
            assert_eq!(e["data"]["message"]["text"], t);
        }
        let id = e["id"].as_i64().unwrap();
        assert!(id > previous, "event ids increase");
        previous = id;
    }
    // And live events follow the replay.
    channel.text("jack", "j-2", "four").await;
    events.wait_for("message.created", |e| e["data"]["message"]["text"] == "four").await;
}

#[tokio::test]
async fn the_event_socket_needs_a_login() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/events?after=0", app.base.replace("http://", "ws://"));
    let err = tokio_tungstenite::connect_async(url).await.expect_err("refused without a session");
    assert!(err.to_string().contains("401"), "{err}");
}
