//! The domain's error: what went wrong, in words the HTTP layer maps once to statuses.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but cannot be carried out (422).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound("not found".into()),
            StoreError::Conflict(m) => Error::Conflict(m),
            other => Error::Store(other),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Err(NotFound)` with a message naming what is missing.
pub fn not_found(what: &str, id: impl std::fmt::Display) -> Error {
    Error::NotFound(format!("{what} {id} does not exist"))
}
