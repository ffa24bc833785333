//! The WhatsApp channel end to end: the real connector (reqwest) against the fake Graph
//! API on 127.0.0.1, real captured webhook bodies (pywa's) and hand-written ones,
//! signed as Meta signs them; the verification handshake; statuses moving the console's
//! ticks; the 24-hour window and templates; media through the proxy; error codes.

use serde_json::{Value, json};

use crate::support::client::EventStream;
use crate::support::whatsapp_fake::{self, APP_SECRET, Customer, FakeGraph, TOKEN, VERIFY_TOKEN};
use crate::support::{Session, TestApp, spawn_app};

mod console;
mod inbound;
mod sending;
mod window;

/// Adds a WhatsApp channel talking to `fake`; returns its id.
async fn channel(admin: &Session, fake: &FakeGraph) -> i64 {
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "whatsapp", "name": "Shop", "settings": fake.settings()})).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

async fn messages(admin: &Session, chat_id: i64) -> Vec<Value> {
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages?limit=200")).await;
    history["messages"].as_array().unwrap().clone()
}

async fn only_chat(admin: &Session) -> Value {
    let (_, list) = admin.get("/api/v1/chats").await;
    let chats = list["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 1, "{list}");
    chats[0].clone()
}

/// A customer who wrote once, and their chat.
async fn customer_chat(app: &TestApp, admin: &Session, id: i64, customer: &Customer) -> i64 {
    whatsapp_fake::deliver(&app.base, id, &customer.text("wamid.hello", "Hello shop")).await;
    only_chat(admin).await["id"].as_i64().unwrap()
}

async fn wait_state(events: &mut EventStream, message_id: &Value, state: &str) -> Value {
    events
        .wait_for("message.updated", |e| {
            e["data"]["message"]["id"] == *message_id && e["data"]["message"]["state"] == state
        })
        .await
}

#[tokio::test]
async fn a_channel_checks_its_token_with_the_phone_number_and_never_shows_secrets_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let mut wrong = fake.settings();
    wrong["access_token"] = json!("EAAG-expired");
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "whatsapp", "name": "Bad", "settings": wrong})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("190"), "{body}");
    let mut unreachable = fake.settings();
    unreachable["api_url"] = json!("http://127.0.0.1:9/v23.0");
    let (status, _) =
        admin.post("/api/v1/channels", json!({"kind": "whatsapp", "name": "Bad", "settings": unreachable})).await;
    assert_eq!(status, 422, "an unreachable Graph API is refused");
    let mut missing = fake.settings();
    missing.as_object_mut().unwrap().remove("app_secret");
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "whatsapp", "name": "Bad", "settings": missing})).await;
    assert_eq!(status, 422);
    assert!(body["error"]["message"].as_str().unwrap().contains("app_secret"), "{body}");

    let id = channel(&admin, &fake).await;
    let checks = fake.calls();
    assert!(
        checks.iter().any(|c| c.method == "GET" && c.path == whatsapp_fake::PHONE_ID && c.status == 200),
        "{checks:?}"
    );
    let (_, c) = admin.get(&format!("/api/v1/channels/{id}")).await;
    assert_eq!(c["settings"]["display_phone_number"], "15550100");
    assert_eq!(c["settings"]["verified_name"], "Parley Shop");
    assert_eq!(c["settings"]["api_url"], fake.url());
    for secret in ["access_token", "app_secret", "verify_token"] {
        assert!(c["settings"][secret].as_str().unwrap().starts_with("••••"), "{secret}: {c}");
    }
    let (_, all) = admin.get("/api/v1/channels").await;
    for secret in [TOKEN, APP_SECRET, VERIFY_TOKEN] {
        assert!(!all.to_string().contains(secret), "{all}");
    }
}

#[tokio::test]
async fn meta_verifies_the_webhook_with_the_verify_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let get = |query: String| {
        let url = format!("{}/hooks/{id}?{query}", app.base);
        async move {
            let res = reqwest::get(url).await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, body) =
        get(format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444")).await;
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    let (status, _) = get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1".into()).await;
    assert_eq!(status, 403);
    let (status, _) = get(format!("hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1")).await;
    assert_eq!(status, 403);
    let (status, _) = get("hub.challenge=1".into()).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_posts_are_refused_before_anything_is_stored() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let ada = Customer::new("15550001111", "Ada");
    let body = ada.text("wamid.1", "let me in");
    let (status, _) = whatsapp_fake::post(&app.base, id, &body, None).await;
    assert_eq!(status, 401, "missing signature");
    let (status, _) = whatsapp_fake::post(&app.base, id, &body, Some("another-app-secret")).await;
    assert_eq!(status, 401, "wrong signature");
    // A right signature of something that is not JSON is checked first, then refused as such.
    let raw = reqwest::Client::new()
        .post(format!("{}/hooks/{id}", app.base))
        .header(parley_whatsapp::SIGNATURE_HEADER, "sha256=00")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401, "a signature that does not match is refused before parsing");
    let (_, chats) = admin.get("/api/v1/chats").await;
    assert_eq!(chats["chats"].as_array().unwrap().len(), 0);

    whatsapp_fake::deliver(&app.base, id, &body).await;
    assert_eq!(messages(&admin, only_chat(&admin).await["id"].as_i64().unwrap()).await.len(), 1);
    let (status, _) = whatsapp_fake::post(&app.base, id, &json!("not a webhook"), Some(APP_SECRET)).await;
    assert_eq!(status, 400, "signed but not a webhook body");
}
