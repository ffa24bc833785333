//! The example in the website widget: buttons in the frames, pressed by sending their
//! label.

use super::*;
use crate::support::spawn_app_with;
use crate::support::visitor::{Visitor, widget_key};

async fn next_bot(v: &mut Visitor) -> serde_json::Value {
    loop {
        let f = v.wait("message").await;
        if f["message"]["author_kind"] == "bot" {
            return f["message"].clone();
        }
    }
}

#[tokio::test]
async fn the_widget_shows_the_bots_buttons_and_a_press_moves_the_flow_on() {
    let port = orders().await;
    let dir = flows_dir(port);
    let path = dir.path().display().to_string();
    let app = spawn_app_with(|c| c.flows.dir = path).await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let mut v = Visitor::connect(&app, &format!("channel={key}")).await.unwrap();

    v.say("menu", "c1").await;
    let welcome = next_bot(&mut v).await;
    assert_eq!(welcome["text"], "Hi ! What can I do for you?");
    let labels: Vec<&str> =
        welcome["buttons"].as_array().unwrap().iter().map(|b| b["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Where is my order?", "Talk to a person"]);

    v.say("Where is my order?", "c2").await;
    assert_eq!(next_bot(&mut v).await["text"], "Your order number, please (6 digits).");
    v.say("123456", "c3").await;
    assert_eq!(next_bot(&mut v).await["text"], "Order 123456: shipped.");
}
