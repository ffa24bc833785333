//! Sending to Discord: long texts, buttons, files, 429s, and refusals.

use super::*;
use crate::support::discord_fake::Failure;

async fn customer(s: &mut Setup) -> (Person, i64) {
    let nelly = Person::new(80351110224678912, "Nelly");
    let chat_id = dm(&s.fake, &mut s.events, &nelly, 1300000000000000001, "hello").await;
    (nelly, chat_id)
}

#[tokio::test]
async fn long_texts_split_and_buttons_and_files_go_as_components_and_uploads() {
    let mut s = setup(json!({})).await;
    let (nelly, chat_id) = customer(&mut s).await;
    let long = format!("{}\n{}", "a".repeat(1500), "b".repeat(1500));
    let (_, reply) = s.admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": long})).await;
    wait_state(&mut s.events, &reply["id"], "sent").await;
    let sent = s.fake.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body["content"], "a".repeat(1500));
    assert_eq!(sent[1].body["content"], "b".repeat(1500));

    s.fake.add_file("menu.pdf", b"%PDF", message(1, 1, json!({"id": "1", "username": "x"}), ""));
    let content = parley_sdk::Content {
        text: Some("Pick a size".into()),
        buttons: (0..7).map(|i| parley_sdk::Button { label: format!("S{i}"), data: format!("size_{i}") }).collect(),
        attachments: vec![parley_sdk::Attachment {
            kind: "document".into(),
            url: Some(s.fake.cdn_url("menu.pdf")),
            name: Some("menu.pdf".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let now = s.app.app().now();
    let id = s
        .app
        .app()
        .store
        .write(move |db| {
            parley::inbox::messages::enqueue(db, chat_id, None, &content, parley::inbox::messages::Author::Bot, now)
        })
        .await
        .unwrap();
    wait_state(&mut s.events, &json!(id), "sent").await;
    let last = s.fake.sent().pop().unwrap();
    assert_eq!(last.path, format!("/channels/{}/messages", nelly.dm()));
    assert_eq!(last.files, vec!["menu.pdf"]);
    let rows = last.body["components"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "five buttons to a row");
    assert_eq!(rows[0]["components"].as_array().unwrap().len(), 5);
    assert_eq!(rows[1]["components"][1]["custom_id"], "size_6");
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_message_goes_once() {
    let mut s = setup(json!({})).await;
    let (nelly, chat_id) = customer(&mut s).await;
    s.fake.fail(nelly.dm(), &[Failure::RateLimited(0.2), Failure::ServerError]);
    let (_, reply) =
        s.admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "after the wait"})).await;
    wait_state(&mut s.events, &reply["id"], "sent").await;
    let tries: Vec<u16> = s.fake.calls().iter().filter(|c| c.path.ends_with("/messages")).map(|c| c.status).collect();
    assert_eq!(tries, vec![429, 500, 200], "the 429 and the 500 retried through the outbox");
    assert_eq!(s.fake.sent().len(), 1);
}

#[tokio::test]
async fn cannot_send_to_this_user_fails_at_once_and_marks_the_identity_unreachable() {
    let mut s = setup(json!({})).await;
    let (nelly, chat_id) = customer(&mut s).await;
    s.fake.fail(nelly.dm(), &[Failure::CannotMessageUser]);
    let (_, reply) = s.admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "anyone?"})).await;
    let e = wait_state(&mut s.events, &reply["id"], "failed").await;
    assert!(
        e["data"]["message"]["failure_reason"].as_str().unwrap().contains("Cannot send messages to this user"),
        "{e}"
    );
    let (_, chat) = s.admin.get(&format!("/api/v1/chats/{chat_id}")).await;
    let (_, contact) = s.admin.get(&format!("/api/v1/contacts/{}", chat["contact"]["id"])).await;
    assert!(contact["identities"][0]["unreachable_reason"].as_str().unwrap().contains("50007"), "{contact}");
    assert_eq!(s.fake.calls().iter().filter(|c| c.path.ends_with("/messages")).count(), 1, "never retried");

    // An unknown channel is as final.
    let kim = Person::new(80351110224678913, "Kim");
    let chat2 = dm(&s.fake, &mut s.events, &kim, 1300000000000000002, "hi").await;
    s.fake.fail(kim.dm(), &[Failure::UnknownChannel]);
    let (_, reply) = s.admin.post(&format!("/api/v1/chats/{chat2}/messages"), json!({"text": "hello?"})).await;
    let e = wait_state(&mut s.events, &reply["id"], "failed").await;
    assert!(e["data"]["message"]["failure_reason"].as_str().unwrap().contains("Unknown Channel"), "{e}");
}
