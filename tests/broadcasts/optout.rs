//! Opting out from the messenger (`/stop`, the unsubscribe word and button) and back in
//! (`/start`); Telegram's block and unblock of the bot; a broadcast's buttons.

use serde_json::{Value, json};

use super::support::spawn_app;
use super::support::telegram_fake::FakeTelegram;
use super::{TOKEN, act, create, fig, people, telegram, until};

async fn contact(admin: &super::Session, user: i64) -> Value {
    let (_, list) = admin.get(&format!("/api/v1/contacts?q=P{user}")).await;
    let id = list["contacts"][0]["id"].as_i64().unwrap_or_else(|| panic!("no contact P{user}: {list}"));
    admin.get(&format!("/api/v1/contacts/{id}")).await.1
}

#[tokio::test]
async fn stop_unsubscribes_with_a_confirmation_start_subscribes_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    let folks = people(&app, &fake, 700, 3).await;
    let (ann, bob, cid) = (&folks[0], &folks[1], &folks[2]);

    assert_eq!(fake.post_webhook(&app.base, TOKEN, ann.text(2, "/stop")).await, 200);
    fake.wait_until("the confirmation", |calls| {
        calls.iter().any(|c| {
            c.params["chat_id"] == ann.id && c.params["text"].as_str().is_some_and(|t| t.contains("no more broadcasts"))
        })
    })
    .await;
    assert_eq!(contact(&admin, ann.id).await["unsubscribed"], true);
    // A redelivered /stop is not confirmed twice.
    assert_eq!(fake.post_webhook(&app.base, TOKEN, ann.text(2, "/stop")).await, 200);
    assert_eq!(fake.post_webhook(&app.base, TOKEN, bob.text(2, "Unsubscribe")).await, 200);
    assert_eq!(contact(&admin, bob.id).await["unsubscribed"], true);

    // A broadcast with an unsubscribe button and a button that starts a flow.
    let b = create(
        &admin,
        json!({"name": "Tips", "content": {"text": "Weekly tips", "buttons": [
            {"label": "More tips", "flow": "tips"}, {"label": "Stop these", "unsubscribe": true}]}}),
    )
    .await;
    let id = b["id"].as_i64().unwrap();
    act(&admin, id, "start").await;
    let b = until(&admin, id, "the broadcast to end", |b| b["state"] == "done").await;
    assert_eq!((fig(&b, "sent"), fig(&b, "skipped")), (1, 2), "{b}");
    let sent = fake.ok_calls("sendMessage").into_iter().find(|c| c.params["text"] == "Weekly tips").unwrap();
    assert_eq!(sent.params["chat_id"], cid.id);
    let keyboard = &sent.params["reply_markup"]["inline_keyboard"];
    let data: Vec<&str> = keyboard
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|b| b["callback_data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["flow:tips", "unsubscribe"]);

    // Pressing the unsubscribe button opts out too; /start opts back in.
    assert_eq!(fake.post_webhook(&app.base, TOKEN, cid.press("cb-1", 5, "unsubscribe")).await, 200);
    assert_eq!(contact(&admin, cid.id).await["unsubscribed"], true);
    assert_eq!(fake.post_webhook(&app.base, TOKEN, ann.text(3, "/start")).await, 200);
    assert_eq!(contact(&admin, ann.id).await["unsubscribed"], false);
    let (_, p) = admin.post("/api/v1/broadcasts/preview", json!({"audience": {}})).await;
    assert_eq!((p["count"].as_i64(), p["skipped"]["unsubscribed"].as_i64()), (Some(1), Some(2)), "{p}");
    // The stop words never reached the inbox as messages for an operator.
    let (_, history) = admin.get(&format!("/api/v1/chats/{}/messages", contact(&admin, bob.id).await["chat_id"])).await;
    assert!(history["messages"].as_array().unwrap().iter().all(|m| m["text"] != "Unsubscribe"), "{history}");
}

#[tokio::test]
async fn blocking_the_bot_makes_the_identity_unreachable_and_unblocking_reachable() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    let folks = people(&app, &fake, 800, 2).await;
    assert_eq!(fake.post_webhook(&app.base, TOKEN, folks[0].membership("kicked")).await, 200);
    let c = contact(&admin, folks[0].id).await;
    assert_eq!(c["identities"][0]["unreachable_reason"], "the contact blocked the bot", "{c}");
    let (_, p) = admin.post("/api/v1/broadcasts/preview", json!({"audience": {}})).await;
    assert_eq!(p["count"], 1, "{p}");
    assert_eq!(fake.post_webhook(&app.base, TOKEN, folks[0].membership("member")).await, 200);
    assert!(contact(&admin, folks[0].id).await["identities"][0]["unreachable_reason"].is_null());
    let (_, p) = admin.post("/api/v1/broadcasts/preview", json!({"audience": {}})).await;
    assert_eq!(p["count"], 2, "{p}");
}
