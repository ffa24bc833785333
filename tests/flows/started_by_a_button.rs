//! A broadcast's button that names a flow (`flow:<id>`) starts that flow for the contact
//! who presses it, even in a conversation that people have, and whatever its triggers.

use serde_json::json;

use super::*;
use crate::support::spawn_app;

const SURVEY: &str = "name: Survey\ntriggers:\n  - keyword: survey\nsteps:\n  q1:\n    ask: \"Your name?\"\n    save: name\n    goto: bye\n  bye:\n    send: \"Thanks, {{vars.name}}.\"\n    goto: end\n";

#[tokio::test]
async fn a_press_naming_a_flow_starts_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeTelegram::start().await;
    telegram(&admin, &fake).await;
    let (status, saved) = admin.put("/api/v1/flows/survey", json!({"source": SURVEY, "enabled": true})).await;
    assert_eq!(status, 200, "{saved}");

    let dora = Person::new(811, "Dora");
    say(&app, &fake, dora.text(1, "hello there")).await; // people's conversation: no trigger
    say(&app, &fake, dora.press("cb-1", 2, "flow:nonexistent")).await;
    say(&app, &fake, dora.press("cb-2", 2, "flow:survey")).await;
    assert_eq!(wait_sent(&fake, &dora, 1).await, ["Your name?"], "only the named flow that exists starts");
    say(&app, &fake, dora.text(3, "Dora")).await;
    assert_eq!(wait_sent(&fake, &dora, 2).await[1], "Thanks, Dora.");
}
