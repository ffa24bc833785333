//! Every real webhook body in `fixtures/` (pywa's test data) through the normalizer:
//! none is refused, every message is stored as something, and each kind comes out as
//! the hub expects it.

use std::collections::BTreeMap;

use parley_sdk::{DeliveryState, Inbound, InboundKind};
use parley_whatsapp::normalize::{self, Normalized};
use serde_json::Value;

const NUMBER: &str = "1122334455667";

fn cases(file: &str) -> BTreeMap<String, Value> {
    let path = format!("{}/tests/fixtures/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("a fixture file is a map of cases")
}

fn items(body: &Value) -> Vec<Normalized> {
    normalize::body(7, NUMBER, body.to_string().as_bytes()).expect("a real webhook body is accepted")
}

/// The one inbound item a case's body carries.
fn one(file: &str, case: &str) -> Inbound {
    let all = cases(file);
    let body = all.get(case).unwrap_or_else(|| panic!("no case {case} in {file}"));
    let mut list = items(body);
    assert_eq!(list.len(), 1, "{file}/{case}: {list:?}");
    match list.remove(0) {
        Normalized::Inbound(i) => *i,
        Normalized::Ignored(why) => panic!("{file}/{case} was dropped: {why}"),
    }
}

fn kinds(i: &Inbound) -> Vec<&str> {
    i.content.attachments.iter().map(|a| a.kind.as_str()).collect()
}

#[test]
fn every_message_of_every_fixture_is_stored_as_something() {
    for file in ["message", "callback_button", "callback_selection", "system"] {
        for (case, body) in cases(file) {
            for item in items(&body) {
                let Normalized::Inbound(i) = item else { panic!("{file}/{case} was dropped: {item:?}") };
                assert_eq!(i.channel_id, 7);
                assert_eq!(i.external_id, "972987654321", "{file}/{case}");
                assert!(i.platform_message_id.starts_with("wamid."), "{file}/{case}");
                let shown = i.content.text.as_deref().is_some_and(|t| !t.is_empty())
                    || !i.content.attachments.is_empty()
                    || !matches!(i.kind, InboundKind::Message);
                assert!(shown, "{file}/{case} would be stored empty: {i:?}");
            }
        }
    }
}

#[test]
fn text_with_its_sender_profile_reply_and_forwarding() {
    let text = one("message", "text");
    assert_eq!(text.content.text.as_deref(), Some("Body Text"));
    assert_eq!(text.platform_message_id, "wamid.xyzxyz");
    assert_eq!(text.profile.first_name.as_deref(), Some("Test Name"));
    assert_eq!(text.profile.phone.as_deref(), Some("+972987654321"));
    assert_eq!(text.kind, InboundKind::Message);

    assert_eq!(one("message", "reply").reply_to.as_deref(), Some("wamid.xyzxyz=="));
    let forwarded = one("message", "forwarded");
    assert_eq!(forwarded.reply_to, None, "a forwarded message answers nothing");
    assert_eq!(kinds(&forwarded), ["forwarded"]);
    let many = one("message", "forwarded_many_times");
    assert_eq!(many.content.attachments[0].name.as_deref(), Some("Forwarded many times"));
}

#[test]
fn media_keep_their_id_for_the_file_proxy_and_voice_is_told_apart() {
    let image = one("message", "image");
    let a = &image.content.attachments[0];
    assert_eq!(
        (a.kind.as_str(), a.file_id.as_deref(), a.mime.as_deref()),
        ("photo", Some("65463453"), Some("image/jpeg"))
    );
    let doc = one("message", "document");
    assert_eq!(doc.content.text.as_deref(), Some("caption"));
    assert_eq!(doc.content.attachments[0].name.as_deref(), Some("filename.pdf"));
    assert_eq!(kinds(&doc), ["document", "forwarded"]);
    assert_eq!(kinds(&one("message", "video"))[0], "video");
    assert_eq!(kinds(&one("message", "audio"))[0], "audio");
    assert_eq!(kinds(&one("message", "voice")), ["voice"]);
    let sticker = one("message", "animated_sticker");
    assert_eq!(sticker.content.attachments[0].kind, "sticker");
    assert_eq!(sticker.content.attachments[0].extra["animated"], true);
}

#[test]
fn locations_contacts_and_orders() {
    let here = one("message", "current_location");
    assert_eq!(here.content.attachments[0].kind, "location");
    assert_eq!(here.content.attachments[0].extra["latitude"], 12.25089);
    let venue = &one("message", "chosen_location").content.attachments[0];
    assert_eq!(venue.kind, "venue");
    assert_eq!(venue.name.as_deref(), Some("Facebook HQ — 1 Hacker Way, Menlo Park, CA 94025"));
    let cards = one("message", "contacts");
    assert_eq!(kinds(&cards), ["contact", "contact", "contact"]);
    assert_eq!(cards.content.attachments[0].name.as_deref(), Some("Chandler Bing +1 555-555-5555"));
    assert_eq!(cards.content.attachments[0].extra["phone"], "+1 555-555-5555");
    assert_eq!(kinds(&one("message", "order")), ["order"]);
}

#[test]
fn presses_of_reply_buttons_list_rows_and_template_quick_replies() {
    for (file, case, id) in [
        ("callback_button", "button", "wamid.xyzxyz"),
        ("callback_button", "quick_reply", "wamid.xsidjw"),
        ("callback_button", "quick_reply_without_context", "wamid.xsidjx"),
        ("callback_selection", "callback", "wamid.zyzxyz"),
    ] {
        let press = one(file, case);
        assert_eq!(press.kind, InboundKind::ButtonPress { data: "callback_data".into() }, "{case}");
        assert_eq!(press.content.text.as_deref(), Some("title"), "{case}");
        assert_eq!(press.platform_message_id, id);
    }
    assert_eq!(one("callback_button", "button").reply_to.as_deref(), Some("wamid.xyzxyz"));
}

#[test]
fn reactions_and_their_removal() {
    let r = one("message", "reaction");
    assert_eq!(r.kind, InboundKind::Reaction { to: "wamid.yzxyzx=".into(), emoji: "😮".into() });
    for case in ["unreaction_empty", "unreaction_no_emoji"] {
        assert_eq!(
            one("message", case).kind,
            InboundKind::Reaction { to: "wamid.yzxyzx=".into(), emoji: String::new() }
        );
    }
}

#[test]
fn unsupported_errors_referrals_and_system_messages_are_kept_visible() {
    let u = one("message", "unsupported");
    assert_eq!(kinds(&u), ["unsupported", "error"]);
    assert!(u.content.attachments[1].name.as_deref().unwrap().contains("131051"));
    let typed = one("message", "unsupported_with_type");
    assert_eq!(typed.content.attachments[0].name.as_deref(), Some("Unsupported WhatsApp message: pool"));
    let broken = one("message", "interactive_message_with_err");
    assert_eq!(kinds(&broken), ["unsupported", "error"], "an interactive message without its object");
    assert!(broken.content.attachments[1].name.as_deref().unwrap().contains("Unsupported webhook payload"));
    let ad = one("message", "referral");
    assert_eq!(ad.content.text.as_deref(), Some("BODY"));
    assert_eq!(kinds(&ad), ["referral"]);
    assert_eq!(ad.content.attachments[0].extra["ctwa_clid"], "CTWA_CLID");
    let changed = one("system", "phone_number_change");
    assert!(changed.content.text.as_deref().unwrap().contains("changed from"));
}

#[test]
fn statuses_report_by_the_message_id_and_failures_carry_the_reason() {
    for (case, state) in [
        ("sent", DeliveryState::Sent),
        ("delivered", DeliveryState::Delivered),
        ("read", DeliveryState::Read),
        ("played", DeliveryState::Read),
        ("with_tracker", DeliveryState::Sent),
    ] {
        let s = one("message_status", case);
        let InboundKind::Status { to, state: got, reason } = &s.kind else { panic!("{case}: {s:?}") };
        assert_eq!((to.as_str(), *got, reason.as_deref()), ("wamid.xyzxyz", state, None), "{case}");
        assert_eq!(s.external_id, "972987654321");
    }
    let failed = one("message_status", "failed");
    let InboundKind::Status { state: DeliveryState::Failed, reason: Some(reason), .. } = &failed.kind else {
        panic!("{failed:?}")
    };
    assert!(reason.starts_with("WhatsApp error 130472: User's number is part of an experiment"), "{reason}");
    // A status for another phone number of the same app is not this channel's.
    let all = cases("message_status");
    assert!(matches!(items(&all["group"])[..], [Normalized::Ignored(_)]));
}

#[test]
fn bodies_that_are_not_whatsapp_webhooks_are_refused_and_odd_ones_tolerated() {
    assert!(normalize::body(1, NUMBER, b"not json").is_err());
    assert!(normalize::body(1, NUMBER, br#"{"object":"page","entry":[]}"#).is_err());
    let odd = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "account_update", "value": {"event": "x"}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": NUMBER}, "new_thing": 1,
            "messages": [{"from": "15550001111", "id": "wamid.new", "timestamp": "1", "type": "hologram"},
                         {"from": "15550001111", "id": "wamid.bad", "type": "location", "location": {"latitude": "north"}}]}}]}]});
    let list = items(&odd);
    assert!(matches!(list[0], Normalized::Ignored(_)));
    let Normalized::Inbound(new) = &list[1] else { panic!("{list:?}") };
    assert_eq!(new.content.attachments[0].name.as_deref(), Some("Unsupported WhatsApp message: hologram"));
    let Normalized::Inbound(bad) = &list[2] else { panic!("{list:?}") };
    assert!(bad.content.attachments[0].name.as_deref().unwrap().contains("could not read"), "{bad:?}");
    assert_eq!(bad.content.attachments[0].extra["location"]["latitude"], "north", "the raw message is kept");
}
