//! Log in and out, the one-time set-up link, roles, bearer tokens, status.

use serde_json::json;

use crate::support::spawn_app;

#[tokio::test]
async fn the_setup_link_works_once_and_wrong_passwords_slow_the_login() {
    // The clock stands still, so the delay after the fifth failure cannot run out.
    let app = crate::support::spawn_app_clocked(|_| {}).await;
    let token = app.setup_link.as_ref().unwrap().split("token=").nth(1).unwrap().to_owned();
    let anon = app.anonymous();
    assert_eq!(anon.get(&format!("/api/v1/setup/{token}")).await, (200, json!({"valid": true})));
    let admin = app.admin().await;
    let (status, err) = anon.get(&format!("/api/v1/setup/{token}")).await;
    assert_eq!((status, &err["error"]["code"]), (409, &json!("conflict")), "used up, and an admin exists: {err}");
    let eve = json!({"token": token, "email": "eve@example.com", "name": "Eve", "password": "12345678"});
    assert_eq!(anon.post("/api/v1/setup", eve).await.0, 409);
    let (_, operators) = admin.get("/api/v1/operators").await;
    let emails: Vec<_> = operators["operators"].as_array().unwrap().iter().map(|o| o["email"].clone()).collect();
    assert_eq!(emails, [json!("admin@example.com")], "a used link creates nobody");

    let (status, me) = admin.get("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "admin");

    for _ in 0..5 {
        let (status, err) =
            anon.post("/api/v1/login", json!({"email": "admin@example.com", "password": "wrong"})).await;
        assert_eq!(status, 401);
        assert_eq!(err["error"]["code"], "unauthorized");
    }
    let res = anon.raw_post("/api/v1/login", &json!({"email": "admin@example.com", "password": "correct horse"})).await;
    assert_eq!(res.status(), 429, "delayed even with the right password");
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn an_unused_setup_link_is_refused_once_an_admin_was_added_another_way() {
    let app = spawn_app().await;
    let token = app.setup_link.as_ref().unwrap().split("token=").nth(1).unwrap().to_owned();
    // As `parley operator add --role admin` does, while the printed link is still unused.
    let (store, now) = (app.app().store.clone(), app.app().now());
    parley::operators::add::add(
        &store,
        None,
        "cli@example.com",
        "Cli",
        parley::operators::Role::Admin,
        "long password 1".into(),
        now,
    )
    .await
    .unwrap();
    let anon = app.anonymous();
    let (status, err) = anon.get(&format!("/api/v1/setup/{token}")).await;
    assert_eq!(status, 409, "the link no longer sets anything up: {err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("log in"));
    let (status, _) = anon
        .post(
            "/api/v1/setup",
            json!({"token": token, "email": "eve@example.com", "name": "Eve", "password": "12345678"}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(anon.get("/api/v1/setup/not-a-token").await.0, 409, "an admin exists, whatever the token");
}

#[tokio::test]
async fn roles_are_enforced_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let (status, err) = olga
        .post(
            "/api/v1/operators",
            json!({"email": "x@example.com", "name": "X", "role": "admin", "password": "12345678"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "forbidden");
    assert_eq!(olga.post("/api/v1/channels", json!({"kind": "widget", "name": "W"})).await.0, 403);
    assert_eq!(olga.get("/api/v1/channels").await.0, 200);
    assert_eq!(app.anonymous().get("/api/v1/chats").await.0, 401);
    let (status, _) = admin
        .post(
            "/api/v1/operators",
            json!({"email": "olga@example.com", "name": "Olga 2", "role": "operator", "password": "12345678"}),
        )
        .await;
    assert_eq!(status, 409, "emails are unique");
    assert_eq!(
        admin
            .post(
                "/api/v1/operators",
                json!({"email": "p@example.com", "name": "P", "role": "operator", "password": "short"})
            )
            .await
            .0,
        422
    );

    let (status, _) = olga.post("/api/v1/logout", json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(olga.get("/api/v1/me").await.0, 401);
}

#[tokio::test]
async fn bearer_tokens_and_status_changes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (status, t) = admin.post("/api/v1/me/tokens", json!({"name": "crm"})).await;
    assert_eq!(status, 201);
    let token = t["token"].as_str().unwrap();
    let res = reqwest::Client::new().get(format!("{}/api/v1/me", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let bad = reqwest::Client::new().get(format!("{}/api/v1/me", app.base)).bearer_auth("nope").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    // The scheme is case-insensitive (RFC 9110 §11.1), and may be followed by more than one space.
    for header in [format!("bearer {token}"), format!("BEARER  {token}")] {
        let res = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .header("authorization", header.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{header}");
    }

    let mut events = admin.events(0).await;
    let (status, me) = admin.put("/api/v1/me/status", json!({"status": "online"})).await;
    assert_eq!(status, 200);
    assert_eq!(me["status"], "online");
    let e = events.wait_for("operator.updated", |_| true).await;
    assert_eq!(e["data"]["operator"]["status"], "online");
    assert_eq!(admin.put("/api/v1/me/status", json!({"status": "sleeping"})).await.0, 422);
    let (_, ops) = admin.get("/api/v1/operators").await;
    assert_eq!(ops["operators"][0]["status"], "online");
}
