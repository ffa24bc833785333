//! Cloud API webhook bodies → [`Inbound`]: pure functions, tested on real payloads
//! (`tests/fixtures/`, from pywa) and hand-written ones.
//!
//! A message's platform id is its `wamid`, so a redelivered webhook is a no-op. A
//! status is `{wamid}:{status}` and is reported by the message's own `wamid`.

use parley_sdk::{Attachment, Content, DeliveryState, Inbound, InboundKind, Profile};
use serde_json::{Value, json};

use crate::payload::{self, ChangeValue, Envelope, Media};

/// What to do with one item of a webhook body.
#[derive(Debug)]
pub enum Normalized {
    Inbound(Box<Inbound>),
    /// Acknowledged and dropped, with the reason for the log.
    Ignored(String),
}

/// Every message and status of a webhook body, in order. `Err` only when the body is
/// not a WhatsApp webhook at all; anything inside it that cannot be read still becomes
/// something (an unreadable message is stored as such).
/// Changes for another phone number of the same Meta app (whose webhook address is set
/// per app) are not this channel's: acknowledged and dropped.
pub fn body(channel_id: i64, phone_number_id: &str, raw: &[u8]) -> Result<Vec<Normalized>, String> {
    let envelope: Envelope = serde_json::from_slice(raw).map_err(|e| format!("not a WhatsApp webhook body: {e}"))?;
    if envelope.object != "whatsapp_business_account" {
        return Err(format!("not a WhatsApp Business Account webhook (object {:?})", envelope.object));
    }
    let mut out = Vec::new();
    for change in envelope.entry.iter().flat_map(|e| &e.changes) {
        if change.field != "messages" {
            out.push(Normalized::Ignored(format!("webhook field {:?} is not handled", change.field)));
            continue;
        }
        let number = change.value.metadata.as_ref().map(|m| m.phone_number_id.as_str()).unwrap_or(phone_number_id);
        if number != phone_number_id {
            out.push(Normalized::Ignored(format!("a change for phone number {number}, not this channel's")));
            continue;
        }
        value(channel_id, &change.value, &mut out);
    }
    Ok(out)
}

fn value(channel_id: i64, v: &ChangeValue, out: &mut Vec<Normalized>) {
    if v.messages.is_empty() {
        // Errors with no message to show them on go to the log.
        for e in &v.errors {
            out.push(Normalized::Ignored(format!("WhatsApp reported a webhook error: {}", describe_error(e))));
        }
    }
    for raw in &v.messages {
        out.push(message(channel_id, v, raw));
    }
    for raw in &v.statuses {
        out.push(status(channel_id, raw));
    }
}

/// `WhatsApp error 131047: Re-engagement message (details)`, from an error object.
pub fn describe_error(e: &Value) -> String {
    let code = match &e["code"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "?".into(),
    };
    let title = e["title"].as_str().or(e["message"].as_str()).unwrap_or("no description");
    match e["error_data"]["details"].as_str().filter(|d| *d != title) {
        Some(d) => format!("WhatsApp error {code}: {title} ({d})"),
        None => format!("WhatsApp error {code}: {title}"),
    }
}

/// The sender's profile: the name they gave WhatsApp, and their number from `wa_id`.
fn profile(v: &ChangeValue, from: &str) -> Profile {
    let contact = v.contacts.iter().find(|c| c.wa_id == from).or(v.contacts.first());
    let name = contact.and_then(|c| c.profile.as_ref()).and_then(|p| p.name.clone()).filter(|n| !n.trim().is_empty());
    let digits = contact.map(|c| c.wa_id.as_str()).filter(|w| !w.is_empty()).unwrap_or(from);
    let phone = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{digits}"));
    Profile { first_name: name, phone, ..Profile::default() }
}

