//! What contacts send: every kind the Cloud API delivers (pywa's real bodies), once
//! only, reactions on the message, media through the file proxy, the phone from `wa_id`.

use super::*;

const FIXTURES: [(&str, &str); 4] = [
    ("message", include_str!("../../connectors/whatsapp/tests/fixtures/message.json")),
    ("callback_button", include_str!("../../connectors/whatsapp/tests/fixtures/callback_button.json")),
    ("callback_selection", include_str!("../../connectors/whatsapp/tests/fixtures/callback_selection.json")),
    ("system", include_str!("../../connectors/whatsapp/tests/fixtures/system.json")),
];

/// Every real body, each message given an id of its own (pywa reuses one for all).
fn real_bodies() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (file, text) in FIXTURES {
        let cases: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        for (case, mut body) in cases {
            for m in body["entry"][0]["changes"][0]["value"]["messages"].as_array_mut().into_iter().flatten() {
                m["id"] = json!(format!("wamid.{file}.{case}"));
            }
            out.push((format!("{file}.{case}"), body));
        }
    }
    out
}

fn by_id<'a>(history: &'a [Value], platform_case: &str, texts: &'a [(String, Value)]) -> &'a Value {
    let i = texts.iter().position(|(c, _)| c == platform_case).expect("a known case");
    &history[i]
}

#[tokio::test]
async fn every_kind_of_real_payload_reaches_the_operator_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let bodies = real_bodies();
    for (case, body) in &bodies {
        let (status, answer) = whatsapp_fake::post(&app.base, id, body, Some(APP_SECRET)).await;
        assert_eq!(status, 200, "{case}: {answer}");
    }
    let chat = only_chat(&admin).await;
    let chat_id = chat["id"].as_i64().unwrap();
    let history = messages(&admin, chat_id).await;
    // The three reactions are to a message Parley never saw: acknowledged, not stored.
    let stored: Vec<(String, Value)> = bodies.iter().filter(|(c, _)| !c.contains("reaction")).cloned().collect();
    assert_eq!(history.len(), stored.len(), "{history:#?}");

    // Meta redelivers everything: nothing new.
    for (case, body) in &bodies {
        assert_eq!(whatsapp_fake::post(&app.base, id, body, Some(APP_SECRET)).await.0, 200, "{case}");
    }
    assert_eq!(messages(&admin, chat_id).await.len(), stored.len(), "a redelivered message is a no-op");

    let contact_id = chat["contact"]["id"].as_i64().unwrap();
    let (_, contact) = admin.get(&format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(contact["first_name"], "Test Name");
    assert_eq!(contact["phone"], "+972987654321");
    assert_eq!(contact["identities"][0]["external_id"], "972987654321");
    assert_eq!(contact["attributes"]["referral"]["ctwa_clid"], "CTWA_CLID", "the ad is kept on the contact");

    let m = |case: &str| by_id(&history, case, &stored).clone();
    assert_eq!(m("message.text")["text"], "Body Text");
    let photo = &m("message.image")["attachments"][0];
    assert_eq!(photo["kind"], "photo");
    assert_eq!(photo["url"], format!("/api/v1/channels/{id}/files/65463453"));
    assert_eq!(m("message.voice")["attachments"][0]["kind"], "voice");
    assert_eq!(m("message.audio")["attachments"][0]["kind"], "audio");
    assert_eq!(m("message.document")["attachments"][1]["kind"], "forwarded");
    assert_eq!(m("message.chosen_location")["attachments"][0]["kind"], "venue");
    assert_eq!(m("message.contacts")["attachments"].as_array().unwrap().len(), 3);
    let press = m("callback_button.quick_reply");
    assert_eq!(press["text"], "title");
    assert_eq!(press["attachments"][0], json!({"kind": "button_press", "extra": {"data": "callback_data"}}));
    assert_eq!(m("callback_selection.callback")["attachments"][0]["extra"]["data"], "callback_data");
    let unsupported = m("message.unsupported_with_type");
    assert_eq!(unsupported["attachments"][0]["name"], "Unsupported WhatsApp message: pool");
    assert!(unsupported["attachments"][1]["name"].as_str().unwrap().contains("131051"));
    assert!(m("system.phone_number_change")["text"].as_str().unwrap().contains("changed from"));
}

