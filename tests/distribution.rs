//! Status and automatic distribution, with the clock driven by the test: the grace period
//! after the last console closes, hand-outs only to Online operators by policy and limit,
//! the queue drained in arrival order, reopened chats, the answer timeout, Offline
//! operators' chats, and concurrent openings on two nodes sharing one database.

use std::sync::Arc;

use parley::distribution::{Pass, run_once};
use parley::{Clock, ManualClock};
use serde_json::{Value, json};

use crate::support::webhook_fake::FakeReceiver;
use crate::support::{Session, TestApp, WebhookChannel, spawn_app_clocked};

fn clock(app: &TestApp) -> &ManualClock {
    app.clock.as_ref().expect("a clocked app")
}

async fn pass(app: &TestApp) -> Pass {
    run_once(app.app()).await.expect("a distribution pass")
}

async fn set_status(s: &Session, status: &str) {
    let (code, body) = s.put("/api/v1/me/status", json!({"status": status})).await;
    assert_eq!(code, 200, "{body}");
}

async fn assignee(admin: &Session, chat: i64) -> Option<i64> {
    let (code, c) = admin.get(&format!("/api/v1/chats/{chat}")).await;
    assert_eq!(code, 200, "{c}");
    c["assignee"]["id"].as_i64()
}

async fn open(channel: &WebhookChannel, user: &str) -> i64 {
    channel.text(user, &format!("{user}-{}", rand_suffix()), "hello").await["chat_id"].as_i64().unwrap()
}

fn rand_suffix() -> String {
    parley::operators::sessions::random_token()[..8].to_owned()
}

/// (status, at) of the operator's status log, oldest first.
async fn status_log(app: &TestApp, operator: i64) -> Vec<(String, i64)> {
    app.app()
        .store
        .read(move |db| -> parley::error::Result<Vec<(String, i64)>> {
            let rows = db.query(
                "SELECT status, at FROM operator_status_log WHERE operator_id = $1 ORDER BY at, id",
                parley::params![operator],
            )?;
            rows.iter().map(|r| Ok((r.get("status")?, r.get("at")?))).collect()
        })
        .await
        .unwrap()
}

