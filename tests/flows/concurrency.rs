//! Updates for one chat that arrive at once still move its run one step each.

use super::*;
use crate::support::spawn_app_with;
use crate::support::webhook_fake::FakeReceiver;

const FORM: &str = "name: Form\ntriggers:\n  - keyword: form\nsteps:\n  a:\n    ask: \"first?\"\n    save: a\n    goto: b\n  b:\n    ask: \"second?\"\n    save: b\n    goto: c\n  c:\n    ask: \"third?\"\n    save: c\n    goto: done\n  done:\n    send: \"thanks\"\n    goto: end\n";

#[tokio::test]
async fn concurrent_answers_for_one_chat_advance_one_step_each() {
    let dir = tempfile::tempdir().unwrap();
    write_flow(dir.path(), "form", FORM);
    let path = dir.path().display().to_string();
    let app = spawn_app_with(|c| c.flows.dir = path).await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let hooks = app.webhook_channel(&admin, &fake).await;
    hooks.text("ann", "m0", "form").await;
    fake.wait_received(1).await;

    let sends = (1..=3).map(|i| {
        hooks.inbound(
            serde_json::json!({"user_id": "ann", "message_id": format!("m{i}"), "text": format!("answer {i}")}),
        )
    });
    let answers = futures_util::future::join_all(sends).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    // A platform's retry of one of them changes nothing.
    hooks.text("ann", "m2", "answer 2").await;

    let got = fake.wait_received(4).await;
    let texts: Vec<&str> = got.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["first?", "second?", "third?", "thanks"]);
    let chat = the_chat(&admin).await;
    let bot = history(&admin, chat["id"].as_i64().unwrap()).await.iter().filter(|m| m["author_kind"] == "bot").count();
    assert_eq!(bot, 4, "each answer moved the run once");
}
