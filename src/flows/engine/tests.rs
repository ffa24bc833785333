//! The engine on the example flow, without a database.

use super::*;
use crate::flows::check;

pub const EXAMPLE: &str = include_str!("../../../config/flows/examples/order-status.yaml");

fn flow() -> Flow {
    let c = check(EXAMPLE);
    assert!(c.errors().next().is_none(), "{:?}", c.diagnostics);
    c.flow.unwrap()
}

fn said(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { content } => content.text.clone(),
            _ => None,
        })
        .collect()
}

fn facts() -> Facts {
    let mut f = Facts { now_ms: 1_000, ..Facts::default() };
    f.contact.insert("first_name", "Alice".into());
    f
}

#[test]
fn the_example_walks_welcome_question_retry_call_and_answer() {
    let flow = flow();
    let (mut state, effects) = start(&flow, &facts(), Some("/start"));
    assert_eq!(said(&effects), ["Hi Alice! What can I do for you?"]);
    let Effect::Send { content } = &effects[1] else { panic!("{effects:?}") };
    let labels: Vec<_> = content.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["Where is my order?", "Talk to a person"]);
    assert_eq!((state.step.as_str(), state.waiting), ("welcome", Waiting::Input));

    let e = hear(&flow, &mut state, &facts(), Heard { text: "where is my order?" }).unwrap();
    assert_eq!(said(&e), ["Your order number, please (6 digits)."]);
    let e = hear(&flow, &mut state, &facts(), Heard { text: "12" }).unwrap();
    assert_eq!(said(&e), ["An order number has 6 digits, like 123456.", "Your order number, please (6 digits)."]);
    let e = hear(&flow, &mut state, &facts(), Heard { text: "123456" }).unwrap();
    let call = e.iter().find_map(|e| if let Effect::Http { request } = e { Some(request.clone()) } else { None });
    let call = call.expect("a call");
    assert!(call.url.ends_with("/orders/123456"), "{}", call.url);
    assert_eq!((call.method.as_str(), call.timeout_ms), ("GET", 5_000));
    assert_eq!(state.waiting, Waiting::Http);
    assert!(hear(&flow, &mut state, &facts(), Heard { text: "hello?" }).is_none(), "busy with the call");

    let e = answered(&flow, &mut state, &facts(), Ok(serde_json::json!({"status": "shipped"})));
    assert_eq!(said(&e), ["Order 123456: shipped."]);
    assert_eq!(state.status, RunStatus::Finished);
}

#[test]
fn three_wrong_answers_or_a_failed_call_hand_over() {
    let flow = flow();
    let (mut state, _) = start(&flow, &facts(), None);
    hear(&flow, &mut state, &facts(), Heard { text: "Where is my order?" }).unwrap();
    hear(&flow, &mut state, &facts(), Heard { text: "1" }).unwrap();
    hear(&flow, &mut state, &facts(), Heard { text: "2" }).unwrap();
    let e = hear(&flow, &mut state, &facts(), Heard { text: "3" }).unwrap();
    assert_eq!(said(&e), ["One moment, I'm handing you to a colleague."]);
    assert!(e.iter().any(|e| matches!(e, Effect::Dropped { step } if step == "ask_order")));
    assert!(e.iter().any(|e| matches!(e, Effect::Handoff { .. })));
    assert_eq!(state.status, RunStatus::HandedOff);

    let (mut state, _) = start(&flow, &facts(), None);
    hear(&flow, &mut state, &facts(), Heard { text: "Where is my order?" }).unwrap();
    hear(&flow, &mut state, &facts(), Heard { text: "654321" }).unwrap();
    let e = answered(&flow, &mut state, &facts(), Err("timed out".into()));
    assert_eq!(said(&e), ["One moment, I'm handing you to a colleague."]);
    assert_eq!(state.status, RunStatus::HandedOff);
}

#[test]
fn a_wait_rings_or_is_cut_short_by_a_reply() {
    let src = "name: W\nsteps:\n  a:\n    send: hi\n    wait: 10m\n    on_reply: c\n    goto: b\n  b:\n    send: later\n    goto: end\n  c:\n    send: you wrote {{message.text}}\n    goto: end\n";
    let flow = check(src).flow.expect("valid");
    let (mut state, e) = start(&flow, &facts(), None);
    assert!(e.contains(&Effect::Wait { until_ms: 1_000 + 600_000 }));
    let mut other = state.clone();
    assert_eq!(said(&rang(&flow, &mut state, &facts())), ["later"]);
    let e = hear(&flow, &mut other, &facts(), Heard { text: "yo" }).unwrap();
    assert_eq!(said(&e), ["you wrote yo"]);
}

#[test]
fn conditions_read_variables_and_the_time_of_day() {
    let src = "name: C\nsteps:\n  a:\n    set: { vars: { x: \"{{message.text}}\" } }\n    condition:\n      - when: { var: x, equals: YES }\n        goto: y\n      - when: { time: { from: \"22:00\", to: \"06:00\", tz: UTC } }\n        goto: night\n    goto: n\n  y:\n    send: yes\n    goto: end\n  n:\n    send: no\n    goto: end\n  night:\n    send: night\n    goto: end\n";
    let flow = check(src).flow.expect("valid");
    assert_eq!(said(&start(&flow, &facts(), Some("yes")).1), ["yes"]);
    let noon = Facts { now_ms: 12 * 3_600_000, ..facts() };
    assert_eq!(said(&start(&flow, &noon, Some("maybe")).1), ["no"]);
    let late = Facts { now_ms: 23 * 3_600_000, ..facts() };
    assert_eq!(said(&start(&flow, &late, Some("maybe")).1), ["night"]);
}
