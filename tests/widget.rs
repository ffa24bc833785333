//! The website widget over its real WebSocket, as a visitor's browser speaks it.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::visitor::{Visitor, widget_key};
use crate::support::{spawn_app, spawn_app_with};

#[tokio::test]
async fn a_visitor_and_an_operator_talk_live_both_ways() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let mut events = admin.events(0).await;
    let mut visitor = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    assert_eq!(visitor.hello["type"], "hello");
    assert_eq!(visitor.hello["messages"], json!([]));
    assert_eq!(visitor.hello["config"]["online"], false);

    let ack = visitor.say("<img src=x onerror=alert(1)> hello", "c-1").await;
    assert_eq!(ack["client_id"], "c-1");
    let e = events.wait_for("message.created", |e| e["data"]["message"]["direction"] == "in").await;
    assert_eq!(e["data"]["message"]["text"], "<img src=x onerror=alert(1)> hello");
    assert_eq!(e["data"]["chat"]["active_channel"]["kind"], "widget");
    let chat = e["chat_id"].as_i64().unwrap();

    visitor.send(json!({"type": "typing"})).await;
    let typing = events.wait_for("typing", |e| e["chat_id"] == chat).await;
    assert_eq!(typing["data"]["who"], "contact");

    admin.post(&format!("/api/v1/chats/{chat}/typing"), json!({})).await;
    visitor.wait("typing").await;
    let (_, reply) =
        admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "Hi! How can I help?"})).await;
    let pushed = visitor.wait("message").await;
    assert_eq!(pushed["message"]["text"], "Hi! How can I help?");
    assert_eq!(pushed["message"]["direction"], "out");
    assert_eq!(pushed["message"]["author_name"], "Ada Admin");
    let sent = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == reply["id"]).await;
    assert_eq!(sent["data"]["message"]["state"], "sent");

    visitor.send(json!({"type": "read", "up_to": reply["id"]})).await;
    let read = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == reply["id"]).await;
    assert_eq!(read["data"]["message"]["state"], "read");
}