async fn my_status(s: &Session) -> String {
    s.get("/api/v1/me").await.1["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn without_a_console_for_the_grace_period_an_operator_goes_offline_and_it_is_logged() {
    let app = spawn_app_clocked(|c| c.distribution.offline_grace_seconds = 60).await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let rita = app.operator(&admin, "Rita").await;
    let mut admin_events = admin.events(0).await;
    let presence = app.app().distribution.presence.clone();
    let t0 = clock(&app).now_ms();

    set_status(&olga, "online").await;
    set_status(&pavel, "online").await; // never opens a console
    set_status(&rita, "away").await;
    let console = olga.events(0).await;
    presence.wait_for(olga.id, 1).await;

    // Ten minutes with the console open: Olga stays; Pavel and Rita had no console at all.
    clock(&app).advance(10 * 60_000);
    let p = pass(&app).await;
    assert_eq!(my_status(&olga).await, "online");
    assert_eq!(my_status(&pavel).await, "offline");
    assert_eq!(my_status(&rita).await, "offline", "Away goes Offline too");
    assert!(!p.went_offline.contains(&olga.id));
    assert_eq!(status_log(&app, pavel.id).await[1..], [("online".into(), t0), ("offline".into(), t0 + 60_000)]);
    assert_eq!(status_log(&app, rita.id).await[1..], [("away".into(), t0), ("offline".into(), t0 + 60_000)]);

    // The last tab closes: the grace period runs from that moment.
    console.close().await;
    presence.wait_for(olga.id, 0).await;
    let closed_at = t0 + 10 * 60_000;
    clock(&app).advance(59_000);
    pass(&app).await;
    assert_eq!(my_status(&olga).await, "online", "still within the grace period");
    // Back within the grace period: nothing happens.
    let console = olga.events(0).await;
    presence.wait_for(olga.id, 1).await;
    clock(&app).advance(120_000);
    pass(&app).await;
    assert_eq!(my_status(&olga).await, "online");
    console.close().await;
    presence.wait_for(olga.id, 0).await;
    let closed_again = closed_at + 59_000 + 120_000;
    clock(&app).advance(60_000);
    pass(&app).await;
    assert_eq!(my_status(&olga).await, "offline");
    let log = status_log(&app, olga.id).await;
    assert_eq!(log[1..], [("online".into(), t0), ("offline".into(), closed_again + 60_000)], "{log:?}");
    let e = admin_events
        .wait_for("operator.updated", |e| {
            e["data"]["operator"]["id"] == olga.id && e["data"]["operator"]["status"] == "offline"
        })
        .await;
    assert_eq!(e["at"], parley::clock::rfc3339(closed_again + 60_000));
}

#[tokio::test]
async fn chats_go_only_to_online_operators_in_turn() {
    let app = spawn_app_clocked(|_| {}).await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let rita = app.operator(&admin, "Rita").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    set_status(&olga, "online").await;
    set_status(&pavel, "online").await;
    set_status(&rita, "away").await;
    let mut events = olga.events(0).await;

    let mut chats = Vec::new();
    for u in ["a", "b", "c", "d", "e"] {
        chats.push(open(&channel, u).await);
    }
    pass(&app).await;
    let mut got = Vec::new();
    for c in &chats {
        got.push(assignee(&admin, *c).await);
    }
    let (o, p) = (Some(olga.id), Some(pavel.id));
    assert_eq!(got, [o, p, o, p, o], "round robin among the Online operators only");
    let e = events.wait_for("chat.assigned", |e| e["chat_id"] == chats[0]).await;
    assert_eq!(e["data"]["operator_id"], olga.id);
    assert_eq!(e["data"]["reason"], "policy");
    assert_eq!(e["data"]["chat"]["assignee"]["id"], olga.id);
}

#[tokio::test]
async fn fewest_open_within_the_limit_then_the_queue_drains_in_arrival_order() {
    let app = spawn_app_clocked(|c| {
        c.distribution.policy = parley::distribution::settings::Policy::FewestOpen;
        c.distribution.max_open_per_operator = 2;
    })
    .await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let rita = app.operator(&admin, "Rita").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    // Olga already has a chat, given by hand while nobody was Online.
    let x = open(&channel, "x").await;
    admin.post(&format!("/api/v1/chats/{x}/transfer"), json!({"operator_id": olga.id})).await;
    set_status(&olga, "online").await;
    set_status(&pavel, "online").await;

    let a = open(&channel, "a").await;
    let b = open(&channel, "b").await;
    let c = open(&channel, "c").await;
    let d = open(&channel, "d").await;
    let e = open(&channel, "e").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, a).await, Some(pavel.id), "Pavel had fewer open chats");
    assert_eq!(assignee(&admin, b).await, Some(olga.id), "equal load: the one given a chat longest ago");
    assert_eq!(assignee(&admin, c).await, Some(pavel.id), "Olga is at the limit");
    assert_eq!(assignee(&admin, d).await, None, "everyone is at the limit: the chat waits");
    assert_eq!(assignee(&admin, e).await, None);

    let (_, queue) = olga.get("/api/v1/queue").await;
    let waiting: Vec<i64> = queue["chats"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(waiting, [d, e], "the queue, in arrival order: {queue}");
    assert_eq!(queue["total"], 2);
    assert_eq!(queue["chats"][0]["distribution"], true);
    assert!(queue["chats"][0]["waiting_since"].is_string());

    // Pavel closes a chat: he is below the limit again and gets the oldest waiting chat.
    pavel.post(&format!("/api/v1/chats/{c}/close"), json!({})).await;
    pass(&app).await;
    assert_eq!(assignee(&admin, d).await, Some(pavel.id));
    assert_eq!(assignee(&admin, e).await, None);
    // Rita comes Online and takes the rest.
    set_status(&rita, "online").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, e).await, Some(rita.id));
    assert_eq!(olga.get("/api/v1/queue").await.1["total"], 0);
}

