//! The admin Settings page in a real headless Chromium against the real server: an admin
//! sets Parley up without curl (a widget channel, an operator) and the operator added
//! there logs in and finds no Settings entry.

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::browser::Browser;
use crate::support::telegram_fake::{FakeTelegram, bot_username};
use crate::support::{browser, spawn_app};

const TOKEN: &str = "123456:customer-bot-token";

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Replaces the text of an input or textarea by typing, as a person would.
async fn type_into(b: &Browser, css: &str, text: &str) {
    b.wait_until(css, &format!("document.querySelector({})", js(css))).await;
    let element = b.driver.find(By::Css(css)).await.unwrap();
    element.clear().await.unwrap();
    element.send_keys(text).await.unwrap();
}

/// Sets a control WebDriver cannot type into (a select, a colour picker) and fires its events.
async fn set_value(b: &Browser, css: &str, value: &str) {
    b.wait_until(css, &format!("document.querySelector({})", js(css))).await;
    b.eval(&format!(
        "const el = document.querySelector({}); el.value = {}; \
         el.dispatchEvent(new Event('input', {{bubbles: true}})); el.dispatchEvent(new Event('change', {{bubbles: true}}));",
        js(css),
        js(value)
    ))
    .await;
}

fn text_of(css: &str) -> String {
    format!("return document.querySelector({})?.textContent ?? null", js(css))
}

/// A screenshot once the dialog's opening animation is over.
async fn shot(b: &Browser, name: &str) {
    b.wait_until("animations to end", "document.getAnimations().every(a => a.playState !== 'running')").await;
    b.screenshot(name).await;
}

const NO_DIALOG: &str = "!document.querySelector('.modal')";
const FORM_ERROR: &str = "document.querySelector('[data-testid=form-error]')?.textContent";

