//! The outbox against the fake Bot API: order within a chat through 429s, 500s and
//! hangs; a restart that keeps a retry-after; operators' replies overtaking a bot's
//! backlog.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::support::{spawn_app_clocked, webhook_fake::FakeReceiver};

/// Chat ids by contact name, from the chat list.
async fn chats_by_name(admin: &Session) -> HashMap<String, i64> {
    let (_, list) = admin.get("/api/v1/chats?limit=200").await;
    list["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["contact"]["name"].as_str().unwrap().to_owned(), c["id"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn replies_reach_every_chat_once_and_in_order_through_429s_500s_and_hangs() {
    let app = spawn_app_with(|c| {
        c.outbox.backoff_base_ms = 50;
        c.outbox.send_timeout_ms = 1_000;
    })
    .await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    // Telegram's own pacing (1 message/s per chat) is not what this is about.
    channel(&admin, &fake, TOKEN, "webhook", json!({"throttle": false})).await;
    const CHATS: i64 = 50;
    const REPLIES: usize = 10;
    for i in 0..CHATS {
        let person = Person::new(10_000 + i, &format!("Contact{i}"));
        assert_eq!(fake.post_webhook(&app.base, TOKEN, person.text(1, "hello")).await, 200);
    }
    let chats = chats_by_name(&admin).await;
    assert_eq!(chats.len(), CHATS as usize);

    // 20 of the sends, spread over the run, fail: 429 with retry_after 1-2 s, 500, or
    // no answer at all.
    let mut script = Vec::new();
    for i in 0..20u64 {
        script.extend(std::iter::repeat_n(Failure::Succeed, 20));
        script.push(match i % 3 {
            0 => Failure::RetryAfter(1 + i % 2),
            1 => Failure::ServerError,
            _ => Failure::Slow(Duration::from_secs(3_600)),
        });
    }
    fake.fail("sendMessage", &script);

    // Each chat's replies are written one after the other, all chats at once.
    let mut writers = Vec::new();
    for i in 0..CHATS {
        let (admin, chat) = (admin.clone(), chats[&format!("Contact{i}")]);
        writers.push(tokio::spawn(async move {
            for n in 0..REPLIES {
                let (status, body) =
                    admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": format!("reply {n}")})).await;
                assert_eq!(status, 201, "{body}");
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let total = CHATS as usize * REPLIES;
    let calls = fake
        .wait_until("every reply", |c| {
            c.iter().filter(|c| c.method == "sendmessage" && c.status == 200).count() >= total
        })
        .await;

    let mut received: HashMap<i64, Vec<String>> = HashMap::new();
    for c in calls.iter().filter(|c| c.method == "sendmessage" && c.status == 200) {
        received
            .entry(c.params["chat_id"].as_i64().unwrap())
            .or_default()
            .push(c.params["text"].as_str().unwrap().into());
    }
    let expected: Vec<String> = (0..REPLIES).map(|n| format!("reply {n}")).collect();
    for i in 0..CHATS {
        assert_eq!(
            received.get(&(10_000 + i)),
            Some(&expected),
            "Telegram chat {} got its replies out of order",
            10_000 + i
        );
    }
    // The 14 scripted 429s and 500s were answered (the hangs never are); sends already on
    // their way when a 429 came were refused too, as Telegram refuses the whole bot.
    let refused = calls.iter().filter(|c| c.method == "sendmessage" && c.status != 200).count();
    assert_eq!(refused, 14 + fake.early_sends(), "{refused} refused");
}

#[tokio::test]
async fn a_restart_during_a_retry_after_keeps_the_wait() {
    let app = spawn_app_clocked(|_| {}).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let telegram = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let chat_id = customer_chat(&app, &admin, &fake, telegram).await;
    let hooks = FakeReceiver::start().await;
    let webhook = app.webhook_channel(&admin, &hooks).await;
    let other_chat = webhook.text("wendy", "w-1", "hi").await["chat_id"].as_i64().unwrap();

    let clock = app.clock.clone().unwrap();
    fake.use_clock(std::sync::Arc::new(clock.clone()));
    fake.fail("sendMessage", &[Failure::RetryAfter(10)]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "wait for it"})).await;
    fake.wait_until("the 429", |c| c.iter().any(|c| c.method == "sendmessage" && c.status == 429)).await;

    // One second later Parley restarts.
    clock.advance(1_000);
    let app = app.restart().await;
    let admin = app.login("admin@example.com", "correct horse").await;
    let mut events = admin.events(0).await;

    // The outbox is running: a reply on another channel goes out...
    admin.post(&format!("/api/v1/chats/{other_chat}/messages"), json!({"text": "meanwhile"})).await;
    assert_eq!(hooks.wait_received(1).await[0]["text"], "meanwhile");
    // ...while Telegram's reply still waits out its 10 s.
    clock.advance(7_000);
    admin.post(&format!("/api/v1/chats/{other_chat}/messages"), json!({"text": "still waiting"})).await;
    hooks.wait_received(2).await;
    assert_eq!(fake.ok_calls("sendMessage").len(), 0, "sent before Telegram's retry_after was over");
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages")).await;
    let stored = history["messages"].as_array().unwrap().iter().find(|m| m["id"] == reply["id"]).cloned().unwrap();
    assert_eq!(stored["state"], "queued");

    // Once it is over (with at most a tenth of jitter on top, counted from when the 429
    // was recorded: before or after the first second), it goes.
    clock.advance(5_000);
    app.app().store.wake(parley::store::Wake::Outbox);
    wait_state(&mut events, &reply["id"], "sent").await;
    let sent = fake.ok_calls("sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].params["text"], "wait for it");
    assert_eq!(fake.early_sends(), 0, "nothing was tried inside Telegram's wait");
}

#[tokio::test]
async fn an_operators_reply_overtakes_a_bots_backlog_on_the_same_channel() {
    // Four sends at once, of which bots may hold three.
    let app = spawn_app_with(|c| c.outbox.concurrency = 4).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    for i in 0..6 {
        let person = Person::new(20_000 + i, &format!("Fan{i}"));
        assert_eq!(fake.post_webhook(&app.base, TOKEN, person.text(1, "hello")).await, 200);
    }
    let chats = chats_by_name(&admin).await;
    let bot_chats: Vec<i64> = (0..5).map(|i| chats[&format!("Fan{i}")]).collect();

    // The platform hangs on the first three sends: every slot bots may use is taken,
    // with 50 more bot messages queued behind them.
    fake.fail("sendMessage", &vec![Failure::Slow(Duration::from_secs(3_600)); 3]);
    let now = app.app().now();
    app.app()
        .store
        .write(move |db| -> parley::error::Result<()> {
            use parley::inbox::messages::{Author, enqueue};
            for n in 0..10 {
                for chat in &bot_chats {
                    enqueue(db, *chat, None, &parley_sdk::Content::text(format!("bot {n}")), Author::Bot, now)?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    fake.wait_started("sendMessage", 3).await;

    let mut events = admin.events(0).await;
    let operator_chat = chats["Fan5"];
    let (_, reply) =
        admin.post(&format!("/api/v1/chats/{operator_chat}/messages"), json!({"text": "A person here"})).await;
    wait_state(&mut events, &reply["id"], "sent").await;
    let sent = fake.ok_calls("sendMessage");
    assert_eq!(sent.len(), 1, "only the operator's reply went out: {sent:#?}");
    assert_eq!(sent[0].params["text"], "A person here");
}
