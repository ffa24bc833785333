//! The operator console in a real headless Chromium against the real server, with a
//! widget visitor on the other side.

use serde_json::json;
use thirtyfour::prelude::*;

use crate::support::browser::Browser;
use crate::support::visitor::{Visitor, widget_key};
use crate::support::{browser, spawn_app};

fn row(chat: i64) -> String {
    format!("document.querySelector('[data-testid=chat-row][data-chat-id=\"{chat}\"]')")
}

async fn open_chat(b: &Browser, chat: i64) {
    b.wait_until("the chat row", &row(chat)).await;
    b.eval(&format!("{}.click()", row(chat))).await;
    b.wait_until(
        "the chat view",
        &format!("document.querySelector('[data-testid=chat-view][data-chat-id=\"{chat}\"]')"),
    )
    .await;
}

fn message_shown(text: &str) -> String {
    format!(
        "[...document.querySelectorAll('[data-testid=message] [data-testid=message-text]')].some(e => e.textContent.includes({}))",
        serde_json::to_string(text).unwrap()
    )
}

#[tokio::test]
async fn an_operator_works_a_chat_from_arrival_to_closed_and_back() {
    let Some(b) = browser::start("console chat lifecycle").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    b.screenshot("console-1-empty-inbox").await;

    let mut visitor = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    visitor.say("<b>bold?</b> <img src=x onerror=\"window.__pwned=1\">", "v-1").await;
    let chat = admin.get("/api/v1/chats").await.1["chats"][0]["id"].as_i64().unwrap();
    b.wait_until("the new chat, live", &row(chat)).await;
    b.wait_until("its unread badge", &format!("{}.querySelector('.unread-badge')", row(chat))).await;
    b.screenshot("console-2-new-chat-live").await;

    open_chat(&b, chat).await;
    b.wait_until("the contact's message as text", &message_shown("<b>bold?</b> <img src=x")).await;
    assert_eq!(
        b.eval(
            "return document.querySelectorAll('[data-testid=message-text] img, [data-testid=message-text] b').length"
        )
        .await,
        0
    );
    assert_eq!(b.eval("return window.__pwned === undefined").await, true);

    let composer = b.driver.find(By::Css("[data-testid=composer]")).await.unwrap();
    composer.send_keys("Hello!").await.unwrap();
    composer.send_keys(Key::Shift + Key::Enter).await.unwrap();
    composer.send_keys("How can I help?").await.unwrap();
    composer.send_keys(Key::Enter).await.unwrap();
    let pushed = visitor.wait("message").await;
    assert_eq!(pushed["message"]["text"], "Hello!\nHow can I help?");
    b.wait_until("the reply with its tick", &message_shown("How can I help?")).await;
    b.screenshot("console-3-conversation").await;

    b.click("[data-testid=close-chat]").await;
    b.click("[data-testid=tab-closed]").await;
    b.wait_until("the chat under Closed", &row(chat)).await;
    b.screenshot("console-4-closed").await;
    b.click("[data-testid=tab-open]").await;
    b.wait_until("the chat gone from Open", &format!("!{}", row(chat))).await;

    visitor.say("one more thing", "v-2").await;
    b.wait_until("the chat back in Open", &row(chat)).await;
    open_chat(&b, chat).await;
    b.wait_until("the old history", &message_shown("How can I help?")).await;
    b.wait_until("the new message", &message_shown("one more thing")).await;
    b.screenshot("console-5-reopened-with-history").await;
    b.finish().await;
}

