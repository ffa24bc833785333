//! kill -9 in the middle of a broadcast: `parley serve` runs in a child process, sends
//! hang at the fake, the process is killed, and the app starts again on the same
//! database. Those in flight are `unknown` and not sent again by themselves; nobody gets
//! the message twice; "resend unknown" sends them on the author's word.

use std::process::{Child, Command, Stdio};

use serde_json::json;

use super::support::telegram_fake::{Failure, FakeTelegram};
use parley::ManualClock;

use super::support::{PATIENCE, Session, fresh, start};
use super::{act, create, fig, people, received, recipients, telegram, until};

const RECIPIENTS: i64 = 300;
/// Sends at once in the child: two of eight slots are kept for operators.
const CONCURRENCY: usize = 8;
const BULK_SLOTS: usize = 6;
const SENT_BEFORE: usize = 100;

/// `parley serve` on the same database, on a free port.
fn serve(url: &str) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .arg("serve")
        .env("PARLEY_DATABASE_URL", url)
        .env("PARLEY_LISTEN", &listen)
        .env("PARLEY_OUTBOX_CONCURRENCY", CONCURRENCY.to_string())
        .env("PARLEY_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("parley serve starts");
    (child, format!("http://{listen}"))
}

async fn login(base: &str) -> Session {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let res = reqwest::Client::new()
            .post(format!("{base}/api/v1/login"))
            .json(&json!({"email": "admin@example.com", "password": "correct horse"}))
            .send()
            .await;
        if let Ok(res) = res
            && res.status() == 200
        {
            return Session::from_login(base, res).await;
        }
        assert!(tokio::time::Instant::now() < deadline, "the child never answered");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_kill_in_the_middle_leaves_those_in_flight_unknown_and_nobody_gets_two() {
    let (config, dir) = fresh(|_| {});
    let app = start(config, dir, None, true).await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    people(&app, &fake, 2_000, RECIPIENTS).await;
    let text = "Black Friday";
    let id = create(&admin, json!({"name": "BF", "content": {"text": text}})).await["id"].as_i64().unwrap();
    let (config, dir) = app.stop().await;

    // The child sends the first hundred, then every bulk slot hangs at the fake.
    let mut script = vec![Failure::Succeed; SENT_BEFORE];
    script.extend(std::iter::repeat_n(Failure::Slow(std::time::Duration::from_secs(3_600)), BULK_SLOTS));
    fake.fail("sendMessage", &script);
    let (mut child, base) = serve(&config.database.url);
    let author = login(&base).await;
    act(&author, id, "start").await;
    fake.wait_started("sendMessage", SENT_BEFORE + BULK_SLOTS).await;
    child.kill().expect("kill -9");
    child.wait().expect("the child is gone");

    // Start again, past the leases the child held (on PostgreSQL they run out; on
    // SQLite the only node knows at once).
    let clock = ManualClock::new(parley::clock::system_now_ms() + parley::outbox::LEASE_MS + 1_000);
    let app = start(config, dir, Some(clock), true).await;
    let admin = app.login("admin@example.com", "correct horse").await;
    let b = until(&admin, id, "the broadcast to end", |b| b["state"] == "done").await;
    let unknown = fig(&b, "unknown");
    assert!(unknown >= BULK_SLOTS as i64, "those in flight are unknown: {b}");
    assert_eq!(fig(&b, "sent") + unknown, RECIPIENTS, "every recipient has one state: {b}");

    let per_chat = received(&fake, text);
    assert!(per_chat.values().all(|n| *n == 1), "someone got the broadcast twice");
    for r in recipients(&admin, id, Some("unknown")).await {
        let user: i64 = r["external_id"].as_str().unwrap().parse().unwrap();
        assert!(per_chat.get(&user).copied().unwrap_or(0) <= 1, "{r}");
        assert!(r["reason"].as_str().unwrap().contains("stopped"), "{r}");
    }
    let hung = RECIPIENTS as usize - per_chat.len();
    assert_eq!(hung, BULK_SLOTS, "only the hung sends never arrived, and they were not sent again");

    // On the author's word, the unknown ones are sent again; each has it once now, except
    // those whose first send arrived but was not recorded (the reason "unknown" exists).
    act(&admin, id, "resend-unknown").await;
    let b = until(&admin, id, "the resend to end", |b| b["state"] == "done").await;
    assert_eq!((fig(&b, "sent"), fig(&b, "unknown")), (RECIPIENTS, 0), "{b}");
    let per_chat = received(&fake, text);
    assert_eq!(per_chat.len(), RECIPIENTS as usize);
}
