//! The Discord channel end to end: serenity itself against the fake Discord on 127.0.0.1
//! (its REST API and its gateway WebSocket): DMs and guild channels in, every kind of
//! event normalized, a dropped gateway resumed with nothing lost or doubled, replies out
//! with Discord's limits and failures.

use serde_json::{Value, json};

use crate::support::client::EventStream;
use crate::support::discord_fake::{BOT_NAME, FakeDiscord, Person, message};
use crate::support::{Session, TestApp, spawn_app};

const TOKEN: &str = "MTIz.customer-bot.token";

/// Adds a Discord channel talking to `fake` and waits until its gateway is ready.
async fn channel(admin: &Session, fake: &FakeDiscord, extra: Value) -> i64 {
    let mut settings = json!({"token": TOKEN, "api_url": fake.url()});
    if let (Some(s), Value::Object(e)) = (settings.as_object_mut(), extra) {
        s.extend(e);
    }
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "discord", "name": "Support", "settings": settings})).await;
    assert_eq!(status, 201, "{body}");
    fake.wait_connected(1).await;
    body["id"].as_i64().unwrap()
}

struct Setup {
    app: TestApp,
    admin: Session,
    fake: FakeDiscord,
    id: i64,
    events: EventStream,
}

async fn setup(extra: Value) -> Setup {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeDiscord::start(TOKEN).await;
    let id = channel(&admin, &fake, extra).await;
    let events = admin.events(0).await;
    Setup { app, admin, fake, id, events }
}

async fn messages(admin: &Session, chat_id: i64) -> Vec<Value> {
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages?limit=200")).await;
    history["messages"].as_array().unwrap().clone()
}

/// A DM from `who` through the gateway; returns the chat it landed in.
async fn dm(fake: &FakeDiscord, events: &mut EventStream, who: &Person, id: u64, text: &str) -> i64 {
    fake.dispatch("MESSAGE_CREATE", who.message(id, text, json!({})));
    let e = events.wait_for("message.created", |e| e["data"]["message"]["text"] == text).await;
    e["chat_id"].as_i64().unwrap()
}

async fn wait_state(events: &mut EventStream, message_id: &Value, state: &str) -> Value {
    events
        .wait_for("message.updated", |e| {
            e["data"]["message"]["id"] == *message_id && e["data"]["message"]["state"] == state
        })
        .await
}

#[tokio::test]
async fn a_channel_checks_its_token_and_never_shows_it_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeDiscord::start(TOKEN).await;
    let (status, body) = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "discord", "name": "Bad", "settings": {"token": "wrong", "api_url": fake.url()}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("refused the bot token"), "{body}");
    let (status, body) = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "discord", "name": "Bad", "settings": {"token": TOKEN, "guild_channels": ["general"]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    let id = channel(&admin, &fake, json!({})).await;
    let (_, c) = admin.get(&format!("/api/v1/channels/{id}")).await;
    assert_eq!(c["settings"]["bot_name"], BOT_NAME);
    assert_eq!(c["settings"]["bot_id"], "42");
    assert!(!c["settings"]["token"].as_str().unwrap().contains("customer-bot"), "{c}");
    let (_, all) = admin.get("/api/v1/channels").await;
    assert!(!all.to_string().contains("customer-bot"));
    // DMs only: DIRECT_MESSAGES, nothing privileged.
    assert_eq!(fake.gateway_log().intents, 1 << 12);
}

#[tokio::test]
async fn a_dm_becomes_a_chat_and_the_operator_reply_reaches_discord() {
    let Setup { admin, fake, id, mut events, .. } = setup(json!({})).await;
    let nelly = Person::new(80351110224678912, "Nelly");
    // Markdown stays as written; the mention of the bot is resolved to its name.
    let bot = json!({"id": "42", "username": "hubbot", "discriminator": "0", "bot": true});
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000010, "**hello** <@42>", json!({"mentions": [bot]})));
    let e = events.wait_for("message.created", |e| e["data"]["message"]["direction"] == "in").await;
    let chat_id = e["chat_id"].as_i64().unwrap();
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    assert_eq!(chat["contact"]["name"], "Nelly", "{chat}");
    let (_, contact) = admin.get(&format!("/api/v1/contacts/{}", chat["contact"]["id"])).await;
    assert_eq!(contact["identities"][0]["external_id"], "80351110224678912");
    assert_eq!(contact["identities"][0]["channel"]["id"], id);
    // The same DM again (Discord replays after a RESUME) is one message.
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000010, "**hello** <@42>", json!({"mentions": [bot]})));
    dm(&fake, &mut events, &nelly, 1300000000000000011, "second").await;
    let texts: Vec<Value> = messages(&admin, chat_id).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("**hello** @hubbot"), json!("second")]);

    let (status, reply) =
        admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "Hi Nelly, how can we help?"})).await;
    assert_eq!(status, 201, "{reply}");
    wait_state(&mut events, &reply["id"], "sent").await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("/channels/{}/messages", nelly.dm()));
    assert_eq!(sent[0].body["content"], "Hi Nelly, how can we help?");
    assert!(
        fake.calls().iter().any(|c| c.path == "/users/@me/channels" && c.body["recipient_id"] == "80351110224678912")
    );
}

