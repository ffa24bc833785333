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
    assert_eq!(polls[0].params["allowed_updates"], json!(["message", "edited_message", "callback_query"]));
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
    feed.send(json!({"message": alice.message(5, json!({"video": video, "caption": "unboxing"}))})).await;
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
    feed.send(alice.edit(2, "Hi, see this and @shop (edited)")).await;
    feed.send(alice.press("cb-77", 13, "size_m")).await;
    // An update kind Parley does not handle is acknowledged and changes nothing.
    feed.send(json!({"poll_answer": {"poll_id": "p1", "user": alice.user(), "option_ids": [0]}})).await;
    // A message edited before it was ever seen is acknowledged too.
    feed.send(alice.edit(999, "ghost")).await;

    let press = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "size_m").await;
    let chat_id = press["chat_id"].as_i64().unwrap();
    let all = messages(admin, chat_id).await;
    assert_eq!(all.len(), 14, "{all:#?}");
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
    assert_eq!(texts[13], "size_m");
    assert_eq!(all[13]["attachments"][0]["kind"], "button_press");
    // The hidden link behind "this" is shown to the operator.
    let edited_before = fake.all_calls("sendMessage").len();
    assert_eq!(edited_before, 0, "nothing is sent to the contact by itself");

    // The button press was answered at once.
    fake.wait_until("answerCallbackQuery", |c| {
        c.iter().any(|c| c.method == "answercallbackquery" && c.params["callback_query_id"] == "cb-77")
    })
    .await;

    let contact = chat_of(admin, channel_id, 555).await;
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
    let (_, secret) = fake.webhook(TOKEN).await;
    let carol = Person::new(321, "Carol");
    let mut update = carol.text(5, "only once please");
    update["update_id"] = json!(70);
    let post = |u: Value| {
        let (base, secret) = (app.base.clone(), secret.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{base}/hooks/{id}"))
                .header("x-telegram-bot-api-secret-token", secret)
                .body(u.to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
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

#[tokio::test]
async fn long_text_buttons_photos_and_documents_are_sent() {
    let app = spawn_app_with(|c| c.limits.message_chars = 10_000).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let chat_id = customer_chat(&app, &admin, &fake, id).await;
    let mut events = admin.events(0).await;

    let long = format!("{}\n{}", "a".repeat(4000), "b".repeat(3000));
    let (status, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": long})).await;
    assert_eq!(status, 201, "{reply}");
    wait_state(&mut events, &reply["id"], "sent").await;
    let sent = fake.ok_calls("sendMessage");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].params["chat_id"], 555);
    assert_eq!(sent[0].params["text"], "a".repeat(4000));
    assert_eq!(sent[1].params["text"], "b".repeat(3000));

    // A bot's message with buttons and files.
    let content = parley_sdk::Content {
        text: Some("Pick a size".into()),
        attachments: vec![],
        buttons: vec![
            parley_sdk::Button { label: "M".into(), data: "size_m".into() },
            parley_sdk::Button { label: "Track".into(), data: "https://example.com/track".into() },
        ],
    };
    let photo = parley_sdk::Content {
        text: Some("Your parcel".into()),
        attachments: vec![parley_sdk::Attachment {
            kind: "photo".into(),
            url: Some("https://example.com/p.jpg".into()),
            ..Default::default()
        }],
        buttons: vec![],
    };
    let doc = parley_sdk::Content {
        text: None,
        attachments: vec![parley_sdk::Attachment {
            kind: "document".into(),
            file_id: Some("doc-1".into()),
            name: Some("invoice.pdf".into()),
            ..Default::default()
        }],
        buttons: vec![],
    };
    let now = app.app().now();
    let ids = app
        .app()
        .store
        .write(move |db| -> parley::error::Result<Vec<i64>> {
            use parley::inbox::messages::{Author, enqueue};
            Ok(vec![
                enqueue(db, chat_id, None, &content, Author::Bot, now)?,
                enqueue(db, chat_id, None, &photo, Author::Bot, now)?,
                enqueue(db, chat_id, None, &doc, Author::Bot, now)?,
            ])
        })
        .await
        .unwrap();
    app.app().kick_outbox();
    for id in &ids {
        wait_state(&mut events, &json!(id), "sent").await;
    }
    let sent = fake.ok_calls("sendMessage");
    let keyboard = &sent[2].params["reply_markup"]["inline_keyboard"];
    assert_eq!(keyboard[0][0], json!({"text": "M", "callback_data": "size_m"}));
    assert_eq!(keyboard[1][0], json!({"text": "Track", "url": "https://example.com/track"}));
    let photos = fake.ok_calls("sendPhoto");
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].params["photo"], "https://example.com/p.jpg");
    assert_eq!(photos[0].params["caption"], "Your parcel");
    let docs = fake.ok_calls("sendDocument");
    assert_eq!(docs[0].params["document"], "doc-1");
}

