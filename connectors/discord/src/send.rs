//! Outbound: text split safely at Discord's 2,000 characters, buttons as message
//! components (5 to a row, 5 rows to a message), files uploaded from their URLs. In a
//! guild channel the answer is a reply to the author's last message.

// UTF-16 units: never more characters than Discord counts.
use parley_sdk::text::split_text;
use parley_sdk::{Attachment, Button, Outbound, SendError, Sent};
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateMessage,
    MessageId, MessageReference, UserId,
};

use crate::clients::Client;
use crate::errors::classify;
use crate::normalize::Address;

/// Discord's limits for a message.
pub const TEXT_LIMIT: usize = 2000;
const BUTTONS_PER_ROW: usize = 5;
const ROWS: usize = 5;
const LABEL_LIMIT: usize = 80;
const CUSTOM_ID_LIMIT: usize = 100;

fn refuse(reason: String) -> SendError {
    SendError::Permanent { reason, unreachable: false }
}

/// Action rows for the buttons: a link for an http(s) address, else a press that comes
/// back with `data` as its custom id.
pub fn components(buttons: &[Button]) -> Result<Vec<CreateActionRow>, SendError> {
    if buttons.len() > BUTTONS_PER_ROW * ROWS {
        return Err(refuse(format!("Discord shows at most {} buttons on a message", BUTTONS_PER_ROW * ROWS)));
    }
    let mut made = Vec::with_capacity(buttons.len());
    for b in buttons {
        if b.label.trim().is_empty() || b.label.chars().count() > LABEL_LIMIT {
            return Err(refuse(format!("a Discord button label needs 1 to {LABEL_LIMIT} characters: {:?}", b.label)));
        }
        let button = match url::Url::parse(&b.data) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => CreateButton::new_link(u.as_str()),
            _ if b.data.is_empty() || b.data.len() > CUSTOM_ID_LIMIT => {
                return Err(refuse(format!("button data needs 1 to {CUSTOM_ID_LIMIT} bytes: {:?}", b.label)));
            }
            _ => CreateButton::new(b.data.clone()).style(ButtonStyle::Primary),
        };
        made.push(button.label(b.label.clone()));
    }
    Ok(made.chunks(BUTTONS_PER_ROW).map(|row| CreateActionRow::Buttons(row.to_vec())).collect())
}

fn file_url(a: &Attachment) -> Option<&str> {
    a.url.as_deref().filter(|u| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
}

/// The Discord channel an identity is written to.
async fn target(client: &Client, address: Address) -> Result<ChannelId, SendError> {
    match address {
        Address::Guild { channel, .. } => Ok(ChannelId::new(channel)),
        Address::Direct { user } => {
            if let Some(id) = client.dm_channels.lock().expect("lock").get(&user) {
                return Ok(ChannelId::new(*id));
            }
            let dm = UserId::new(user).create_dm_channel(&client.http).await.map_err(classify)?;
            client.dm_channels.lock().expect("lock").insert(user, dm.id.get());
            Ok(dm.id)
        }
    }
}

pub async fn deliver(client: &Client, out: &Outbound) -> Result<Sent, SendError> {
    let address = Address::parse(&out.external_id).ok_or_else(|| SendError::Permanent {
        reason: format!("{:?} is not a Discord user or user@channel", out.external_id),
        unreachable: true,
    })?;
    let mut rows = Some(components(&out.content.buttons)?).filter(|r| !r.is_empty());
    let mut files = Vec::new();
    for a in &out.content.attachments {
        if let Some(u) = file_url(a) {
            let mut file = CreateAttachment::url(&client.http, u).await.map_err(classify)?;
            if let Some(n) = a.name.as_ref().filter(|n| !n.is_empty()) {
                file.filename = n.clone();
            }
            files.push(file);
        }
    }
    let text = out.content.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let mut parts = text.map(|t| split_text(t, TEXT_LIMIT)).unwrap_or_default();
    if parts.is_empty() && (!files.is_empty() || rows.is_some()) {
        parts.push(String::new());
    }
    if parts.is_empty() {
        return Err(refuse("nothing Discord can send: no text, and no attachment with a URL".into()));
    }
    let channel = target(client, address).await?;
    let reply_to = match address {
        Address::Guild { .. } => client.last_message.lock().expect("lock").get(&out.external_id).copied(),
        Address::Direct { .. } => None,
    };
    // Each message is one part; the last carries the files and buttons. Parts Discord
    // took in an earlier attempt are skipped.
    let last = parts.len() - 1;
    let mut first = None;
    for (i, piece) in parts.into_iter().enumerate() {
        let part = i as u32;
        if part < out.parts_sent {
            continue;
        }
        // Nobody is pinged by what an operator writes, except the author replied to.
        let mut message =
            CreateMessage::new().content(piece).allowed_mentions(CreateAllowedMentions::new().replied_user(true));
        if i == 0
            && let Some(id) = reply_to
        {
            let reference = MessageReference::from((channel, MessageId::new(id)));
            message = message.reference_message(reference);
        }
        if i == last {
            if let Some(r) = rows.take() {
                message = message.components(r);
            }
            message = message.add_files(std::mem::take(&mut files));
        }
        match channel.send_message(&client.http, message).await {
            Ok(m) => {
                first.get_or_insert(m.id);
            }
            Err(e) if part == 0 => return Err(classify(e)),
            Err(e) => return Err(SendError::Partial { parts_sent: part, error: Box::new(classify(e)) }),
        }
    }
    Ok(Sent { platform_message_id: first.map(|id| id.to_string()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_sdk::text::utf16_len;

    #[test]
    fn long_text_splits_on_breaks_and_never_inside_a_character() {
        let text = format!("{}\n{}", "a".repeat(1500), "b".repeat(1500));
        assert_eq!(split_text(&text, TEXT_LIMIT), vec!["a".repeat(1500), "b".repeat(1500)]);
        let emoji = "😀".repeat(1500);
        let parts = split_text(&emoji, TEXT_LIMIT);
        assert!(parts.iter().all(|p| utf16_len(p) <= TEXT_LIMIT));
        assert_eq!(parts.concat(), emoji);
    }

    #[test]
    fn buttons_fill_rows_of_five_within_the_limits() {
        let b = |i: usize| Button { label: format!("b{i}"), data: format!("d{i}") };
        let rows = components(&(0..12).map(b).collect::<Vec<_>>()).unwrap();
        let sizes: Vec<usize> = rows
            .iter()
            .map(|r| match r {
                CreateActionRow::Buttons(list) => list.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, vec![5, 5, 2]);
        assert!(components(&(0..26).map(b).collect::<Vec<_>>()).is_err());
        let long = Button { label: "x".into(), data: "y".repeat(101) };
        assert!(components(&[long]).is_err());
        let link = Button { label: "Docs".into(), data: "https://example.com/docs".into() };
        assert_eq!(components(&[link]).unwrap().len(), 1);
    }
}
