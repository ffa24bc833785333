//! A wait is a durable job: it survives a restart and rings once; a contact who writes
//! cancels it.

use super::*;
use crate::support::spawn_app_clocked;
use crate::support::webhook_fake::FakeReceiver;

const REMIND: &str = "name: Reminder\ntriggers:\n  - keyword: remind me\nsteps:\n  promise:\n    send: \"In an hour, then.\"\n    wait: 1h\n    goto: remind\n  remind:\n    send: \"Here is your reminder.\"\n    goto: end\n";

fn texts(fake: &FakeReceiver, user: &str) -> Vec<String> {
    fake.received()
        .iter()
        .filter(|m| m["user_id"] == user)
        .map(|m| m["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn a_wait_survives_a_restart_and_rings_once_and_a_reply_cancels_it() {
    let dir = tempfile::tempdir().unwrap();
    write_flow(dir.path(), "reminder", REMIND);
    let path = dir.path().display().to_string();
    let app = spawn_app_clocked(|c| c.flows.dir = path).await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let hooks = app.webhook_channel(&admin, &fake).await;

    hooks.text("ann", "a1", "remind me").await;
    hooks.text("bob", "b1", "remind me").await;
    crate::support::wait_for("both promises", || texts(&fake, "ann").len() == 1 && texts(&fake, "bob").len() == 1)
        .await;
    // Bob writes during the wait: his reminder is off (and his message is the operators').
    hooks.text("bob", "b2", "never mind").await;

    let clock = app.clock.clone().unwrap();
    let app = app.restart().await;
    clock.advance(3_600_000 + 1);
    let a = app.app();
    parley::jobs::runner::run_due(&a.store, &a.clock, &a.jobs).await.unwrap();
    crate::support::wait_for("Ann's reminder", || texts(&fake, "ann").len() == 2).await;
    assert_eq!(texts(&fake, "ann"), ["In an hour, then.", "Here is your reminder."]);
    // Its send recorded before the next restart: a send the platform got but Parley had
    // not recorded when it stopped goes again once its lease ends (at least once), and
    // the clock jumps an hour below. That is the outbox's rule, not the wait's.
    let store = a.store.clone();
    let mut recorded = false;
    for _ in 0..500 {
        let left: i64 =
            store.read(|db| db.query_one("SELECT COUNT(*) AS n FROM outbox", &[])).await.unwrap().get("n").unwrap();
        if left == 0 {
            recorded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(recorded, "the reminder's send was never recorded");
    drop(store); // a restart waits for every handle to the store to go
    clock.advance(3_600_000);
    parley::jobs::runner::run_due(&a.store, &a.clock, &a.jobs).await.unwrap();
    let app2 = app.restart().await;
    let a = app2.app();
    parley::jobs::runner::run_due(&a.store, &a.clock, &a.jobs).await.unwrap();
    let admin = app2.login("admin@example.com", "correct horse").await;
    let (_, unread) = admin.get("/api/v1/chats?view=unread").await;
    assert_eq!(unread["chats"].as_array().unwrap().len(), 1, "Bob's message is the operators': {unread}");
    assert_eq!(texts(&fake, "bob"), ["In an hour, then."], "no reminder for Bob");
    assert_eq!(texts(&fake, "ann").len(), 2, "Ann's reminder came once");
}