#[tokio::test]
async fn rate_limits_pause_and_retry_and_slow_answers_are_waited_for() {
    let app = spawn_app_with(|c| c.outbox.backoff_base_ms = 10).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let chat_id = customer_chat(&app, &admin, &fake, id).await;
    let mut events = admin.events(0).await;
    fake.fail("sendMessage", &[Failure::RetryAfter(1), Failure::Slow(std::time::Duration::from_millis(1500))]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "after the pause"})).await;
    let sent = wait_state(&mut events, &reply["id"], "sent").await;
    assert_eq!(sent["data"]["message"]["state"], "sent");
    let attempts = fake.all_calls("sendMessage");
    assert_eq!(attempts.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);
}

#[tokio::test]
async fn server_errors_are_retried_until_sent() {
    let app = spawn_app_with(|c| c.outbox.backoff_base_ms = 10).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let chat_id = customer_chat(&app, &admin, &fake, id).await;
    let mut events = admin.events(0).await;
    fake.fail("sendMessage", &[Failure::ServerError]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "through a 500"})).await;
    wait_state(&mut events, &reply["id"], "sent").await;
    assert_eq!(fake.all_calls("sendMessage").iter().map(|c| c.status).collect::<Vec<_>>(), [500, 200]);
}

#[tokio::test]
async fn a_blocked_bot_fails_the_message_at_once_and_marks_the_contact_unreachable() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let chat_id = customer_chat(&app, &admin, &fake, id).await;
    let mut events = admin.events(0).await;
    fake.fail("sendMessage", &[Failure::Blocked]);
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "are you there?"})).await;
    let failed = wait_state(&mut events, &reply["id"], "failed").await;
    assert!(failed["data"]["message"]["failure_reason"].as_str().unwrap().contains("blocked"), "{failed}");
    let contact = chat_of(&admin, id, 555).await;
    assert!(contact["identities"][0]["unreachable_reason"].as_str().unwrap().contains("blocked"));
    // Later replies fail without bothering Telegram.
    let (_, again) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "hello?"})).await;
    wait_state(&mut events, &again["id"], "failed").await;
    assert_eq!(fake.all_calls("sendMessage").len(), 1);

    // "chat not found" is just as final.
    let other = Person::new(556, "Zed");
    assert_eq!(fake.post_webhook(&app.base, TOKEN, other.text(1, "hi")).await, 200);
    let zed = chat_of(&admin, id, 556).await["chat_id"].as_i64().unwrap();
    fake.fail("sendMessage", &[Failure::ChatNotFound]);
    let (_, r) = admin.post(&format!("/api/v1/chats/{zed}/messages"), json!({"text": "x"})).await;
    let failed = wait_state(&mut events, &r["id"], "failed").await;
    assert!(failed["data"]["message"]["failure_reason"].as_str().unwrap().contains("chat not found"));
}

