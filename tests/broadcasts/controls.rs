//! Pause, resume, cancel, and a start scheduled in a time zone on the manual clock.

use std::sync::Arc;

use parley::Clock;

use serde_json::json;

use super::support::telegram_fake::FakeTelegram;
use super::support::{PATIENCE, Session, TestApp, spawn_app, spawn_app_clocked};
use super::{act, create, fig, people, received, telegram, until};

/// An operator's reply to chat `chat_id`, waited for until the fake has it: the outbox
/// has been through its claims since.
async fn reply_goes_out(admin: &Session, fake: &FakeTelegram, chat_id: i64, text: &str) {
    let (status, body) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": text})).await;
    assert_eq!(status, 201, "{body}");
    fake.wait_until(text, |calls| calls.iter().any(|c| c.status == 200 && c.params["text"] == text)).await;
}

async fn first_chat(admin: &Session) -> i64 {
    let (_, chats) = admin.get("/api/v1/chats?limit=1").await;
    chats["chats"][0]["id"].as_i64().unwrap()
}

/// A slow broadcast (its own rate) to everyone; returns its id.
async fn slow_broadcast(admin: &Session, text: &str) -> i64 {
    let b =
        create(admin, json!({"name": text, "content": {"text": text}, "audience": {}, "rate_per_second": 25})).await;
    let id = b["id"].as_i64().unwrap();
    act(admin, id, "start").await;
    id
}

async fn setup(app: &TestApp, n: i64) -> (Session, FakeTelegram) {
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    people(app, &fake, 500, n).await;
    (admin, fake)
}

#[tokio::test]
async fn pause_stops_what_waits_resume_sends_the_rest_once() {
    let app = spawn_app().await;
    let (admin, fake) = setup(&app, 120).await;
    let text = "Flash sale";
    let id = slow_broadcast(&admin, text).await;
    until(&admin, id, "some to be sent", |b| fig(b, "sent") >= 5).await;
    let paused = act(&admin, id, "pause").await;
    assert_eq!(paused["state"], "paused");
    // Sends in flight at the pause end; then nothing more goes, whatever the outbox does.
    let b = until(&admin, id, "the sends in flight to end", |b| fig(b, "sent") + fig(b, "queued") == 120).await;
    let chat = first_chat(&admin).await;
    reply_goes_out(&admin, &fake, chat, "first reply while paused").await;
    let sent_then = received(&fake, text).len();
    reply_goes_out(&admin, &fake, chat, "second reply while paused").await;
    assert_eq!(received(&fake, text).len(), sent_then, "nothing of a paused broadcast goes out");
    assert!(fig(&b, "queued") > 0, "{b}");

    act(&admin, id, "resume").await;
    let b = until(&admin, id, "the broadcast to end", |b| b["state"] == "done").await;
    assert_eq!(fig(&b, "sent"), 120, "{b}");
    let per_chat = received(&fake, text);
    assert_eq!(per_chat.len(), 120);
    assert!(per_chat.values().all(|n| *n == 1), "a paused message was sent twice");
    let (status, _) = admin.post(&format!("/api/v1/broadcasts/{id}/pause"), json!({})).await;
    assert_eq!(status, 409, "a finished broadcast cannot be paused");
}

#[tokio::test]
async fn cancel_leaves_the_rest_cancelled_and_never_sent() {
    let app = spawn_app().await;
    let (admin, fake) = setup(&app, 100).await;
    let text = "Offer ends soon";
    let id = slow_broadcast(&admin, text).await;
    until(&admin, id, "some to be sent", |b| fig(b, "sent") >= 5).await;
    let b = act(&admin, id, "cancel").await;
    assert_eq!(b["state"], "cancelled");
    let b = until(&admin, id, "the sends in flight to end", |b| fig(b, "queued") == 0).await;
    let (sent, cancelled) = (fig(&b, "sent"), fig(&b, "cancelled"));
    assert_eq!(sent + cancelled, 100, "{b}");
    assert!(cancelled > 0, "{b}");
    let chat = first_chat(&admin).await;
    reply_goes_out(&admin, &fake, chat, "after the cancel").await;
    assert_eq!(received(&fake, text).len() as i64, sent, "a cancelled recipient was sent to");
    let (status, _) = admin.post(&format!("/api/v1/broadcasts/{id}/resume"), json!({})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_scheduled_broadcast_starts_at_its_local_time_on_the_apps_clock() {
    let app = spawn_app_clocked(|_| {}).await;
    let clock = app.clock.clone().unwrap();
    let (admin, fake) = setup(&app, 3).await;
    // 10:00 in Tokyo (UTC+9, no summer time), an hour from now on the app's clock.
    let at = clock.now_ms() + 3_600_000;
    let local = parley::clock::rfc3339(at + 9 * 3_600_000);
    let local = local.trim_end_matches('Z');
    let b = create(
        &admin,
        json!({"name": "Morning", "content": {"text": "Good morning"}, "send_at": local, "time_zone": "Asia/Tokyo"}),
    )
    .await;
    assert_eq!(b["state"], "scheduled");
    assert_eq!(b["send_at"], parley::clock::rfc3339(at), "{b}");
    let id = b["id"].as_i64().unwrap();

    let app_clock: Arc<dyn parley::Clock> = Arc::new(clock.clone());
    let store = app.app().store.clone();
    let mut told = parley::broadcasts::worker::Told::default();
    parley::broadcasts::worker::run_once(&store, &app_clock, 100, &mut told).await.unwrap();
    let (_, b) = admin.get(&format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(b["state"], "scheduled", "not before its time");

    clock.advance(3_600_000);
    let b = until(&admin, id, "the scheduled start", |b| b["state"] == "done").await;
    assert_eq!(fig(&b, "sent"), 3, "{b}");
    assert_eq!(b["started_at"], parley::clock::rfc3339(at));
    fake.wait_count("sendMessage", 3, PATIENCE).await;
    assert_eq!(received(&fake, "Good morning").len(), 3);
}
