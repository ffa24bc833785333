//! One-node-at-a-time work (Telegram long polling here; the Discord gateway holds the
//! same kind of lock) moves to another node when its node dies: `parley serve` is killed
//! with SIGKILL while it polls, and the other node, running all along on PostgreSQL,
//! takes the lock within seconds (the dead node's connection closes with it). Every
//! update is stored once: what the dead node fetched and never confirmed comes again
//! and is recognised. SQLite serves one node: there the node is started again instead.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::support::telegram_fake::{FakeTelegram, Person};
use crate::support::{Session, spawn_node_on};

const TOKEN: &str = "424242:takeover-bot-token";

/// `parley serve` as a process of its own on `url`: (process, base URL, set-up link).
fn serve(url: &str, dir: &std::path::Path) -> (Child, String, Option<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .arg("serve")
        .current_dir(dir)
        .env("PARLEY_DATABASE_URL", url)
        .env("PARLEY_LISTEN", "127.0.0.1:0")
        .env("PARLEY_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("parley serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = None;
    let mut link = None;
    while let Some(Ok(line)) = lines.next() {
        if let Some(addr) = line.strip_prefix("Parley is listening on ") {
            base = Some(addr.trim().to_owned());
        }
        if line.contains("setup?token=") {
            link = Some(line.trim().to_owned());
            break;
        }
    }
    // Whatever else it prints is read, so that it never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, base.expect("parley serve printed where it listens"), link)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_moves_to_another_node_when_its_node_is_killed_and_no_update_is_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::database_url(dir.path());
    let postgres = url.starts_with("postgres");
    let fake = FakeTelegram::start().await;

    let (mut first, base, link) = tokio::task::spawn_blocking({
        let (url, dir) = (url.clone(), dir.path().to_owned());
        move || serve(&url, &dir)
    })
    .await
    .unwrap();
    let token = link.expect("a fresh database prints a set-up link").split("token=").nth(1).unwrap().to_owned();
    let anon = Session::new(&base, None, 0);
    let res = anon
        .raw_post(
            "/api/v1/setup",
            &json!({"token": token, "email": "admin@example.com", "name": "Ada", "password": "correct horse"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let admin = Session::from_login(&base, res).await;
    let settings = json!({"token": TOKEN, "mode": "polling", "api_url": fake.url(), "poll_timeout": 1});
    let (status, body) =
        admin.post("/api/v1/channels", json!({"kind": "telegram", "name": "Bot", "settings": settings})).await;
    assert_eq!(status, 201, "{body}");

    // The process polls; on PostgreSQL a second node waits for the lock meanwhile.
    let alice = Person::new(777, "Alice");
    for i in 1..=10 {
        fake.push_update(TOKEN, alice.text(i, &format!("message {i}")));
    }
    fake.wait_confirmed(TOKEN).await;
    let second = if postgres { Some(spawn_node_on(&url).await) } else { None };

    // Updates the process may fetch and never confirm, then SIGKILL.
    for i in 11..=15 {
        fake.push_update(TOKEN, alice.text(i, &format!("message {i}")));
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    let second = match second {
        Some(node) => node,
        None => spawn_node_on(&url).await,
    };
    for i in 16..=20 {
        fake.push_update(TOKEN, alice.text(i, &format!("message {i}")));
    }
    fake.wait_confirmed(TOKEN).await;

    let admin = second.login("admin@example.com", "correct horse").await;
    let (_, list) = admin.get("/api/v1/chats").await;
    let chats = list["chats"].as_array().unwrap();
    assert_eq!(chats.len(), 1, "{list}");
    let (_, history) = admin.get(&format!("/api/v1/chats/{}/messages?limit=100", chats[0]["id"])).await;
    let texts: Vec<&str> = history["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, expected, "each update once, in order");
}
