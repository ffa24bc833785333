//! The Bots page in a real headless Chromium: the flows with their switches, the diagram
//! with counts, the simulator playing the example (its HTTP step against a local
//! orders service), inline errors in the editor, and a rollback.

use serde_json::json;

use crate::flows::{EXAMPLE, flows_dir, orders};
use crate::support::visitor::{Visitor, widget_key};
use crate::support::{browser, spawn_app_with};

fn survey(v: u32) -> String {
    format!(
        "name: Survey\ntriggers:\n  - keyword: survey\nsteps:\n  q1:\n    ask: \"v{v}: your name?\"\n    save: name\n    goto: bye\n  bye:\n    send: \"v{v} bye {{{{vars.name}}}}\"\n    goto: end\n"
    )
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

const SAID: &str = "[...document.querySelectorAll('[data-testid=sim-say]')].map(e => e.textContent)";

#[tokio::test]
async fn the_bots_page_shows_flows_simulates_the_example_and_rolls_back() {
    let Some(b) = browser::start("bots page").await else { return };
    let port = orders().await;
    let dir = flows_dir(port);
    let path = dir.path().display().to_string();
    let app = spawn_app_with(|c| c.flows.dir = path).await;
    let admin = app.admin().await;
    assert!(EXAMPLE.contains("PORT"));
    for v in [1, 2] {
        let (status, body) = admin.put("/api/v1/flows/survey", json!({"source": survey(v), "enabled": true})).await;
        assert_eq!(status, 200, "{body}");
    }
    // One contact through the example in the widget, so the diagram has counts to show.
    let (_, key) = widget_key(&admin).await;
    let mut visitor = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    visitor.say("menu", "c1").await;
    visitor.say("Talk to a person", "c2").await;
    let (_, chats) = admin.get("/api/v1/chats").await;
    let (chat_id, contact_id) =
        (chats["chats"][0]["id"].as_i64().unwrap(), chats["chats"][0]["contact"]["id"].as_i64().unwrap());

    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    b.click("[data-testid=nav-bots]").await;
    b.wait_until(
        "two flows and the diagram",
        "document.querySelectorAll('.bots-row').length === 2 && document.querySelector('[data-testid=step-welcome]')",
    )
    .await;
    assert_eq!(b.eval("return document.querySelector('.panes').hidden").await, true);
    let triggers =
        b.eval("return document.querySelector('[data-testid=flow-row-order-status] .bots-triggers').textContent").await;
    assert_eq!(triggers, "/startkeyword: menu, order");
    b.wait_until(
        "counts",
        "document.querySelector('[data-testid=step-welcome] .flow-counts').textContent.startsWith('1 in')",
    )
    .await;
    b.screenshot("bots-1-flows-and-diagram").await;

    // The simulator: the author plays the contact; nothing is sent anywhere.
    b.click("[data-testid=sim-start]").await;
    b.wait_until("the welcome", &format!("{SAID}.some(t => t.startsWith('Hi Test! What can I do for you?'))")).await;
    b.click("[data-testid=sim-log] .choice").await;
    b.wait_until("the question", &format!("{SAID}.some(t => t === 'Your order number, please (6 digits).')")).await;
    for answer in ["12", "123456"] {
        let input = b.driver.find(thirtyfour::By::Css("[data-testid=sim-input]")).await.unwrap();
        input.send_keys(answer).await.unwrap();
        b.click("[data-testid=sim-send]").await;
    }
    b.wait_until("the answer", &format!("{SAID}.includes('Order 123456: shipped.')")).await;
    let said = b.eval(&format!("return {SAID}")).await;
    assert!(said.as_array().unwrap().iter().any(|t| t == "An order number has 6 digits, like 123456."), "{said}");
    b.wait_until("the variables", "document.querySelector('[data-testid=sim-vars]').textContent.includes('shipped')")
        .await;
    b.screenshot("bots-2-simulator").await;

    // A flow written in the console: inline errors, then a rollback.
    b.driver.goto(format!("{}/#bots/survey", app.base)).await.unwrap();
    b.wait_until(
        "the survey",
        "document.querySelector('[data-testid=step-q1]') && document.querySelector('[data-testid=rollback-1]')",
    )
    .await;
    let broken = survey(2).replace("goto: bye", "goto: byee");
    b.eval(&format!(
        "const e = document.querySelector('[data-testid=flow-editor]'); e.value = {}; e.dispatchEvent(new Event('input'));",
        js(&broken)
    ))
    .await;
    b.wait_until(
        "the inline error",
        "document.querySelector('.flow-problem.is-error')?.textContent.includes('`byee` is not a step')",
    )
    .await;
    let at = b.eval("return document.querySelector('.flow-problem.is-error button').textContent").await;
    assert_eq!(at, "8:11");
    b.eval("document.querySelector('[data-testid=flow-problems]').scrollIntoView({block: 'center'})").await;
    b.screenshot("bots-3-editor-error").await;

    b.click("[data-testid=rollback-1]").await;
    b.wait_until(
        "version 1 current",
        "document.querySelector('[data-testid=flow-versions] .is-current')?.textContent.startsWith('v1')",
    )
    .await;
    let (_, versions) = admin.get("/api/v1/flows/survey/versions").await;
    assert_eq!(versions["versions"][1]["current"], true, "{versions}");
    b.eval("document.querySelector('[data-testid=flow-switch-survey]').click()").await;
    let mut off = false;
    for _ in 0..100 {
        let (_, list) = admin.get("/api/v1/flows").await;
        if list["flows"][1]["enabled"] == false {
            off = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(off, "the switch turned the survey off");
    b.screenshot("bots-4-versions-rolled-back").await;

    // The widget visitor's chat: the contact card says who answers and pauses the bot.
    b.driver.goto(format!("{}/#chat={}", app.base, chat_id)).await.unwrap();
    b.wait_until("the contact's bot section", "document.querySelector('[data-testid=bot-pause]')").await;
    b.click("[data-testid=bot-pause]").await;
    b.wait_until("paused", "document.querySelector('[data-testid=bot-resume]')").await;
    let (_, bot) = admin.get(&format!("/api/v1/contacts/{contact_id}/bot")).await;
    assert_eq!(bot["paused"], true, "{bot}");
    b.screenshot("bots-5-contact-card-paused").await;
    b.finish().await;
}