#[tokio::test]
async fn filters_the_other_operator_notice_transfer_status_and_merge() {
    let Some(b) = browser::start("console filters, transfer, merge").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let (_, key) = widget_key(&admin).await;
    let mut v1 = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    v1.send(json!({"type": "prechat", "name": "Rita Ray", "email": "rita@example.com", "phone": null})).await;
    v1.wait("prechat_saved").await;
    v1.say("first chat", "a").await;
    let mut v2 = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    v2.say("second chat", "b").await;
    let chats = admin.get("/api/v1/chats").await.1;
    let (second, first) = (chats["chats"][0]["id"].as_i64().unwrap(), chats["chats"][1]["id"].as_i64().unwrap());
    admin.post(&format!("/api/v1/chats/{first}/transfer"), json!({"operator_id": admin.id})).await;
    admin.post(&format!("/api/v1/chats/{first}/read"), json!({})).await;

    b.log_in(&app.base, "olga@example.com", "operator pass").await;
    b.click("[data-testid=filter-unread]").await;
    b.wait_until("only the unread chat", &format!("{} && !{}", row(second), row(first))).await;
    b.click("[data-testid=filter-mine]").await;
    b.wait_until("no chat of mine yet", &format!("!{} && !{}", row(second), row(first))).await;
    b.click("[data-testid=filter-others]").await;
    b.click(&format!("[data-testid=operator-option][data-operator-id=\"{}\"]", admin.id)).await;
    b.wait_until(
        "Ada's chat and the notice",
        &format!("{} && !document.querySelector('[data-testid=viewing-notice]').hidden", row(first)),
    )
    .await;
    let notice = b.eval("return document.querySelector('[data-testid=viewing-notice]').textContent").await;
    assert!(notice.as_str().unwrap().contains("Ada Admin"), "{notice}");
    b.screenshot("console-6-others-notice").await;
    b.click("[data-testid=viewing-notice-close]").await;
    b.wait_until("the notice gone", "document.querySelector('[data-testid=viewing-notice]').hidden").await;

    // Ada transfers the second chat to Olga, with a comment: Olga is told and sees the note.
    admin
        .post(&format!("/api/v1/chats/{second}/transfer"), json!({"operator_id": olga.id, "comment": "VIP, be nice"}))
        .await;
    b.wait_until("a notification", "document.querySelector('[data-testid=toast]')").await;
    b.click("[data-testid=filter-mine]").await;
    open_chat(&b, second).await;
    b.wait_until("the transfer note", "[...document.querySelectorAll('[data-testid=message].note')].some(e => e.textContent.includes('VIP, be nice'))").await;
    b.screenshot("console-7-transfer-note").await;

    // Olga transfers it back through the dialog.
    b.click("[data-testid=transfer]").await;
    b.click(&format!("[data-testid=transfer-operator][data-operator-id=\"{}\"]", admin.id)).await;
    b.wait_until("the comment box", "document.querySelector('[data-testid=transfer-comment]')").await;
    b.driver.find(By::Css("[data-testid=transfer-comment]")).await.unwrap().send_keys("Back to you").await.unwrap();
    b.screenshot("console-8-transfer-dialog").await;
    b.click("[data-testid=transfer-submit]").await;
    let mut ada_events = admin.events(0).await;
    ada_events.wait_for("chat.transferred", |e| e["data"]["comment"] == "Back to you").await;

    // Status.
    b.click("[data-testid=my-avatar]").await;
    b.click("[data-testid=status-away]").await;
    b.wait_until(
        "status Away",
        "document.querySelector('[data-testid=my-status]')?.textContent.toLowerCase().includes('away')",
    )
    .await;
    b.screenshot("console-9-operator-details").await;
    let (_, me) = olga.get("/api/v1/me").await;
    assert_eq!(me["status"], "away");
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();

    // The second visitor leaves the same email: opening the chat offers the merge by itself.
    v2.send(json!({"type": "prechat", "name": null, "email": "RITA@example.com", "phone": null})).await;
    v2.wait("prechat_saved").await;
    b.click("[data-testid=filter-all]").await;
    open_chat(&b, first).await;
    b.wait_until(
        "the automatic merge dialog",
        "document.querySelector('[data-testid=merge-dialog]') && document.querySelector('[data-testid=merge-right]')",
    )
    .await;
    b.screenshot("console-10-merge-prompt").await;
    b.click("[data-testid=merge-unite]").await;
    b.wait_until("one chat left", &format!("{} && !{}", row(first), row(second))).await;
    let (_, merged) = admin.get(&format!("/api/v1/chats/{first}/messages")).await;
    assert_eq!(merged["messages"].as_array().unwrap().iter().filter(|m| m["kind"] == "message").count(), 2);
    b.finish().await;
}