fn message(channel_id: i64, v: &ChangeValue, raw: &Value) -> Normalized {
    let m: payload::Message = match serde_json::from_value(raw.clone()) {
        Ok(m) => m,
        Err(e) => return unreadable(channel_id, v, raw, &e.to_string()),
    };
    let mut inbound = Inbound {
        channel_id,
        external_id: m.from.clone(),
        platform_message_id: m.id.clone(),
        kind: InboundKind::Message,
        profile: profile(v, &m.from),
        content: Content::default(),
        reply_to: m.context.as_ref().and_then(|c| c.id.clone()),
        start_payload: None,
    };
    let (text, mut attachments) = content(&m, &mut inbound);
    if let Some(c) = m.context.as_ref().filter(|c| c.forwarded || c.frequently_forwarded) {
        let name = if c.frequently_forwarded { "Forwarded many times" } else { "Forwarded" };
        attachments.push(place("forwarded", name, json!({"frequently": c.frequently_forwarded})));
    }
    if let Some(r) = &m.referral {
        let headline = r["headline"].as_str().filter(|h| !h.is_empty()).unwrap_or("an ad");
        attachments.push(place("referral", &format!("Came from {headline}"), r.clone()));
    }
    // The message's own errors, and those of the webhook that brought it.
    for e in m.errors.iter().chain(&v.errors) {
        attachments.push(place("error", &describe_error(e), e.clone()));
    }
    let reaction = matches!(inbound.kind, InboundKind::Reaction { .. });
    if !reaction && text.as_deref().is_none_or(str::is_empty) && attachments.is_empty() {
        attachments.push(place("unsupported", &format!("An empty WhatsApp {} message", m.kind), raw.clone()));
    }
    inbound.content = Content { text, attachments, ..Content::default() };
    Normalized::Inbound(Box::new(inbound))
}

