//! Gateway events → [`Inbound`]: pure functions, tested on recorded real payloads.
//!
//! Discord message ids are global snowflakes, so a message's platform id is its id as a
//! string; a button press is `i:{interaction_id}`. Ingest dedupes on them, so an event
//! replayed after a RESUME is a no-op.
//!
//! A contact writing to the bot in DMs is the identity `{user_id}`; in a guild channel
//! the bot listens to, `{user_id}@{channel_id}`: each author has their own chat there,
//! and the identity itself says where replies go.

use std::collections::HashSet;

use parley_sdk::{Attachment, Content, Inbound, InboundKind, Profile};
use serde_json::json;
use serenity::all::{
    ChannelId, ComponentInteraction, Event, Interaction, Message, MessageSnapshot, MessageUpdateEvent, StickerItem,
    User,
};

/// What the connector knows when it reads an event.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub channel_id: i64,
    /// The bot's own user id: its messages are echoes, never contacts'.
    pub bot_id: u64,
    /// Guild channels taken in, besides DMs.
    pub guild_channels: HashSet<u64>,
}

/// What to do with one event.
#[derive(Debug)]
pub enum Normalized {
    Inbound(Inbound),
    /// A component press: answered at once (Discord allows 3 s), then ingested.
    Button {
        interaction_id: u64,
        token: String,
        inbound: Inbound,
    },
    /// Skipped, with the reason for the log.
    Ignored(String),
}

/// Where a contact is reached: a DM, or a guild channel the bot listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    Direct { user: u64 },
    Guild { user: u64, channel: u64 },
}

impl Address {
    pub fn external_id(self) -> String {
        match self {
            Address::Direct { user } => user.to_string(),
            Address::Guild { user, channel } => format!("{user}@{channel}"),
        }
    }

    pub fn parse(external_id: &str) -> Option<Address> {
        match external_id.split_once('@') {
            None => Some(Address::Direct { user: external_id.parse().ok()? }),
            Some((user, channel)) => Some(Address::Guild { user: user.parse().ok()?, channel: channel.parse().ok()? }),
        }
    }
}

pub fn event(scope: &Scope, e: &Event) -> Normalized {
    match e {
        Event::MessageCreate(m) => message(scope, &m.message, m.message.guild_id.is_some()),
        Event::MessageUpdate(u) => updated(scope, u),
        Event::MessageDelete(d) => {
            if d.guild_id.is_some() && !scope.guild_channels.contains(&d.channel_id.get()) {
                return Normalized::Ignored(format!("a deletion in guild channel {} not listened to", d.channel_id));
            }
            // The deleted message's author is not in the event; ingest finds it by id.
            Normalized::Inbound(Inbound {
                channel_id: scope.channel_id,
                external_id: format!("channel:{}", d.channel_id),
                platform_message_id: d.message_id.to_string(),
                kind: InboundKind::Delete,
                profile: Profile::default(),
                content: Content::default(),
                reply_to: None,
                start_payload: None,
            })
        }
        Event::InteractionCreate(i) => match &i.interaction {
            Interaction::Component(c) => component(scope, c),
            other => Normalized::Ignored(format!("interaction of kind {:?} is not handled", other.kind())),
        },
        Event::Unknown(u) => Normalized::Ignored(format!("unknown gateway event {}", u.kind)),
        other => Normalized::Ignored(format!("gateway event {} is not handled", other.name().unwrap_or_default())),
    }
}

/// Where a message was written, if it is one the channel takes in.
fn address(scope: &Scope, author: &User, channel: ChannelId, in_guild: bool) -> Result<Address, String> {
    if author.bot || author.id.get() == scope.bot_id {
        return Err(format!("a message by bot {}", author.id));
    }
    if author.system {
        return Err("a system message".into());
    }
    if !in_guild {
        return Ok(Address::Direct { user: author.id.get() });
    }
    if scope.guild_channels.contains(&channel.get()) {
        Ok(Address::Guild { user: author.id.get(), channel: channel.get() })
    } else {
        Err(format!("a message in guild channel {channel} not listened to"))
    }
}