async fn channel_named(admin: &crate::support::Session, name: &str) -> Option<Value> {
    let (status, list) = admin.get("/api/v1/channels").await;
    assert_eq!(status, 200, "{list}");
    list["channels"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned()
}

#[tokio::test]
async fn an_admin_adds_a_widget_channel_and_an_operator_who_sees_no_settings() {
    let Some(b) = browser::start("settings as admin").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    b.log_in(&app.base, "admin@example.com", "correct horse").await;

    b.click("[data-testid=nav-settings]").await;
    b.wait_until(
        "the Settings page listing the first widget channel",
        "!document.querySelector('[data-testid=settings-page]').hidden && document.querySelector('[data-testid=channel-row]')",
    )
    .await;
    assert_eq!(b.eval("return document.querySelector('.panes').hidden").await, true);
    shot(&b, "settings-1-channels").await;

    // A refusal from the server is shown in the dialog: a webhook secret that is too short.
    b.click("[data-testid=add-channel]").await;
    set_value(&b, "[data-testid=channel-kind]", "webhook").await;
    type_into(&b, "[data-testid=channel-name]", "CRM").await;
    type_into(&b, "[data-testid=webhook-secret]", "short").await;
    b.click("[data-testid=channel-save]").await;
    b.wait_until("the server's message", &format!("{FORM_ERROR}?.includes('at least 16 characters')")).await;
    assert_eq!(b.eval("return document.activeElement.dataset.testid").await, "webhook-secret");
    shot(&b, "settings-2-server-refusal").await;
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();
    b.wait_until("Escape closed the dialog", NO_DIALOG).await;
    assert!(channel_named(&admin, "CRM").await.is_none());

    // A widget channel with a colour, an allowed origin and an identity secret.
    b.click("[data-testid=add-channel]").await;
    set_value(&b, "[data-testid=channel-kind]", "widget").await;
    type_into(&b, "[data-testid=channel-name]", "Shop site").await;
    set_value(&b, "[data-testid=widget-color]", "#e11d48").await;
    type_into(&b, "[data-testid=widget-origins]", "https://shop.example/\n").await;
    type_into(&b, "[data-testid=widget-secret]", "a-long-shared-secret-7890").await;
    shot(&b, "settings-3-add-widget").await;
    b.click("[data-testid=channel-save]").await;
    b.wait_until("the embed snippet", "document.querySelector('[data-testid=embed-snippet]')").await;
    let shop = channel_named(&admin, "Shop site").await.expect("the widget channel exists");
    let (id, key) = (shop["id"].as_i64().unwrap(), shop["key"].as_str().unwrap().to_owned());
    assert_eq!(shop["kind"], "widget");
    assert_eq!(shop["settings"]["color"], "#e11d48");
    assert_eq!(shop["settings"]["allowed_origins"], serde_json::json!(["https://shop.example"]));
    assert_eq!(shop["settings"]["secret"], "••••7890");
    let snippet = b.eval(&text_of("[data-testid=embed-snippet]")).await;
    assert_eq!(snippet, format!("<script src=\"{}/widget.js\" data-channel=\"{key}\" async></script>", app.base));
    assert_eq!(b.eval("return document.querySelector('[data-testid=demo-link]').getAttribute('href')").await, "/demo");
    shot(&b, "settings-4-embed-snippet").await;
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();
    b.wait_until("the dialog closed", NO_DIALOG).await;

    // Edit the greeting from the channel's row; the redacted secret goes back unchanged.
    let row = format!("[data-testid=channel-row][data-channel-id=\"{id}\"]");
    b.wait_until("the new channel's row", &format!("document.querySelector({})", js(&row))).await;
    b.click(&format!("{row} [data-testid=channel-edit]")).await;
    b.wait_until(
        "the saved colour in the form",
        "document.querySelector('[data-testid=widget-color]')?.value === '#e11d48'",
    )
    .await;
    assert_eq!(b.eval("return document.querySelector('[data-testid=widget-secret]').value").await, "••••7890");
    type_into(&b, "[data-testid=widget-greeting]", "Hello from the shop! How can we help?").await;
    b.eval("document.querySelector('[data-testid=widget-greeting]').scrollIntoView({block: 'center'})").await;
    shot(&b, "settings-5-edit-widget").await;
    b.click("[data-testid=channel-save]").await;
    b.wait_until("the dialog closed after saving", NO_DIALOG).await;
    let shop = channel_named(&admin, "Shop site").await.unwrap();
    assert_eq!(shop["settings"]["greeting"], "Hello from the shop! How can we help?");
    assert_eq!(shop["settings"]["color"], "#e11d48");
    assert_eq!(shop["settings"]["secret"], "••••7890", "the stored secret is kept");
    assert_eq!(shop["distribution"], true);

    // The distribution switch in the row.
    b.click(&format!("{row} .switch")).await;
    b.wait_until(
        "the switch settled",
        &format!("!document.querySelector({}).disabled", js(&format!("{row} [data-testid=channel-distribution]"))),
    )
    .await;
    b.wait_until("the toast", "document.querySelector('[data-testid=flash]')").await;
    assert_eq!(channel_named(&admin, "Shop site").await.unwrap()["distribution"], false);

    // Operators: the server's validation message, then the operator added.
    b.click("[data-testid=tab-settings-operators]").await;
    b.wait_until(
        "the operators tab",
        "location.hash === '#settings/operators' && document.querySelector('[data-testid=operator-row]')",
    )
    .await;
    b.click("[data-testid=add-operator]").await;
    type_into(&b, "[data-testid=operator-email]", "olga@example.com").await;
    type_into(&b, "[data-testid=operator-name]", "Olga Ops").await;
    set_value(&b, "[data-testid=operator-role]", "operator").await;
    type_into(&b, "[data-testid=operator-password]", "short").await;
    b.click("[data-testid=operator-save]").await;
    b.wait_until("the password rule", &format!("{FORM_ERROR}?.includes('8 characters')")).await;
    shot(&b, "settings-6-operator-refused").await;
    type_into(&b, "[data-testid=operator-password]", "operator pass").await;
    b.click("[data-testid=operator-save]").await;
    b.wait_until("the dialog closed", NO_DIALOG).await;
    b.wait_until("two operator rows", "document.querySelectorAll('[data-testid=operator-row]').length === 2").await;
    shot(&b, "settings-7-operators").await;
    let (_, ops) = admin.get("/api/v1/operators").await;
    let olga = ops["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["email"] == "olga@example.com")
        .expect("Olga exists")
        .clone();
    assert_eq!(olga["name"], "Olga Ops");
    assert_eq!(olga["role"], "operator");

    // Phone width: the same page, one column (the toasts, on top at this width, dismissed first).
    b.eval("document.querySelectorAll('[data-testid=flash] .toast-close').forEach((x) => x.click())").await;
    b.driver.set_window_rect(0, 0, 390, 844).await.unwrap();
    b.click("[data-testid=tab-settings-channels]").await;
    b.wait_until("the channels tab", &format!("location.hash === '#settings' && document.querySelector({})", js(&row)))
        .await;
    assert_eq!(
        b.eval("return document.documentElement.scrollWidth <= window.innerWidth").await,
        true,
        "no sideways scroll"
    );
    shot(&b, "settings-8-phone").await;
    b.click(&format!("{row} [data-testid=channel-edit]")).await;
    b.wait_until("the edit dialog", "document.querySelector('[data-testid=embed-snippet]')").await;
    shot(&b, "settings-9-phone-dialog").await;
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();
    b.driver.set_window_rect(0, 0, 1280, 800).await.unwrap();

    // The operator just added logs in: no Settings entry, and #settings shows the chats.
    b.driver.delete_all_cookies().await.unwrap();
    b.log_in(&app.base, "olga@example.com", "operator pass").await;
    b.wait_until("the navigation", "document.querySelector('[data-testid=nav-reports]')").await;
    assert_eq!(b.eval("return document.querySelector('[data-testid=nav-settings]') === null").await, true);
    b.driver.goto(format!("{}/#settings", app.base)).await.unwrap();
    b.wait_until("the console", "document.querySelector('[data-testid=chat-list]')").await;
    assert_eq!(b.eval("return document.querySelector('[data-testid=settings-page]').hidden && !document.querySelector('.panes').hidden").await, true);
    shot(&b, "settings-10-operator-has-no-settings").await;
    b.finish().await;
}

#[tokio::test]
async fn telegram_and_webhook_channels_through_the_page() {
    let Some(b) = browser::start("settings: telegram and webhook").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    b.driver.goto(format!("{}/#settings", app.base)).await.unwrap();
    b.wait_until("the channel rows", "document.querySelector('[data-testid=channel-row]')").await;

    // Telegram: the token is checked with getMe (here the fake Bot API) and then shown redacted.
    b.click("[data-testid=add-channel]").await;
    set_value(&b, "[data-testid=channel-kind]", "telegram").await;
    type_into(&b, "[data-testid=channel-name]", "Support bot").await;
    type_into(&b, "[data-testid=telegram-token]", TOKEN).await;
    set_value(&b, "[data-testid=telegram-mode]", "polling").await;
    type_into(&b, "[data-testid=telegram-api-url]", &fake.url()).await;
    shot(&b, "settings-11-add-telegram").await;
    b.click("[data-testid=channel-save]").await;
    let bot = bot_username(TOKEN);
    b.wait_until(
        "the bot named",
        &format!("document.querySelector('.created-note')?.textContent.includes({})", js(&bot)),
    )
    .await;
    shot(&b, "settings-12-telegram-created").await;
    let bot_channel = channel_named(&admin, "Support bot").await.expect("the Telegram channel exists");
    assert_eq!(bot_channel["settings"]["mode"], "polling");
    assert_eq!(bot_channel["settings"]["bot_username"], bot);
    let shown = bot_channel["settings"]["token"].as_str().unwrap();
    assert!(shown.starts_with("••••") && !shown.contains("customer"), "{shown}");
    assert_eq!(b.eval("return document.querySelector('[data-testid=telegram-token]').value").await, shown);

    // Switching the mode keeps the stored token: getMe is asked again with the real one.
    set_value(&b, "[data-testid=telegram-mode]", "webhook").await;
    b.click("[data-testid=channel-save]").await;
    b.wait_until("the dialog closed", NO_DIALOG).await;
    assert_eq!(channel_named(&admin, "Support bot").await.unwrap()["settings"]["mode"], "webhook");
    let tokens: Vec<String> = fake.ok_calls("getMe").into_iter().map(|c| c.token).collect();
    assert_eq!(tokens, [TOKEN, TOKEN]);

    // Webhook: a generated secret, then the address to POST to.
    b.click("[data-testid=add-channel]").await;
    set_value(&b, "[data-testid=channel-kind]", "webhook").await;
    type_into(&b, "[data-testid=channel-name]", "CRM").await;
    type_into(&b, "[data-testid=webhook-url]", "https://crm.example/parley").await;
    let secret = b.eval("return document.querySelector('[data-testid=webhook-secret]').value").await;
    assert_eq!(secret.as_str().unwrap().len(), 32, "a secret is generated: {secret}");
    b.click("[data-testid=channel-save]").await;
    b.wait_until("the address to POST to", "document.querySelector('[data-testid=webhook-address]')").await;
    let crm = channel_named(&admin, "CRM").await.expect("the webhook channel exists");
    assert_eq!(crm["settings"]["url"], "https://crm.example/parley");
    let address = b.eval(&text_of("[data-testid=webhook-address]")).await;
    assert_eq!(address, format!("{}/hooks/{}", app.base, crm["id"]));
    shot(&b, "settings-13-webhook-created").await;
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();
    b.wait_until("three rows", "document.querySelectorAll('[data-testid=channel-row]').length === 3").await;
    shot(&b, "settings-14-three-channels").await;
    b.finish().await;
}

#[tokio::test]
async fn sessions_deactivation_and_the_audit_log_through_the_console() {
    let Some(b) = browser::start("sessions and audit").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    b.log_in(&app.base, "admin@example.com", "correct horse").await;

    // Your details: this browser and the set-up session, which can be ended from here.
    b.click("[data-testid=my-avatar]").await;
    b.wait_until(
        "two sessions listed",
        "document.querySelectorAll('[data-testid=session-list] [data-testid=session-row]').length === 2",
    )
    .await;
    shot(&b, "sessions-1-details").await;
    b.click("[data-testid=revoke-sessions]").await;
    b.wait_until(
        "one session left",
        "document.querySelectorAll('[data-testid=session-list] [data-testid=session-row]').length === 1",
    )
    .await;
    assert_eq!(admin.get("/api/v1/me").await.0, 401, "the set-up session was ended from the console");
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();
    b.wait_until("the panel closed", NO_DIALOG).await;

    // Settings → Operators: deactivate Olga (the confirmation accepted).
    b.eval("window.confirm = () => true").await;
    b.eval("location.hash = '#settings/operators'").await;
    b.wait_until("Olga's row", "document.querySelector('[data-testid=deactivate-operator]')").await;
    shot(&b, "sessions-2-operators").await;
    b.click("[data-testid=deactivate-operator]").await;
    b.wait_until("Olga deactivated", "document.querySelector('[data-testid=operator-deactivated]')").await;
    assert_eq!(olga.get("/api/v1/me").await.0, 401);

    // Settings → Audit log lists it, newest first, named by the admin.
    b.eval("location.hash = '#settings/audit'").await;
    // (The tab was loaded once already, for its count: wait for the reload that shows the deactivation.)
    b.wait_until(
        "the audit log with the deactivation",
        "document.querySelector('[data-testid=audit-row]')?.textContent.includes('deactivated')",
    )
    .await;
    let first = b.eval(&text_of("[data-testid=audit-row]")).await;
    let first = first.as_str().unwrap();
    assert!(first.contains("Ada Admin") && first.contains("deactivated operator"), "{first}");
    shot(&b, "sessions-3-audit-log").await;
    b.finish().await;
}
