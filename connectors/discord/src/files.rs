//! Inbound attachments for the console: Discord's CDN links expire, so the message is
//! read again for a fresh link, then the file is fetched with it.

use futures_util::stream;
use parley_sdk::{FileDownload, FileError};
use serenity::all::{ChannelId, MessageId};
use serenity::http::{Http, HttpError};

use crate::normalize::parse_file_id;

pub async fn fetch(http: &Http, file_id: &str) -> Result<FileDownload, FileError> {
    let (channel, message, attachment) =
        parse_file_id(file_id).ok_or_else(|| FileError::NotFound(format!("{file_id:?} is not a Discord file")))?;
    let m = http.get_message(ChannelId::new(channel), MessageId::new(message)).await.map_err(|e| match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 404 => {
            FileError::NotFound(r.error.message)
        }
        other => FileError::Unavailable(other.to_string()),
    })?;
    let a = m
        .attachments
        .into_iter()
        .find(|a| a.id.get() == attachment)
        .ok_or_else(|| FileError::NotFound("the message no longer has this file".into()))?;
    let bytes = a.download().await.map_err(|e| FileError::Unavailable(e.to_string()))?;
    Ok(FileDownload {
        name: Some(a.filename),
        mime: a.content_type,
        size: Some(bytes.len() as u64),
        body: Box::pin(stream::iter([Ok(bytes)])),
    })
}
