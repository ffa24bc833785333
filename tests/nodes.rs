//! Two nodes on one PostgreSQL database: what is ingested on one reaches an operator's
//! socket on the other, live and in a replay with `after=ID`, and the outbox sends each
//! reply once whichever node queued it. (SQLite serves one node: there both "nodes" are
//! the same app, and the test checks the same promises on it.)

use serde_json::json;

use crate::support::webhook_fake::FakeReceiver;
use crate::support::{spawn_app, spawn_node_on};

#[tokio::test]
async fn a_message_ingested_on_one_node_reaches_a_socket_on_the_other() {
    let a = spawn_app().await;
    let postgres = a.config.database.url.starts_with("postgres");
    let other = if postgres { Some(spawn_node_on(&a.config.database.url).await) } else { None };
    let b = other.as_ref().unwrap_or(&a);
    let admin_a = a.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = a.webhook_channel(&admin_a, &fake).await;
    let admin_b = b.login("admin@example.com", "correct horse").await;

    let mut live = admin_b.events(0).await;
    let sent = channel.text("dora", "m-1", "hello from node A").await;
    let created = live.wait_for("message.created", |e| e["data"]["message"]["text"] == "hello from node A").await;
    assert_eq!(created["chat_id"], sent["chat_id"]);

    // Several more while the socket is open: all arrive, in the log's order.
    for i in 2..=20 {
        channel.text("dora", &format!("m-{i}"), &format!("message {i}")).await;
    }
    live.wait_for("message.created", |e| e["data"]["message"]["text"] == "message 20").await;
    let ids: Vec<i64> = live.seen.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, each once: {ids:?}");

    // A console reconnecting to node B with the id it saw first misses nothing after it.
    let first = created["id"].as_i64().unwrap();
    let mut replay = admin_b.events(first).await;
    let again = replay.wait_for("message.created", |e| e["data"]["message"]["text"] == "message 20").await;
    let replayed: Vec<i64> = replay.seen.iter().filter_map(|e| e["id"].as_i64()).collect();
    let after_first: Vec<i64> =
        ids.iter().copied().filter(|id| *id > first && *id <= again["id"].as_i64().unwrap()).collect();
    assert_eq!(replayed, after_first);

    // A reply written on node B is sent once, by whichever node's outbox claims it.
    let chat_id = sent["chat_id"].as_i64().unwrap();
    let (status, body) =
        admin_b.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "answer from B"})).await;
    assert_eq!(status, 201, "{body}");
    live.wait_for("message.updated", |e| {
        e["data"]["message"]["id"] == body["id"] && e["data"]["message"]["state"] == "sent"
    })
    .await;
    let sends = fake.received().iter().filter(|r| r["text"] == "answer from B").count();
    assert_eq!(sends, 1);
}