#[tokio::test]
async fn away_and_offline_keep_their_chats_but_get_no_new_ones() {
    let app = spawn_app_clocked(|c| c.distribution.offline_grace_seconds = 0).await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    set_status(&olga, "online").await;
    let a = open(&channel, "a").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, a).await, Some(olga.id));

    set_status(&olga, "away").await;
    let b = open(&channel, "b").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, a).await, Some(olga.id), "Away keeps the chat");
    assert_eq!(assignee(&admin, b).await, None, "but gets no new one");
    set_status(&olga, "offline").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, a).await, Some(olga.id), "on_offline = keep");
    set_status(&olga, "online").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, b).await, Some(olga.id), "back Online: the waiting chat is hers");
}

#[tokio::test]
async fn with_requeue_an_offline_operators_chats_go_back_to_the_queue_with_a_note() {
    let app = spawn_app_clocked(|c| {
        c.distribution.on_offline = parley::distribution::settings::OnOffline::Requeue;
        c.distribution.offline_grace_seconds = 0;
    })
    .await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    set_status(&olga, "online").await;
    let a = open(&channel, "a").await;
    let b = open(&channel, "b").await;
    pass(&app).await;
    assert_eq!((assignee(&admin, a).await, assignee(&admin, b).await), (Some(olga.id), Some(olga.id)));

    set_status(&olga, "offline").await;
    pass(&app).await;
    assert_eq!((assignee(&admin, a).await, assignee(&admin, b).await), (None, None), "back in the queue");
    let (_, history) = admin.get(&format!("/api/v1/chats/{a}/messages")).await;
    let note = history["messages"].as_array().unwrap().iter().find(|m| m["author_kind"] == "system").cloned().unwrap();
    assert_eq!(note["kind"], "note");
    assert!(note["text"].as_str().unwrap().contains("Olga went Offline"), "{note}");
    set_status(&pavel, "online").await;
    pass(&app).await;
    assert_eq!((assignee(&admin, a).await, assignee(&admin, b).await), (Some(pavel.id), Some(pavel.id)));
}

#[tokio::test]
async fn a_chat_reopened_by_its_contact_goes_back_to_its_online_assignee() {
    let app = spawn_app_clocked(|c| c.distribution.offline_grace_seconds = 0).await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    set_status(&olga, "online").await;
    set_status(&pavel, "online").await;
    let mut events = admin.events(0).await;
    let chat = open(&channel, "kim").await;
    let other = open(&channel, "lee").await;
    pass(&app).await;
    assert_eq!((assignee(&admin, chat).await, assignee(&admin, other).await), (Some(olga.id), Some(pavel.id)));

    // Closed; another chat makes it Pavel's turn; then the contact writes again.
    olga.post(&format!("/api/v1/chats/{chat}/close"), json!({})).await;
    let third = open(&channel, "max").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, third).await, Some(olga.id));
    channel.text("kim", "kim-again", "me again").await;
    pass(&app).await;
    assert_eq!(
        assignee(&admin, chat).await,
        Some(olga.id),
        "back to the previous assignee, not to Pavel whose turn it was"
    );
    let e = events.wait_for("chat.assigned", |e| e["chat_id"] == chat && e["data"]["reason"] == "returned").await;
    assert_eq!(e["data"]["operator_id"], olga.id);

    // Olga is Offline now: the reopened chat goes to whoever is Online.
    olga.post(&format!("/api/v1/chats/{chat}/close"), json!({})).await;
    set_status(&olga, "offline").await;
    channel.text("kim", "kim-third", "still there?").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(pavel.id));

    // Nobody Online: it waits in the queue, unassigned.
    pavel.post(&format!("/api/v1/chats/{chat}/close"), json!({})).await;
    set_status(&pavel, "offline").await;
    channel.text("kim", "kim-fourth", "hello?").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, None);
    let (_, queue) = admin.get("/api/v1/queue").await;
    assert_eq!(queue["chats"][0]["id"], chat);
}