#[tokio::test]
async fn a_reply_to_an_away_visitor_waits_queued_and_arrives_on_return_without_duplicates() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let mut visitor = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    let token = visitor.token();
    let ack = visitor.say("anyone?", "c-1").await;
    let last_seen = ack["message"]["id"].as_i64().unwrap();
    let (_, chats) = admin.get("/api/v1/chats").await;
    let chat = chats["chats"][0]["id"].as_i64().unwrap();
    drop(visitor);

    let mut events = admin.events(0).await;
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "We are here"})).await;
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat}/messages")).await;
    let stored = history["messages"].as_array().unwrap().iter().find(|m| m["id"] == reply["id"]).cloned().unwrap();
    assert_eq!(stored["state"], "queued", "not dropped, not sent while the visitor is away");

    let mut back = Visitor::connect(&app, &format!("channel={key}&token={token}&after={last_seen}")).await.unwrap();
    let missed = back.hello["messages"].as_array().unwrap().clone();
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0]["text"], "We are here");
    let sent = events.wait_for("message.updated", |e| e["data"]["message"]["id"] == reply["id"]).await;
    assert_eq!(sent["data"]["message"]["state"], "sent");

    // A resend of an already stored message (same client id) stores nothing new.
    let again = back.say("anyone?", "c-1").await;
    assert_eq!(again["message"]["id"], last_seen);
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat}/messages")).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2);
    // The full history comes back on a fresh tab with the same token.
    let tab = Visitor::connect(&app, &format!("channel={key}&token={token}")).await.unwrap();
    assert_eq!(tab.hello["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn forged_tokens_foreign_origins_and_bad_frames_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (channel_id, key) = widget_key(&admin).await;
    let mut alice = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    alice.say("alice's secret", "a-1").await;
    let alice_token = alice.token();

    // A token whose visitor id was swapped keeps its signature but no longer matches.
    let (_, sig) = alice_token.split_once('.').unwrap();
    let forged = format!("{}.{sig}", "di1vdGhlcg");
    let mut refused = Visitor::connect(&app, &format!("channel={key}&token={forged}")).await.unwrap();
    assert_eq!(refused.hello["type"], "error");
    assert_eq!(refused.hello["code"], "bad_token");
    assert!(refused.next().await.is_none(), "the server closes after a bad token");

    // Another widget channel does not accept Alice's token.
    let (_, other) = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "widget", "name": "Shop", "settings": {"allowed_origins": ["https://shop.example"]}}),
        )
        .await;
    let other_key = other["key"].as_str().unwrap();
    let foreign =
        Visitor::connect_from(&app, &format!("channel={other_key}&token={alice_token}"), Some("https://shop.example"))
            .await
            .unwrap();
    assert_eq!(foreign.hello["code"], "bad_token");
    // A page on another origin gets no widget.
    let err =
        Visitor::connect_from(&app, &format!("channel={other_key}"), Some("https://evil.example")).await.err().unwrap();
    assert!(err.contains("403"), "{err}");
    let res = reqwest::Client::new()
        .get(format!("{}/widget/config?channel={other_key}", app.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    alice.send(json!({"type": "message", "text": "x".repeat(4001), "client_id": "big"})).await;
    assert_eq!(alice.wait("error").await["code"], "too_large");
    alice.send(json!({"type": "launch_missiles"})).await;
    assert_eq!(alice.wait("error").await["code"], "bad_frame");
    alice.ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(alice.wait("error").await["code"], "bad_frame");
    alice.send(json!({"type": "message", "text": "", "client_id": "e"})).await;
    assert_eq!(alice.wait("error").await["code"], "bad_frame");
    // A frame over the widget's 32 KiB: the server ends the connection, and says why.
    let huge = "y".repeat(64 * 1024);
    alice.ws.send(Message::Text(huge.into())).await.unwrap();
    let closed = tokio::time::timeout(crate::support::PATIENCE, async {
        loop {
            match alice.ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the server closes a connection that sent an oversized frame");
    assert!(matches!(closed, Some(1009) | None), "closed with {closed:?}");

    let (_, chats) = admin.get("/api/v1/chats").await;
    assert_eq!(chats["chats"].as_array().unwrap().len(), 1);
    let chat = chats["chats"][0]["id"].as_i64().unwrap();
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat}/messages")).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    assert_eq!(channel_id, chats["chats"][0]["active_channel"]["id"].as_i64().unwrap());
}

#[tokio::test]
async fn prechat_fills_the_contact_and_surfaces_duplicates() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let mut first = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    assert_eq!(first.hello["prechat_done"], false);
    first.send(json!({"type": "prechat", "name": "Rita Ray", "email": "Rita@Example.com", "phone": null})).await;
    first.wait("prechat_saved").await;
    first.say("hello", "r-1").await;
    let mut second = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    second.send(json!({"type": "prechat", "name": "R.", "email": "rita@example.com", "phone": null})).await;
    second.wait("prechat_saved").await;
    second.send(json!({"type": "prechat", "name": null, "email": "not an email", "phone": null})).await;
    assert_eq!(second.wait("error").await["code"], "bad_frame");

    let (_, found) = admin.get("/api/v1/contacts?q=rita").await;
    let rita = found["contacts"].as_array().unwrap().iter().find(|c| c["first_name"] == "Rita").cloned().unwrap();
    assert_eq!(rita["last_name"], "Ray");
    let (_, dups) = admin.get(&format!("/api/v1/contacts/{}/duplicates", rita["id"])).await;
    assert_eq!(dups["contacts"][0]["reason"], "email");
    let again = Visitor::connect(&app, &format!("channel={key}&token={}", first.token())).await.unwrap();
    assert_eq!(again.hello["prechat_done"], true);
    assert_eq!(again.hello["visitor"]["email"], "Rita@Example.com");
}

#[tokio::test]
async fn a_verified_user_gets_the_same_contact_on_every_device() {
    use hmac::{Hmac, Mac};
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (channel_id, key) = widget_key(&admin).await;
    admin.patch(&format!("/api/v1/channels/{channel_id}"), json!({"settings": {"secret": "site-secret-123"}})).await;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"site-secret-123").unwrap();
    mac.update(b"user-77");
    let hash = hex::encode(mac.finalize().into_bytes());

    let mut laptop = Visitor::connect(&app, &format!("channel={key}&user_id=user-77&user_hash={hash}")).await.unwrap();
    laptop.say("from my laptop", "l-1").await;
    let phone = Visitor::connect(&app, &format!("channel={key}&user_id=user-77&user_hash={hash}")).await.unwrap();
    assert_eq!(phone.hello["messages"][0]["text"], "from my laptop");
    // Without a valid HMAC the user id is ignored: a new, empty chat.
    let impostor = Visitor::connect(&app, &format!("channel={key}&user_id=user-77&user_hash=00ff")).await.unwrap();
    assert_eq!(impostor.hello["messages"], json!([]));
}

#[tokio::test]
async fn the_widget_knows_when_operators_are_online_and_new_visitors_are_limited() {
    let app = spawn_app_with(|c| {
        c.widget.new_visitors_per_minute = 3;
        c.widget.messages_per_minute = 2;
    })
    .await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let config: Value =
        reqwest::get(format!("{}/widget/config?channel={key}", app.base)).await.unwrap().json().await.unwrap();
    assert_eq!(config["online"], false);
    assert!(config["offline_text"].as_str().unwrap().len() > 10);

    let mut v = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    admin.put("/api/v1/me/status", json!({"status": "online"})).await;
    assert_eq!(v.wait("status").await["online"], true);
    Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    let limited = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    assert_eq!(limited.hello["code"], "rate_limited");
    // A returning visitor is not a new one.
    let mut back = Visitor::connect(&app, &format!("channel={key}&token={}", v.token())).await.unwrap();
    assert_eq!(back.hello["type"], "hello");
    back.say("one", "m-1").await;
    back.say("two", "m-2").await;
    back.send(json!({"type": "message", "text": "three", "client_id": "m-3"})).await;
    let refused = back.wait("error").await;
    assert_eq!((refused["code"].as_str(), refused["client_id"].as_str()), (Some("rate_limited"), Some("m-3")));
    let (_, chats) = admin.get("/api/v1/chats").await;
    let (_, history) = admin.get(&format!("/api/v1/chats/{}/messages", chats["chats"][0]["id"])).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2, "the refused message was not stored");
}
