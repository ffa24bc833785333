//! An operator's own sessions and API tokens, an admin deactivating an operator, roles
//! checked before bodies, and the cookie's `Secure` flag.

use serde_json::{Value, json};

use crate::support::{Session, spawn_app, spawn_app_with};

/// `GET /api/v1/me` with a bearer token; the status.
async fn me_with_token(base: &str, token: &str) -> u16 {
    let res = reqwest::Client::new().get(format!("{base}/api/v1/me")).bearer_auth(token).send().await.unwrap();
    res.status().as_u16()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_operator_lists_and_revokes_their_sessions_and_tokens() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let here = app.operator(&admin, "Olga").await;
    let there = app.login("olga@example.com", "operator pass").await;

    let (status, list) = here.get("/api/v1/me/sessions").await;
    assert_eq!(status, 200, "{list}");
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{list}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(sessions.iter().all(|s| s["created_from"] == "127.0.0.1" && s["kind"] == "session"), "{list}");
    let current = sessions.iter().find(|s| s["current"] == true).unwrap()["id"].as_str().unwrap().to_owned();
    let other = ids(&list, "sessions").into_iter().find(|id| *id != current).unwrap();

    let (_, created) = here.post("/api/v1/me/tokens", json!({"name": "CRM sync"})).await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(me_with_token(&app.base, &token).await, 200);
    let (_, tokens) = here.get("/api/v1/me/tokens").await;
    assert_eq!(tokens["sessions"][0]["name"], "CRM sync");
    assert!(!tokens.to_string().contains(&token), "a token is never shown again");
    let token_id = ids(&tokens, "sessions").remove(0);

    // Someone else cannot end them, nor can a token's id end a session.
    assert_eq!(admin.delete(&format!("/api/v1/me/sessions/{other}")).await.0, 404);
    assert_eq!(here.delete(&format!("/api/v1/me/sessions/{token_id}")).await.0, 404);

    assert_eq!(here.delete(&format!("/api/v1/me/tokens/{token_id}")).await.0, 204);
    assert_eq!(me_with_token(&app.base, &token).await, 401, "a revoked token stops at once");
    assert_eq!(here.delete(&format!("/api/v1/me/sessions/{other}")).await.0, 204);
    assert_eq!(there.get("/api/v1/me").await.0, 401, "the other browser is logged out");
    assert_eq!(here.get("/api/v1/me").await.0, 200, "this one is not");
    assert_eq!(ids(&here.get("/api/v1/me/sessions").await.1, "sessions"), [current]);
}

#[tokio::test]
async fn deactivating_an_operator_ends_every_session_and_token_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let (_, created) = olga.post("/api/v1/me/tokens", json!({"name": "script"})).await;
    let token = created["token"].as_str().unwrap().to_owned();
    let mut socket = olga.events(0).await;

    assert_eq!(olga.post(&format!("/api/v1/operators/{}/deactivate", admin.id), json!({})).await.0, 403);
    let (status, err) = admin.post(&format!("/api/v1/operators/{}/deactivate", admin.id), json!({})).await;
    assert_eq!(status, 422, "an admin cannot lock themselves out: {err}");

    let (status, op) = admin.post(&format!("/api/v1/operators/{}/deactivate", olga.id), json!({})).await;
    assert_eq!((status, &op["active"], &op["status"]), (200, &json!(false), &json!("offline")), "{op}");
    assert_eq!(olga.get("/api/v1/me").await.0, 401, "her session is gone");
    assert_eq!(me_with_token(&app.base, &token).await, 401, "her token too");
    loop {
        // Her open console hears of it and is closed.
        if socket.next().await.is_none() {
            break;
        }
    }
    let (status, err) =
        app.anonymous().post("/api/v1/login", json!({"email": "olga@example.com", "password": "operator pass"})).await;
    assert_eq!(status, 403, "no new login either: {err}");
    let (_, list) = admin.get("/api/v1/operators").await;
    let listed = list["operators"].as_array().unwrap().iter().find(|o| o["id"] == olga.id).unwrap().clone();
    assert_eq!(listed["active"], false);

    let (status, op) = admin.post(&format!("/api/v1/operators/{}/reactivate", olga.id), json!({})).await;
    assert_eq!((status, &op["active"]), (200, &json!(true)));
    app.login("olga@example.com", "operator pass").await;
}

#[tokio::test]
async fn an_operator_is_refused_by_role_before_the_body_is_read() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    for (path, body) in [
        ("/api/v1/operators", json!({"email": 5})),
        ("/api/v1/channels", json!({"nonsense": true})),
        ("/api/v1/operators/1/deactivate", json!(null)),
    ] {
        let (status, err) = olga.post(path, body).await;
        assert_eq!((status, &err["error"]["code"]), (403, &json!("forbidden")), "{path}: {err}");
    }
    assert_eq!(olga.patch("/api/v1/channels/1", json!({"name": 7})).await.0, 403);
    assert_eq!(olga.post_raw("/api/v1/channels", "text/plain", b"not json".to_vec()).await.0, 403);
    // An admin sending the same gets the body's refusal.
    assert_eq!(admin.post("/api/v1/channels", json!({"nonsense": true})).await.0, 422);
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    for (public_url, secure) in [("https://hub.example", true), ("", false)] {
        let app = spawn_app_with(|c| c.public_url = public_url.into()).await;
        app.admin().await;
        let res = app
            .anonymous()
            .raw_post("/api/v1/login", &json!({"email": "admin@example.com", "password": "correct horse"}))
            .await;
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert_eq!(cookie.contains("; Secure"), secure, "{public_url:?}: {cookie}");
        Session::from_login(&app.base, res).await;
    }
}