#[tokio::test]
async fn merging_through_the_dialog_by_name() {
    let Some(b) = browser::start("console merge dialog").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let mut v1 = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    v1.send(json!({"type": "prechat", "name": "Sam Stone", "email": null, "phone": null})).await;
    v1.wait("prechat_saved").await;
    v1.say("from the laptop", "a").await;
    let mut v2 = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();
    v2.send(json!({"type": "prechat", "name": "Samuel Stone", "email": null, "phone": null})).await;
    v2.wait("prechat_saved").await;
    v2.say("from the phone", "b").await;
    let chats = admin.get("/api/v1/chats").await.1;
    let (phone_chat, laptop_chat) =
        (chats["chats"][0]["id"].as_i64().unwrap(), chats["chats"][1]["id"].as_i64().unwrap());
    let source = chats["chats"][0]["contact"]["id"].as_i64().unwrap();

    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    open_chat(&b, laptop_chat).await;
    b.click("[data-testid=merge]").await;
    b.wait_until("the merge dialog", "document.querySelector('[data-testid=merge-search]')").await;
    b.driver.find(By::Css("[data-testid=merge-search]")).await.unwrap().send_keys("Samuel").await.unwrap();
    b.click(&format!("[data-testid=merge-result][data-contact-id=\"{source}\"]")).await;
    b.click("[data-testid=merge-continue]").await;
    b.wait_until(
        "both contacts side by side",
        "document.querySelector('[data-testid=merge-left]') && document.querySelector('[data-testid=merge-right]')",
    )
    .await;
    let right = b.eval("return document.querySelector('[data-testid=merge-right]').textContent").await;
    assert!(right.as_str().unwrap().contains("Samuel"), "{right}");
    b.screenshot("console-11-merge-side-by-side").await;
    b.click("[data-testid=merge-unite]").await;
    b.wait_until("the phone chat merged away", &format!("!{}", row(phone_chat))).await;
    b.wait_until("both histories in one chat", &message_shown("from the phone")).await;
    let (status, _) = admin.get(&format!("/api/v1/chats/{phone_chat}")).await;
    assert_eq!(status, 404);
    b.finish().await;
}

#[tokio::test]
async fn an_operator_gets_a_telegram_link_from_their_details() {
    use crate::support::telegram_fake::FakeTelegram;
    let Some(b) = browser::start("console connect Telegram").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    b.log_in(&app.base, "admin@example.com", "correct horse").await;

    // Without a Telegram channel, the button says what is missing.
    b.click("[data-testid=my-avatar]").await;
    b.click("[data-testid=connect-messenger]").await;
    b.wait_until("the explanation", "document.querySelector('[data-testid=form-error]')").await;
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();

    let fake = FakeTelegram::start().await;
    let token = "4242:notify-bot-token";
    let (status, body) = admin
        .post(
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Bot", "settings": {"token": token, "mode": "polling", "api_url": fake.url(), "poll_timeout": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    b.click("[data-testid=my-avatar]").await;
    b.click("[data-testid=connect-messenger]").await;
    b.wait_until("the deep link", "document.querySelector('[data-testid=telegram-link]')").await;
    let href = b.eval("return document.querySelector('[data-testid=telegram-link]').href").await;
    let expected = format!("https://t.me/{}?start=", crate::support::telegram_fake::bot_username(token));
    assert!(href.as_str().unwrap().starts_with(&expected), "{href}");
    b.screenshot("console-12-connect-telegram").await;
    b.finish().await;
}

/// Telegram-style entities from the platform: bold, code and links are shown as such,
/// the text itself stays text, and a link to anything but http(s) is no link.
#[tokio::test]
async fn a_contacts_formatting_is_shown_and_stays_text() {
    let Some(b) = browser::start("console message entities").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = crate::support::webhook_fake::FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    // "Заказ" is 5 UTF-16 units, "🚚" 2: the offsets below count them the platform's way.
    let text = "Заказ 42 🚚 <i>late</i>: track it here or there, run `rm`";
    let (status, body) = channel
        .inbound(json!({"user_id": "zoe", "message_id": "z-1", "text": text, "entities": [
            {"kind": "bold", "offset": 0, "length": 8},
            {"kind": "text_link", "offset": 25, "length": 8, "url": "https://example.com/track"},
            {"kind": "text_link", "offset": 42, "length": 5, "url": "javascript:alert(1)"},
            {"kind": "code", "offset": 54, "length": 2}
        ]}))
        .await;
    assert_eq!(status, 200, "{body}");
    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    open_chat(&b, body["chat_id"].as_i64().unwrap()).await;
    b.wait_until("the formatted message", "document.querySelector('[data-testid=message-text] strong')").await;
    let shown = b
        .eval(
            "const t = document.querySelector('[data-testid=message-text]'); \
             return [t.querySelector('strong').textContent, t.querySelector('code').textContent, \
             [...t.querySelectorAll('a')].map(a => a.textContent + ' ' + a.getAttribute('href')).join('|'), \
             t.querySelectorAll('i').length, t.textContent]",
        )
        .await;
    assert_eq!(
        shown,
        json!(["Заказ 42", "rm", "track it https://example.com/track", 0, text]),
        "bold, code, one safe link, the <i> as text"
    );
    b.screenshot("console-13-formatted-message").await;
    b.finish().await;
}
