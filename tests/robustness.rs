//! Bad input gets a clear error in one shape and changes nothing.

use serde_json::json;

use crate::support::{spawn_app, spawn_app_with, webhook_fake::FakeReceiver};

#[tokio::test]
async fn malformed_unknown_and_oversized_input_get_clear_errors() {
    let app = spawn_app_with(|c| c.limits.body_bytes = 64 * 1024).await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat = channel.text("pat", "p1", "hi").await["chat_id"].as_i64().unwrap();
    let path = format!("/api/v1/chats/{chat}/messages");

    let (status, e) = admin.post_raw(&path, "application/json", b"{\"text\": ".to_vec()).await;
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_request")), "{e}");
    let (status, e) = admin.post_raw(&path, "text/plain", b"{\"text\":\"x\"}".to_vec()).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = admin.post(&path, json!({"text": 42})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("invalid")));
    let (status, _) = admin.post(&path, json!({"text": "x", "surprise": true})).await;
    assert_eq!(status, 422, "unknown fields are refused, not ignored");
    let (status, _) = admin.post(&path, json!({"text": "   "})).await;
    assert_eq!(status, 422);
    let (status, _) = admin.post(&path, json!({"text": "x".repeat(4001)})).await;
    assert_eq!(status, 422);
    let big = json!({"text": "x".repeat(100 * 1024)}).to_string().into_bytes();
    let (status, e) = admin.post_raw(&path, "application/json", big).await;
    assert_eq!((status, e["error"]["code"].as_str()), (413, Some("too_large")));

    assert_eq!(admin.get("/api/v1/chats/987654").await.0, 404);
    let (status, e) = admin.get("/api/v1/chats/not-a-number").await;
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_request")));
    assert_eq!(admin.post("/api/v1/chats/987654/messages", json!({"text": "x"})).await.0, 404);
    let (status, e) = admin.get("/api/v1/nothing-here").await;
    assert_eq!((status, e["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(admin.get("/api/v1/chats?status=maybe").await.0, 422);
    assert_eq!(admin.post("/api/v1/channels", json!({"kind": "pigeon", "name": "x"})).await.0, 422);
    assert_eq!(
        admin
            .post("/api/v1/channels", json!({"kind": "webhook", "name": "x", "settings": {"secret": "short"}}))
            .await
            .0,
        422
    );

    let (_, history) = admin.get(&path).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1, "nothing was stored");
    // Nothing was sent either: a valid reply after the refused ones is the first thing the
    // platform receives (the outbox sends a chat's messages in order).
    assert_eq!(admin.post(&path, json!({"text": "a valid one"})).await.0, 201);
    let received = fake.wait_received(1).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["text"], "a valid one");
}

#[tokio::test]
async fn health_metrics_and_openapi_answer() {
    let app = spawn_app().await;
    let anon = app.anonymous();
    assert_eq!(anon.get("/healthz").await.1["status"], "ok");
    let (status, spec) = anon.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    app.webhook_channel(&admin, &fake).await.text("q", "q1", "hi").await;
    let metrics = reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("parley_inbound_total"), "{metrics}");
}
