//! Operator notifications through Telegram: linking, notifying, replying.

use super::*;
use crate::support::spawn_app_without_consumers;

const NOTIFY_TOKEN: &str = "777:notify-bot-token";

/// An app with an admin, the operator Bob, a customers' channel (webhook mode) and a
/// notifications bot (polling), both on the fake Bot API.
async fn with_notifications_bot() -> (TestApp, Session, Session, FakeTelegram, i64) {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let bob = app.operator(&admin, "Bob Operator").await;
    let fake = FakeTelegram::start().await;
    let customers = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    channel(&admin, &fake, NOTIFY_TOKEN, "polling", json!({"notify_operators": true})).await;
    (app, admin, bob, fake, customers)
}

#[tokio::test]
async fn an_operator_links_telegram_is_notified_and_replies_from_telegram() {
    let (app, admin, bob, fake, customers) = with_notifications_bot().await;
    let notify_token = NOTIFY_TOKEN;

    // "Connect Telegram" gives a one-time deep link to the notifications bot.
    let (status, link) = bob.post("/api/v1/me/notify/telegram", json!({})).await;
    assert_eq!(status, 201, "{link}");
    let url = link["link"].as_str().unwrap();
    let prefix = format!("https://t.me/{}?start=", bot_username(notify_token));
    assert!(url.starts_with(&prefix), "{url}");
    assert!(link["expires_at"].is_string());
    let code = url.strip_prefix(&prefix).unwrap().to_owned();

    // A stranger with a wrong code links nothing.
    let stranger = Person::new(6666, "Mallory");
    fake.push_update(notify_token, stranger.start(1, "op-notthecode"));
    let answers = fake
        .wait_until("the refusal", |c| c.iter().any(|c| c.method == "sendmessage" && c.params["chat_id"] == 6666))
        .await;
    assert!(answers.iter().any(|c| c.params["text"].as_str().is_some_and(|t| t.contains("unknown, used or expired"))));
    let (_, me) = bob.get("/api/v1/me").await;
    assert_eq!(me["notify"]["telegram"], false);

    // Bob presses Start.
    let bob_tg = Person::new(9001, "Bob");
    fake.push_update(notify_token, bob_tg.start(1, &code));
    fake.wait_until("the confirmation", |c| c.iter().any(|c| c.method == "sendmessage" && c.params["chat_id"] == 9001))
        .await;
    let (_, me) = bob.get("/api/v1/me").await;
    assert_eq!(me["notify"]["telegram"], true);
    let (_, ops) = admin.get("/api/v1/operators").await;
    assert!(ops["operators"].as_array().unwrap().iter().any(|o| o["id"] == bob.id && o["notify"]["telegram"] == true));
    // The code works once: used again by someone else, it links nothing.
    fake.push_update(notify_token, stranger.start(2, &code));
    fake.wait_until("the second refusal", |c| {
        c.iter().filter(|c| c.method == "sendmessage" && c.params["chat_id"] == 6666).count() == 2
    })
    .await;

    // A customer writes; the admin transfers the chat to Bob with a comment.
    let chat_id = customer_chat(&app, &admin, &fake, customers).await;
    let (status, _) = admin
        .post(&format!("/api/v1/chats/{chat_id}/transfer"), json!({"operator_id": bob.id, "comment": "VIP, be nice"}))
        .await;
    assert_eq!(status, 200);
    let calls = fake
        .wait_until("the transfer notification", |c| {
            c.iter().any(|c| {
                c.token == notify_token
                    && c.params["chat_id"] == 9001
                    && c.params["text"].as_str().is_some_and(|t| t.contains("VIP"))
            })
        })
        .await;
    let notice = calls
        .iter()
        .find(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains("VIP")))
        .unwrap();
    let text = notice.params["text"].as_str().unwrap();
    assert!(text.contains("Alice") && text.contains("hello") && text.contains("VIP, be nice"), "{text}");
    let notice_id = notice.message_id.unwrap();

    // Bob replies to the notification in Telegram: the customer gets it through the chat's channel.
    let mut events = admin.events(0).await;
    fake.push_update(notify_token, bob_tg.reply(2, notice_id, "Hi Alice, Bob here"));
    let to_customer = fake
        .wait_until("the relayed reply", |c| {
            c.iter().any(|c| c.token == TOKEN && c.params["text"] == "Hi Alice, Bob here")
        })
        .await;
    assert_eq!(to_customer.iter().find(|c| c.params["text"] == "Hi Alice, Bob here").unwrap().params["chat_id"], 555);
    let created = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "Hi Alice, Bob here").await;
    assert_eq!(created["data"]["message"]["author"]["id"], bob.id);
    assert_eq!(created["chat_id"], chat_id);

    // The customer writes while Bob has a console open: no notification. Then Bob
    // closes it and the next message is notified.
    let console = bob.events(0).await;
    app.app().distribution.presence.wait_for(bob.id, 1).await;
    assert_eq!(
        fake.post_webhook(&app.base, TOKEN, Person::new(555, "Alice").text(2, "seen in the console")).await,
        200
    );
    // A later event that is always notified: once it arrives, the notifier (which takes
    // events in order) has decided about the message above while the console was open.
    hand_to(&admin, chat_id, bob.id, "once more").await;
    fake.wait_until("the second transfer notification", |c| {
        c.iter().any(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains("once more")))
    })
    .await;
    console.close().await;
    app.app().distribution.presence.wait_for(bob.id, 0).await;
    assert_eq!(fake.post_webhook(&app.base, TOKEN, Person::new(555, "Alice").text(3, "are you away?")).await, 200);
    let calls = fake
        .wait_until("the message notification", |c| {
            c.iter().any(|c| {
                c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains("are you away?"))
            })
        })
        .await;
    let notified = |c: &&Call, start: &str| {
        c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.starts_with(start))
    };
    assert!(calls.iter().any(|c| notified(&c, "Alice: are you away?")));
    assert!(!calls.iter().any(|c| notified(&c, "Alice: seen in the console")), "notified while in the console");

    // Disconnecting stops it.
    let (status, _) = bob.delete("/api/v1/me/notify/telegram").await;
    assert_eq!(status, 204);
    let (_, me) = bob.get("/api/v1/me").await;
    assert_eq!(me["notify"]["telegram"], false);
    // A transfer to Bob now notifies nobody: once the one to Carl after it is sent (the
    // notifier takes events in order), Bob's has been decided.
    let carl = app.operator(&admin, "Carl").await;
    link_telegram(&carl, &fake, notify_token, 9002).await;
    hand_to(&admin, chat_id, bob.id, "after the disconnect").await;
    hand_to(&admin, chat_id, carl.id, "for Carl").await;
    let calls = fake
        .wait_until("Carl's notification", |c| {
            c.iter().any(|c| {
                c.params["chat_id"] == 9002 && c.params["text"].as_str().is_some_and(|t| t.contains("for Carl"))
            })
        })
        .await;
    assert!(
        !calls.iter().any(|c| c.params["text"].as_str().is_some_and(|t| t.contains("after the disconnect"))),
        "a disconnected operator was notified"
    );
}

