//! Operator notifications through Discord: a one-time code DM'd to the bot links the
//! operator's Discord account; assignments are notified there, and a reply to a
//! notification goes to the customer.

use super::*;

#[tokio::test]
async fn an_operator_links_discord_is_notified_and_replies_from_discord() {
    let Setup { app, admin, fake, mut events, .. } = setup(json!({"notify_operators": true})).await;
    let bob = app.operator(&admin, "Bob Operator").await;
    let (status, body) = bob.post("/api/v1/me/notify/discord", json!({})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["link"], "https://discord.com/users/42");
    assert_eq!(body["bot_name"], BOT_NAME);
    let message_to_send = body["message"].as_str().unwrap().to_owned();
    assert!(message_to_send.starts_with("/start op-"), "{message_to_send}");

    // A wrong code links nothing, and the bot says so.
    let mallory = Person::new(6666, "Mallory");
    fake.dispatch("MESSAGE_CREATE", mallory.message(1300000000000000101, "/start op-notthecode", json!({})));
    let calls = fake
        .wait_until("the refusal", |c| c.iter().any(|c| c.path == format!("/channels/{}/messages", mallory.dm())))
        .await;
    let refusal = calls.iter().find(|c| c.path == format!("/channels/{}/messages", mallory.dm())).unwrap();
    assert!(refusal.body["content"].as_str().unwrap().contains("unknown, used or expired"), "{refusal:?}");
    let (_, me) = bob.get("/api/v1/me").await;
    assert_eq!(me["notify"]["discord"], false);

    // Bob DMs the code to the bot.
    let bob_dc = Person::new(9001, "Bob");
    fake.dispatch("MESSAGE_CREATE", bob_dc.message(1300000000000000102, &message_to_send, json!({})));
    let calls = fake
        .wait_until("the confirmation", |c| c.iter().any(|c| c.path == format!("/channels/{}/messages", bob_dc.dm())))
        .await;
    assert!(calls.iter().any(|c| c.body["content"].as_str().is_some_and(|t| t.starts_with("Connected"))));
    let (_, me) = bob.get("/api/v1/me").await;
    assert_eq!((me["notify"]["discord"].as_bool(), me["notify"]["telegram"].as_bool()), (Some(true), Some(false)));

    // A customer writes; the admin transfers the chat to Bob, who is told in Discord.
    let nelly = Person::new(80351110224678912, "Nelly");
    let chat_id = dm(&fake, &mut events, &nelly, 1300000000000000103, "where is my order?").await;
    let (status, _) = admin
        .post(&format!("/api/v1/chats/{chat_id}/transfer"), json!({"operator_id": bob.id, "comment": "VIP, be nice"}))
        .await;
    assert_eq!(status, 200);
    let to_bob = format!("/channels/{}/messages", bob_dc.dm());
    let calls = fake
        .wait_until("the transfer notification", |c| {
            c.iter().any(|c| c.path == to_bob && c.body["content"].as_str().is_some_and(|t| t.contains("VIP")))
        })
        .await;
    let notice =
        calls.iter().find(|c| c.path == to_bob && c.body["content"].as_str().unwrap().contains("VIP")).unwrap();
    let text = notice.body["content"].as_str().unwrap();
    assert!(text.contains("Nelly") && text.contains("where is my order?"), "{text}");
    let notice_id: u64 = notice.message_id.as_deref().unwrap().parse().unwrap();

    // Bob answers the notification with Discord's Reply: the customer gets it, from Bob.
    let bot = json!({"id": "42", "username": BOT_NAME, "discriminator": "0", "bot": true});
    let replied = message(notice_id, bob_dc.dm(), bot, text);
    let reference = json!({"type": 0, "message_id": notice_id.to_string(), "channel_id": bob_dc.dm().to_string()});
    fake.dispatch(
        "MESSAGE_CREATE",
        bob_dc.message(
            1300000000000000104,
            "Hi Nelly, Bob here",
            json!({"type": 19, "referenced_message": replied, "message_reference": reference}),
        ),
    );
    let created = events.wait_for("message.created", |e| e["data"]["message"]["text"] == "Hi Nelly, Bob here").await;
    assert_eq!(created["data"]["message"]["author"]["id"], bob.id);
    assert_eq!(created["chat_id"], chat_id);
    fake.wait_until("the relayed reply", |c| {
        c.iter().any(|c| {
            c.path == format!("/channels/{}/messages", nelly.dm()) && c.body["content"] == "Hi Nelly, Bob here"
        })
    })
    .await;

    // Disconnecting stops it.
    let (status, _) = bob.delete("/api/v1/me/notify/discord").await;
    assert_eq!(status, 204);
    let (_, me) = bob.get("/api/v1/me").await;
    assert_eq!(me["notify"]["discord"], false);
}
