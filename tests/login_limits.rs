//! The two attacks measured in issue 16, and what stops them: guessing with a made-up
//! `X-Forwarded-For` on every request, and a guesser locking the real admin out.
//! The apps run on a clock that stands still, so no delay runs out during a test.

use serde_json::json;

use crate::support::{TestApp, spawn_app_clocked};

/// A login attempt as if forwarded for `client`; the status and `Retry-After`, if any.
async fn attempt(app: &TestApp, client: &str, password: &str) -> (u16, Option<String>) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/login", app.base))
        .header("x-forwarded-for", client)
        .json(&json!({"email": "admin@example.com", "password": password}))
        .send()
        .await
        .unwrap();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), retry)
}

#[tokio::test]
async fn a_made_up_forwarded_for_on_every_guess_does_not_escape_the_limit() {
    let app = spawn_app_clocked(|_| {}).await;
    app.admin().await;
    let mut answers = Vec::new();
    for n in 0..30 {
        answers.push(attempt(&app, &format!("198.51.100.{n}"), "wrong").await);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    // The peer is not a trusted proxy: every guess is from 127.0.0.1, five of them free.
    assert_eq!(statuses, [[401; 5].as_slice(), &[429; 25]].concat(), "{answers:?}");
    assert!(answers[5..].iter().all(|a| a.1.is_some()), "a refusal says when to try again");
    // Even the right password waits on that address: it is the guesser's.
    assert_eq!(attempt(&app, "203.0.113.10", "correct horse").await.0, 429);
    // Once the delay is over one more attempt is let through, and the next waits twice as long.
    app.clock.as_ref().unwrap().advance(1000);
    assert_eq!(attempt(&app, "198.51.100.99", "wrong").await.0, 401);
    assert_eq!(attempt(&app, "198.51.100.99", "wrong").await, (429, Some("2".into())));
}

#[tokio::test]
async fn a_guesser_does_not_lock_the_real_admin_out_from_another_address() {
    let app = spawn_app_clocked(|c| c.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    app.admin().await;
    for _ in 0..5 {
        assert_eq!(attempt(&app, "198.51.100.66", "wrong").await.0, 401);
    }
    assert_eq!(attempt(&app, "198.51.100.66", "correct horse").await.0, 429, "the guesser waits");
    assert_eq!(attempt(&app, "203.0.113.10", "correct horse").await.0, 200, "the admin does not");
}

#[tokio::test]
async fn guesses_from_many_addresses_spare_the_address_the_admin_uses() {
    let app = spawn_app_clocked(|c| {
        c.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        c.auth.login_account_failures = 10;
    })
    .await;
    app.admin().await;
    assert_eq!(attempt(&app, "203.0.113.10", "correct horse").await.0, 200);
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(attempt(&app, &format!("198.51.100.{n}"), "wrong").await.0);
    }
    assert_eq!(statuses, [[401; 10].as_slice(), &[429; 2]].concat(), "new addresses wait for this account");
    assert_eq!(attempt(&app, "203.0.113.10", "correct horse").await.0, 200, "the address it logged in from does not");
}