/// Links `op` to the notifications bot as Telegram user `tg_id`.
async fn link_telegram(op: &Session, fake: &FakeTelegram, notify_token: &str, tg_id: i64) {
    let (_, link) = op.post("/api/v1/me/notify/telegram", json!({})).await;
    let code = link["link"].as_str().unwrap().rsplit("start=").next().unwrap().to_owned();
    fake.push_update(notify_token, Person::new(tg_id, "Operator").start(1, &code));
    fake.wait_until("the confirmation", |c| {
        c.iter().any(|c| c.method == "sendmessage" && c.params["chat_id"] == tg_id)
    })
    .await;
}

/// With several nodes, the node that handles a customer's message may not be the one the
/// operator's console is connected to: it must still hold the notification back.
#[tokio::test]
async fn a_console_open_on_another_node_holds_message_notifications_back() {
    let (app, admin, bob, fake, customers) = with_notifications_bot().await;
    let notify_token = NOTIFY_TOKEN;
    link_telegram(&bob, &fake, notify_token, 9001).await;
    let chat_id = customer_chat(&app, &admin, &fake, customers).await;
    let transfer = |comment: &'static str| {
        let admin = admin.clone();
        let fake = &fake;
        async move {
            hand_to(&admin, chat_id, bob.id, comment).await;
            // Transfers are always notified; the notifier takes events in order, so once
            // this one is sent, every message before it has been decided.
            fake.wait_until(comment, |c| {
                c.iter()
                    .any(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains(comment)))
            })
            .await;
        }
    };
    transfer("first").await;

    // A second node on the same database; Bob's console is open there only.
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".into();
    let listener = tokio::net::TcpListener::bind(&config.listen).await.unwrap();
    let node2 = parley::launch(config, listener, parley::Options::default()).await.unwrap();
    let on_node2 = Session::new(&format!("http://{}", node2.addr), bob.cookie.clone(), bob.id);
    let console = on_node2.events(0).await;
    node2.app.distribution.presence.wait_for(bob.id, 1).await;
    parley::distribution::run_once(&node2.app).await.unwrap(); // node 2 tells the others

    let alice = Person::new(555, "Alice");
    assert_eq!(fake.post_webhook(&app.base, TOKEN, alice.text(2, "seen on node 2")).await, 200);
    transfer("second").await;
    let notified = |start: &str| {
        fake.all_calls("sendMessage")
            .iter()
            .any(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.starts_with(start)))
    };
    assert!(!notified("Alice: seen on node 2"), "notified while the console was open on node 2");

    // Bob closes it: the next message is notified, whichever node takes it.
    console.close().await;
    node2.app.distribution.presence.wait_for(bob.id, 0).await;
    parley::distribution::run_once(&node2.app).await.unwrap();
    assert_eq!(fake.post_webhook(&app.base, TOKEN, alice.text(3, "are you there?")).await, 200);
    fake.wait_until("the message notification", |c| {
        c.iter()
            .any(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains("are you there?")))
    })
    .await;
    // Both nodes consume every event, yet each notice went out once: a third notice,
    // queued after any duplicate would have been in Bob's chat, proves nothing more came.
    transfer("third").await;
    let count = |needle: &str| {
        fake.all_calls("sendMessage")
            .iter()
            .filter(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains(needle)))
            .count()
    };
    assert_eq!((count("Comment: first"), count("Comment: second"), count("Alice: are you there?")), (1, 1, 1));
    node2.shutdown().await;
}

