//! How fast the console's chat list opens with many chats: fills N chats (default
//! 10,000) through the real webhook ingest path, then times `GET /api/v1/chats`
//! (the first page of 50, with counts) and a contact's history, as the console asks.
//!
//! Run: `cargo bench --bench chat_list` (CHATS=20000 for more).

use std::time::Instant;

use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("CHATS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let mut config = parley::Config::default();
    config.database.url = format!("sqlite://{}/list.db", dir.path().display());
    config.listen = "127.0.0.1:0".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    let base = format!("http://{}", launched.addr);
    let token = launched.setup_link.as_deref().and_then(|l| l.split("token=").nth(1)).unwrap_or_default();
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"token": token, "email": "a@example.com", "name": "A", "password": "bench password"}))
        .send()
        .await?;
    let cookie = res.headers()["set-cookie"].to_str()?.split(';').next().unwrap_or_default().to_owned();
    let secret = "0123456789abcdef0123";
    let channel: Value = http
        .post(format!("{base}/api/v1/channels"))
        .header("cookie", &cookie)
        .json(&json!({"kind": "webhook", "name": "bench", "settings": {"secret": secret}}))
        .send()
        .await?
        .json()
        .await?;
    let hook = format!("{base}/hooks/{}", channel["id"]);

    let started = Instant::now();
    let mut sends = Vec::new();
    for i in 0..n {
        let body = json!({"user_id": format!("u{i}"), "message_id": format!("m{i}"), "text": format!("hello number {i}"), "first_name": format!("Contact {i}")}).to_string();
        let sig = parley_webhook::sign(secret, body.as_bytes());
        let req = http.post(&hook).header("x-parley-signature", sig).body(body);
        sends.push(tokio::spawn(async move { req.send().await.map(|r| r.status().is_success()) }));
        if sends.len() == 64 {
            for s in sends.drain(..) {
                anyhow::ensure!(s.await??, "an inbound message was refused");
            }
        }
    }
    for s in sends {
        anyhow::ensure!(s.await??, "an inbound message was refused");
    }
    println!("filled {n} chats in {:.1} s", started.elapsed().as_secs_f64());

    for (label, path) in [
        ("chat list, first page + counts", "/api/v1/chats?status=open&view=all".to_owned()),
        ("unread view", "/api/v1/chats?status=open&view=unread".to_owned()),
        ("list filtered by name", "/api/v1/chats?q=contact%2099".to_owned()),
        ("contact search", "/api/v1/contacts?q=contact%204".to_owned()),
        ("one chat's history", "/api/v1/chats/1/messages".to_owned()),
    ] {
        let mut times = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            let r = http.get(format!("{base}{path}")).header("cookie", &cookie).send().await?;
            anyhow::ensure!(r.status().is_success(), "{path}: {}", r.status());
            r.bytes().await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{label:<32} median {:>6.2} ms   max {:>6.2} ms", times[times.len() / 2], times[times.len() - 1]);
    }
    launched.shutdown().await;
    Ok(())
}