/// A clocked app with a 60 s answer timeout, operators Olga and Pavel, a webhook channel.
async fn with_answer_timeout() -> (TestApp, Session, Session, Session, WebhookChannel) {
    let app = spawn_app_clocked(|c| {
        c.distribution.answer_timeout_seconds = 60;
        c.distribution.offline_grace_seconds = 0;
    })
    .await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    (app, admin, olga, pavel, channel)
}

#[tokio::test]
async fn an_unanswered_chat_moves_to_the_next_online_operator_with_a_note() {
    let (app, admin, olga, pavel, channel) = with_answer_timeout().await;
    set_status(&olga, "online").await;
    let chat = open(&channel, "ann").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(olga.id));

    // Olga does not answer, but nobody else is Online: the chat stays with her.
    clock(&app).advance(61_000);
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(olga.id));
    // Pavel comes Online: the chat goes to him, with a note saying why.
    set_status(&pavel, "online").await;
    clock(&app).advance(1_000);
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(pavel.id));
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat}/messages")).await;
    let note = history["messages"].as_array().unwrap().iter().find(|m| m["author_kind"] == "system").cloned().unwrap();
    assert_eq!(note["text"], "Olga did not answer within 1 min; the chat went to Pavel.");

    // Pavel answers in time: it stays with him.
    clock(&app).advance(30_000);
    let (code, _) = pavel.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "Hi, Pavel here"})).await;
    assert_eq!(code, 201);
    clock(&app).advance(60_000);
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(pavel.id));
    // A chat transferred by hand has no answer timeout.
    let other = open(&channel, "bob").await;
    pass(&app).await;
    admin.post(&format!("/api/v1/chats/{other}/transfer"), json!({"operator_id": pavel.id})).await;
    clock(&app).advance(120_000);
    pass(&app).await;
    assert_eq!(assignee(&admin, other).await, Some(pavel.id));
}

/// The answer timeout is a durable job: it outlives a restart of the app.
#[tokio::test]
async fn an_answer_timeout_survives_a_restart() {
    let (app, admin, olga, _, channel) = with_answer_timeout().await;
    set_status(&olga, "online").await;
    let chat = open(&channel, "ann").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(olga.id));
    assert_eq!(jobs(&app).await, vec![("answer_timeout".to_owned(), format!("answer_timeout/{chat}"))]);

    clock(&app).advance(30_000);
    let app = app.restart().await;
    let admin = app.login("admin@example.com", "correct horse").await;
    let pavel = app.login("pavel@example.com", "operator pass").await;
    set_status(&pavel, "online").await;
    // Half the timeout has passed: nothing moves yet.
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(olga.id));
    // The rest passes after the restart: the job, kept in the database, moves the chat.
    clock(&app).advance(31_000);
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(pavel.id));
    let (_, history) = admin.get(&format!("/api/v1/chats/{chat}/messages")).await;
    let notes: Vec<&Value> =
        history["messages"].as_array().unwrap().iter().filter(|m| m["author_kind"] == "system").collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["text"], "Olga did not answer within 1 min; the chat went to Pavel.");
    // Pavel's own watch replaced Olga's.
    assert_eq!(jobs(&app).await.len(), 1);
}

