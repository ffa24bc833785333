//! Telegram updates → [`Inbound`]: pure functions, tested on real-shaped payloads.
//!
//! Platform message ids are `{chat_id}:{message_id}` (message ids are only unique per
//! chat) and `cb:{callback_query_id}` for button presses; ingest dedupes on them, so a
//! redelivered update is a no-op whatever its `update_id`.

use parley_sdk::{Attachment, Content, Inbound, InboundKind, Profile, TextEntity};
use serde_json::{Value, json};
use teloxide::types::{
    CallbackQuery, ChatMemberUpdated, FileMeta, MaybeInaccessibleMessage, MediaKind, Message, MessageEntityKind,
    MessageKind, Update, UpdateKind, User,
};

/// What to do with one update.
#[derive(Debug)]
pub enum Normalized {
    Inbound(Inbound),
    /// A button press: answer the callback query at once, then ingest.
    Button {
        callback_id: String,
        inbound: Inbound,
    },
    /// Acknowledged and dropped, with the reason for the log.
    Ignored(String),
}

pub fn update(channel_id: i64, u: &Update) -> Normalized {
    match &u.kind {
        UpdateKind::Message(m) => message(channel_id, m, InboundKind::Message),
        UpdateKind::EditedMessage(m) => message(channel_id, m, InboundKind::Edit),
        UpdateKind::CallbackQuery(q) => callback(channel_id, q),
        UpdateKind::MyChatMember(m) => member(channel_id, u.id.0, m),
        UpdateKind::Error(raw) => Normalized::Ignored(format!("update of an unknown kind: {}", keys(raw))),
        other => Normalized::Ignored(format!("update kind {} is not handled", kind_name(other))),
    }
}

fn keys(raw: &Value) -> String {
    raw.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>().join(",")).unwrap_or_default()
}

fn kind_name(k: &UpdateKind) -> String {
    serde_json::to_value(k).ok().as_ref().map(keys).unwrap_or_else(|| "?".into())
}

/// The platform id of a message: message ids are unique only within a chat.
pub fn message_key(chat_id: i64, message_id: i32) -> String {
    format!("{chat_id}:{message_id}")
}

fn profile(user: Option<&User>) -> Profile {
    let Some(u) = user else { return Profile::default() };
    Profile {
        first_name: Some(u.first_name.clone()).filter(|s| !s.is_empty()),
        last_name: u.last_name.clone(),
        username: u.username.clone(),
        ..Profile::default()
    }
}

fn message(channel_id: i64, m: &Message, kind: InboundKind) -> Normalized {
    if !m.chat.is_private() {
        return Normalized::Ignored(format!("message in non-private chat {}", m.chat.id));
    }
    let MessageKind::Common(common) = &m.kind else {
        return Normalized::Ignored("a service message".into());
    };
    let mut profile = profile(m.from.as_ref());
    let (text, attachments) = media(&common.media_kind);
    if let MediaKind::Contact(c) = &common.media_kind
        && c.contact.user_id.is_some()
        && c.contact.user_id == m.from.as_ref().map(|u| u.id)
    {
        // The contact shared their own number (a "share my phone" button).
        profile.phone = Some(c.contact.phone_number.clone());
    }
    let start_payload = text.as_deref().and_then(start_payload);
    let reply_to = common.reply_to_message.as_ref().map(|r| message_key(r.chat.id.0, r.id.0));
    Normalized::Inbound(Inbound {
        channel_id,
        external_id: m.chat.id.0.to_string(),
        platform_message_id: message_key(m.chat.id.0, m.id.0),
        kind,
        profile,
        content: Content { text, attachments, buttons: Vec::new(), entities: entities(m) },
        reply_to,
        start_payload,
    })
}

