//! The Telegram channel end to end: the real teloxide client against the fake Bot API
//! on 127.0.0.1, updates of every kind through the webhook and through long polling,
//! sending with limits and failures, media through the proxy, and operator
//! notifications (link, notify on assignment, reply from Telegram).

use serde_json::{Value, json};

use crate::support::telegram_fake::{Call, Failure, FakeTelegram, Person, bot_username};
use crate::support::{Session, TestApp, spawn_app, spawn_app_with};

const TOKEN: &str = "123456:customer-bot-token";

/// Adds a Telegram channel talking to `fake`; returns its id.
async fn channel(admin: &Session, fake: &FakeTelegram, token: &str, mode: &str, extra: Value) -> i64 {
    let mut settings = json!({"token": token, "mode": mode, "api_url": fake.url(), "poll_timeout": 1});
    if let (Some(s), Value::Object(e)) = (settings.as_object_mut(), extra) {
        s.extend(e);
    }
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "settings": settings})).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Feeds updates through the webhook or long polling, as a channel's mode says.
enum Feed<'a> {
    Webhook { app: &'a TestApp, fake: &'a FakeTelegram },
    Polling { fake: &'a FakeTelegram },
}

impl Feed<'_> {
    async fn send(&self, update: Value) {
        match self {
            Feed::Webhook { app, fake } => assert_eq!(fake.post_webhook(&app.base, TOKEN, update).await, 200),
            Feed::Polling { fake } => {
                fake.push_update(TOKEN, update);
                fake.wait_confirmed(TOKEN).await;
            }
        }
    }
}

async fn messages(admin: &Session, chat_id: i64) -> Vec<Value> {
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat_id}/messages?limit=200")).await;
    history["messages"].as_array().unwrap().clone()
}

/// The contact behind Telegram user `external_id` on the channel.
async fn chat_of(admin: &Session, channel_id: i64, external_id: i64) -> Value {
    let (_, list) = admin.get("/api/v1/chats?limit=200").await;
    for chat in list["chats"].as_array().unwrap() {
        let (_, contact) = admin.get(&format!("/api/v1/contacts/{}", chat["contact"]["id"])).await;
        let ours =
            contact["identities"].as_array().unwrap().iter().any(|i| {
                i["channel"]["id"] == channel_id && i["external_id"].as_str() == Some(&external_id.to_string())
            });
        if ours {
            return contact;
        }
    }
    panic!("no contact for Telegram user {external_id}: {list}")
}

#[tokio::test]
async fn a_channel_checks_its_token_with_get_me_and_never_shows_it_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let (status, body) = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Bad", "settings": {"token": "nonsense", "api_url": fake.url()}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Bad", "settings": {"token": "999:x", "api_url": "http://127.0.0.1:9"}}),
        )
        .await;
    assert_eq!(status, 422, "an unreachable API is refused: {body}");

    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    assert_eq!(fake.ok_calls("getMe").len(), 1);
    let (_, c) = admin.get(&format!("/api/v1/channels/{id}")).await;
    assert_eq!(c["settings"]["bot_username"], bot_username(TOKEN));
    assert_eq!(c["settings"]["mode"], "webhook");
    let shown = c["settings"]["token"].as_str().unwrap();
    assert!(!shown.contains("customer-bot"), "{shown}");
    assert!(c["settings"]["webhook_secret"].as_str().unwrap().starts_with("••••"));
    let (_, all) = admin.get("/api/v1/channels").await;
    assert!(!all.to_string().contains("customer-bot-token"));

    // The webhook is registered with the channel's path and a random secret.
    let (url, secret) = fake.webhook(TOKEN).await;
    assert!(url.ends_with(&format!("/hooks/{id}")), "{url}");
    assert!(secret.len() >= 16);
}

