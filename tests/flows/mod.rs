//! Bot flows end to end: the issue's example flow file, unchanged but for its port,
//! through the real teloxide client against the fake Bot API, with a local orders
//! service for its HTTP step; handoff to operators and back; versions; waits across a
//! restart; concurrent updates; `parley flows check`; buttons in the widget.

mod check_cli;
mod concurrency;
mod example;
mod started_by_a_button;
mod versions;
mod waits;
mod widget;

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::routing::get;
use serde_json::{Value, json};

use crate::support::telegram_fake::{FakeTelegram, Person};
use crate::support::{Session, TestApp};

pub const TOKEN: &str = "123456:flows-bot-token";

/// The example of the issue, as written there.
pub const EXAMPLE: &str = r#"name: Order status
triggers:
  - command: start            # "/start" or "/start PAYLOAD" on Telegram
  - keyword: [menu, order]    # the whole message, case-insensitive
steps:
  welcome:
    send: "Hi {{contact.first_name}}! What can I do for you?"
    buttons:
      - text: "Where is my order?"
        goto: ask_order
      - text: "Talk to a person"
        goto: human
  ask_order:
    ask: "Your order number, please (6 digits)."
    save: order_no
    validate:
      regex: "^[0-9]{6}$"
      error: "An order number has 6 digits, like 123456."
      attempts: 3
      on_fail: human
    goto: lookup
  lookup:
    http:
      method: GET
      url: "http://127.0.0.1:PORT/orders/{{vars.order_no}}"
      timeout_s: 5
      save:
        order_status: status
    on_error: human
    goto: tell
  tell:
    send: "Order {{vars.order_no}}: {{vars.order_status}}."
    goto: end
  human:
    send: "One moment, I'm handing you to a colleague."
    handoff: {}
"#;

/// A local orders service: 123456 is shipped, 500000 fails, 999999 answers too late.
pub async fn orders() -> u16 {
    let app = Router::new().route(
        "/orders/{n}",
        get(|UrlPath(n): UrlPath<String>| async move {
            match n.as_str() {
                "500000" => Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
                "999999" => {
                    tokio::time::sleep(Duration::from_secs(8)).await;
                    Ok(axum::Json(json!({"status": "too late"})))
                }
                _ if n == "123456" => Ok(axum::Json(json!({"status": "shipped"}))),
                _ => Ok(axum::Json(json!({"status": "unknown"}))),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// A flows directory holding the example as `order-status.yaml`, aimed at `port`.
pub fn flows_dir(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_flow(dir.path(), "order-status", &EXAMPLE.replace("PORT", &port.to_string()));
    dir
}

pub fn write_flow(dir: &Path, id: &str, source: &str) {
    std::fs::write(dir.join(format!("{id}.yaml")), source).unwrap();
}

/// A Telegram channel on the fake in webhook mode; returns its id.
pub async fn telegram(admin: &Session, fake: &FakeTelegram) -> i64 {
    let settings = json!({"token": TOKEN, "mode": "webhook", "api_url": fake.url()});
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "settings": settings})).await;
    assert_eq!(status, 201, "{body}");
    fake.webhook(TOKEN).await;
    body["id"].as_i64().unwrap()
}

/// The texts the bot sent to `person`, in order.
pub fn sent_to(fake: &FakeTelegram, person: &Person) -> Vec<String> {
    fake.ok_calls("sendMessage")
        .iter()
        .filter(|c| c.params["chat_id"] == json!(person.id) || c.params["chat_id"] == json!(person.id.to_string()))
        .map(|c| c.params["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits until the bot has sent `n` messages to `person`; returns them all.
pub async fn wait_sent(fake: &FakeTelegram, person: &Person, n: usize) -> Vec<String> {
    fake.wait_until(&format!("{n} messages to {}", person.first_name), |_| sent_to(fake, person).len() >= n).await;
    sent_to(fake, person)
}

/// Sends an update through the webhook: answered 200 once stored.
pub async fn say(app: &TestApp, fake: &FakeTelegram, update: Value) {
    assert_eq!(fake.post_webhook(&app.base, TOKEN, update).await, 200);
}

/// The chat of the only contact.
pub async fn the_chat(admin: &Session) -> Value {
    let (status, list) = admin.get("/api/v1/chats?status=open&limit=10").await;
    assert_eq!(status, 200, "{list}");
    let chats = list["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 1, "{list}");
    chats[0].clone()
}

pub async fn history(admin: &Session, chat_id: i64) -> Vec<Value> {
    let (_, h) = admin.get(&format!("/api/v1/chats/{chat_id}/messages?limit=200")).await;
    h["messages"].as_array().unwrap().clone()
}