/// The notifier is a durable consumer: an event committed while it was not running (the
/// app stopped between the event and its handling) is notified after the restart, once.
#[tokio::test]
async fn an_event_committed_before_a_stop_is_notified_once_after_the_restart() {
    let app = spawn_app_without_consumers(|_| {}).await;
    let admin = app.admin().await;
    let bob = app.operator(&admin, "Bob Operator").await;
    let fake = FakeTelegram::start().await;
    let customers = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    channel(&admin, &fake, NOTIFY_TOKEN, "polling", json!({"notify_operators": true})).await;
    link_telegram(&bob, &fake, NOTIFY_TOKEN, 9001).await;
    let chat_id = customer_chat(&app, &admin, &fake, customers).await;
    let transfer =
        |admin: Session, comment: &'static str| async move { hand_to(&admin, chat_id, bob.id, comment).await };
    transfer(admin.clone(), "before the stop").await;
    let noticed = |c: &Call, needle: &str| {
        c.token == NOTIFY_TOKEN && c.params["text"].as_str().is_some_and(|t| t.contains(needle))
    };

    // The app stops with the transfer committed and not yet notified.
    let app = app.restart().await;
    fake.wait_until("the notice of the transfer before the stop", |c| c.iter().any(|c| noticed(c, "before the stop")))
        .await;

    // Another restart does not notify it again: the notice of a later transfer, queued
    // after any repeat in Bob's chat, arrives alone.
    let app = app.restart().await;
    let admin = app.login("admin@example.com", "correct horse").await;
    transfer(admin, "after the second start").await;
    fake.wait_until("the later notice", |c| c.iter().any(|c| noticed(c, "after the second start"))).await;
    let before = fake.all_calls("sendMessage").iter().filter(|c| noticed(c, "before the stop")).count();
    assert_eq!(before, 1, "the transfer before the stop was notified {before} times");
}

/// Transfers the chat to `to` with `comment`, by way of the admin when `to` has it
/// already (a transfer to the current assignee is refused): a notice `to` always gets.
async fn hand_to(admin: &Session, chat_id: i64, to: i64, comment: &str) {
    let path = format!("/api/v1/chats/{chat_id}/transfer");
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    if chat["assignee"]["id"] == to {
        assert_eq!(admin.post(&path, json!({"operator_id": admin.id})).await.0, 200);
    }
    let (status, body) = admin.post(&path, json!({"operator_id": to, "comment": comment})).await;
    assert_eq!(status, 200, "{body}");
}