#[tokio::test]
async fn a_wrong_secret_token_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    fake.webhook(TOKEN).await;
    let alice = Person::new(555, "Alice");
    let mut update = alice.text(1, "let me in");
    update["update_id"] = json!(1);
    let client = reqwest::Client::new();
    let url = format!("{}/hooks/{id}", app.base);
    let wrong = client
        .post(&url)
        .header("x-telegram-bot-api-secret-token", "wrong-secret-0000")
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let missing = client.post(&url).body(update.to_string()).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let (_, chats) = admin.get("/api/v1/chats").await;
    assert_eq!(chats["chats"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn webhook_updates_of_every_kind_reach_the_operator() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    every_kind(&admin, &fake, id, Feed::Webhook { app: &app, fake: &fake }).await;
}

#[tokio::test]
async fn polled_updates_of_every_kind_reach_the_operator() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "polling", json!({})).await;
    every_kind(&admin, &fake, id, Feed::Polling { fake: &fake }).await;
    // Polling removed any webhook first, and asked only for what it handles.
    assert!(!fake.ok_calls("deleteWebhook").is_empty());
    let polls = fake.ok_calls("getUpdates");
    assert_eq!(
        polls[0].params["allowed_updates"],
        json!(["message", "edited_message", "callback_query", "my_chat_member"])
    );
}

