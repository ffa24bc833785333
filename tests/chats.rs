//! Chat lists and views, reading, transfer with a comment, the active channel, paging.

use serde_json::json;

use crate::support::{spawn_app, spawn_app_with, webhook_fake::FakeReceiver};

fn ids(list: &serde_json::Value) -> Vec<i64> {
    list["chats"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn views_filter_all_unread_mine_and_another_operators_chats() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let a = channel.text("u-a", "a", "a").await["chat_id"].as_i64().unwrap();
    let b = channel.text("u-b", "b", "b").await["chat_id"].as_i64().unwrap();
    let c = channel.text("u-c", "c", "c").await["chat_id"].as_i64().unwrap();

    let (_, all) = admin.get("/api/v1/chats?status=open&view=all").await;
    assert_eq!(ids(&all), [c, b, a], "newest activity first");
    assert_eq!(all["counts"]["open"], 3);
    assert_eq!(all["chats"][0]["last_message"]["text"], "c");

    admin.post(&format!("/api/v1/chats/{a}/read"), json!({})).await;
    let (_, unread) = admin.get("/api/v1/chats?view=unread").await;
    assert_eq!(ids(&unread), [c, b]);

    admin.post(&format!("/api/v1/chats/{b}/transfer"), json!({"operator_id": olga.id, "comment": "yours"})).await;
    admin.post(&format!("/api/v1/chats/{c}/transfer"), json!({"operator_id": admin.id})).await;
    assert_eq!(ids(&admin.get("/api/v1/chats?view=mine").await.1), [c]);
    assert_eq!(ids(&olga.get("/api/v1/chats?view=mine").await.1), [b]);
    let (_, others) = admin.get(&format!("/api/v1/chats?view=operator&operator_id={}", olga.id)).await;
    assert_eq!(ids(&others), [b]);
    assert_eq!(others["chats"][0]["assignee"]["name"], "Olga");
    let (status, _) = admin.get("/api/v1/chats?view=operator").await;
    assert_eq!(status, 422);
    let (_, by_name) = admin.get("/api/v1/chats?q=u-b").await;
    assert_eq!(ids(&by_name), [b]);
}

#[tokio::test]
async fn transfer_leaves_a_note_and_tells_the_receiving_operator() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat = channel.text("kim", "k-1", "refund please").await["chat_id"].as_i64().unwrap();
    let mut olga_events = olga.events(0).await;

    let (status, moved) = admin
        .post(
            &format!("/api/v1/chats/{chat}/transfer"),
            json!({"operator_id": olga.id, "comment": "Refunds are yours"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["assignee"]["id"], olga.id);
    let e = olga_events.wait_for("chat.transferred", |e| e["chat_id"] == chat).await;
    assert_eq!(e["data"]["to_operator_id"], olga.id);
    assert_eq!(e["data"]["comment"], "Refunds are yours");

    let (_, history) = olga.get(&format!("/api/v1/chats/{chat}/messages")).await;
    let note = history["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "note").cloned().unwrap();
    assert_eq!(note["text"], "Refunds are yours");
    assert_eq!(note["author"]["name"], "Ada Admin");
    // The contact never sees it: a reply written after the note is the first thing the
    // platform receives (the outbox sends a chat's messages in order).
    let (status, _) = olga.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "On it"})).await;
    assert_eq!(status, 201);
    let received = fake.wait_received(1).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["text"], "On it");
    let (status, _) = admin.post(&format!("/api/v1/chats/{chat}/transfer"), json!({"operator_id": 4242})).await;
    assert_eq!(status, 422);
    // To the operator it is already assigned to: refused, and nothing recorded.
    let (status, err) = admin.post(&format!("/api/v1/chats/{chat}/transfer"), json!({"operator_id": olga.id})).await;
    assert_eq!(status, 409, "{err}");
    let (_, history) = olga.get(&format!("/api/v1/chats/{chat}/messages")).await;
    assert_eq!(history["messages"].as_array().unwrap().iter().filter(|m| m["kind"] == "note").count(), 1);
}

#[tokio::test]
async fn history_pages_backwards_and_replies_go_through_the_chosen_channel() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let mut chat = 0;
    for i in 0..7 {
        chat = channel.text("lea", &format!("l-{i}"), &format!("message {i}")).await["chat_id"].as_i64().unwrap();
    }
    let (_, page1) = admin.get(&format!("/api/v1/chats/{chat}/messages?limit=3")).await;
    assert_eq!(page1["has_more"], true);
    let texts: Vec<_> =
        page1["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts, ["message 4", "message 5", "message 6"]);
    let oldest = page1["messages"][0]["id"].as_i64().unwrap();
    let (_, page2) = admin.get(&format!("/api/v1/chats/{chat}/messages?limit=3&before={oldest}")).await;
    assert_eq!(page2["messages"][0]["text"], "message 1");
    let (_, page3) =
        admin.get(&format!("/api/v1/chats/{chat}/messages?limit=3&before={}", page2["messages"][0]["id"])).await;
    assert_eq!(page3["has_more"], false);
    assert_eq!(page3["messages"].as_array().unwrap().len(), 1);

    let (_, detail) = admin.get(&format!("/api/v1/chats/{chat}")).await;
    assert_eq!(detail["active_channel"]["id"], channel.id);
    assert_eq!(detail["channels"].as_array().unwrap().len(), 1);
    let (status, _) = admin.put(&format!("/api/v1/chats/{chat}/channel"), json!({"channel_id": 999})).await;
    assert_eq!(status, 422, "a channel the contact is not on");
    let (status, m) = admin
        .post(
            &format!("/api/v1/chats/{chat}/messages"),
            json!({"text": "via the chosen channel", "channel_id": channel.id}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(m["channel"]["id"], channel.id);
    fake.wait_received(1).await;
}

#[tokio::test]
async fn with_own_visibility_operators_see_only_their_own_and_unassigned_chats() {
    let app = spawn_app_with(|c| c.inbox.visibility = parley::config::Visibility::Own).await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let mine = channel.text("m", "m", "m").await["chat_id"].as_i64().unwrap();
    let theirs = channel.text("t", "t", "t").await["chat_id"].as_i64().unwrap();
    let free = channel.text("f", "f", "f").await["chat_id"].as_i64().unwrap();
    admin.post(&format!("/api/v1/chats/{mine}/transfer"), json!({"operator_id": olga.id})).await;
    admin.post(&format!("/api/v1/chats/{theirs}/transfer"), json!({"operator_id": admin.id})).await;

    assert_eq!(ids(&olga.get("/api/v1/chats").await.1), [free, mine]);
    assert_eq!(olga.get(&format!("/api/v1/chats/{theirs}")).await.0, 404);
    assert_eq!(olga.post(&format!("/api/v1/chats/{theirs}/messages"), json!({"text": "x"})).await.0, 404);
    assert_eq!(ids(&admin.get("/api/v1/chats").await.1), [free, theirs, mine], "admins see all");
}