#[tokio::test]
async fn edits_partial_updates_deletions_files_stickers_forwards_and_presses() {
    let Setup { admin, fake, id, mut events, .. } = setup(json!({})).await;
    let nelly = Person::new(80351110224678912, "Nelly");
    let chat_id = dm(&fake, &mut events, &nelly, 1300000000000000010, "Order 1042").await;

    // An edit changes the text; Discord's embed-only update afterwards (no `content`; here
    // with the author, as some carry it) does not blank it.
    let mut edited = nelly.message(1300000000000000010, "Order 1043", json!({}));
    edited["edited_timestamp"] = json!("2025-03-01T10:01:00.000000+00:00");
    fake.dispatch("MESSAGE_UPDATE", edited);
    events.wait_for("message.updated", |e| e["data"]["message"]["text"] == "Order 1043").await;
    fake.dispatch(
        "MESSAGE_UPDATE",
        json!({"id": "1300000000000000010", "channel_id": nelly.dm().to_string(),
        "author": nelly.user(), "embeds": [{"type": "link", "url": "https://example.com/"}]}),
    );
    // A deletion marks it, and is the next change the console sees: the embed update made none.
    fake.dispatch("MESSAGE_DELETE", json!({"id": "1300000000000000010", "channel_id": nelly.dm().to_string()}));
    let e = events.wait_for("message.updated", |e| !e["data"]["message"]["deleted_at"].is_null()).await;
    assert_eq!(e["data"]["message"]["text"], "Order 1043", "the text is kept for operators");

    // A photo, through the file proxy.
    let file = json!({"id": "1300000000000000021", "filename": "receipt.png", "size": 4, "content_type": "image/png",
        "url": fake.cdn_url("receipt.png"), "proxy_url": fake.cdn_url("receipt.png"), "width": 2, "height": 2});
    let photo = nelly.message(1300000000000000020, "see this", json!({"attachments": [file]}));
    fake.add_file("receipt.png", b"\x89PNG", photo.clone());
    fake.dispatch("MESSAGE_CREATE", photo);
    let e = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "see this").await;
    let a = &e["data"]["message"]["attachments"][0];
    assert_eq!(
        (a["kind"].as_str(), a["name"].as_str(), a["size"].as_u64()),
        (Some("photo"), Some("receipt.png"), Some(4))
    );
    let url = a["url"].as_str().unwrap();
    assert_eq!(url, format!("/api/v1/channels/{id}/files/{}-1300000000000000020-1300000000000000021", nelly.dm()));
    let got = reqwest::Client::new()
        .get(format!("{}{url}", admin.base))
        .header("cookie", admin.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"\x89PNG");

    // A sticker, and a forwarded message whose content is in its snapshot.
    let sticker = json!([{"id": "749054660769218631", "name": "Wave", "format_type": 1}]);
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000030, "", json!({"sticker_items": sticker})));
    let e = events.wait_for("message.created", |e| e["data"]["message"]["attachments"][0]["kind"] == "sticker").await;
    assert_eq!(e["data"]["message"]["attachments"][0]["name"], "Wave");
    let snapshot = json!([{"message": {"type": 0, "content": "Ships Monday", "embeds": [], "attachments": [],
        "timestamp": "2025-02-28T09:00:00.000000+00:00", "edited_timestamp": null, "flags": 0, "mentions": []}}]);
    let reference = json!({"type": 1, "message_id": "999", "channel_id": "998"});
    fake.dispatch(
        "MESSAGE_CREATE",
        nelly.message(1300000000000000031, "", json!({"message_snapshots": snapshot, "message_reference": reference})),
    );
    events.wait_for("message.created", |e| e["data"]["message"]["text"] == "> Ships Monday").await;

    // A button press is answered at once and delivered as a press.
    let shown =
        message(1300000000000000041, nelly.dm(), json!({"id": "42", "username": "hubbot", "bot": true}), "Pick a size");
    fake.dispatch(
        "INTERACTION_CREATE",
        json!({"id": "1300000000000000040", "application_id": "42", "type": 3,
        "token": "aW50ZXJhY3Rpb24", "version": 1, "channel_id": nelly.dm().to_string(), "user": nelly.user(),
        "locale": "en-US", "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
        "attachment_size_limit": 10485760, "data": {"custom_id": "size_m", "component_type": 2}, "message": shown}),
    );
    let e = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "size_m").await;
    assert_eq!(e["data"]["message"]["attachments"][0]["kind"], "button_press");
    fake.wait_until("the press answered", |calls| {
        calls
            .iter()
            .any(|c| c.path == "/interactions/1300000000000000040/aW50ZXJhY3Rpb24/callback" && c.body["type"] == 6)
    })
    .await;

    // The bot's own messages are echoes, never the contact's.
    fake.dispatch(
        "MESSAGE_CREATE",
        message(1300000000000000050, nelly.dm(), json!({"id": "42", "username": "hubbot", "bot": true}), "echo"),
    );
    dm(&fake, &mut events, &nelly, 1300000000000000051, "last").await;
    let history = messages(&admin, chat_id).await;
    assert!(history.iter().all(|m| m["text"] != "echo"));
    assert_eq!(history.len(), 6, "{history:#?}");
}