pub fn profile(u: &User) -> Profile {
    Profile {
        first_name: Some(display_name(u).to_owned()),
        username: Some(u.name.clone()).filter(|s| !s.is_empty()),
        ..Profile::default()
    }
}

fn display_name(u: &User) -> &str {
    u.global_name.as_deref().filter(|s| !s.is_empty()).unwrap_or(&u.name)
}

/// A new message. `in_guild` comes from the gateway's `guild_id`, which messages read
/// back over REST lack: there, it is whether the channel is one of the guild channels.
pub fn message(scope: &Scope, m: &Message, in_guild: bool) -> Normalized {
    use serenity::all::MessageType;
    let addr = match address(scope, &m.author, m.channel_id, in_guild) {
        Ok(a) => a,
        Err(why) => return Normalized::Ignored(why),
    };
    if !matches!(m.kind, MessageType::Regular | MessageType::InlineReply) {
        return Normalized::Ignored(format!("a message of type {:?}", m.kind));
    }
    let mut content = body(&m.content, &m.mentions, &m.attachments, &m.sticker_items, scope, m);
    if let Some(snap) = m.message_snapshots.first() {
        // A forwarded message: its content lives in the snapshot, the outer one is empty.
        let forwarded = snapshot(snap, scope, m);
        content.text = match (content.text.take(), forwarded.text) {
            (Some(own), Some(f)) => Some(format!("{own}\n\n{}", quote(&f))),
            (own, Some(f)) => own.or(Some(quote(&f))),
            (own, None) => own,
        };
        content.attachments.extend(forwarded.attachments);
    }
    let reply_to = m.referenced_message.as_ref().map(|r| r.id.to_string()).or_else(|| {
        // A reply whose original is gone still names it in the reference.
        (m.kind == MessageType::InlineReply)
            .then(|| m.message_reference.as_ref().and_then(|r| r.message_id).map(|id| id.to_string()))
            .flatten()
    });
    // Discord has no deep links: an operator linking notifications sends `/start CODE`.
    let start_payload = match addr {
        Address::Direct { .. } => content.text.as_deref().and_then(start_payload),
        Address::Guild { .. } => None,
    };
    Normalized::Inbound(Inbound {
        channel_id: scope.channel_id,
        external_id: addr.external_id(),
        platform_message_id: m.id.to_string(),
        kind: InboundKind::Message,
        profile: profile(&m.author),
        content,
        reply_to,
        start_payload,
    })
}

/// `/start PAYLOAD` → `PAYLOAD`, as a DM; ingest checks its form.
pub fn start_payload(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("/start ")?;
    Some(rest.trim().to_owned()).filter(|p| !p.is_empty() && !p.contains(char::is_whitespace))
}

fn quote(text: &str) -> String {
    text.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n")
}

fn snapshot(s: &MessageSnapshot, scope: &Scope, m: &Message) -> Content {
    body(&s.content, &s.mentions, &s.attachments, &s.sticker_items, scope, m)
}

fn body(
    text: &str,
    mentions: &[User],
    attachments: &[serenity::all::Attachment],
    stickers: &[StickerItem],
    scope: &Scope,
    m: &Message,
) -> Content {
    let text = resolve_mentions(text, mentions);
    let mut list: Vec<Attachment> = attachments.iter().map(|a| attachment(scope, m, a)).collect();
    list.extend(stickers.iter().map(sticker));
    Content { text: Some(text).filter(|t| !t.is_empty()), attachments: list, ..Content::default() }
}

/// `<@123>` and `<@!123>` become `@name` for the users the message mentions; other
/// Discord markdown (bold, code, spoilers, channel and role mentions) stays as written.
pub fn resolve_mentions(text: &str, mentions: &[User]) -> String {
    let mut out = text.to_owned();
    for u in mentions {
        let name = format!("@{}", display_name(u));
        out = out.replace(&format!("<@{}>", u.id), &name).replace(&format!("<@!{}>", u.id), &name);
    }
    out
}