#[tokio::test]
async fn media_open_through_the_authenticated_proxy() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    fake.add_file("photo-9", "photos/file_9.jpg", b"\xff\xd8\xff fake jpeg");
    let eve = Person::new(42_000, "Eve");
    let photo = json!([{"file_id": "photo-9", "file_unique_id": "u9", "width": 10, "height": 10, "file_size": 14}]);
    let mut events = admin.events(0).await;
    assert_eq!(
        fake.post_webhook(&app.base, TOKEN, json!({"message": eve.message(1, json!({"photo": photo}))})).await,
        200
    );
    let e = events.wait_for("message.created", |_| true).await;
    let url = e["data"]["message"]["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/channels/{id}/files/photo-9"));

    let res = reqwest::Client::new()
        .get(format!("{}{url}", app.base))
        .header("cookie", admin.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"\xff\xd8\xff fake jpeg");
    let (status, _) = app.anonymous().get(&url).await;
    assert_eq!(status, 401);
    let (status, _) = admin.get(&format!("/api/v1/channels/{id}/files/unknown")).await;
    assert_eq!(status, 404);
    assert!(fake.ok_calls("getFile").iter().any(|c| c.params["file_id"] == "photo-9"));
}

#[tokio::test]
async fn an_operator_links_telegram_is_notified_and_replies_from_telegram() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let bob = app.operator(&admin, "Bob Operator").await;
    let fake = FakeTelegram::start().await;
    let customers = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    let notify_token = "777:notify-bot-token";
    channel(&admin, &fake, notify_token, "polling", json!({"notify_operators": true})).await;

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
    app.app().consoles.wait_count(bob.id, 1).await;
    assert_eq!(
        fake.post_webhook(&app.base, TOKEN, Person::new(555, "Alice").text(2, "seen in the console")).await,
        200
    );
    // A later event that is always notified: once it arrives, the notifier (which takes
    // events in order) has decided about the message above while the console was open.
    let (status, _) = admin
        .post(&format!("/api/v1/chats/{chat_id}/transfer"), json!({"operator_id": bob.id, "comment": "once more"}))
        .await;
    assert_eq!(status, 200);
    fake.wait_until("the second transfer notification", |c| {
        c.iter().any(|c| c.token == notify_token && c.params["text"].as_str().is_some_and(|t| t.contains("once more")))
    })
    .await;
    console.close().await;
    app.app().consoles.wait_count(bob.id, 0).await;
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
}

#[tokio::test]
async fn a_burst_within_telegrams_limits_meets_no_429() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    fake.enforce_limits(true);
    let id = channel(&admin, &fake, TOKEN, "webhook", json!({})).await;
    fake.quiet();
    let mut chats = Vec::new();
    let mut events = admin.events(0).await;
    for user in 0..45 {
        assert_eq!(fake.post_webhook(&app.base, TOKEN, Person::new(10_000 + user, "Fan").text(1, "hi")).await, 200);
    }
    while chats.len() < 45 {
        let e = events.wait_for("message.created", |e| e["data"]["message"]["direction"] == "in").await;
        chats.push(e["chat_id"].as_i64().unwrap());
    }
    let _ = id;
    let mut replies = Vec::new();
    for chat in &chats {
        let (status, r) = admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "thanks!"})).await;
        assert_eq!(status, 201);
        replies.push(r["id"].clone());
    }
    let mut pending: std::collections::HashSet<i64> = replies.iter().map(|r| r.as_i64().unwrap()).collect();
    while !pending.is_empty() {
        let e = events.next().await.expect("the event socket closed");
        if e["kind"] == "message.updated" && e["data"]["message"]["state"] == "sent" {
            pending.remove(&e["data"]["message"]["id"].as_i64().unwrap());
        }
    }
    fake.wait_count("sendMessage", 45, crate::support::PATIENCE).await;
    assert_eq!(fake.throttled(), 0, "the throttle kept under 30 messages/s");
    assert_eq!(fake.ok_count("sendMessage"), 45);
}