#[tokio::test]
async fn a_dropped_gateway_resumes_and_nothing_is_lost_or_doubled() {
    let Setup { admin, fake, mut events, .. } = setup(json!({})).await;
    let nelly = Person::new(80351110224678912, "Nelly");
    let chat_id = dm(&fake, &mut events, &nelly, 1300000000000000001, "one").await;

    // Discord closes the socket; what it sends meanwhile is kept for the session, and on
    // RESUME it replays from the client's seq, one message it had delivered included.
    fake.replay_overlap(true);
    fake.drop_connection();
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000002, "two", json!({})));
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000003, "three", json!({})));
    events.wait_for("message.created", |e| e["data"]["message"]["text"] == "three").await;
    let log = fake.wait_connected(2).await;
    assert_eq!(log.identifies, 1, "resumed, not identified again: {log:?}");
    assert_eq!(log.resumes.len(), 1);
    assert_eq!(log.resumes[0].0, "sess-1");
    dm(&fake, &mut events, &nelly, 1300000000000000004, "four").await;
    let texts: Vec<Value> = messages(&admin, chat_id).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("one"), json!("two"), json!("three"), json!("four")]);
}

#[tokio::test]
async fn what_came_while_parley_was_down_is_read_from_the_history_after_a_restart() {
    let Setup { mut app, admin, fake, .. } = setup(json!({})).await;
    let mut events = admin.events(0).await;
    let nelly = Person::new(80351110224678912, "Nelly");
    let chat_id = dm(&fake, &mut events, &nelly, 1300000000000000001, "before").await;
    events.close().await;
    app.launched.take().unwrap().shutdown().await;
    fake.wait_disconnected().await;
    // Discord does not replay to a new session: these reach Parley only through the history.
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000002, "while down", json!({})));
    fake.dispatch("MESSAGE_CREATE", nelly.message(1300000000000000003, "also while down", json!({})));
    let app = app.restart().await;
    let admin = app.login("admin@example.com", "correct horse").await;
    let mut events = admin.events(0).await;
    events.wait_for("message.created", |e| e["data"]["message"]["text"] == "also while down").await;
    let log = fake.wait_connected(2).await;
    assert_eq!(log.identifies, 2, "a new process starts a new session: {log:?}");
    let history = fake.calls();
    let read = history.iter().find(|c| c.method == "GET" && c.path == format!("/channels/{}/messages", nelly.dm()));
    assert!(read.is_some(), "the history was read: {history:#?}");
    dm(&fake, &mut events, &nelly, 1300000000000000004, "after").await;
    let texts: Vec<Value> = messages(&admin, chat_id).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("before"), json!("while down"), json!("also while down"), json!("after")]);
}

#[tokio::test]
async fn guild_channel_authors_have_their_own_chats_and_replies_go_back_to_the_channel() {
    let Setup { admin, fake, mut events, .. } = setup(json!({"guild_channels": ["2000000000000000002"]})).await;
    // GUILD_MESSAGES and the privileged MESSAGE_CONTENT besides DMs.
    assert_eq!(fake.gateway_log().intents, (1 << 12) | (1 << 9) | (1 << 15));
    let kim = Person::new(80351110224678913, "Kim");
    let guild = |id: u64, channel: u64, text: &str| {
        let mut m = message(id, channel, kim.user(), text);
        m["guild_id"] = json!("3000000000000000003");
        m["member"] =
            json!({"roles": [], "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false});
        m
    };
    fake.dispatch("MESSAGE_CREATE", guild(1300000000000000060, 2000000000000000009, "not listened to"));
    fake.dispatch("MESSAGE_CREATE", guild(1300000000000000061, 2000000000000000002, "help in #support"));
    let e = events.wait_for("message.created", |e| e["data"]["message"]["direction"] == "in").await;
    assert_eq!(e["data"]["message"]["text"], "help in #support");
    let chat_id = e["chat_id"].as_i64().unwrap();
    let (_, chat) = admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    let (_, contact) = admin.get(&format!("/api/v1/contacts/{}", chat["contact"]["id"])).await;
    assert_eq!(contact["identities"][0]["external_id"], "80351110224678913@2000000000000000002");

    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "On it!"})).await;
    wait_state(&mut events, &reply["id"], "sent").await;
    let sent = fake.sent();
    assert_eq!(sent[0].path, "/channels/2000000000000000002/messages");
    assert_eq!(sent[0].body["message_reference"]["message_id"], "1300000000000000061");
    assert_eq!(sent[0].body["allowed_mentions"]["parse"], json!([]), "an operator's text pings nobody");
}

mod console;
mod notifications;
mod sending;