/// The text's or caption's entities in Telegram's own terms (`type`, `offset`, `length`,
/// `url`, `language`), whatever their kind, new kinds included.
fn entities(m: &Message) -> Vec<TextEntity> {
    let Some(list) = m.entities().or_else(|| m.caption_entities()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let v = serde_json::to_value(e).ok()?;
            Some(TextEntity {
                kind: v["type"].as_str()?.to_owned(),
                offset: u32::try_from(e.offset).ok()?,
                length: u32::try_from(e.length).ok()?,
                url: v["url"].as_str().map(str::to_owned),
                language: v["language"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// `/start PAYLOAD` (or `/start@bot PAYLOAD`) → `PAYLOAD`; ingest checks its form.
pub fn start_payload(text: &str) -> Option<String> {
    let rest = text.strip_prefix("/start")?;
    let rest = match rest.strip_prefix('@') {
        Some(r) => r.split_once(' ').map_or("", |(_, p)| p),
        None => rest.strip_prefix(' ')?,
    };
    Some(rest.trim().to_owned()).filter(|p| !p.is_empty())
}

fn file(kind: &str, f: &FileMeta, mime: Option<String>, name: Option<String>, extra: Value) -> Attachment {
    let mut extra = extra;
    if let Some(map) = extra.as_object_mut() {
        map.insert("file_unique_id".into(), json!(f.unique_id.0));
    }
    Attachment {
        kind: kind.into(),
        file_id: Some(f.id.0.clone()),
        url: None,
        mime,
        name,
        size: (f.size > 0).then_some(u64::from(f.size)),
        extra,
    }
}

fn mime<M: std::fmt::Display>(m: &Option<M>) -> Option<String> {
    m.as_ref().map(|m| m.to_string())
}

/// The text (or caption) and the attachments of a message.
fn media(kind: &MediaKind) -> (Option<String>, Vec<Attachment>) {
    match kind {
        MediaKind::Text(t) => (Some(with_hidden_links(&t.text, &t.entities)), Vec::new()),
        MediaKind::Photo(p) => {
            let attachments = p
                .photo
                .iter()
                .max_by_key(|s| u64::from(s.width) * u64::from(s.height))
                .map(|s| {
                    file(
                        "photo",
                        &s.file,
                        Some("image/jpeg".into()),
                        None,
                        json!({"width": s.width, "height": s.height}),
                    )
                })
                .into_iter()
                .collect();
            (p.caption.clone(), attachments)
        }
        MediaKind::Document(d) => {
            let doc = &d.document;
            (
                d.caption.clone(),
                vec![file("document", &doc.file, mime(&doc.mime_type), doc.file_name.clone(), json!({}))],
            )
        }
        MediaKind::Video(v) => {
            let video = &v.video;
            let extra = json!({"width": video.width, "height": video.height, "duration": video.duration.seconds()});
            (
                v.caption.clone(),
                vec![file("video", &video.file, mime(&video.mime_type), video.file_name.clone(), extra)],
            )
        }
        MediaKind::Animation(a) => {
            let an = &a.animation;
            let extra = json!({"width": an.width, "height": an.height, "duration": an.duration.seconds()});
            (a.caption.clone(), vec![file("animation", &an.file, mime(&an.mime_type), an.file_name.clone(), extra)])
        }
        MediaKind::Voice(v) => {
            let extra = json!({"duration": v.voice.duration.seconds()});
            let mime = mime(&v.voice.mime_type).or(Some("audio/ogg".into()));
            (v.caption.clone(), vec![file("voice", &v.voice.file, mime, None, extra)])
        }
        MediaKind::Audio(a) => {
            let au = &a.audio;
            let name = au.file_name.clone().or_else(|| {
                let parts: Vec<&str> = [au.performer.as_deref(), au.title.as_deref()].into_iter().flatten().collect();
                (!parts.is_empty()).then(|| parts.join(" – "))
            });
            let extra = json!({"duration": au.duration.seconds(), "performer": au.performer, "title": au.title});
            (a.caption.clone(), vec![file("audio", &au.file, mime(&au.mime_type), name, extra)])
        }
        MediaKind::VideoNote(v) => {
            let extra = json!({"duration": v.video_note.duration.seconds()});
            (None, vec![file("video_note", &v.video_note.file, Some("video/mp4".into()), None, extra)])
        }
        MediaKind::Sticker(s) => {
            let st = &s.sticker;
            let mime = if st.flags.is_video {
                "video/webm"
            } else if st.flags.is_animated {
                "application/x-tgsticker"
            } else {
                "image/webp"
            };
            let extra = json!({"emoji": st.emoji, "set_name": st.set_name, "width": st.width, "height": st.height});
            (None, vec![file("sticker", &st.file, Some(mime.into()), st.emoji.clone(), extra)])
        }
        MediaKind::Location(l) => {
            let loc = &l.location;
            let name = format!("Location {:.5}, {:.5}", loc.latitude, loc.longitude);
            (None, vec![place("location", name, json!({"latitude": loc.latitude, "longitude": loc.longitude}))])
        }
        MediaKind::Venue(v) => {
            let ve = &v.venue;
            let extra = json!({
                "latitude": ve.location.latitude, "longitude": ve.location.longitude,
                "title": ve.title, "address": ve.address,
            });
            (None, vec![place("venue", format!("{} — {}", ve.title, ve.address), extra)])
        }
        MediaKind::Contact(c) => {
            let ct = &c.contact;
            let full =
                [Some(ct.first_name.as_str()), ct.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>();
            let extra = json!({
                "phone": ct.phone_number, "first_name": ct.first_name, "last_name": ct.last_name,
                "user_id": ct.user_id.map(|u| u.0), "vcard": ct.vcard,
            });
            (None, vec![place("contact", format!("{} {}", full.join(" "), ct.phone_number), extra)])
        }
        other => {
            // Polls, dice, games, stories...: the operator learns something came.
            let name = serde_json::to_value(other).ok().as_ref().map(keys).unwrap_or_else(|| "unknown".into());
            let kind = name.split(',').next().unwrap_or("unknown").to_owned();
            (None, vec![place(&kind, format!("Unsupported Telegram message: {kind}"), json!({}))])
        }
    }
}

fn place(kind: &str, name: String, extra: Value) -> Attachment {
    Attachment { kind: kind.into(), name: Some(name), extra, ..Attachment::default() }
}

/// The text as sent; links hidden behind words (`text_link`) are appended so the
/// operator sees where they point. Offsets of the entities stay valid.
fn with_hidden_links(text: &str, entities: &[teloxide::types::MessageEntity]) -> String {
    let links: Vec<String> = entities
        .iter()
        .filter_map(|e| match &e.kind {
            MessageEntityKind::TextLink { url } => Some(url.to_string()),
            _ => None,
        })
        .collect();
    if links.is_empty() { text.to_owned() } else { format!("{text}\n\n{}", links.join("\n")) }
}

fn callback(channel_id: i64, q: &CallbackQuery) -> Normalized {
    let Some(data) = q.data.clone() else {
        return Normalized::Ignored("a callback query without data (a game)".into());
    };
    let reply_to = match &q.message {
        Some(MaybeInaccessibleMessage::Regular(m)) => Some(message_key(m.chat.id.0, m.id.0)),
        Some(MaybeInaccessibleMessage::Inaccessible(m)) => Some(message_key(m.chat.id.0, m.message_id.0)),
        None => None,
    };
    let inbound = Inbound {
        channel_id,
        external_id: q.from.id.0.to_string(),
        platform_message_id: format!("cb:{}", q.id.0),
        kind: InboundKind::ButtonPress { data },
        profile: profile(Some(&q.from)),
        content: Content::default(),
        reply_to,
        start_payload: None,
    };
    Normalized::Button { callback_id: q.id.0.clone(), inbound }
}

/// The bot's own membership in a private chat changed: `kicked` is the user blocking
/// the bot, `member` unblocking it (or starting it again).
fn member(channel_id: i64, update_id: u32, m: &ChatMemberUpdated) -> Normalized {
    if !m.chat.is_private() {
        return Normalized::Ignored(format!("the bot's membership changed in non-private chat {}", m.chat.id));
    }
    let blocked = match (m.new_chat_member.is_banned(), m.new_chat_member.is_member()) {
        (true, _) => true,
        (false, true) => false,
        _ => return Normalized::Ignored("a membership change that is neither a block nor an unblock".into()),
    };
    Normalized::Inbound(Inbound {
        channel_id,
        external_id: m.from.id.0.to_string(),
        platform_message_id: format!("member:{update_id}"),
        kind: InboundKind::Blocked { blocked },
        profile: profile(Some(&m.from)),
        content: Content::default(),
        reply_to: None,
        start_payload: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Update {
        serde_json::from_str(raw).expect("a real-shaped update")
    }

    const PHOTO: &str = r#"{"update_id":10,"message":{"message_id":44,"date":1700000000,
        "chat":{"id":555,"type":"private","first_name":"Alice","username":"alice"},
        "from":{"id":555,"is_bot":false,"first_name":"Alice","username":"alice","language_code":"en"},
        "photo":[{"file_id":"small","file_unique_id":"us","width":90,"height":60,"file_size":900},
                 {"file_id":"big","file_unique_id":"ub","width":1280,"height":853,"file_size":90000}],
        "caption":"look","reply_to_message":{"message_id":40,"date":1700000000,
        "chat":{"id":555,"type":"private","first_name":"Alice"},"from":{"id":42,"is_bot":true,"first_name":"Bot"},"text":"hi"}}}"#;

    #[test]
    fn a_photo_keeps_its_largest_size_caption_and_reply() {
        let Normalized::Inbound(i) = update(7, &parse(PHOTO)) else { panic!("not ingested") };
        assert_eq!(i.external_id, "555");
        assert_eq!(i.platform_message_id, "555:44");
        assert_eq!(i.reply_to.as_deref(), Some("555:40"));
        assert_eq!(i.content.text.as_deref(), Some("look"));
        let a = &i.content.attachments[0];
        assert_eq!((a.kind.as_str(), a.file_id.as_deref(), a.size), ("photo", Some("big"), Some(90000)));
        assert_eq!(a.extra["file_unique_id"], "ub");
        assert_eq!(i.profile.username.as_deref(), Some("alice"));
    }

    #[test]
    fn deep_links_group_chats_and_unknown_updates() {
        assert_eq!(start_payload("/start abc_1-2").as_deref(), Some("abc_1-2"));
        assert_eq!(start_payload("/start@parley_bot abc").as_deref(), Some("abc"));
        assert_eq!(start_payload("/start"), None);
        assert_eq!(start_payload("/started x"), None);
        let group = r#"{"update_id":11,"message":{"message_id":1,"date":1700000000,
            "chat":{"id":-100,"type":"group","title":"G"},"from":{"id":5,"is_bot":false,"first_name":"A"},"text":"hi"}}"#;
        assert!(matches!(update(1, &parse(group)), Normalized::Ignored(_)));
        let unknown = r#"{"update_id":12,"something_new":{"x":1}}"#;
        assert!(matches!(update(1, &parse(unknown)), Normalized::Ignored(_)));
    }

    #[test]
    fn a_button_press_carries_its_data_and_callback_id() {
        let raw = r#"{"update_id":13,"callback_query":{"id":"cb9","from":{"id":555,"is_bot":false,"first_name":"Alice"},
            "chat_instance":"x","data":"size_m","message":{"message_id":3,"date":1700000000,
            "chat":{"id":555,"type":"private","first_name":"Alice"},"from":{"id":42,"is_bot":true,"first_name":"Bot"},"text":"Pick"}}}"#;
        let Normalized::Button { callback_id, inbound } = update(1, &parse(raw)) else { panic!("not a press") };
        assert_eq!(callback_id, "cb9");
        assert_eq!(inbound.platform_message_id, "cb:cb9");
        assert_eq!(inbound.kind, InboundKind::ButtonPress { data: "size_m".into() });
    }

    fn membership(status: &str) -> Update {
        parse(&format!(
            r#"{{"update_id":77,"my_chat_member":{{"chat":{{"id":555,"type":"private","first_name":"Alice"}},
            "from":{{"id":555,"is_bot":false,"first_name":"Alice"}},"date":1700000000,
            "old_chat_member":{{"user":{{"id":42,"is_bot":true,"first_name":"Bot"}},"status":"member"}},
            "new_chat_member":{{"user":{{"id":42,"is_bot":true,"first_name":"Bot"}},"status":"{status}"{extra}}}}}}}"#,
            extra = if status == "kicked" { r#","until_date":0"# } else { "" }
        ))
    }

    #[test]
    fn blocking_and_unblocking_the_bot_mark_the_identity() {
        for (status, blocked) in [("kicked", true), ("member", false)] {
            match update(1, &membership(status)) {
                Normalized::Inbound(i) => {
                    assert_eq!(i.kind, InboundKind::Blocked { blocked }, "{status}");
                    assert_eq!((i.external_id.as_str(), i.platform_message_id.as_str()), ("555", "member:77"));
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }
}
