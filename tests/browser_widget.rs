//! The widget in a real headless Chromium: /demo, the bubble, a message, the
//! operator's reply, a reload that keeps the history, HTML shown as text.

use serde_json::json;

use crate::support::{browser, spawn_app};

/// A query inside the widget's shadow root.
fn shadow(selector: &str) -> String {
    format!("document.querySelector('#parley-widget-host')?.shadowRoot?.querySelector('{selector}')")
}

#[tokio::test]
async fn a_visitor_chats_from_the_demo_page_and_keeps_the_history_after_a_reload() {
    let Some(b) = browser::start("widget demo").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut events = admin.events(0).await;

    b.driver.goto(format!("{}/demo", app.base)).await.unwrap();
    b.wait_until("the bubble", &shadow("[data-testid=bubble]")).await;
    b.screenshot("widget-1-demo-page").await;
    b.eval(&format!("{}.click()", shadow("[data-testid=bubble]"))).await;
    b.wait_until("the open panel", &format!("!{}.hidden", shadow("[data-testid=panel]"))).await;

    // Fill the optional pre-chat form if the channel shows it, then write.
    let has_form = b.eval(&format!("return !!{}", shadow("[data-testid=prechat-form]"))).await;
    if has_form == true {
        b.eval(&format!(
            "const f = {}; f.querySelector('[name=name]').value = 'Wendy Widget'; {}.click()",
            shadow("[data-testid=prechat-form]"),
            shadow("[data-testid=prechat-submit]")
        ))
        .await;
        b.wait_until("the composer", &shadow("[data-testid=input]")).await;
    }
    let evil = "<img src=x onerror=\"window.__pwned=1\"> is my order late?";
    b.eval(&format!(
        "const i = {}; i.value = {}; i.dispatchEvent(new Event('input', {{bubbles: true}})); {}.click()",
        shadow("[data-testid=input]"),
        serde_json::to_string(evil).unwrap(),
        shadow("[data-testid=send]")
    ))
    .await;

    let e = events.wait_for("message.created", |e| e["data"]["message"]["direction"] == "in").await;
    assert_eq!(e["data"]["message"]["text"], evil);
    let chat = e["chat_id"].as_i64().unwrap();
    admin.post(&format!("/api/v1/chats/{chat}/messages"), json!({"text": "On its way — arrives tomorrow."})).await;
    let reply_visible = format!(
        "[...{}.querySelectorAll('[data-testid=message][data-direction=out] [data-testid=message-text]')].some(e => e.textContent.includes('arrives tomorrow'))",
        shadow("[data-testid=messages]")
    );
    b.wait_until("the operator's reply", &reply_visible).await;
    let shown_as_text = format!(
        "[...{}.querySelectorAll('[data-testid=message-text]')].some(e => e.textContent.includes('<img src=x'))",
        shadow("[data-testid=messages]")
    );
    b.wait_until("the HTML shown as text", &shown_as_text).await;
    assert_eq!(b.eval(&format!("return {}.querySelectorAll('img').length", shadow("[data-testid=messages]"))).await, 0);
    assert_eq!(b.eval("return window.__pwned === undefined").await, true);
    b.screenshot("widget-2-conversation").await;

    b.driver.refresh().await.unwrap();
    b.wait_until("the bubble after reload", &shadow("[data-testid=bubble]")).await;
    b.eval(&format!("{}.click()", shadow("[data-testid=bubble]"))).await;
    b.wait_until("the history after reload", &reply_visible).await;
    b.wait_until("the visitor's own message after reload", &shown_as_text).await;
    b.screenshot("widget-3-after-reload").await;
    b.finish().await;
}
