//! Audiences: filters, the preview's counts by channel, who is skipped and why, and the
//! API's refusals.

use serde_json::{Value, json};

use super::support::telegram_fake::FakeTelegram;
use super::support::{spawn_app, webhook_fake::FakeReceiver};
use super::{TOKEN, act, create, fig, people, recipients, telegram, until};

/// The contact behind Telegram user `user`.
async fn contact_of(admin: &super::Session, user: i64) -> Value {
    let (_, list) = admin.get("/api/v1/contacts?limit=100").await;
    list["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["identities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["external_id"].as_str().and_then(|s| s.parse::<i64>().ok()) == Some(user))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no contact for {user}: {list}"))
}

async fn preview(admin: &super::Session, audience: Value) -> Value {
    let (status, p) = admin.post("/api/v1/broadcasts/preview", json!({"audience": audience})).await;
    assert_eq!(status, 200, "{p}");
    p
}

#[tokio::test]
async fn filters_count_by_channel_and_leave_out_the_unsubscribed_and_unreachable() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    let tg = telegram(&admin, &fake).await;
    let receiver = FakeReceiver::start().await;
    let hooks = app.webhook_channel(&admin, &receiver).await;
    let tg_people = people(&app, &fake, 100, 6).await;
    for user in ["w1", "w2"] {
        hooks.text(user, &format!("{user}-m1"), "hi").await;
    }

    // Tags, a field and an attribute on some of the Telegram contacts.
    for (user, tags, plan) in
        [(100, json!(["vip", "berlin"]), "pro"), (101, json!(["vip"]), "free"), (102, json!(["berlin"]), "pro")]
    {
        let c = contact_of(&admin, user).await;
        let (s, body) = admin
            .patch(&format!("/api/v1/contacts/{}", c["id"]), json!({"tags": tags, "attributes": {"plan": plan}}))
            .await;
        assert_eq!(s, 200, "{body}");
    }
    let c103 = contact_of(&admin, 103).await;
    admin.patch(&format!("/api/v1/contacts/{}", c103["id"]), json!({"email": "ann@example.com"})).await;

    let everyone = preview(&admin, json!({})).await;
    assert_eq!(everyone["count"], 8, "{everyone}");
    let by: Vec<(i64, i64)> = everyone["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["channel_id"].as_i64().unwrap(), c["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(by, [(tg, 6), (hooks.id, 2)]);
    assert_eq!(preview(&admin, json!({"channels": [hooks.id]})).await["count"], 2);
    assert_eq!(preview(&admin, json!({"tags": {"any": ["vip"]}})).await["count"], 2);
    assert_eq!(preview(&admin, json!({"tags": {"all": ["vip", "berlin"]}})).await["count"], 1);
    assert_eq!(preview(&admin, json!({"tags": {"none": ["vip"]}})).await["count"], 6);
    assert_eq!(preview(&admin, json!({"attributes": {"plan": "pro"}})).await["count"], 2);
    assert_eq!(preview(&admin, json!({"fields": {"email": "ANN@example.com"}})).await["count"], 1);
    assert_eq!(preview(&admin, json!({"fields": {"email": true}})).await["count"], 1);
    let ids = json!([c103["id"], contact_of(&admin, 104).await["id"]]);
    assert_eq!(preview(&admin, json!({"contact_ids": ids})).await["count"], 2);
    assert_eq!(preview(&admin, json!({"last_active": {"after": "2000-01-01T00:00:00Z"}})).await["count"], 8);
    assert_eq!(preview(&admin, json!({"first_seen": {"before": "2000-01-01T00:00:00Z"}})).await["count"], 0);

    // One unsubscribes on the contact card, one blocks the bot: both are skipped.
    admin
        .patch(&format!("/api/v1/contacts/{}", contact_of(&admin, 104).await["id"]), json!({"unsubscribed": true}))
        .await;
    assert_eq!(fake.post_webhook(&app.base, TOKEN, tg_people[5].membership("kicked")).await, 200);
    let p = preview(&admin, json!({"channels": [tg]})).await;
    assert_eq!(p["count"], 4, "{p}");
    assert_eq!(p["skipped"], json!({"no reachable identity": 1, "unsubscribed": 1}));

    // Starting writes one row per contact of the audience, the skipped ones included.
    let b =
        create(&admin, json!({"name": "News", "content": {"text": "Big news"}, "audience": {"channels": [tg]}})).await;
    assert_eq!(b["state"], "draft");
    let id = b["id"].as_i64().unwrap();
    act(&admin, id, "start").await;
    let b = until(&admin, id, "the broadcast to end", |b| b["state"] == "done").await;
    assert_eq!((fig(&b, "total"), fig(&b, "sent"), fig(&b, "skipped")), (6, 4, 2), "{b}");
    let skipped = recipients(&admin, id, Some("skipped")).await;
    let mut reasons: Vec<&str> = skipped.iter().map(|r| r["reason"].as_str().unwrap()).collect();
    reasons.sort();
    assert_eq!(reasons, ["no reachable identity", "unsubscribed"]);
    assert_eq!(super::received(&fake, "Big news").len(), 4);
    assert!(receiver.received().iter().all(|m| m["text"] != "Big news"), "limited to the Telegram channel");
}

