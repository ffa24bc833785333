//! What a connector may ask of the hub beyond ingest: where its webhooks arrive, and a
//! lock that only one node of a cluster holds at a time.

use std::any::Any;
use std::pin::Pin;

use futures_core::Stream;

/// Held while a node owns an exclusive lock; dropping it releases the lock.
pub type LockGuard = Box<dyn Any + Send + Sync>;

/// A file fetched from the platform, streamed to whoever asked for it.
pub struct FileDownload {
    pub name: Option<String>,
    pub mime: Option<String>,
    pub size: Option<u64>,
    pub body: Pin<Box<dyn Stream<Item = Result<Vec<u8>, String>> + Send>>,
}

/// Why a file could not be fetched.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    /// The platform does not know the file (or the id is malformed).
    #[error("no such file: {0}")]
    NotFound(String),
    /// The platform could not be reached or refused for now.
    #[error("the platform cannot serve the file now: {0}")]
    Unavailable(String),
    /// This kind of channel has no files to fetch.
    #[error("this channel kind serves no files")]
    Unsupported,
}
