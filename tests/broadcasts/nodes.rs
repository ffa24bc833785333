//! Two nodes on one PostgreSQL database share a broadcast: both feed and both send, and
//! nobody gets the message twice. (SQLite is one node by design: this runs on PostgreSQL.)

use serde_json::json;

use super::support::telegram_fake::FakeTelegram;
use super::support::{fresh, start};
use super::{act, create, fig, people, received, telegram, until};

#[tokio::test]
async fn two_nodes_share_the_sending_and_send_nothing_twice() {
    if !std::env::var("PARLEY_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED two nodes: SQLite runs one node; set PARLEY_TEST_DATABASE_URL");
        return;
    }
    let (config, dir) = fresh(|_| {});
    let one = start(config.clone(), dir.clone(), None, true).await;
    let admin = one.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    people(&one, &fake, 3_000, 400).await;
    let two = start(config, dir, None, true).await;
    let admin_two = two.login("admin@example.com", "correct horse").await;

    let id =
        create(&admin, json!({"name": "Both", "content": {"text": "From two nodes"}})).await["id"].as_i64().unwrap();
    act(&admin_two, id, "start").await;
    let b = until(&admin, id, "the broadcast to end", |b| b["state"] == "done").await;
    assert_eq!((fig(&b, "sent"), fig(&b, "queued")), (400, 0), "{b}");
    let per_chat = received(&fake, "From two nodes");
    assert_eq!(per_chat.len(), 400);
    assert!(per_chat.values().all(|n| *n == 1), "a recipient got it twice");
}
