//! The 24-hour customer-service window, on a clock the test moves: a free-form reply
//! after it fails at once without calling WhatsApp; approved templates are listed and
//! go; a throughput limit without Retry-After pauses the channel for a while.

use super::*;
use crate::support::spawn_app_clocked;
use crate::support::whatsapp_fake::Failure;

const HOUR: i64 = 3_600_000;

fn template(name: &str, status: &str) -> Value {
    json!({"name": name, "language": "en_US", "status": status, "category": "UTILITY", "id": format!("t-{name}"),
        "components": [{"type": "BODY", "text": "Hello {{1}}, your order {{2}} has shipped."}]})
}

#[tokio::test]
async fn after_24_hours_only_an_approved_template_goes() {
    let app = spawn_app_clocked(|_| {}).await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    fake.add_template(template("order_shipped", "APPROVED"));
    fake.add_template(template("spring_sale", "REJECTED"));
    fake.add_template(template("welcome_back", "APPROVED"));
    let id = channel(&admin, &fake).await;
    let ada = Customer::new("15550001111", "Ada");
    let chat_id = customer_chat(&app, &admin, id, &ada).await;
    let mut events = admin.events(0).await;

    // 23 hours later the window is still open.
    clock.advance(23 * HOUR);
    let (_, open) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "still here"})).await;
    wait_state(&mut events, &open["id"], "sent").await;

    // 25 hours after she wrote it has closed: failed at once, WhatsApp never asked.
    clock.advance(2 * HOUR);
    let (_, late) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "one more thing"})).await;
    let e = wait_state(&mut events, &late["id"], "failed").await;
    let reason = e["data"]["message"]["failure_reason"].as_str().unwrap();
    assert!(reason.contains("24-hour") && reason.contains("25 hours ago") && reason.contains("template"), "{reason}");
    assert_eq!(fake.sends().len(), 1, "no API call outside the window");

    // The console offers the approved templates, from every page Graph answers.
    let (status, list) = admin.get(&format!("/api/v1/channels/{id}/templates")).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["templates"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["order_shipped", "welcome_back"]);

    let template = json!({"name": "order_shipped", "language": "en_US", "parameters": ["Ada", "#1042"]});
    let (status, sent) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"template": template})).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["attachments"][0]["kind"], "template");
    wait_state(&mut events, &sent["id"], "sent").await;
    let call = fake.wait_send(2).await;
    assert_eq!(call.body["type"], "template");
    assert_eq!(call.body["template"]["name"], "order_shipped");
    assert_eq!(call.body["template"]["language"]["code"], "en_US");
    assert_eq!(call.body["template"]["components"][0]["parameters"][1], json!({"type": "text", "text": "#1042"}));

    // When she writes again, the window opens again.
    whatsapp_fake::deliver(&app.base, id, &ada.text("wamid.back", "Thanks!")).await;
    let (_, again) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "You're welcome"})).await;
    wait_state(&mut events, &again["id"], "sent").await;

    let (status, bad) = admin
        .post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"template": {"name": "", "language": "en"}}))
        .await;
    assert_eq!(status, 422, "{bad}");
}

#[tokio::test]
async fn templates_of_a_channel_without_them_are_not_found() {
    let app = spawn_app_clocked(|_| {}).await;
    let admin = app.admin().await;
    let (_, channels) = admin.get("/api/v1/channels").await;
    let widget = channels["channels"][0]["id"].as_i64().unwrap();
    let (status, _) = admin.get(&format!("/api/v1/channels/{widget}/templates")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_throughput_limit_pauses_the_channel_then_the_message_goes() {
    let app = spawn_app_clocked(|_| {}).await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    let id = channel(&admin, &fake).await;
    let chat_id = customer_chat(&app, &admin, id, &Customer::new("15550001111", "Ada")).await;
    let mut events = admin.events(0).await;
    fake.fail(&[Failure::Graph(400, 130429, None)]);
    let (_, message) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "busy day"})).await;
    fake.wait_until("the rate limit", |c| c.iter().any(|c| c.status == 400)).await;
    // Recorded as a pause of the channel: the message waits, queued.
    let paused = |app: &TestApp| {
        let store = app.app().store.clone();
        async move {
            store
                .read(move |db| -> parley::error::Result<bool> {
                    Ok(db
                        .query_opt("SELECT until FROM channel_pauses WHERE channel_id = $1", parley::params![id])?
                        .is_some())
                })
                .await
                .unwrap()
        }
    };
    tokio::time::timeout(crate::support::PATIENCE, async {
        while !paused(&app).await {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the channel was paused");
    assert_eq!(messages(&admin, chat_id).await[1]["state"], "queued");
    clock.advance(6_000);
    app.app().store.wake(parley::store::Wake::Outbox);
    wait_state(&mut events, &message["id"], "sent").await;
    assert_eq!(fake.sends().len(), 1);
}