/// (kind, key) of the durable jobs.
async fn jobs(app: &TestApp) -> Vec<(String, String)> {
    app.app()
        .store
        .read(|db| -> parley::error::Result<Vec<(String, String)>> {
            let rows = db.query("SELECT kind, key FROM jobs", &[])?;
            rows.iter().map(|r| Ok((r.get("kind")?, r.get("key")?))).collect()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn distribution_can_be_switched_off_per_channel() {
    let app = spawn_app_clocked(|c| c.distribution.offline_grace_seconds = 0).await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let (code, ch) = admin.patch(&format!("/api/v1/channels/{}", channel.id), json!({"distribution": false})).await;
    assert_eq!((code, &ch["distribution"]), (200, &json!(false)), "{ch}");
    set_status(&olga, "online").await;
    let chat = open(&channel, "zed").await;
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, None);
    let (_, queue) = olga.get("/api/v1/queue").await;
    assert_eq!(queue["chats"][0]["id"], chat, "visible as waiting");
    assert_eq!(queue["chats"][0]["distribution"], false, "but for someone to take by hand");
    admin.patch(&format!("/api/v1/channels/{}", channel.id), json!({"distribution": true})).await;
    pass(&app).await;
    assert_eq!(assignee(&admin, chat).await, Some(olga.id));
}

type Pairs = Vec<(i64, i64)>;

/// A signed inbound webhook message posted to the node at `base`.
async fn post_inbound(base: String, channel: i64, secret: String, user: String) -> Value {
    let raw = json!({"user_id": user, "message_id": format!("m-{user}"), "text": "hi", "first_name": user}).to_string();
    let res = reqwest::Client::new()
        .post(format!("{base}/hooks/{channel}"))
        .header("content-type", "application/json")
        .header("x-parley-signature", parley_webhook::sign(&secret, raw.as_bytes()))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn concurrent_openings_on_two_nodes_give_each_chat_exactly_one_assignee() {
    let app = spawn_app_clocked(|c| c.distribution.offline_grace_seconds = 0).await;
    let admin = app.admin().await;
    let mut operators = Vec::new();
    for name in ["Olga", "Pavel", "Rita"] {
        let s = app.operator(&admin, name).await;
        set_status(&s, "online").await;
        operators.push(s.id);
    }
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    // A second node on the same database, with its own distributor.
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".into();
    let listener = tokio::net::TcpListener::bind(&config.listen).await.unwrap();
    let options = parley::Options { clock: Arc::new(clock(&app).clone()), ..Default::default() };
    let node2 = parley::launch(config, listener, options).await.unwrap();
    let bases = [app.base.clone(), format!("http://{}", node2.addr)];

    const N: usize = 60;
    let mut tasks = Vec::new();
    for i in 0..N {
        let base = bases[i % 2].clone();
        tasks.push(tokio::spawn(post_inbound(base, channel.id, channel.secret.clone(), format!("user-{i}"))));
        if i % 10 == 9 {
            // Passes on both nodes while chats keep opening.
            let (a, b) = (app.app().clone(), node2.app.clone());
            tasks.push(tokio::spawn(async move { run_once(&a).await.unwrap().assigned.len().into() }));
            tasks.push(tokio::spawn(async move { run_once(&b).await.unwrap().assigned.len().into() }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (one, two) = tokio::join!(run_once(app.app()), run_once(&node2.app));
    one.unwrap();
    two.unwrap();

    let counts = app
        .app()
        .store
        .read(|db| -> parley::error::Result<(Pairs, Pairs, i64)> {
            let per_chat = db
                .query("SELECT chat_id AS id, COUNT(*) AS n FROM assignments GROUP BY chat_id ORDER BY chat_id", &[])?;
            let per_operator = db.query(
                "SELECT assignee_id AS id, COUNT(*) AS n FROM chats WHERE status = 'open' GROUP BY assignee_id \
                 ORDER BY assignee_id",
                &[],
            )?;
            let open = db.query_one("SELECT COUNT(*) AS n FROM chats WHERE status = 'open'", &[])?.get("n")?;
            // An unassigned open chat (id NULL) is an error here: every chat must be handed out.
            let pairs = |rows: Vec<parley::store::Row>| -> parley::error::Result<Pairs> {
                rows.iter().map(|r| Ok((r.get("id")?, r.get("n")?))).collect()
            };
            Ok((pairs(per_chat)?, pairs(per_operator)?, open))
        })
        .await
        .unwrap();
    let (per_chat, per_operator, open_chats) = counts;
    assert_eq!(open_chats, N as i64, "no chat lost");
    assert_eq!(per_chat.len(), N, "every chat handed out");
    assert!(per_chat.iter().all(|(_, n)| *n == 1), "each exactly once: {per_chat:?}");
    let expected: Vec<(i64, i64)> = operators.iter().map(|id| (*id, (N / 3) as i64)).collect();
    assert_eq!(per_operator, expected, "round robin holds across nodes");
    node2.shutdown().await;
}