/// The handle the file proxy opens an attachment by: Discord's CDN links expire, so
/// the file is found again through its message when an operator opens it.
pub fn file_id(channel: ChannelId, message: u64, attachment: u64) -> String {
    format!("{channel}-{message}-{attachment}")
}

pub fn parse_file_id(id: &str) -> Option<(u64, u64, u64)> {
    let mut parts = id.split('-').map(|p| p.parse::<u64>().ok());
    let ids = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(ids)
}

fn attachment(scope: &Scope, m: &Message, a: &serenity::all::Attachment) -> Attachment {
    let _ = scope;
    let mime = a.content_type.clone();
    let kind = match mime.as_deref().and_then(|m| m.split('/').next()) {
        Some("image") => "photo",
        Some("video") => "video",
        Some("audio") if a.duration_secs.is_some() => "voice",
        Some("audio") => "audio",
        _ => "document",
    };
    Attachment {
        kind: kind.into(),
        file_id: Some(file_id(m.channel_id, m.id.get(), a.id.get())),
        url: None,
        mime,
        name: Some(a.filename.clone()),
        size: Some(u64::from(a.size)),
        extra: json!({"width": a.width, "height": a.height, "description": a.description}),
    }
}

fn sticker(s: &StickerItem) -> Attachment {
    Attachment {
        kind: "sticker".into(),
        name: Some(s.name.clone()),
        extra: json!({"sticker_id": s.id.to_string(), "format": format!("{:?}", s.format_type)}),
        ..Attachment::default()
    }
}

/// An edit. Discord also sends `MESSAGE_UPDATE` when it adds link embeds, carrying no
/// `content`: such an update changes nothing the operator sees, so it is skipped rather
/// than blanking the text.
fn updated(scope: &Scope, u: &MessageUpdateEvent) -> Normalized {
    let Some(text) = &u.content else {
        return Normalized::Ignored(format!("an update of message {} without content (embeds only)", u.id));
    };
    let Some(author) = &u.author else {
        return Normalized::Ignored(format!("an update of message {} without its author", u.id));
    };
    let addr = match address(scope, author, u.channel_id, u.guild_id.is_some()) {
        Ok(a) => a,
        Err(why) => return Normalized::Ignored(why),
    };
    let text = resolve_mentions(text, u.mentions.as_deref().unwrap_or_default());
    Normalized::Inbound(Inbound {
        channel_id: scope.channel_id,
        external_id: addr.external_id(),
        platform_message_id: u.id.to_string(),
        kind: InboundKind::Edit,
        profile: Profile::default(),
        content: Content { text: Some(text).filter(|t| !t.is_empty()), ..Content::default() },
        reply_to: None,
        start_payload: None,
    })
}

fn component(scope: &Scope, c: &ComponentInteraction) -> Normalized {
    let in_guild = c.guild_id.is_some();
    let addr = match address(scope, &c.user, c.channel_id, in_guild) {
        Ok(a) => a,
        Err(why) => return Normalized::Ignored(why),
    };
    let inbound = Inbound {
        channel_id: scope.channel_id,
        external_id: addr.external_id(),
        platform_message_id: format!("i:{}", c.id),
        kind: InboundKind::ButtonPress { data: c.data.custom_id.clone() },
        profile: profile(&c.user),
        content: Content::default(),
        reply_to: Some(c.message.id.to_string()),
        start_payload: None,
    };
    Normalized::Button { interaction_id: c.id.get(), token: c.token.clone(), inbound }
}

#[cfg(test)]
mod tests {
    use serenity::all::GatewayEvent;

    use super::*;

