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
async fn every_refusal_outside_the_api_routes_has_the_same_json_shape() {
    let app = spawn_app_with(|c| c.limits.body_bytes = 64 * 1024).await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let http = reqwest::Client::new();
    let is_api_error = |res: reqwest::Response, status: u16, code: &'static str| async move {
        assert_eq!(res.status(), status);
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("application/json"), "{kind}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    };

    // A widget channel takes no webhooks.
    let (_, channels) = admin.get("/api/v1/channels").await;
    let widget = channels["channels"].as_array().unwrap().iter().find(|c| c["kind"] == "widget").unwrap()["id"].clone();
    let res = http.post(format!("{}/hooks/{widget}", app.base)).body("{}").send().await.unwrap();
    is_api_error(res, 404, "not_found").await;
    // A webhook body over the limit.
    let big = vec![b' '; 65 * 1024];
    let res = http.post(format!("{}/hooks/{}", app.base, channel.id)).body(big).send().await.unwrap();
    is_api_error(res, 413, "too_large").await;
    // The event socket asked for without an upgrade.
    let res = http.get(format!("{}/api/v1/events", app.base)).header("cookie", admin.cookie.clone().unwrap()).send();
    is_api_error(res.await.unwrap(), 400, "bad_request").await;
    // A method a route does not take, in the API and outside it.
    let res = http.delete(format!("{}/api/v1/chats", app.base)).send().await.unwrap();
    assert!(res.headers().contains_key("allow"), "405 says what is allowed");
    is_api_error(res, 405, "method_not_allowed").await;
    is_api_error(http.put(format!("{}/healthz", app.base)).send().await.unwrap(), 405, "method_not_allowed").await;

    // A webhook's JSON answer is sent as JSON.
    let res = channel.raw_inbound(json!({"user_id": "u", "message_id": "m1", "text": "hi"})).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(res.json::<serde_json::Value>().await.unwrap()["chat_id"].is_i64());
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
