//! The example through Telegram: every branch, then handoff → operator → close
//! → the bot again.

use serde_json::json;

use super::*;
use crate::support::spawn_app_with;
use crate::support::telegram_fake::{FakeTelegram, Person};

async fn start(port: u16) -> (TestApp, tempfile::TempDir, FakeTelegram, Session) {
    let dir = flows_dir(port);
    let path = dir.path().display().to_string();
    let app = spawn_app_with(|c| c.flows.dir = path).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    (app, dir, fake, admin)
}

#[tokio::test]
async fn the_example_answers_an_order_with_a_retry_and_keeps_every_bot_message_in_history() {
    let port = orders().await;
    let (app, _dir, fake, admin) = start(port).await;
    let alice = Person::new(701, "Alice");

    say(&app, &fake, alice.text(1, "/start")).await;
    let sent = wait_sent(&fake, &alice, 1).await;
    assert_eq!(sent, ["Hi Alice! What can I do for you?"]);
    let welcome = &fake.ok_calls("sendMessage")[0];
    let keyboard = &welcome.params["reply_markup"]["inline_keyboard"];
    let labels: Vec<&str> = keyboard
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Where is my order?", "Talk to a person"], "{keyboard}");
    let data = keyboard[0][0]["callback_data"].as_str().unwrap().to_owned();

    // The chat is the bot's: not unread, not handed out.
    let chat = the_chat(&admin).await;
    assert_eq!((chat["handler"].as_str(), chat["unread_count"].as_i64()), (Some("bot"), Some(0)), "{chat}");
    let (_, bots) = admin.get("/api/v1/chats?view=bot").await;
    assert_eq!(bots["chats"].as_array().unwrap().len(), 1);
    let (_, unread) = admin.get("/api/v1/chats?view=unread").await;
    assert!(unread["chats"].as_array().unwrap().is_empty(), "{unread}");

    say(&app, &fake, alice.press("cb-1", welcome.message_id.unwrap(), &data)).await;
    assert_eq!(wait_sent(&fake, &alice, 2).await[1], "Your order number, please (6 digits).");
    say(&app, &fake, alice.text(3, "12")).await;
    let sent = wait_sent(&fake, &alice, 4).await;
    assert_eq!(sent[2..], ["An order number has 6 digits, like 123456.", "Your order number, please (6 digits)."]);
    say(&app, &fake, alice.text(4, "123456")).await;
    assert_eq!(wait_sent(&fake, &alice, 5).await[4], "Order 123456: shipped.");

    let chat = the_chat(&admin).await;
    let messages = history(&admin, chat["id"].as_i64().unwrap()).await;
    let bot: Vec<&str> =
        messages.iter().filter(|m| m["author_kind"] == "bot").map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(bot.len(), 5, "{messages:?}");
    assert_eq!(bot[4], "Order 123456: shipped.");
    assert_eq!(chat["handler"], "bot");
    assert_eq!(chat["assignee"], serde_json::Value::Null, "the bot's chat is not handed out");

    // "menu" starts again; typing a button's text works as pressing it.
    say(&app, &fake, alice.text(5, "MENU")).await;
    assert_eq!(wait_sent(&fake, &alice, 6).await[5], "Hi Alice! What can I do for you?");
    say(&app, &fake, alice.text(6, "where is my order?")).await;
    assert_eq!(wait_sent(&fake, &alice, 7).await[6], "Your order number, please (6 digits).");

    let (_, detail) = admin.get("/api/v1/flows/order-status").await;
    let step = |name: &str| detail["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!(step("welcome")["entered"], 2, "{detail}");
    assert_eq!(step("tell")["finished"], 1, "{detail}");
    assert_eq!(detail["origin"], "file");
    assert_eq!(detail["triggers"], json!(["/start", "keyword: menu, order"]));
}

#[tokio::test]
async fn three_wrong_numbers_a_failing_call_and_a_slow_one_each_go_to_a_person() {
    let port = orders().await;
    let (app, _dir, fake, _admin) = start(port).await;
    let handed = "One moment, I'm handing you to a colleague.";

    let bob = Person::new(702, "Bob");
    say(&app, &fake, bob.text(1, "order")).await;
    wait_sent(&fake, &bob, 1).await;
    say(&app, &fake, bob.text(2, "Where is my order?")).await;
    for (i, wrong) in ["1", "22", "abc"].iter().enumerate() {
        say(&app, &fake, bob.text(3 + i as i64, wrong)).await;
    }
    let sent = wait_sent(&fake, &bob, 7).await;
    assert_eq!(sent[6], handed, "{sent:?}");
    assert_eq!(sent.iter().filter(|t| t.starts_with("An order number")).count(), 2, "{sent:?}");

    for (who, id, number) in [(Person::new(703, "Cleo"), 703, "500000"), (Person::new(704, "Dan"), 704, "999999")] {
        say(&app, &fake, who.text(1, "/start")).await;
        wait_sent(&fake, &who, 1).await;
        say(&app, &fake, who.text(2, "Where is my order?")).await;
        wait_sent(&fake, &who, 2).await;
        say(&app, &fake, who.text(3, number)).await;
        let sent = wait_sent(&fake, &who, 3).await;
        assert_eq!(sent[2], handed, "{id}: {sent:?}");
    }
}

#[tokio::test]
async fn a_handoff_gives_the_chat_to_operators_and_closing_it_gives_it_back_to_the_bot() {
    let port = orders().await;
    let (app, _dir, fake, admin) = start(port).await;
    let eve = Person::new(705, "Eve");
    let (status, _) = admin.put("/api/v1/me/status", json!({"status": "online"})).await;
    assert_eq!(status, 200);

    say(&app, &fake, eve.text(1, "/start")).await;
    let welcome = wait_sent(&fake, &eve, 1).await;
    assert_eq!(welcome[0], "Hi Eve! What can I do for you?");
    say(&app, &fake, eve.text(2, "Talk to a person")).await;
    assert_eq!(wait_sent(&fake, &eve, 2).await[1], "One moment, I'm handing you to a colleague.");

    // Distribution hands it out as any chat: to the Online admin.
    let chat_id = the_chat(&admin).await["id"].as_i64().unwrap();
    let app_ref = app.app().clone();
    let mut assigned = false;
    for _ in 0..200 {
        parley::distribution::run_once(&app_ref).await.unwrap();
        let chat = the_chat(&admin).await;
        if chat["assignee"]["name"] == "Ada Admin" {
            assert_eq!(chat["handler"], "human");
            assert!(chat["unread_count"].as_i64().unwrap() >= 1, "{chat}");
            assigned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(assigned, "the chat was never handed out");

    // What the contact writes now goes to the operators only, even a trigger word.
    say(&app, &fake, eve.text(3, "menu")).await;
    let (status, _) =
        admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "Hello Eve, Ada here."})).await;
    assert_eq!(status, 201);
    let sent = wait_sent(&fake, &eve, 3).await;
    assert_eq!(sent[2], "Hello Eve, Ada here.", "the bot kept quiet: {sent:?}");

    let (status, _) = admin.post(&format!("/api/v1/chats/{chat_id}/close"), json!({})).await;
    assert_eq!(status, 200);
    say(&app, &fake, eve.text(4, "menu")).await;
    assert_eq!(wait_sent(&fake, &eve, 4).await[3], "Hi Eve! What can I do for you?");
    let chat = the_chat(&admin).await;
    assert_eq!(chat["handler"], "bot", "{chat}");
    let kinds: Vec<String> =
        history(&admin, chat_id).await.iter().map(|m| m["author_kind"].as_str().unwrap().to_owned()).collect();
    assert!(kinds.contains(&"operator".to_owned()) && kinds.contains(&"bot".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn an_operator_who_answers_a_bots_chat_takes_it_over_and_pausing_keeps_the_bot_out() {
    let port = orders().await;
    let (app, _dir, fake, admin) = start(port).await;
    let fay = Person::new(706, "Fay");
    say(&app, &fake, fay.text(1, "/start")).await;
    wait_sent(&fake, &fay, 1).await;
    let chat = the_chat(&admin).await;
    let (chat_id, contact_id) = (chat["id"].as_i64().unwrap(), chat["contact"]["id"].as_i64().unwrap());
    let (_, bot) = admin.get(&format!("/api/v1/contacts/{contact_id}/bot")).await;
    assert_eq!(
        (bot["handler"].as_str(), bot["flow"].as_str(), bot["step"].as_str()),
        (Some("bot"), Some("order-status"), Some("welcome")),
        "{bot}"
    );

    let (status, _) =
        admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "Ada here, how can I help?"})).await;
    assert_eq!(status, 201);
    assert_eq!(the_chat(&admin).await["handler"], "human");
    say(&app, &fake, fay.text(2, "Where is my order?")).await;
    let (_, h) = admin.get(&format!("/api/v1/chats/{chat_id}/messages")).await;
    assert_eq!(h["messages"].as_array().unwrap().last().unwrap()["text"], "Where is my order?", "the bot kept quiet");
    assert_eq!(wait_sent(&fake, &fay, 2).await.len(), 2);

    // Paused, even a new conversation is the operators'; resumed, the bot is back.
    let (_, paused) = admin.post(&format!("/api/v1/contacts/{contact_id}/bot/pause"), json!({})).await;
    assert_eq!(paused["paused"], true, "{paused}");
    admin.post(&format!("/api/v1/chats/{chat_id}/close"), json!({})).await;
    say(&app, &fake, fay.text(3, "menu")).await;
    assert_eq!(the_chat(&admin).await["handler"], "human");
    let (_, resumed) = admin.post(&format!("/api/v1/contacts/{contact_id}/bot/resume"), json!({})).await;
    assert_eq!(resumed["paused"], false);
    let (status, started) = admin.post(&format!("/api/v1/contacts/{contact_id}/flows/order-status"), json!({})).await;
    assert_eq!((status, started["step"].as_str()), (200, Some("welcome")), "{started}");
    assert_eq!(wait_sent(&fake, &fay, 3).await[2], "Hi Fay! What can I do for you?");
    assert_eq!(the_chat(&admin).await["handler"], "bot");
}