    /// A recorded dispatch (`{"op":0,"t":..,"d":..}`) as serenity reads it off the socket.
    fn dispatch(raw: &str) -> Event {
        match serde_json::from_str::<GatewayEvent>(raw).expect("a gateway payload") {
            GatewayEvent::Dispatch(_, e) => e,
            other => panic!("not a dispatch: {other:?}"),
        }
    }

    /// serenity's own recorded payloads are the bare `d`; they travel as this dispatch.
    fn wrapped(t: &str, d: &str) -> Event {
        dispatch(&format!(r#"{{"op":0,"s":1,"t":"{t}","d":{d}}}"#))
    }

    fn scope() -> Scope {
        Scope { channel_id: 7, bot_id: 42, guild_channels: HashSet::from([2000000000000000002]) }
    }

    fn inbound(n: Normalized) -> Inbound {
        match n {
            Normalized::Inbound(i) => i,
            other => panic!("not ingested: {other:?}"),
        }
    }

    #[test]
    fn a_dm_keeps_its_markdown_resolves_mentions_and_keeps_files_and_reply() {
        let i = inbound(event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_attachment_reply.json"))));
        assert_eq!(i.external_id, "80351110224678912");
        assert_eq!(i.platform_message_id, "1300000000000000010");
        assert_eq!(i.content.text.as_deref(), Some("**Order 1042** @hubbot see the photo ||spoiler||"));
        assert_eq!(i.reply_to.as_deref(), Some("1300000000000000001"));
        assert_eq!(i.profile.first_name.as_deref(), Some("Nelly"));
        assert_eq!(i.profile.username.as_deref(), Some("nelly"));
        let a = &i.content.attachments[0];
        assert_eq!(a.kind, "photo");
        assert_eq!(a.file_id.as_deref(), Some("1000000000000000001-1300000000000000010-1300000000000000011"));
        assert_eq!(
            (a.name.as_deref(), a.size, a.mime.as_deref()),
            (Some("receipt.png"), Some(48213), Some("image/png"))
        );
        assert_eq!(
            parse_file_id(a.file_id.as_deref().unwrap()),
            Some((1000000000000000001, 1300000000000000010, 1300000000000000011))
        );
    }

    #[test]
    fn edits_change_the_text_but_embed_only_updates_are_skipped() {
        let edit = inbound(event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_update_edit.json"))));
        assert_eq!(edit.kind, InboundKind::Edit);
        assert_eq!(edit.content.text.as_deref(), Some("**Order 1043**, sorry"));
        let embeds = event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_update_embeds_only.json")));
        assert!(matches!(embeds, Normalized::Ignored(ref why) if why.contains("embeds")), "{embeds:?}");
    }

    #[test]
    fn a_deletion_names_the_message() {
        let d = inbound(event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_delete.json"))));
        assert_eq!((d.kind, d.platform_message_id.as_str()), (InboundKind::Delete, "1300000000000000010"));
    }

    #[test]
    fn forwarded_messages_bring_the_snapshot_and_stickers_come_as_attachments() {
        let f = inbound(event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_forwarded.json"))));
        assert_eq!(f.content.text.as_deref(), Some("> Your parcel ships Monday\n> Tracking: ZX1"));
        let s = inbound(event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_sticker.json"))));
        let a = &s.content.attachments[0];
        assert_eq!((a.kind.as_str(), a.name.as_deref()), ("sticker", Some("Wave")));
        assert_eq!(a.extra["sticker_id"], "749054660769218631");
    }

    #[test]
    fn a_button_press_carries_its_custom_id_and_what_answers_it() {
        let n = event(&scope(), &dispatch(include_str!("../tests/fixtures/dm_button_press.json")));
        let Normalized::Button { interaction_id, token, inbound } = n else { panic!("not a press: {n:?}") };
        assert_eq!((interaction_id, token.as_str()), (1300000000000000040, "aW50ZXJhY3Rpb24"));
        assert_eq!(inbound.kind, InboundKind::ButtonPress { data: "size_m".into() });
        assert_eq!(inbound.platform_message_id, "i:1300000000000000040");
        assert_eq!(inbound.reply_to.as_deref(), Some("1300000000000000041"));
    }

    #[test]
    fn guild_authors_have_their_own_identity_and_unlisted_channels_are_skipped() {
        let raw = include_str!("../tests/fixtures/guild_message.json");
        let g = inbound(event(&scope(), &dispatch(raw)));
        assert_eq!(g.external_id, "80351110224678912@2000000000000000002");
        assert_eq!(
            Address::parse(&g.external_id),
            Some(Address::Guild { user: 80351110224678912, channel: 2000000000000000002 })
        );
        assert_eq!(g.content.text.as_deref(), Some("@Kim can you help?"));
        let elsewhere = Scope { guild_channels: HashSet::new(), ..scope() };
        assert!(matches!(event(&elsewhere, &dispatch(raw)), Normalized::Ignored(_)));
    }

    #[test]
    fn bots_and_unknown_events_are_skipped() {
        assert!(matches!(
            event(&scope(), &dispatch(include_str!("../tests/fixtures/bot_echo.json"))),
            Normalized::Ignored(_)
        ));
        let unknown = dispatch(include_str!("../tests/fixtures/unknown_event.json"));
        assert!(
            matches!(event(&scope(), &unknown), Normalized::Ignored(ref why) if why.contains("SOMETHING_NEW_2026"))
        );
    }

    #[test]
    fn serenitys_recorded_payloads_parse() {
        let m = inbound(event(
            &scope(),
            &wrapped("MESSAGE_CREATE", include_str!("../tests/fixtures/serenity_message_create_1.json")),
        ));
        assert_eq!(
            (m.external_id.as_str(), m.platform_message_id.as_str()),
            ("114941315417899012", "302917639565475840")
        );
        assert_eq!(m.content.text.as_deref(), Some("a"));
        let u = inbound(event(
            &scope(),
            &wrapped("MESSAGE_UPDATE", include_str!("../tests/fixtures/serenity_message_update_1.json")),
        ));
        assert_eq!((u.kind, u.content.text.as_deref()), (InboundKind::Edit, Some("b")));
        // A bot's message in a guild, and a join notice (type 7): read, then skipped.
        let bot = wrapped("MESSAGE_CREATE", include_str!("../tests/fixtures/serenity_message_create_3.json"));
        assert!(matches!(event(&scope(), &bot), Normalized::Ignored(_)));
        let join = wrapped("MESSAGE_CREATE", include_str!("../tests/fixtures/serenity_message_type_7.json"));
        assert!(matches!(event(&scope(), &join), Normalized::Ignored(_)));
        let reaction =
            wrapped("MESSAGE_REACTION_ADD", include_str!("../tests/fixtures/serenity_message_reaction_add_1.json"));
        assert!(matches!(event(&scope(), &reaction), Normalized::Ignored(_)));
    }

    #[test]
    fn start_payloads_come_from_dms_only() {
        assert_eq!(start_payload("/start op-abc123").as_deref(), Some("op-abc123"));
        assert_eq!(start_payload(" /start  op-x "), Some("op-x".into()));
        assert_eq!(start_payload("/start"), None);
        assert_eq!(start_payload("/start a b"), None);
        let raw = include_str!("../tests/fixtures/guild_message.json")
            .replace("<@!80351110224678913> can you help?", "/start op-x");
        assert_eq!(inbound(event(&scope(), &dispatch(&raw))).start_payload, None);
    }

    #[test]
    fn snowflakes_stay_exact() {
        // Past 2^53 a float would round these; they must come back digit for digit.
        let raw = include_str!("../tests/fixtures/dm_attachment_reply.json")
            .replace("1300000000000000010", "18446744073709551615");
        let i = inbound(event(&scope(), &dispatch(&raw)));
        assert_eq!(i.platform_message_id, "18446744073709551615");
    }
}
