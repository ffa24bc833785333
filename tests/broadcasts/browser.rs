//! The Broadcasts page in a real headless Chromium against the real server: an admin
//! composes a broadcast with the audience builder's live count and sends it; another,
//! slow one is paused, resumed and cancelled from its page while its progress moves.

use serde_json::json;
use thirtyfour::prelude::*;

use super::support::browser::{self, Browser};
use super::support::spawn_app;
use super::support::telegram_fake::FakeTelegram;
use super::{act, create, people, telegram};

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

async fn type_into(b: &Browser, css: &str, text: &str) {
    b.wait_until(css, &format!("document.querySelector({})", js(css))).await;
    let element = b.driver.find(By::Css(css)).await.unwrap();
    element.clear().await.unwrap();
    element.send_keys(text).await.unwrap();
}

async fn set_value(b: &Browser, css: &str, value: &str) {
    b.wait_until(css, &format!("document.querySelector({})", js(css))).await;
    b.eval(&format!(
        "const el = document.querySelector({}); el.value = {}; el.dispatchEvent(new Event('change', {{bubbles: true}}));",
        js(css),
        js(value)
    ))
    .await;
}

fn figure(name: &str) -> String {
    format!("document.querySelector('[data-testid=bc-fig-{name}]')?.textContent")
}

#[tokio::test]
async fn compose_with_a_live_count_send_and_control_a_running_broadcast() {
    let Some(b) = browser::start("broadcasts page").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    people(&app, &fake, 900, 30).await;
    let (_, list) = admin.get("/api/v1/contacts?limit=100").await;
    for c in list["contacts"].as_array().unwrap().iter().take(12) {
        admin.patch(&format!("/api/v1/contacts/{}", c["id"]), json!({"tags": ["vip"]})).await;
    }
    b.log_in(&app.base, "admin@example.com", "correct horse").await;

    b.click("[data-testid=nav-broadcasts]").await;
    b.wait_until(
        "the live count of everyone",
        "document.querySelector('[data-testid=bc-count-n]')?.textContent === '30 contacts'",
    )
    .await;
    type_into(&b, "[data-testid=bc-tags-any]", "vip").await;
    b.wait_until(
        "the count of the VIPs",
        "document.querySelector('[data-testid=bc-count-n]')?.textContent === '12 contacts'",
    )
    .await;
    type_into(&b, "[data-testid=bc-name]", "VIP preview").await;
    type_into(&b, "[data-testid=bc-text]", "Our new collection, for you first <b>not bold</b>").await;
    b.click("[data-testid=bc-add-button]").await;
    type_into(&b, "[data-testid=bc-button-label]", "No more of these").await;
    set_value(&b, "[data-testid=bc-button-kind]", "unsubscribe").await;
    b.screenshot("broadcasts-1-compose").await;

    b.click("[data-testid=bc-send]").await;
    b.wait_until("the broadcast done, all twelve sent", &format!("{} === '12'", figure("sent"))).await;
    b.wait_until("its state", "document.querySelector('.bc-detail-head .bc-badge')?.textContent === 'Done'").await;
    b.wait_until(
        "the recipients table, following the progress",
        "[...document.querySelectorAll('[data-testid=bc-recipients] tbody tr')].filter(r => r.children[1].textContent === 'sent').length === 12",
    )
    .await;
    let shown = b.eval("return document.querySelector('.bc-text').textContent").await;
    assert_eq!(shown, "Our new collection, for you first <b>not bold</b>", "the text is shown as text");
    // The bar is drawn (its width set through the CSSOM: the console's CSP refuses style
    // attributes) and full.
    b.wait_until(
        "the progress bar full",
        "(() => { const s = document.querySelector('.bc-progress:not(.small) .bc-seg.bc-sent'); return !!s && s.getBoundingClientRect().width > 0.9 * s.parentElement.getBoundingClientRect().width; })()",
    )
    .await;
    b.screenshot("broadcasts-2-done").await;
    let sent = fake.ok_calls("sendMessage");
    assert_eq!(
        sent.iter().filter(|c| c.params["text"] == "Our new collection, for you first <b>not bold</b>").count(),
        12
    );

    // A slow one to everyone: paused, resumed, cancelled from its page.
    let slow =
        create(&admin, json!({"name": "Slow news", "content": {"text": "Slow news"}, "rate_per_second": 2})).await;
    let id = slow["id"].as_i64().unwrap();
    act(&admin, id, "start").await;
    b.eval(&format!("location.hash = '#broadcasts/{id}'")).await;
    b.wait_until("some progress", &format!("Number({}) >= 1", figure("sent"))).await;
    b.click("[data-testid=bc-pause]").await;
    b.wait_until("the paused state", "document.querySelector('.bc-detail-head .bc-badge')?.textContent === 'Paused'")
        .await;
    set_value(&b, "[data-testid=bc-recipient-state]", "queued").await;
    b.wait_until(
        "the queued recipients listed",
        "document.querySelectorAll('[data-testid=bc-recipients] tbody tr').length > 0",
    )
    .await;
    b.screenshot("broadcasts-3-paused").await;
    b.click("[data-testid=bc-resume]").await;
    b.wait_until("sending again", "document.querySelector('.bc-detail-head .bc-badge')?.textContent === 'Sending'")
        .await;
    b.eval("window.confirm = () => true").await;
    b.click("[data-testid=bc-cancel]").await;
    b.wait_until(
        "the cancelled state",
        "document.querySelector('.bc-detail-head .bc-badge')?.textContent === 'Cancelled'",
    )
    .await;
    b.wait_until("cancelled recipients counted", &format!("Number({}) > 0", figure("cancelled"))).await;
    let href = b.eval("return document.querySelector('[data-testid=bc-export]').getAttribute('href')").await;
    assert_eq!(href, format!("/api/v1/broadcasts/{id}/recipients?format=csv"));
    b.screenshot("broadcasts-4-cancelled").await;
    b.finish().await;
}
