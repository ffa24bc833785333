//! Outbound: text split safely at Telegram's 4,096-character limit, inline keyboards
//! from the message's buttons, photos and documents from its attachments.

use parley_sdk::text::{split_text, utf16_len};
use parley_sdk::{Attachment, Button, Outbound, SendError, Sent};
use teloxide::RequestError;
use teloxide::payloads::{SendDocumentSetters, SendMessageSetters, SendPhotoSetters};
use teloxide::requests::{Request, Requester};
use teloxide::types::{ChatId, FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message};

use crate::clients::Pacer;
use crate::errors::classify;
use crate::normalize::message_key;

/// Telegram's limits, counted in UTF-16 code units as Telegram counts them.
pub const TEXT_LIMIT: usize = 4096;
pub const CAPTION_LIMIT: usize = 1024;
const CALLBACK_DATA_LIMIT: usize = 64;

fn keyboard(buttons: &[Button]) -> Result<Option<InlineKeyboardMarkup>, SendError> {
    if buttons.is_empty() {
        return Ok(None);
    }
    let mut rows = Vec::with_capacity(buttons.len());
    for b in buttons {
        let button = match url::Url::parse(&b.data) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => InlineKeyboardButton::url(b.label.clone(), u),
            _ if b.data.len() > CALLBACK_DATA_LIMIT => {
                return Err(SendError::Permanent {
                    reason: format!("button data longer than {CALLBACK_DATA_LIMIT} bytes: {:?}", b.label),
                    unreachable: false,
                });
            }
            _ => InlineKeyboardButton::callback(b.label.clone(), b.data.clone()),
        };
        rows.push(vec![button]);
    }
    Ok(Some(InlineKeyboardMarkup::new(rows)))
}

/// What Telegram can fetch for an attachment: a public URL, else a `file_id` it knows.
fn input_file(a: &Attachment) -> Option<InputFile> {
    if let Some(u) =
        a.url.as_deref().and_then(|u| url::Url::parse(u).ok()).filter(|u| matches!(u.scheme(), "http" | "https"))
    {
        return Some(InputFile::url(u));
    }
    a.file_id.as_ref().map(|id| InputFile::file_id(FileId(id.clone())))
}

fn is_photo(a: &Attachment) -> bool {
    a.kind == "photo"
        || a.kind == "image"
        || a.mime.as_deref().is_some_and(|m| m.starts_with("image/") && m != "image/gif")
}

/// Sends one outbound message with whichever requester (throttled or not).
pub async fn deliver<R>(bot: &R, pacer: Option<&Pacer>, out: &Outbound) -> Result<Sent, SendError>
where
    R: Requester<Err = RequestError>,
{
    let chat: i64 = out.external_id.parse().map_err(|_| SendError::Permanent {
        reason: format!("{:?} is not a Telegram chat id", out.external_id),
        unreachable: true,
    })?;
    let chat_id = ChatId(chat);
    let mut markup = keyboard(&out.content.buttons)?;
    let files: Vec<(&Attachment, InputFile)> =
        out.content.attachments.iter().filter_map(|a| input_file(a).map(|f| (a, f))).collect();
    let text = out.content.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    // Each sendMessage/sendPhoto/sendDocument is one part. Parts the platform took in an
    // earlier attempt are skipped; a failure after some parts reports how many went.
    let mut part: u32 = 0;
    let mut first: Option<Message> = None;
    let mut took = |m: Message, part: &mut u32| {
        if first.is_none() {
            first = Some(m);
        }
        *part += 1;
    };
    let failed = |part: u32, e: RequestError| match part {
        0 => classify(e),
        parts_sent => SendError::Partial { parts_sent, error: Box::new(classify(e)) },
    };

    // One file with a short text: the text is its caption.
    let caption = match (files.len(), text) {
        (1, Some(t)) if utf16_len(t) <= CAPTION_LIMIT => Some(t.to_owned()),
        _ => None,
    };
    if caption.is_none()
        && let Some(t) = text
    {
        let parts = split_text(t, TEXT_LIMIT);
        let last = parts.len() - 1;
        for (i, piece) in parts.into_iter().enumerate() {
            if part < out.parts_sent {
                part += 1;
                continue;
            }
            let mut req = bot.send_message(chat_id, piece);
            if i == last
                && files.is_empty()
                && let Some(m) = markup.take()
            {
                req = req.reply_markup(m);
            }
            if let Some(p) = pacer {
                p.turn(out.is_bulk()).await;
            }
            took(req.send().await.map_err(|e| failed(part, e))?, &mut part);
        }
    }
    let count = files.len();
    for (i, (a, file)) in files.into_iter().enumerate() {
        if part < out.parts_sent {
            part += 1;
            continue;
        }
        let reply_markup = if i + 1 == count { markup.take() } else { None };
        if let Some(p) = pacer {
            p.turn(out.is_bulk()).await;
        }
        let sent = if is_photo(a) {
            let mut req = bot.send_photo(chat_id, file);
            if let Some(c) = caption.clone() {
                req = req.caption(c);
            }
            if let Some(m) = reply_markup {
                req = req.reply_markup(m);
            }
            req.send().await
        } else {
            let mut req = bot.send_document(chat_id, file);
            if let Some(c) = caption.clone() {
                req = req.caption(c);
            }
            if let Some(m) = reply_markup {
                req = req.reply_markup(m);
            }
            req.send().await
        };
        took(sent.map_err(|e| failed(part, e))?, &mut part);
    }
    match first {
        Some(m) => Ok(Sent { platform_message_id: Some(message_key(m.chat.id.0, m.id.0)) }),
        // Every part went in earlier attempts; only recording it failed.
        None if part > 0 => Ok(Sent::default()),
        None => Err(SendError::Permanent {
            reason: "nothing Telegram can send: no text, and no attachment with a URL or file_id".into(),
            unreachable: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_splits_on_breaks_and_never_inside_a_character() {
        let text = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
        let parts = split_text(&text, TEXT_LIMIT);
        assert_eq!(parts, vec!["a".repeat(3000), "b".repeat(3000)]);
        let emoji = "😀".repeat(3000); // 2 UTF-16 units each
        let parts = split_text(&emoji, TEXT_LIMIT);
        assert!(parts.iter().all(|p| utf16_len(p) <= TEXT_LIMIT));
        assert_eq!(parts.concat(), emoji);
        assert_eq!(split_text("short", TEXT_LIMIT), vec!["short"]);
    }
}
