//! Inbound media for the console: `getFile`, then the file streamed from Telegram.

use futures_util::StreamExt;
use parley_sdk::{FileDownload, FileError};
use teloxide::Bot;
use teloxide::net::Download;
use teloxide::requests::{Request, Requester};
use teloxide::types::FileId;
use teloxide::{ApiError, RequestError};

fn guess_mime(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "ogg" | "oga" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "pdf" => "application/pdf",
        "tgs" => "application/x-tgsticker",
        _ => return None,
    })
}

pub async fn fetch(bot: &Bot, file_id: &str) -> Result<FileDownload, FileError> {
    let file = bot.get_file(FileId(file_id.to_owned())).send().await.map_err(|e| match e {
        RequestError::Api(ApiError::Unknown(ref d)) if d.starts_with("Bad Request") => FileError::NotFound(d.clone()),
        RequestError::Api(ref a) if a.to_string().starts_with("Bad Request") => FileError::NotFound(a.to_string()),
        other => FileError::Unavailable(other.to_string()),
    })?;
    let body = bot.download_file_stream(&file.path).map(|chunk| chunk.map(|b| b.to_vec()).map_err(|e| e.to_string()));
    Ok(FileDownload {
        name: file.path.rsplit('/').next().map(str::to_owned),
        mime: guess_mime(&file.path).map(str::to_owned),
        size: (file.meta.size > 0).then_some(u64::from(file.meta.size)),
        body: Box::pin(body),
    })
}
