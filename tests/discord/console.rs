//! The Discord channel in the console: added through Settings (token, guild channels)
//! against the fake Discord, and "Connect Discord" in the operator's details.

use thirtyfour::prelude::*;

use super::*;
use crate::support::browser::{self, Browser};

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

async fn type_into(b: &Browser, css: &str, text: &str) {
    b.wait_until(css, &format!("document.querySelector({})", js(css))).await;
    let element = b.driver.find(By::Css(css)).await.unwrap();
    element.clear().await.unwrap();
    element.send_keys(text).await.unwrap();
}

/// Sets a select and fires its events (WebDriver cannot type into one).
async fn set_value(b: &Browser, css: &str, value: &str) {
    b.wait_until(css, &format!("document.querySelector({})", js(css))).await;
    let script = format!(
        "const el = document.querySelector({}); el.value = {}; el.dispatchEvent(new Event('change', {{bubbles: true}}));",
        js(css),
        js(value)
    );
    b.eval(&script).await;
}

#[tokio::test]
async fn a_discord_channel_is_added_in_settings_and_an_operator_connects_discord() {
    let Some(b) = browser::start("discord: settings and connect").await else { return };
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeDiscord::start(TOKEN).await;
    b.log_in(&app.base, "admin@example.com", "correct horse").await;
    b.driver.goto(format!("{}/#settings", app.base)).await.unwrap();
    b.wait_until("the channel rows", "document.querySelector('[data-testid=channel-row]')").await;

    b.click("[data-testid=add-channel]").await;
    set_value(&b, "[data-testid=channel-kind]", "discord").await;
    type_into(&b, "[data-testid=channel-name]", "Community").await;
    type_into(&b, "[data-testid=discord-token]", TOKEN).await;
    type_into(&b, "[data-testid=discord-guild-channels]", "2000000000000000002\n2000000000000000003").await;
    type_into(&b, "[data-testid=discord-api-url]", &fake.url()).await;
    b.click("[data-testid=discord-notify]").await;
    b.click("[data-testid=channel-save]").await;
    b.wait_until("the bot named", "document.querySelector('.created-note')?.textContent.includes('hubbot')").await;
    fake.wait_connected(1).await;
    let (_, list) = admin.get("/api/v1/channels").await;
    let c = list["channels"].as_array().unwrap().iter().find(|c| c["kind"] == "discord").unwrap().clone();
    assert_eq!(c["settings"]["guild_channels"], json!(["2000000000000000002", "2000000000000000003"]));
    assert_eq!(c["settings"]["notify_operators"], true);
    assert!(c["settings"]["token"].as_str().unwrap().starts_with("••••"));
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();

    // The operator's details: "Connect Discord" shows the message to DM to the bot.
    b.click("[data-testid=my-avatar]").await;
    b.click("[data-testid=connect-discord]").await;
    b.wait_until("the code", "document.querySelector('[data-testid=discord-code]')").await;
    let code = b.eval("return document.querySelector('[data-testid=discord-code]').textContent").await;
    assert!(code.as_str().unwrap().starts_with("/start op-"), "{code}");
    let href = b.eval("return document.querySelector('[data-testid=discord-link]').href").await;
    assert_eq!(href, "https://discord.com/users/42");
    b.finish().await;
}
