//! Contacts: quick search, edits, duplicates, merge and its undo, full-text search.

use serde_json::json;

use crate::support::{spawn_app, webhook_fake::FakeReceiver};

#[tokio::test]
async fn quick_search_matches_prefixes_of_name_phone_email_and_username() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    channel
        .inbound(json!({"user_id": "1", "message_id": "1", "text": "hi", "first_name": "Маша", "last_name": "Petrova",
            "username": "masha_p", "phone": "+7 999 123-45-67", "email": "Masha@Example.com"}))
        .await;
    channel.inbound(json!({"user_id": "2", "message_id": "2", "text": "hi", "first_name": "Martin"})).await;

    let names = |v: &serde_json::Value| -> Vec<String> {
        v["contacts"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&admin.get("/api/v1/contacts?q=ма").await.1), ["Маша Petrova"]);
    assert_eq!(names(&admin.get("/api/v1/contacts?q=petr").await.1), ["Маша Petrova"]);
    assert_eq!(names(&admin.get("/api/v1/contacts?q=%2B7999").await.1), ["Маша Petrova"]);
    assert_eq!(names(&admin.get("/api/v1/contacts?q=masha%40ex").await.1), ["Маша Petrova"]);
    assert_eq!(names(&admin.get("/api/v1/contacts?q=%40masha_").await.1), ["Маша Petrova"]);
    assert_eq!(names(&admin.get("/api/v1/contacts?q=mar").await.1), ["Martin"]);
    assert!(names(&admin.get("/api/v1/contacts?q=zzz").await.1).is_empty());
}

