//! Flows written through the API: every change a version, runs keeping theirs, rollback,
//! the switch, refusals with line and column, files read-only.

use serde_json::json;

use super::*;
use crate::support::webhook_fake::FakeReceiver;
use crate::support::{spawn_app, spawn_app_with};

fn survey(v: u32) -> String {
    format!(
        "name: Survey\ntriggers:\n  - keyword: survey\nsteps:\n  q1:\n    ask: \"v{v}: your name?\"\n    save: name\n    goto: bye\n  bye:\n    send: \"v{v} bye {{{{vars.name}}}}\"\n    goto: end\n"
    )
}

/// The texts the receiver got for `user`.
fn texts(fake: &FakeReceiver, user: &str) -> Vec<String> {
    fake.received()
        .iter()
        .filter(|m| m["user_id"] == user)
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn wait_texts(fake: &FakeReceiver, user: &str, n: usize) -> Vec<String> {
    crate::support::wait_for(&format!("{n} messages to {user}"), || texts(fake, user).len() >= n).await;
    texts(fake, user)
}

#[tokio::test]
async fn runs_keep_their_version_and_a_rollback_makes_an_old_one_current() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let hooks = app.webhook_channel(&admin, &fake).await;

    let (status, saved) = admin.put("/api/v1/flows/survey", json!({"source": survey(1), "enabled": true})).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!((saved["version"].as_i64(), saved["changed"].as_bool()), (Some(1), Some(true)));
    hooks.text("ann", "a1", "survey").await;
    assert_eq!(wait_texts(&fake, "ann", 1).await, ["v1: your name?"]);

    let (status, saved) = admin.put("/api/v1/flows/survey", json!({"source": survey(2)})).await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(2)));
    hooks.text("bob", "b1", "survey").await;
    assert_eq!(wait_texts(&fake, "bob", 1).await, ["v2: your name?"]);
    hooks.text("ann", "a2", "Ann").await;
    assert_eq!(wait_texts(&fake, "ann", 2).await[1], "v1 bye Ann", "Ann's run stays on version 1");

    let (status, detail) = admin.post("/api/v1/flows/survey/rollback", json!({"version": 1})).await;
    assert_eq!((status, detail["version"].as_i64()), (200, Some(1)), "{detail}");
    hooks.text("cleo", "c1", "survey").await;
    assert_eq!(wait_texts(&fake, "cleo", 1).await, ["v1: your name?"]);
    hooks.text("bob", "b2", "Bob").await;
    assert_eq!(wait_texts(&fake, "bob", 2).await[1], "v2 bye Bob", "Bob's run stays on version 2");

    let (_, versions) = admin.get("/api/v1/flows/survey/versions").await;
    let v = versions["versions"].as_array().unwrap();
    assert_eq!(v.len(), 2, "{versions}");
    assert_eq!((v[0]["number"].as_i64(), v[0]["current"].as_bool()), (Some(2), Some(false)));
    assert_eq!((v[1]["number"].as_i64(), v[1]["current"].as_bool()), (Some(1), Some(true)));
    assert_eq!(v[1]["author"], "admin@example.com");
    assert_eq!(v[1]["active_runs"], 1, "Cleo is on version 1: {versions}");

    // The same text again is no new version.
    let (_, saved) = admin.put("/api/v1/flows/survey", json!({"source": survey(2)})).await;
    assert_eq!((saved["version"].as_i64(), saved["changed"].as_bool()), (Some(3), Some(true)));
    let (_, saved) = admin.put("/api/v1/flows/survey", json!({"source": survey(2)})).await;
    assert_eq!((saved["version"].as_i64(), saved["changed"].as_bool()), (Some(3), Some(false)));

    // Off: "survey" goes to the operators.
    let (status, _) = admin.put("/api/v1/flows/survey/enabled", json!({"enabled": false})).await;
    assert_eq!(status, 200);
    hooks.text("dan", "d1", "survey").await;
    let (_, list) = admin.get("/api/v1/chats?view=unread").await;
    assert_eq!(list["chats"].as_array().unwrap().len(), 1, "{list}");
    assert!(texts(&fake, "dan").is_empty());

    let (status, _) = admin.delete("/api/v1/flows/survey").await;
    assert_eq!(status, 204);
    let (status, _) = admin.get("/api/v1/flows/survey").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_invalid_flow_is_refused_with_its_line_and_column_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (status, _) = admin.put("/api/v1/flows/survey", json!({"source": survey(1)})).await;
    assert_eq!(status, 200);
    let broken = survey(1).replace("goto: bye", "goto: byee");
    let (status, body) = admin.put("/api/v1/flows/survey", json!({"source": broken})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["message"],
        "the flow has errors: line 8, column 11: `byee` is not a step of this flow (nor `end`)"
    );
    let (_, versions) = admin.get("/api/v1/flows/survey/versions").await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);

    let (status, checked) =
        admin.post("/api/v1/flows/check", json!({"source": "name: X\nsteps:\n  a:\n    sendd: hi\n"})).await;
    assert_eq!(status, 200);
    assert_eq!(checked["ok"], false);
    let d = &checked["diagnostics"][0];
    assert_eq!(
        (d["line"].as_i64(), d["column"].as_i64(), d["severity"].as_str()),
        (Some(4), Some(5), Some("error")),
        "{checked}"
    );

    let operator = app.operator(&admin, "Olga Operator").await;
    let (status, _) = operator.put("/api/v1/flows/other", json!({"source": survey(1)})).await;
    assert_eq!(status, 403);
    let (status, _) = admin.put("/api/v1/flows/Bad Id", json!({"source": survey(1)})).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_file_flow_is_read_only_through_the_api_and_a_fresh_install_runs_none() {
    let fresh = spawn_app().await;
    let admin = fresh.admin().await;
    let (_, list) = admin.get("/api/v1/flows").await;
    assert_eq!(list["flows"], json!([]), "the shipped examples are off: {list}");

    let dir = flows_dir(9);
    let path = dir.path().display().to_string();
    let app = spawn_app_with(|c| c.flows.dir = path).await;
    let admin = app.admin().await;
    let (_, list) = admin.get("/api/v1/flows").await;
    assert_eq!(list["flows"][0]["id"], "order-status");
    assert_eq!(list["flows"][0]["enabled"], true);
    let (status, body) = admin.put("/api/v1/flows/order-status", json!({"source": survey(1)})).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = admin.delete("/api/v1/flows/order-status").await;
    assert_eq!(status, 409);

    // An edit of the file is a new version; a broken edit keeps the last good one.
    write_flow(dir.path(), "order-status", &EXAMPLE.replace("PORT", "10").replace("What can I do", "How can I help"));
    let mut version = 1;
    for _ in 0..400 {
        let (_, v) = admin.get("/api/v1/flows/order-status/versions").await;
        version = v["versions"].as_array().unwrap().len();
        if version == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(version, 2, "the edited file became version 2");
    write_flow(dir.path(), "order-status", "name: Broken\nsteps:\n  a:\n    goto: nowhere\n");
    let seen = parley::flows::files::check_dir(dir.path()).unwrap();
    assert_eq!(
        seen[0].checked.first_error().unwrap(),
        "line 4, column 11: `nowhere` is not a step of this flow (nor `end`)"
    );
    let now = app.app().now();
    app.app().store.write(move |db| parley::flows::files::sync(db, &seen, now)).await.unwrap();
    let (_, detail) = admin.get("/api/v1/flows/order-status").await;
    assert_eq!(
        (detail["name"].as_str(), detail["version"].as_i64()),
        (Some("Order status"), Some(2)),
        "the last good version stays"
    );
}
