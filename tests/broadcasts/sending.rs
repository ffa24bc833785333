//! Sending: 2,000 recipients through the outbox with 429s, 500s and blocked users
//! injected; every recipient in exactly one state, nobody sent twice; an operator's
//! reply on the same bot overtakes the broadcast; a closed chat stays closed.

use serde_json::json;

use super::support::spawn_app_with;
use super::support::telegram_fake::{Failure, FakeTelegram};
use super::{TOKEN, act, create, fig, people, received, recipients, telegram, until};

#[tokio::test]
async fn two_thousand_recipients_through_failures_each_in_one_state_none_twice() {
    let app = spawn_app_with(|c| {
        c.outbox.backoff_base_ms = 5;
        c.outbox.backoff_max_ms = 50;
    })
    .await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let channel = telegram(&admin, &fake).await;
    let crowd = people(&app, &fake, 10_000, 2_000).await;

    // One contact is outside the audience: the operator answers them mid-broadcast.
    let (_, list) = admin.get("/api/v1/contacts?q=P10000").await;
    let vip = list["contacts"][0].clone();
    admin.patch(&format!("/api/v1/contacts/{}", vip["id"]), json!({"tags": ["vip"]})).await;
    // One chat is closed before the broadcast (the last contact: past the failures scripted for the first sends).
    let (_, list) = admin.get("/api/v1/contacts?q=P11999").await;
    let closed_chat = list["contacts"][0]["chat_id"].as_i64().unwrap();
    let (status, _) = admin.post(&format!("/api/v1/chats/{closed_chat}/close"), json!({})).await;
    assert_eq!(status, 200);

    let script = [
        Failure::ServerError,
        Failure::Blocked,
        Failure::RetryAfter(1),
        Failure::ServerError,
        Failure::Blocked,
        Failure::ServerError,
        Failure::Blocked,
    ];
    fake.fail("sendMessage", &script);
    let text = "Spring sale: 20% off";
    let b = create(&admin, json!({"name": "Sale", "content": {"text": text}, "audience": {"tags": {"none": ["vip"]}}}))
        .await;
    let id = b["id"].as_i64().unwrap();
    act(&admin, id, "start").await;

    // An operator's reply on the same bot while the broadcast is under way goes out
    // before the broadcast's messages that still wait.
    fake.wait_count("sendMessage", 50, super::support::PATIENCE * 3).await;
    let (status, now) = admin.get(&format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(status, 200);
    assert!(fig(&now, "queued") > 200, "the broadcast is far from done: {now}");
    let (status, body) =
        admin.post(&format!("/api/v1/chats/{}/messages", vip["chat_id"]), json!({"text": "Your order shipped"})).await;
    assert_eq!(status, 201, "{body}");

    let b = until(&admin, id, "the broadcast to end", |b| b["state"] == "done").await;
    assert_eq!(fig(&b, "total"), 1_999, "{b}");
    assert_eq!((fig(&b, "sent"), fig(&b, "blocked"), fig(&b, "failed")), (1_996, 3, 0), "{b}");
    assert_eq!((fig(&b, "queued"), fig(&b, "unknown"), fig(&b, "skipped")), (0, 0, 0), "{b}");
    let reasons = b["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r["state"] == "blocked" && r["count"] == 3), "{b}");

    // Every recipient has one state; the fake took each one's message at most once.
    let all = recipients(&admin, id, None).await;
    assert_eq!(all.len(), 1_999);
    let per_chat = received(&fake, text);
    assert!(per_chat.values().all(|n| *n == 1), "someone got the broadcast twice");
    assert_eq!(per_chat.len(), 1_996);
    for r in &all {
        let user: i64 = r["external_id"].as_str().unwrap().parse().unwrap();
        let got = per_chat.get(&user).copied().unwrap_or(0);
        match r["state"].as_str().unwrap() {
            "sent" => assert_eq!(got, 1, "{r}"),
            "blocked" => assert_eq!(got, 0, "{r}"),
            other => panic!("a recipient in state {other}: {r}"),
        }
    }
    assert!(crowd.len() == 2_000);

    // The reply went out while broadcast messages still waited behind it.
    let calls = fake.ok_calls("sendMessage");
    let reply_at = calls.iter().position(|c| c.params["text"] == "Your order shipped").expect("the reply was sent");
    let after = calls[reply_at..].iter().filter(|c| c.params["text"] == text).count();
    assert!(after > 0, "the reply waited for the whole broadcast");

    // A blocked recipient's identity is unreachable now: the next broadcast skips it.
    let blocked = recipients(&admin, id, Some("blocked")).await;
    assert_eq!(blocked.len(), 3);
    let (_, contact) = admin.get(&format!("/api/v1/contacts/{}", blocked[0]["contact_id"])).await;
    assert!(contact["identities"][0]["unreachable_reason"].is_string(), "{contact}");

    // The closed chat got no per-message event (consoles are not flooded); open ones did.
    let message_events = |chat: i64| {
        let store = app.app().store.clone();
        async move {
            store
                .read(move |db| -> parley::error::Result<i64> {
                    let sql = "SELECT COUNT(*) AS n FROM events WHERE chat_id = $1 \
                               AND kind IN ('message.created', 'message.updated')";
                    Ok(db.query_one(sql, parley::params![chat])?.get("n")?)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(message_events(closed_chat).await, 1, "only the contact's first message");
    let open_chat =
        all.iter().find(|r| r["state"] == "sent" && r["chat_id"] != closed_chat).unwrap()["chat_id"].as_i64().unwrap();
    assert!(message_events(open_chat).await >= 3, "an open chat sees the message and its ticks");

    // The closed chat has the message in its history, and is still closed and read.
    let (_, chat) = admin.get(&format!("/api/v1/chats/{closed_chat}")).await;
    assert_eq!((chat["status"].as_str(), chat["unread_count"].as_i64()), (Some("closed"), Some(0)), "{chat}");
    let (_, history) = admin.get(&format!("/api/v1/chats/{closed_chat}/messages")).await;
    let last = history["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["author_kind"].as_str(), last["text"].as_str()), (Some("broadcast"), Some(text)), "{last}");
    assert_eq!(last["state"], "sent");

    // Its contact's reply reopens it as usual.
    let person = crowd.iter().find(|p| p.first_name == "P11999").unwrap();
    assert_eq!(fake.post_webhook(&app.base, TOKEN, person.text(2, "Is it for shoes too?")).await, 200);
    let (_, chat) = admin.get(&format!("/api/v1/chats/{closed_chat}")).await;
    assert_eq!(chat["status"], "open");

    // The CSV has one row per recipient.
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/broadcasts/{id}/recipients", app.base))
        .header("cookie", admin.cookie.clone().unwrap())
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2_000, "a header and a row per recipient");
    assert!(csv.starts_with("contact_id,contact_name,channel_id,external_id,state,reason"));
    let _ = channel;
}