#[tokio::test]
async fn contacts_are_listed_newest_first_and_paged_without_a_query() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    for name in ["ann", "ben", "cai", "dot", "eli"] {
        channel.text(name, &format!("{name}-1"), "hi").await;
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["contacts"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    let (status, page) = admin.get("/api/v1/contacts?limit=2").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!((names(&page), &page["has_more"]), (vec!["eli".to_owned(), "dot".into()], &json!(true)));
    let last = page["contacts"][1]["id"].as_i64().unwrap();
    let (_, page) = admin.get(&format!("/api/v1/contacts?limit=2&before={last}")).await;
    assert_eq!(names(&page), ["cai", "ben"]);
    let last = page["contacts"][1]["id"].as_i64().unwrap();
    let (_, page) = admin.get(&format!("/api/v1/contacts?limit=2&before={last}")).await;
    assert_eq!((names(&page), &page["has_more"]), (vec!["ann".to_owned()], &json!(false)));
    assert_eq!(admin.get("/api/v1/contacts?before=abc").await.0, 400);
}

#[tokio::test]
async fn a_later_message_fills_empty_fields_and_alike_numbers_are_duplicates() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let chat = channel.text("fay", "f-1", "hello").await["chat_id"].as_i64().unwrap();
    let contact = admin.get(&format!("/api/v1/chats/{chat}")).await.1["contact"]["id"].as_i64().unwrap();
    let mut events = admin.events(0).await;
    channel
        .inbound(json!({"user_id": "fay", "message_id": "f-2", "text": "my details",
                        "phone": "+15550001", "email": "fay@example.com"}))
        .await;
    let e = events.wait_for("contact.updated", |e| e["data"]["contact"]["id"] == contact).await;
    assert_eq!(e["data"]["contact"]["phone"], "+15550001");
    let (_, card) = admin.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!((&card["phone"], &card["email"]), (&json!("+15550001"), &json!("fay@example.com")));
    // What an operator typed in is never overwritten by a later message.
    admin.patch(&format!("/api/v1/contacts/{contact}"), json!({"email": "fay@work.example"})).await;
    channel.inbound(json!({"user_id": "fay", "message_id": "f-3", "text": "again", "email": "fay@example.com"})).await;
    assert_eq!(admin.get(&format!("/api/v1/contacts/{contact}")).await.1["email"], "fay@work.example");

    // The same number, not a valid E.164 one, written alike by another contact.
    channel
        .inbound(
            json!({"user_id": "gus", "message_id": "g-1", "text": "hi", "first_name": "gus", "phone": "+1 555 0001"}),
        )
        .await;
    let (_, dups) = admin.get(&format!("/api/v1/contacts/{contact}/duplicates")).await;
    let dups = dups["contacts"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!((&dups[0]["name"], &dups[0]["reason"]), (&json!("gus"), &json!("phone")));
}

#[tokio::test]
async fn edits_duplicates_merge_and_undo() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let left_chat = channel.text("left", "l1", "from the left").await["chat_id"].as_i64().unwrap();
    let right_chat = channel.text("right", "r1", "from the right").await["chat_id"].as_i64().unwrap();
    let left = admin.get(&format!("/api/v1/chats/{left_chat}")).await.1["contact"]["id"].as_i64().unwrap();
    let right = admin.get(&format!("/api/v1/chats/{right_chat}")).await.1["contact"]["id"].as_i64().unwrap();

    // Same phone written two ways, and the same email in another case.
    let (status, edited) = admin
        .patch(
            &format!("/api/v1/contacts/{left}"),
            json!({"phone": "+44 20 7946 0958", "tags": ["vip"], "attributes": {"plan": "gold"}}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["tags"], json!(["vip"]));
    admin
        .patch(
            &format!("/api/v1/contacts/{right}"),
            json!({"phone": "00442079460958", "email": "Right@Example.com", "last_name": "Smith"}),
        )
        .await;
    let (status, _) = admin.patch(&format!("/api/v1/contacts/{right}"), json!({"email": "not-an-email"})).await;
    assert_eq!(status, 422);

    let (_, dups) = admin.get(&format!("/api/v1/contacts/{left}/duplicates")).await;
    assert_eq!(dups["contacts"][0]["id"], right);
    assert_eq!(dups["contacts"][0]["reason"], "phone");

    let (status, merged) = admin.post(&format!("/api/v1/contacts/{left}/merge"), json!({"source_id": right})).await;
    assert_eq!(status, 200, "{merged}");
    let contact = &merged["contact"];
    assert_eq!(contact["email"], "Right@Example.com", "empty fields of the target are filled");
    assert_eq!(contact["last_name"], "Smith");
    assert_eq!(contact["phone"], "+44 20 7946 0958", "the target's own values win");
    assert_eq!(contact["identities"].as_array().unwrap().len(), 2);
    let (_, history) = admin.get(&format!("/api/v1/chats/{left_chat}/messages")).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2, "one merged chat with both histories");
    assert_eq!(admin.get(&format!("/api/v1/chats/{right_chat}")).await.0, 404);
    assert_eq!(admin.get(&format!("/api/v1/contacts/{right}")).await.0, 404);
    let (_, open) = admin.get("/api/v1/chats").await;
    assert_eq!(open["chats"].as_array().unwrap().len(), 1);
    // A message to the source's identity now lands in the merged chat.
    assert_eq!(channel.text("right", "r2", "still me").await["chat_id"], left_chat);

    // Operators cannot undo; admins can, and both contacts come back as they were.
    let olga = app.operator(&admin, "Olga").await;
    let merge_id = merged["merge_id"].as_i64().unwrap();
    assert_eq!(olga.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.0, 403);
    let (status, undone) = admin.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(undone["target"]["email"], serde_json::Value::Null);
    assert_eq!(undone["target"]["identities"].as_array().unwrap().len(), 1);
    assert_eq!(undone["source"]["last_name"], "Smith");
    let (_, right_history) = admin.get(&format!("/api/v1/chats/{right_chat}/messages")).await;
    assert_eq!(right_history["messages"][0]["text"], "from the right");
    let (_, left_history) = admin.get(&format!("/api/v1/chats/{left_chat}/messages")).await;
    assert!(left_history["messages"].as_array().unwrap().iter().all(|m| m["text"] != "from the right"));
    assert_eq!(admin.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.0, 409);
    let (_, merges) = admin.get("/api/v1/merges").await;
    assert!(merges["merges"][0]["undone_at"].is_string());
    assert_eq!(admin.post(&format!("/api/v1/contacts/{left}/merge"), json!({"source_id": left})).await.0, 422);
}

#[tokio::test]
async fn full_text_search_finds_messages_of_any_age() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    channel.text("nina", "n1", "Где мой заказ номер 4711?").await;
    channel.text("omar", "o1", "The café was closed").await;
    channel.text("omar", "o2", "nothing relevant").await;

    let found = |v: &serde_json::Value| -> Vec<String> {
        v["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
    };
    let (_, r) = admin.get("/api/v1/search/messages?q=заказ").await;
    assert_eq!(found(&r), ["Где мой заказ номер 4711?"]);
    assert_eq!(r["messages"][0]["contact_name"], "nina");
    assert_eq!(found(&admin.get("/api/v1/search/messages?q=4711").await.1).len(), 1);
    assert_eq!(found(&admin.get("/api/v1/search/messages?q=caf%C3%A9%20closed").await.1), ["The café was closed"]);
    assert_eq!(found(&admin.get("/api/v1/search/messages?q=%22clo*%20(the").await.1), ["The café was closed"]);
    assert_eq!(admin.get("/api/v1/search/messages?q=").await.0, 400);

    // An edit replaces the words a message is found by.
    channel.inbound(json!({"user_id": "omar", "message_id": "o2", "text": "the repair is done", "edited": true})).await;
    assert_eq!(found(&admin.get("/api/v1/search/messages?q=repair").await.1), ["the repair is done"]);
    assert!(found(&admin.get("/api/v1/search/messages?q=relevant").await.1).is_empty());
}
