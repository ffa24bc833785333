//! Outbound: an [`Outbound`] becomes the Cloud API messages that carry it, in order
//! (pure, so every rule is tested without a server): text split safely at 4,096
//! characters; up to three reply buttons of at most 20 characters, else a list of at
//! most ten rows; images and documents from their URL or media id; a template with its
//! parameters.

use parley_sdk::{Attachment, Button, Outbound, SendError, Template};
use serde_json::{Value, json};

pub const TEXT_LIMIT: usize = 4096;
/// The body of an interactive message, and a media caption.
pub const BODY_LIMIT: usize = 1024;
pub const MAX_BUTTONS: usize = 3;
pub const BUTTON_TITLE_LIMIT: usize = 20;
pub const MAX_ROWS: usize = 10;
const ROW_TITLE_LIMIT: usize = 24;
const ROW_DESCRIPTION_LIMIT: usize = 72;
const REPLY_ID_LIMIT: usize = 256;
const ROW_ID_LIMIT: usize = 200;

fn refuse(reason: String) -> SendError {
    SendError::Permanent { reason, unreachable: false }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Splits `text` into parts of at most `limit` characters, never inside a character,
/// preferring a line break, then a space, in the second half of each part.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while chars(rest) > limit {
        let hard = rest.char_indices().nth(limit).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..hard];
        let soft = window.rfind('\n').or_else(|| window.rfind(' ')).filter(|&i| i >= hard / 2);
        let cut = soft.map_or(hard, |i| i + 1);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = &rest[cut..];
    }
    parts.push(rest.to_owned());
    parts.retain(|p| !p.trim().is_empty());
    parts
}

fn envelope(to: &str, kind: &str, body: Value) -> Value {
    let mut m = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind});
    m[kind] = body;
    m
}