async fn every_kind(admin: &Session, fake: &FakeTelegram, channel_id: i64, feed: Feed<'_>) {
    let mut alice = Person::new(555, "Alice");
    alice.last_name = Some("Liddell".into());
    alice.username = Some("alice_l".into());
    let file = |id: &str| json!({"file_id": id, "file_unique_id": format!("u-{id}"), "file_size": 2048});
    let mut events = admin.events(0).await;

    feed.send(alice.start(1, "promo_2026-spring")).await;
    let text = alice.message(
        2,
        json!({"text": "Hi, see this and @shop", "entities": [
            {"type": "text_link", "offset": 8, "length": 4, "url": "https://example.com/order/7"},
            {"type": "mention", "offset": 17, "length": 5}]}),
    );
    feed.send(json!({"message": text})).await;
    let mut photo = file("photo-big");
    photo["width"] = json!(1280);
    photo["height"] = json!(960);
    let mut small = file("photo-small");
    small["width"] = json!(90);
    small["height"] = json!(67);
    feed.send(json!({"message": alice.message(3, json!({"photo": [small, photo], "caption": "my parcel"}))})).await;
    let mut doc = file("doc-1");
    doc["file_name"] = json!("invoice.pdf");
    doc["mime_type"] = json!("application/pdf");
    feed.send(json!({"message": alice.message(4, json!({"document": doc}))})).await;
    let mut video = file("video-1");
    video.as_object_mut().unwrap().extend(
        json!({"width": 640, "height": 360, "duration": 12, "mime_type": "video/mp4"}).as_object().unwrap().clone(),
    );
    let italic = json!([{"type": "italic", "offset": 0, "length": 3}]);
    feed.send(json!({"message": alice.message(5, json!({"video": video, "caption": "unboxing", "caption_entities": italic}))}))
        .await;
    let mut voice = file("voice-1");
    voice
        .as_object_mut()
        .unwrap()
        .extend(json!({"duration": 3, "mime_type": "audio/ogg"}).as_object().unwrap().clone());
    feed.send(json!({"message": alice.message(6, json!({"voice": voice}))})).await;
    let mut audio = file("audio-1");
    audio.as_object_mut().unwrap().extend(
        json!({"duration": 200, "performer": "Band", "title": "Song", "mime_type": "audio/mpeg"})
            .as_object()
            .unwrap()
            .clone(),
    );
    feed.send(json!({"message": alice.message(7, json!({"audio": audio}))})).await;
    let mut sticker = file("sticker-1");
    sticker.as_object_mut().unwrap().extend(
        json!({"type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍", "set_name": "Hands"})
            .as_object()
            .unwrap()
            .clone(),
    );
    feed.send(json!({"message": alice.message(8, json!({"sticker": sticker}))})).await;
    let mut animation = file("gif-1");
    animation.as_object_mut().unwrap().extend(
        json!({"width": 320, "height": 240, "duration": 2, "file_name": "cat.mp4", "mime_type": "video/mp4"})
            .as_object()
            .unwrap()
            .clone(),
    );
    feed.send(json!({"message": alice.message(9, json!({"animation": animation, "document": animation}))})).await;
    let location = json!({"latitude": 55.7558, "longitude": 37.6173});
    feed.send(json!({"message": alice.message(10, json!({"location": location}))})).await;
    let venue = json!({"location": location, "title": "Red Square", "address": "Moscow"});
    feed.send(json!({"message": alice.message(11, json!({"venue": venue, "location": location}))})).await;
    let contact = json!({"phone_number": "+44 20 7946 0958", "first_name": "Alice", "user_id": 555});
    feed.send(json!({"message": alice.message(12, json!({"contact": contact}))})).await;
    feed.send(alice.reply(13, 2, "replying to myself")).await;
    let formatted = json!({"text": "Order 42 is late", "entities": [
        {"type": "bold", "offset": 0, "length": 8},
        {"type": "pre", "offset": 9, "length": 2, "language": "text"}]});
    feed.send(json!({"message": alice.message(14, formatted)})).await;
    feed.send(alice.edit(2, "Hi, see this and @shop (edited)")).await;
    feed.send(alice.press("cb-77", 13, "size_m")).await;
    // An update kind Parley does not handle is acknowledged and changes nothing.
    feed.send(json!({"poll_answer": {"poll_id": "p1", "user": alice.user(), "option_ids": [0]}})).await;
    // A message edited before it was ever seen is acknowledged too.
    feed.send(alice.edit(999, "ghost")).await;

    let press = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "size_m").await;
    let chat_id = press["chat_id"].as_i64().unwrap();
    let all = messages(admin, chat_id).await;
    assert_eq!(all.len(), 15, "{all:#?}");
    let texts: Vec<Value> = all.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts[0], "/start promo_2026-spring");
    assert_eq!(texts[1], "Hi, see this and @shop (edited)");
    assert!(all[1]["edited_at"].is_string());
    assert_eq!(texts[2], "my parcel");
    let photo = &all[2]["attachments"][0];
    assert_eq!(photo["kind"], "photo");
    assert_eq!(photo["file_id"], "photo-big");
    assert_eq!(photo["extra"]["file_unique_id"], "u-photo-big");
    assert_eq!(photo["size"], 2048);
    assert_eq!(photo["url"], format!("/api/v1/channels/{channel_id}/files/photo-big"));
    let doc = &all[3]["attachments"][0];
    assert_eq!(
        (doc["kind"].as_str(), doc["name"].as_str(), doc["mime"].as_str()),
        (Some("document"), Some("invoice.pdf"), Some("application/pdf"))
    );
    assert_eq!(all[4]["attachments"][0]["kind"], "video");
    assert_eq!(texts[4], "unboxing");
    assert_eq!(all[5]["attachments"][0]["kind"], "voice");
    assert_eq!(all[5]["attachments"][0]["mime"], "audio/ogg");
    assert_eq!(all[6]["attachments"][0]["name"], "Band – Song");
    assert_eq!(all[7]["attachments"][0]["kind"], "sticker");
    assert_eq!(all[7]["attachments"][0]["extra"]["emoji"], "👍");
    assert_eq!(all[8]["attachments"][0]["kind"], "animation");
    assert_eq!(all[9]["attachments"][0]["kind"], "location");
    assert_eq!(all[9]["attachments"][0]["extra"]["latitude"], 55.7558);
    assert_eq!(all[10]["attachments"][0]["kind"], "venue");
    assert_eq!(all[10]["attachments"][0]["extra"]["title"], "Red Square");
    assert_eq!(all[11]["attachments"][0]["kind"], "contact");
    assert_eq!(texts[12], "replying to myself");
    // Entities are kept as Telegram gave them (UTF-16 offsets), captions' too.
    assert_eq!(
        all[13]["entities"],
        json!([{"kind": "bold", "offset": 0, "length": 8}, {"kind": "pre", "offset": 9, "length": 2, "language": "text"}])
    );
    assert_eq!(all[4]["entities"], json!([{"kind": "italic", "offset": 0, "length": 3}]));
    // The edit carried no entities: the link and mention of the first version are gone.
    assert_eq!(all[1]["entities"], json!([]));
    assert_eq!(texts[14], "size_m");
    assert_eq!(all[14]["attachments"][0]["kind"], "button_press");
    // The button press was answered at once.
    fake.wait_until("answerCallbackQuery", |c| {
        c.iter().any(|c| c.method == "answercallbackquery" && c.params["callback_query_id"] == "cb-77")
    })
    .await;

    let contact = chat_of(admin, channel_id, 555).await;
    // Nothing went to the contact by itself: an operator's reply is the first send.
    let chat = contact["chat_id"].as_i64().unwrap();
    assert_eq!(admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "the first send"})).await.0, 201);
    let sent = fake.wait_until("the reply", |c| c.iter().any(|c| c.method == "sendmessage")).await;
    let sent: Vec<_> = sent.iter().filter(|c| c.method.starts_with("send")).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].params["text"], "the first send");

    assert_eq!(contact["first_name"], "Alice");
    assert_eq!(contact["last_name"], "Liddell");
    assert_eq!(contact["username"], "alice_l");
    assert_eq!(contact["phone"], "+44 20 7946 0958");
    assert_eq!(contact["start_payload"], "promo_2026-spring");
}