#[tokio::test]
async fn admins_write_operators_read_and_bad_input_is_refused_plainly() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let operator = app.operator(&admin, "Olga Operator").await;
    let body = json!({"name": "Hello", "content": {"text": "Hi all"}, "audience": {}});
    let (status, _) = operator.post("/api/v1/broadcasts", body.clone()).await;
    assert_eq!(status, 403);
    let b = create(&admin, body).await;
    let id = b["id"].as_i64().unwrap();
    let (status, _) = operator.post(&format!("/api/v1/broadcasts/{id}/start"), json!({})).await;
    assert_eq!(status, 403);
    let (status, list) = operator.get("/api/v1/broadcasts").await;
    assert_eq!(status, 200);
    assert_eq!(list["broadcasts"][0]["name"], "Hello");
    let (status, one) = operator.get(&format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!((status, one["state"].as_str()), (200, Some("draft")));

    for (bad, says) in [
        (json!({"name": "x", "content": {}}), "text or an attachment"),
        (json!({"name": "", "content": {"text": "t"}}), "name"),
        (json!({"name": "x", "content": {"text": "t"}, "audience": {"colour": "red"}}), "colour"),
        (json!({"name": "x", "content": {"text": "t"}, "audience": {"fields": {"shoe": "42"}}}), "shoe"),
        (json!({"name": "x", "content": {"text": "t"}, "send_at": "tomorrow"}), "send_at"),
        (
            json!({"name": "x", "content": {"text": "t"}, "send_at": "2030-01-01T09:00", "time_zone": "Mars/Base"}),
            "time zone",
        ),
        (
            json!({"name": "x", "content": {"text": "t", "buttons": [{"label": "a", "flow": "f", "unsubscribe": true}]}}),
            "one of",
        ),
    ] {
        let (status, e) = admin.post("/api/v1/broadcasts", bad.clone()).await;
        assert_eq!(status, 422, "{bad} → {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(says), "{bad} → {e}");
    }
    let (status, e) = admin
        .post("/api/v1/broadcasts", json!({"name": "x", "content": {"text": "t"}, "audience": {"channels": [999]}}))
        .await;
    assert_eq!(status, 404, "{e}");
    let (status, _) = admin.post(&format!("/api/v1/broadcasts/{id}/resume"), json!({})).await;
    assert_eq!(status, 409, "a draft cannot be resumed");
    let (status, _) = admin.get("/api/v1/broadcasts/9999").await;
    assert_eq!(status, 404);
    let (status, _) = admin.get(&format!("/api/v1/broadcasts/{id}/recipients?state=lost")).await;
    assert_eq!(status, 422);
}
