//! The audit log: admin actions recorded with who, when and what changed, in the
//! transaction of the change; `GET /api/v1/audit` for admins, a page at a time.

use serde_json::{Value, json};

use crate::support::spawn_app;
use crate::support::webhook_fake::FakeReceiver;

/// (action, subject, actor's name) of each entry, newest first.
fn summary(page: &Value) -> Vec<(String, String, String)> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (s("action"), s("subject"), e["actor"]["name"].as_str().unwrap_or("cli").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn admin_actions_are_logged_with_who_and_what_changed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let fake = FakeReceiver::start().await;
    let mut channel = app.webhook_channel(&admin, &fake).await;
    let (status, _) = admin
        .patch(
            &format!("/api/v1/channels/{}", channel.id),
            json!({"name": "Hooks 2", "settings": {"secret": "another-secret-0123456789"}}),
        )
        .await;
    assert_eq!(status, 200);
    channel.secret = "another-secret-0123456789".into();
    // A refused change leaves no entry.
    let (status, _) =
        admin.patch(&format!("/api/v1/channels/{}", channel.id), json!({"settings": {"url": "ftp://x"}})).await;
    assert_eq!(status, 422);
    admin.post(&format!("/api/v1/operators/{}/deactivate", olga.id), json!({})).await;
    admin.post(&format!("/api/v1/operators/{}/reactivate", olga.id), json!({})).await;
    let left_chat = channel.text("left", "l1", "from the left").await["chat_id"].as_i64().unwrap();
    let right_chat = channel.text("right", "r1", "from the right").await["chat_id"].as_i64().unwrap();
    let left = admin.get(&format!("/api/v1/chats/{left_chat}")).await.1["contact"]["id"].as_i64().unwrap();
    let right = admin.get(&format!("/api/v1/chats/{right_chat}")).await.1["contact"]["id"].as_i64().unwrap();
    let (_, merged) = admin.post(&format!("/api/v1/contacts/{left}/merge"), json!({"source_id": right})).await;
    let merge_id = merged["merge_id"].as_i64().unwrap();
    assert_eq!(admin.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.0, 200);
    assert_eq!(admin.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.0, 409);

    let olga = app.login("olga@example.com", "operator pass").await;
    assert_eq!(olga.get("/api/v1/audit").await.0, 403, "admins only");
    let (status, page) = admin.get("/api/v1/audit").await;
    assert_eq!(status, 200, "{page}");
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned(), "Ada Admin".to_owned());
    assert_eq!(
        summary(&page),
        [
            s("undone", "merge"),
            s("merged", "merge"),
            s("reactivated", "operator"),
            s("deactivated", "operator"),
            s("updated", "channel"),
            s("created", "channel"),
            s("created", "operator"),
        ],
        "{page}"
    );
    let entries = page["entries"].as_array().unwrap();
    let update = &entries[4];
    assert_eq!(update["subject_id"], channel.id);
    assert_eq!(update["changes"]["name"], json!({"from": "Hooks", "to": "Hooks 2"}));
    let secret = &update["changes"]["settings.secret"];
    assert!(secret["to"].as_str().unwrap().starts_with("••••"), "secrets stay redacted: {update}");
    assert!(!page.to_string().contains("another-secret-0123456789"));
    assert_eq!(entries[3]["changes"]["active"], json!({"from": true, "to": false}));
    assert_eq!(entries[3]["changes"]["sessions_ended"], 1);
    assert_eq!(entries[6]["changes"]["email"], "olga@example.com");
    assert!(entries.iter().all(|e| e["at"].as_str().unwrap().ends_with('Z')));

    // Paged, newest first: two at a time, then the next two from `next_before`.
    let (_, first) = admin.get("/api/v1/audit?limit=2").await;
    assert_eq!(summary(&first), summary(&page)[..2]);
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = admin.get(&format!("/api/v1/audit?limit=2&before={before}")).await;
    assert_eq!(summary(&second), summary(&page)[2..4]);
    let (_, last) = admin.get("/api/v1/audit?limit=50").await;
    assert_eq!(last["next_before"], Value::Null);
    assert_eq!(admin.get("/api/v1/audit?limit=many").await.0, 422);
}