#[tokio::test]
async fn reactions_show_on_the_message_and_can_be_taken_back() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let ada = Customer::new("15550001111", "Ada");
    let chat_id = customer_chat(&app, &admin, id, &ada).await;
    let mut events = admin.events(0).await;

    whatsapp_fake::deliver(&app.base, id, &ada.reaction("wamid.r1", "wamid.hello", "👍")).await;
    let e = events.wait_for("message.updated", |e| e["data"]["message"]["reactions"].is_array()).await;
    assert_eq!(e["data"]["message"]["reactions"], json!([{"emoji": "👍", "by": "contact"}]));
    let history = messages(&admin, chat_id).await;
    assert_eq!(history.len(), 1, "a reaction is not a message");
    assert_eq!(history[0]["reactions"][0]["emoji"], "👍");

    // Another customer cannot react to Ada's message.
    let eve = Customer::new("15550002222", "Eve");
    whatsapp_fake::deliver(&app.base, id, &eve.reaction("wamid.r2", "wamid.hello", "💩")).await;
    whatsapp_fake::deliver(&app.base, id, &ada.reaction("wamid.r3", "wamid.hello", "")).await;
    events.wait_for("message.updated", |e| e["data"]["message"]["reactions"].is_null()).await;
    let history = messages(&admin, chat_id).await;
    assert!(history[0].get("reactions").is_none(), "{}", history[0]);
}

#[tokio::test]
async fn inbound_media_is_fetched_through_the_file_proxy_with_the_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    fake.add_media("7001", "image/jpeg", b"\xff\xd8jpeg bytes");
    let id = channel(&admin, &fake).await;
    let ada = Customer::new("15550001111", "Ada");
    let image = json!({"type": "image", "image": {"id": "7001", "mime_type": "image/jpeg", "sha256": "x"}});
    whatsapp_fake::deliver(&app.base, id, &ada.message("wamid.img", image)).await;
    let chat_id = only_chat(&admin).await["id"].as_i64().unwrap();
    let url = messages(&admin, chat_id).await[0]["attachments"][0]["url"].as_str().unwrap().to_owned();

    let res = reqwest::Client::new()
        .get(format!("{}{url}", app.base))
        .header("cookie", admin.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"\xff\xd8jpeg bytes");
    let (status, _) = admin.get(&format!("/api/v1/channels/{id}/files/7999")).await;
    assert_eq!(status, 404, "a media id WhatsApp does not know");
    let (status, _) = app.anonymous().get(&url).await;
    assert_eq!(status, 401, "operators only");
}

#[tokio::test]
async fn the_phone_from_wa_id_surfaces_a_duplicate_from_another_channel() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let hooks = crate::support::webhook_fake::FakeReceiver::start().await;
    let webhook = app.webhook_channel(&admin, &hooks).await;
    let (status, _) = webhook
        .inbound(
            json!({"user_id": "ada-web", "message_id": "w1", "text": "hi from the web", "phone": "+44 20 7946 0958"}),
        )
        .await;
    assert_eq!(status, 200);
    whatsapp_fake::deliver(&app.base, id, &Customer::new("442079460958", "Ada").text("wamid.1", "hi")).await;
    let (_, list) = admin.get("/api/v1/contacts?q=Ada").await;
    let contact = list["contacts"].as_array().unwrap().iter().find(|c| c["first_name"] == "Ada").cloned().unwrap();
    let (_, dups) = admin.get(&format!("/api/v1/contacts/{}/duplicates", contact["id"])).await;
    assert_eq!(dups["contacts"].as_array().map(Vec::len), Some(1), "{dups}");
}
