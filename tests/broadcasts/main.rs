//! Broadcasts end to end: the real app on 127.0.0.1:0 (SQLite, or PostgreSQL with
//! PARLEY_TEST_DATABASE_URL), the real teloxide client against the fake Bot API,
//! contacts made by real updates. A test target of its own (`--test broadcasts`).

#[path = "../support/mod.rs"]
#[allow(dead_code, reason = "the shared test support; these tests use part of it")]
mod support;

mod audience;
mod browser;
mod controls;
mod crash;
mod nodes;
mod optout;
mod sending;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use support::telegram_fake::{FakeTelegram, Person};
use support::{PATIENCE, Session, TestApp};

pub const TOKEN: &str = "123456:broadcast-bot-token";

/// A Telegram channel in webhook mode on `fake`, Parley's own limiter off (the fake
/// applies Telegram's when asked).
pub async fn telegram(admin: &Session, fake: &FakeTelegram) -> i64 {
    let settings = json!({"token": TOKEN, "mode": "webhook", "api_url": fake.url(), "throttle": false});
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "settings": settings})).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// `n` Telegram users with ids from `first`, each having written once (so each is a
/// contact with an open chat).
pub async fn people(app: &TestApp, fake: &FakeTelegram, first: i64, n: i64) -> Vec<Person> {
    let people: Vec<Person> = (first..first + n).map(|id| Person::new(id, &format!("P{id}"))).collect();
    for chunk in people.chunks(32) {
        let posts = chunk.iter().map(|p| fake.post_webhook(&app.base, TOKEN, p.text(1, "hello")));
        for status in futures_util::future::join_all(posts).await {
            assert_eq!(status, 200);
        }
    }
    people
}

/// Creates a broadcast; returns it.
pub async fn create(admin: &Session, body: Value) -> Value {
    let (status, b) = admin.post("/api/v1/broadcasts", body).await;
    assert_eq!(status, 201, "{b}");
    b
}

pub async fn act(admin: &Session, id: i64, action: &str) -> Value {
    let (status, b) = admin.post(&format!("/api/v1/broadcasts/{id}/{action}"), json!({})).await;
    assert_eq!(status, 200, "{action}: {b}");
    b
}

/// Waits until the broadcast satisfies `done`; returns it.
pub async fn until(admin: &Session, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE * 3;
    loop {
        let (status, b) = admin.get(&format!("/api/v1/broadcasts/{id}")).await;
        assert_eq!(status, 200, "{b}");
        if done(&b) {
            return b;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every recipient of broadcast `id` (all pages).
pub async fn recipients(admin: &Session, id: i64, state: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let filter = state.map(|s| format!("&state={s}")).unwrap_or_default();
        let (status, page) =
            admin.get(&format!("/api/v1/broadcasts/{id}/recipients?limit=1000&after={after}{filter}")).await;
        assert_eq!(status, 200, "{page}");
        out.extend(page["recipients"].as_array().unwrap().iter().cloned());
        match page["next"].as_i64() {
            Some(n) => after = n,
            None => return out,
        }
    }
}

/// Successful sendMessage calls with `text`, counted per Telegram chat.
pub fn received(fake: &FakeTelegram, text: &str) -> HashMap<i64, usize> {
    let mut per_chat = HashMap::new();
    for c in fake.ok_calls("sendMessage") {
        if c.params["text"] == text {
            *per_chat.entry(c.params["chat_id"].as_i64().unwrap()).or_default() += 1;
        }
    }
    per_chat
}

/// A figure of a broadcast.
pub fn fig(b: &Value, name: &str) -> i64 {
    b["figures"][name].as_i64().unwrap_or_else(|| panic!("no figure {name}: {b}"))
}