fn is_link(data: &str) -> bool {
    url::Url::parse(data).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// The choices offered after `body`: reply buttons when they fit, else a list.
fn choices(to: &str, body: &str, buttons: &[&Button]) -> Result<Value, SendError> {
    let fits = buttons.len() <= MAX_BUTTONS && buttons.iter().all(|b| chars(&b.label) <= BUTTON_TITLE_LIMIT);
    if fits {
        let list: Result<Vec<Value>, SendError> = buttons
            .iter()
            .map(|b| {
                if b.data.is_empty() || b.data.len() > REPLY_ID_LIMIT || b.label.trim().is_empty() {
                    return Err(refuse(format!("button {:?} needs a label and data of 1 to 256 bytes", b.label)));
                }
                Ok(json!({"type": "reply", "reply": {"id": b.data, "title": b.label}}))
            })
            .collect();
        let interactive = json!({"type": "button", "body": {"text": body}, "action": {"buttons": list?}});
        return Ok(envelope(to, "interactive", interactive));
    }
    if buttons.len() > MAX_ROWS {
        return Err(refuse(format!("WhatsApp offers at most {MAX_ROWS} choices, not {}", buttons.len())));
    }
    let rows: Result<Vec<Value>, SendError> = buttons
        .iter()
        .map(|b| {
            if b.data.is_empty() || b.data.len() > ROW_ID_LIMIT || b.label.trim().is_empty() {
                return Err(refuse(format!("choice {:?} needs a label and data of 1 to 200 bytes", b.label)));
            }
            // A long label is cut for the row's title and shown whole below it.
            let mut row = json!({"id": b.data, "title": cut(&b.label, ROW_TITLE_LIMIT)});
            if chars(&b.label) > ROW_TITLE_LIMIT {
                row["description"] = json!(cut(&b.label, ROW_DESCRIPTION_LIMIT));
            }
            Ok(row)
        })
        .collect();
    let interactive = json!({"type": "list", "body": {"text": body},
        "action": {"button": "Choose", "sections": [{"title": "Choices", "rows": rows?}]}});
    Ok(envelope(to, "interactive", interactive))
}

/// At most `limit` characters, with an ellipsis when cut.
fn cut(s: &str, limit: usize) -> String {
    if chars(s) <= limit {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(limit - 1).collect();
    out.push('…');
    out
}

fn is_image(a: &Attachment) -> bool {
    matches!(a.kind.as_str(), "photo" | "image")
        || a.mime.as_deref().is_some_and(|m| matches!(m, "image/jpeg" | "image/png"))
}

/// An image or document message: a public link, else a media id WhatsApp knows.
fn media(to: &str, a: &Attachment, caption: Option<&str>) -> Option<Value> {
    let source = match (a.url.as_deref().filter(|u| is_link(u)), a.file_id.as_deref()) {
        (Some(link), _) => json!({"link": link}),
        (None, Some(id)) => json!({"id": id}),
        (None, None) => return None,
    };
    let mut body = source;
    if let Some(c) = caption {
        body["caption"] = json!(c);
    }
    if is_image(a) {
        return Some(envelope(to, "image", body));
    }
    if let Some(name) = &a.name {
        body["filename"] = json!(name);
    }
    Some(envelope(to, "document", body))
}

fn template(to: &str, t: &Template) -> Value {
    let mut body = json!({"name": t.name, "language": {"code": t.language}});
    if !t.parameters.is_empty() {
        let parameters: Vec<Value> = t.parameters.iter().map(|p| json!({"type": "text", "text": p})).collect();
        body["components"] = json!([{"type": "body", "parameters": parameters}]);
    }
    envelope(to, "template", body)
}

/// The messages that carry `out`, in the order they go.
pub fn plan(out: &Outbound) -> Result<Vec<Value>, SendError> {
    let to = out.external_id.as_str();
    if to.is_empty() || !to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SendError::Permanent { reason: format!("{to:?} is not a WhatsApp number"), unreachable: true });
    }
    if let Some(t) = out.content.template() {
        return Ok(vec![template(to, &t)]);
    }
    // Links cannot be reply buttons: they go with the text, where WhatsApp makes them tappable.
    let (links, presses): (Vec<&Button>, Vec<&Button>) = out.content.buttons.iter().partition(|b| is_link(&b.data));
    let mut text = out.content.text.as_deref().map(str::trim).unwrap_or_default().to_owned();
    for b in links {
        text = format!("{text}\n{}: {}", b.label, b.data).trim().to_owned();
    }
    let files: Vec<&Attachment> = out.content.attachments.iter().filter(|a| a.kind != "template").collect();
    let caption = (files.len() == 1 && presses.is_empty() && !text.is_empty() && chars(&text) <= BODY_LIMIT)
        .then_some(text.as_str());
    let mut messages = Vec::new();
    if caption.is_none() && !text.is_empty() {
        let mut parts = split_text(&text, TEXT_LIMIT);
        if !presses.is_empty() && files.is_empty() {
            // The last part becomes the body the choices hang on, which is shorter.
            let last = parts.pop().unwrap_or_default();
            let mut tail = split_text(&last, BODY_LIMIT);
            let body = tail.pop().unwrap_or_default();
            parts.extend(tail);
            messages.extend(parts.iter().map(|p| envelope(to, "text", json!({"body": p}))));
            messages.push(choices(to, &body, &presses)?);
        } else {
            messages.extend(parts.iter().map(|p| envelope(to, "text", json!({"body": p}))));
        }
    }
    for a in &files {
        let m = media(to, a, caption)
            .ok_or_else(|| refuse(format!("attachment {:?} has neither a URL nor a WhatsApp media id", a.kind)))?;
        messages.push(m);
    }
    if !presses.is_empty() && (!files.is_empty() || text.is_empty()) {
        // Choices need a body of their own when the text went as a caption or there is none.
        messages.push(choices(to, "Choose:", &presses)?);
    }
    if messages.is_empty() {
        return Err(refuse("nothing WhatsApp can send: no text, file or template".into()));
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use parley_sdk::Content;

    use super::*;

    fn out(content: Content) -> Outbound {
        Outbound {
            message_id: 1,
            chat_id: 1,
            external_id: "972987654321".into(),
            content,
            author_kind: "operator".into(),
            author_name: None,
            created_at: String::new(),
            parts_sent: 0,
        }
    }

    fn buttons(n: usize, label: &str) -> Vec<Button> {
        (0..n).map(|i| Button { label: format!("{label}{i}"), data: format!("d{i}") }).collect()
    }

    #[test]
    fn long_text_splits_on_breaks_and_never_inside_a_character() {
        let text = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
        assert_eq!(split_text(&text, TEXT_LIMIT), vec!["a".repeat(3000), "b".repeat(3000)]);
        let emoji = "😀".repeat(5000);
        let parts = split_text(&emoji, TEXT_LIMIT);
        assert!(parts.iter().all(|p| chars(p) <= TEXT_LIMIT));
        assert_eq!(parts.concat(), emoji);
        let plan = plan(&out(Content::text(&text))).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[1]["text"]["body"], "b".repeat(3000));
        assert_eq!(plan[0]["to"], "972987654321");
    }

    #[test]
    fn three_short_buttons_are_reply_buttons_more_become_a_list() {
        let three = Content { buttons: buttons(3, "Size "), ..Content::text("Pick one") };
        let m = &plan(&out(three)).unwrap()[0];
        assert_eq!(m["interactive"]["type"], "button");
        assert_eq!(m["interactive"]["body"]["text"], "Pick one");
        assert_eq!(m["interactive"]["action"]["buttons"][2]["reply"], json!({"id": "d2", "title": "Size 2"}));

        let four = Content { buttons: buttons(4, "Size "), ..Content::text("Pick one") };
        let m = &plan(&out(four)).unwrap()[0];
        assert_eq!(m["interactive"]["type"], "list");
        assert_eq!(m["interactive"]["action"]["sections"][0]["rows"].as_array().unwrap().len(), 4);

        let long = Content { buttons: buttons(2, "A label far longer than twenty-four "), ..Content::text("Pick") };
        let m = &plan(&out(long)).unwrap()[0];
        let row = &m["interactive"]["action"]["sections"][0]["rows"][0];
        assert_eq!(m["interactive"]["type"], "list", "titles over 20 characters do not fit a button");
        assert_eq!(chars(row["title"].as_str().unwrap()), ROW_TITLE_LIMIT);
        assert!(row["description"].as_str().unwrap().starts_with("A label far longer"));

        let eleven = Content { buttons: buttons(11, "x"), ..Content::text("Pick") };
        assert!(matches!(plan(&out(eleven)), Err(SendError::Permanent { .. })));
    }

    #[test]
    fn files_captions_links_and_templates() {
        let photo =
            Attachment { kind: "photo".into(), url: Some("https://x.test/a.jpg".into()), ..Attachment::default() };
        let doc = Attachment {
            kind: "document".into(),
            file_id: Some("55".into()),
            name: Some("a.pdf".into()),
            ..Attachment::default()
        };
        let one = Content { attachments: vec![photo.clone()], ..Content::text("look") };
        let m = plan(&out(one)).unwrap();
        assert_eq!(
            m,
            vec![json!({"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "972987654321", "type": "image", "image": {"link": "https://x.test/a.jpg", "caption": "look"}})]
        );
        let two = Content { attachments: vec![photo, doc], ..Content::text("both") };
        let m = plan(&out(two)).unwrap();
        assert_eq!(
            (m[0]["type"].as_str(), m[1]["type"].as_str(), m[2]["type"].as_str()),
            (Some("text"), Some("image"), Some("document"))
        );
        assert_eq!(m[2]["document"], json!({"id": "55", "filename": "a.pdf"}));

        let link = Content {
            buttons: vec![Button { label: "Site".into(), data: "https://x.test".into() }],
            ..Content::text("See")
        };
        assert_eq!(plan(&out(link)).unwrap()[0]["text"]["body"], "See\nSite: https://x.test");

        let t = Template {
            name: "order_update".into(),
            language: "en_US".into(),
            parameters: vec!["Ada".into(), "42".into()],
        };
        let m = &plan(&out(Content { attachments: vec![t.to_attachment()], ..Content::default() })).unwrap()[0];
        assert_eq!(m["template"]["name"], "order_update");
        assert_eq!(m["template"]["language"]["code"], "en_US");
        assert_eq!(m["template"]["components"][0]["parameters"][1], json!({"type": "text", "text": "42"}));

        assert!(matches!(plan(&out(Content::default())), Err(SendError::Permanent { .. })));
        let mut bad = out(Content::text("hi"));
        bad.external_id = "not-a-number".into();
        assert!(matches!(plan(&bad), Err(SendError::Permanent { unreachable: true, .. })));
    }
}