/// The text and attachments of a message; sets the kind for presses and reactions.
fn content(m: &payload::Message, inbound: &mut Inbound) -> (Option<String>, Vec<Attachment>) {
    let media = |kind: &str, x: &Option<Media>| x.as_ref().map(|x| (x.caption.clone(), vec![file(kind, x)]));
    let found = match m.kind.as_str() {
        "text" => m.text.as_ref().map(|t| (Some(t.body.clone()), Vec::new())),
        "image" => media("photo", &m.image),
        "video" => media("video", &m.video),
        "document" => media("document", &m.document),
        "sticker" => media("sticker", &m.sticker),
        "audio" => {
            let voice = m.audio.as_ref().is_some_and(|a| a.voice);
            media(if voice { "voice" } else { "audio" }, &m.audio)
        }
        "location" => m.location.as_ref().map(|l| {
            let coords = format!("{:.5}, {:.5}", l.latitude, l.longitude);
            let (kind, name) = match (&l.name, &l.address) {
                (Some(n), Some(a)) => ("venue", format!("{n} — {a}")),
                (Some(n), None) | (None, Some(n)) => ("venue", n.clone()),
                (None, None) => ("location", format!("Location {coords}")),
            };
            let extra = json!({"latitude": l.latitude, "longitude": l.longitude, "name": l.name,
                "address": l.address, "url": l.url});
            (None, vec![place(kind, &name, extra)])
        }),
        "contacts" => m.contacts.as_ref().map(|list| (None, list.iter().map(shared_contact).collect())),
        "interactive" => m.interactive.as_ref().map(|i| {
            if let Some(c) = i.button_reply.as_ref().or(i.list_reply.as_ref()) {
                inbound.kind = InboundKind::ButtonPress { data: c.id.clone() };
                (Some(c.title.clone()).filter(|t| !t.is_empty()), Vec::new())
            } else if let Some(r) = &i.nfm_reply {
                let text = r["body"].as_str().map(str::to_owned);
                (text, vec![place("flow_reply", "A WhatsApp Flow was answered", r.clone())])
            } else {
                let name = format!("Unsupported WhatsApp interactive message: {}", i.kind);
                (None, vec![place("unsupported", &name, json!({"type": i.kind}))])
            }
        }),
        "button" => m.button.as_ref().map(|b| {
            inbound.kind = InboundKind::ButtonPress { data: b.payload.clone() };
            (Some(b.text.clone()).filter(|t| !t.is_empty()), Vec::new())
        }),
        "reaction" => m.reaction.as_ref().map(|r| {
            inbound.kind =
                InboundKind::Reaction { to: r.message_id.clone(), emoji: r.emoji.clone().unwrap_or_default() };
            (None, Vec::new())
        }),
        "order" => m.order.as_ref().map(|o| {
            let items = o["product_items"].as_array().map_or(0, Vec::len);
            let text = o["text"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
            (text, vec![place("order", &format!("An order of {items} products"), o.clone())])
        }),
        "system" => m.system.as_ref().map(|s| {
            let extra = json!({"type": s.kind});
            (s.body.clone(), vec![place("system", "A WhatsApp system message", extra)])
        }),
        "unsupported" => {
            let what = m.unsupported.as_ref().and_then(|u| u["type"].as_str()).unwrap_or("a kind WhatsApp cannot show");
            let extra = m.unsupported.clone().unwrap_or(Value::Null);
            Some((None, vec![place("unsupported", &format!("Unsupported WhatsApp message: {what}"), extra)]))
        }
        _ => None,
    };
    found.unwrap_or_else(|| {
        // A kind we do not know, or a known kind without its object: shown, not dropped.
        let name = format!("Unsupported WhatsApp message: {}", if m.kind.is_empty() { "?" } else { &m.kind });
        (None, vec![place("unsupported", &name, json!({"type": m.kind}))])
    })
}

/// A file WhatsApp holds: its media id is the `file_id` the console's proxy fetches.
fn file(kind: &str, m: &Media) -> Attachment {
    Attachment {
        kind: kind.into(),
        file_id: m.id.clone(),
        mime: m.mime_type.clone(),
        name: m.filename.clone(),
        extra: json!({"sha256": m.sha256, "animated": m.animated}),
        ..Attachment::default()
    }
}

fn place(kind: &str, name: &str, extra: Value) -> Attachment {
    Attachment { kind: kind.into(), name: Some(name.to_owned()), extra, ..Attachment::default() }
}

/// A contact card the contact shared: its name and numbers, the card kept whole.
fn shared_contact(c: &Value) -> Attachment {
    let name = c["name"]["formatted_name"].as_str().unwrap_or("A contact");
    let phones: Vec<&str> = c["phones"].as_array().into_iter().flatten().filter_map(|p| p["phone"].as_str()).collect();
    let label = if phones.is_empty() { name.to_owned() } else { format!("{name} {}", phones.join(", ")) };
    let phone = phones.first().copied();
    let mut extra = c.clone();
    if let (Some(map), Some(p)) = (extra.as_object_mut(), phone) {
        // Where contacts search for duplicates by phone (as Telegram's shared contacts).
        map.insert("phone".into(), json!(p));
    }
    place("contact", &label, extra)
}

/// A message we could not read at all: stored with its raw JSON, so nothing is lost.
fn unreadable(channel_id: i64, v: &ChangeValue, raw: &Value, why: &str) -> Normalized {
    let (Some(from), Some(id)) = (raw["from"].as_str(), raw["id"].as_str()) else {
        return Normalized::Ignored(format!("a message without sender or id: {why}"));
    };
    let name = format!("A WhatsApp message Parley could not read ({why})");
    Normalized::Inbound(Box::new(Inbound {
        channel_id,
        external_id: from.to_owned(),
        platform_message_id: id.to_owned(),
        kind: InboundKind::Message,
        profile: profile(v, from),
        content: Content { attachments: vec![place("unsupported", &name, raw.clone())], ..Content::default() },
        reply_to: None,
        start_payload: None,
    }))
}

fn status(channel_id: i64, raw: &Value) -> Normalized {
    let s: payload::Status = match serde_json::from_value(raw.clone()) {
        Ok(s) => s,
        Err(e) => return Normalized::Ignored(format!("a status Parley could not read: {e}")),
    };
    let state = match s.status.as_str() {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        // A voice message listened to has been read.
        "read" | "played" => DeliveryState::Read,
        "failed" => DeliveryState::Failed,
        other => return Normalized::Ignored(format!("status {other:?} of {} is not handled", s.id)),
    };
    if s.recipient_id.is_empty() {
        return Normalized::Ignored(format!("status of {} without a recipient", s.id));
    }
    let reason = (state == DeliveryState::Failed).then(|| {
        let all: Vec<String> = s.errors.iter().map(describe_error).collect();
        if all.is_empty() { "WhatsApp did not deliver it".to_owned() } else { all.join("; ") }
    });
    Normalized::Inbound(Box::new(Inbound {
        channel_id,
        external_id: s.recipient_id.clone(),
        platform_message_id: format!("{}:{}", s.id, s.status),
        kind: InboundKind::Status { to: s.id.clone(), state, reason },
        profile: Profile::default(),
        content: Content::default(),
        reply_to: None,
        start_payload: None,
    }))
}
