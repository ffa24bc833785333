//! Storage: SQLite (default) or PostgreSQL behind one small interface.
//!
//! Every write runs on a writer thread that groups whatever jobs are queued into one
//! transaction (group commit), each job inside its own savepoint so one failing job
//! never undoes another. A job's caller is answered only after the commit, and the
//! events it appended are published only then. Reads run on a small pool of reader
//! threads. Both databases run the same SQL, written with `$1` placeholders.

mod advisory;
mod backup;
mod connect;
mod db;
pub mod events;
mod migrate;
mod pg_types;
mod pool;
mod search_index;
mod tls;
mod value;
mod wake;

pub use advisory::AdvisoryLock;
pub use backup::backup;
pub use db::Db;
pub use events::EventRow;
pub use pool::Store;
pub use value::{FromValue, Row, Value, column};
pub use wake::Wake;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("database error: {0}")]
    Postgres(String),
    #[error("cannot read stored value: {0}")]
    Decode(String),
    #[error("the database is shutting down")]
    Closed,
    #[error("cannot open database: {0}")]
    Open(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, ref msg) = e
            && f.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()));
        }
        StoreError::Sqlite(e.to_string())
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
            return StoreError::Conflict(e.to_string());
        }
        StoreError::Postgres(match (e.as_db_error(), std::error::Error::source(&e)) {
            (Some(db), _) => db.to_string(),
            // "error performing TLS handshake" says little without its cause.
            (None, Some(cause)) => format!("{e}: {cause}"),
            (None, None) => e.to_string(),
        })
    }
}