#[tokio::test]
async fn hidden_links_are_shown_and_captions_become_text() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let bob = Person::new(777, "Bob");
    let mut events = admin.events(0).await;
    let m = bob.message(1, json!({"text": "see this", "entities": [{"type": "text_link", "offset": 4, "length": 4, "url": "https://example.com/x"}]}));
    assert_eq!(fake.post_webhook(&app.base, TOKEN, json!({"message": m})).await, 200);
    let e = events.wait_for("message.created", |_| true).await;
    assert_eq!(e["data"]["message"]["text"], "see this\n\nhttps://example.com/x");
}

#[tokio::test]
async fn redelivered_updates_make_no_duplicates_whatever_their_update_id() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let carol = Person::new(321, "Carol");
    let mut update = carol.text(5, "only once please");
    update["update_id"] = json!(70);
    let post = |u: Value| fake.post_webhook(&app.base, TOKEN, u);
    assert_eq!(post(update.clone()).await, 200);
    assert_eq!(post(update.clone()).await, 200);
    // After a week of silence Telegram may restart update_id anywhere.
    update["update_id"] = json!(3);
    assert_eq!(post(update.clone()).await, 200);
    let press = carol.press("cb-1", 5, "yes");
    assert_eq!(fake.post_webhook(&app.base, TOKEN, press.clone()).await, 200);
    assert_eq!(fake.post_webhook(&app.base, TOKEN, press).await, 200);

    let contact = chat_of(&admin, id, 321).await;
    let all = messages(&admin, contact["chat_id"].as_i64().unwrap()).await;
    let texts: Vec<&str> = all.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["only once please", "yes"]);
}

#[tokio::test]
async fn polling_redelivery_is_a_no_op_and_the_offset_confirms_only_what_was_stored() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "polling", json!({})).await;
    let dave = Person::new(808, "Dave");
    fake.push_update(TOKEN, dave.text(1, "first"));
    fake.push_update(TOKEN, dave.text(1, "first"));
    fake.push_update(TOKEN, dave.text(2, "second"));
    fake.wait_confirmed(TOKEN).await;
    let contact = chat_of(&admin, id, 808).await;
    let all = messages(&admin, contact["chat_id"].as_i64().unwrap()).await;
    assert_eq!(all.iter().map(|m| m["text"].clone()).collect::<Vec<_>>(), [json!("first"), json!("second")]);
    // Each getUpdates after the first confirms what came before it.
    let offsets: Vec<i64> =
        fake.ok_calls("getUpdates").iter().map(|c| c.params["offset"].as_i64().unwrap_or(0)).collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
}

/// A chat with Telegram user 555 on channel `id`; returns the chat id.
async fn customer_chat(app: &TestApp, admin: &Session, fake: &FakeTelegram, id: i64) -> i64 {
    let mut events = admin.events(0).await;
    assert_eq!(fake.post_webhook(&app.base, TOKEN, Person::new(555, "Alice").text(1, "hello")).await, 200);
    let e = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "hello").await;
    let _ = id;
    e["chat_id"].as_i64().unwrap()
}

async fn wait_state(events: &mut crate::support::client::EventStream, message_id: &Value, state: &str) -> Value {
    events
        .wait_for("message.updated", |e| {
            e["data"]["message"]["id"] == *message_id && e["data"]["message"]["state"] == state
        })
        .await
}

mod notifications;
mod ordering;
mod sending;
