//! The console with a WhatsApp chat, in a real headless Chromium: the closed 24-hour
//! window and the template picker, read ticks, the contact's reaction, and Settings
//! showing a channel whose token WhatsApp refused.

use thirtyfour::By;

use super::*;
use crate::support::browser;
use crate::support::whatsapp_fake::Failure;

#[tokio::test]
async fn a_closed_window_offers_templates_and_ticks_and_reactions_show() {
    let Some(b) = browser::start("console whatsapp").await else { return };
    // A real clock: the console drops live events stamped before it loaded.
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeGraph::start().await;
    fake.add_template(
        json!({"name": "order_shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hello {{1}}, order {{2}} has shipped. <b>not bold</b>"}]}),
    );
    let id = channel(&admin, &fake).await;
    // Ada wrote 25 hours ago.
    let ada = Customer::new("15550001111", "Ada");
    let chat_id = customer_chat(&app, &admin, id, &ada).await;
    app.app()
        .store
        .write(|db| -> parley::error::Result<u64> {
            Ok(db.exec("UPDATE messages SET created_at = created_at - 90000000 WHERE direction = 'in'", &[])?)
        })
        .await
        .unwrap();

    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    let row = format!("document.querySelector('[data-testid=chat-row][data-chat-id=\"{chat_id}\"]')");
    b.wait_until("the chat row", &row).await;
    b.eval(&format!("{row}.click()")).await;
    b.wait_until("the closed-window note", "document.querySelector('[data-testid=window-closed]:not([hidden])')").await;
    b.screenshot("whatsapp-1-window-closed").await;

    b.click("[data-testid=window-template]").await;
    b.wait_until("the approved template", "document.querySelector('[data-testid=template-option]')").await;
    assert_eq!(
        b.eval("return document.querySelectorAll('[data-testid=template-dialog] b').length").await,
        0,
        "a template's text is shown as text"
    );
    b.click("[data-testid=template-option] input").await;
    b.wait_until("its two values", "document.querySelector('[data-testid=template-param-2]')").await;
    b.driver.find(By::Css("[data-testid=template-param-1]")).await.unwrap().send_keys("Ada").await.unwrap();
    b.driver.find(By::Css("[data-testid=template-param-2]")).await.unwrap().send_keys("#1042").await.unwrap();
    b.screenshot("whatsapp-2-template-picker").await;
    b.click("[data-testid=template-send]").await;
    let sent = fake.wait_send(1).await;
    assert_eq!(sent.body["template"]["name"], "order_shipped");
    assert_eq!(sent.body["template"]["components"][0]["parameters"][0]["text"], "Ada");

    // Delivered, then read: the ticks follow.
    let wamid = sent.wamid.unwrap();
    whatsapp_fake::deliver(&app.base, id, &ada.status(&wamid, "delivered")).await;
    b.wait_until("the delivered ticks", "document.querySelector('[data-testid=message-state][data-state=delivered]')")
        .await;
    whatsapp_fake::deliver(&app.base, id, &ada.status(&wamid, "read")).await;
    b.wait_until("the read ticks", "document.querySelector('[data-testid=message-state][data-state=read]')").await;
    whatsapp_fake::deliver(&app.base, id, &ada.reaction("wamid.r1", &wamid, "🙏")).await;
    b.wait_until(
        "her reaction on the template",
        "[...document.querySelectorAll('[data-testid=message-reactions]')].some(e => e.textContent === '🙏')",
    )
    .await;
    b.screenshot("whatsapp-3-read-and-reaction").await;

    // She writes again: the window opens, and a token WhatsApp refuses breaks the channel.
    whatsapp_fake::deliver(&app.base, id, &ada.text("wamid.back", "thanks")).await;
    b.wait_until("the window open again", "document.querySelector('[data-testid=window-closed][hidden]')").await;
    fake.fail(&[Failure::Graph(401, 190, None)]);
    let mut events = admin.events(0).await;
    let (_, reply) = admin.post(&format!("/api/v1/chats/{chat_id}/messages"), json!({"text": "You're welcome"})).await;
    wait_state(&mut events, &reply["id"], "failed").await;
    b.wait_until("the failure", "document.querySelector('[data-testid=message-state][data-state=failed]')").await;
    b.click("[data-testid=nav-settings]").await;
    let settings_link = "document.querySelector('[data-testid=channel-broken]')";
    b.wait_until("the broken channel in Settings", settings_link).await;
    let shown = b.eval(&format!("return {settings_link}.textContent")).await;
    assert!(shown.as_str().unwrap().contains("190"), "{shown}");
    b.screenshot("whatsapp-4-settings-broken").await;
    b.finish().await;
}
