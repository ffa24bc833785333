//! The one place that opens database connections: the store's writer, its readers,
//! the PostgreSQL event listener, and the sessions that hold cluster locks. What every
//! connection needs (SQLite's pragmas, PostgreSQL's parsed URL) is applied here, so a
//! new connection cannot come without it.

use std::path::Path;
use std::str::FromStr;

use super::db::{Conn, PgConn};
use super::{Backend, Db, StoreError};

/// Where the database is, parsed once from its URL.
#[derive(Clone)]
pub(crate) enum Target {
    Sqlite { path: String },
    Postgres(Box<postgres::Config>, super::tls::Tls),
}

/// What a connection is for. SQLite readers are opened read-only, so a read job that
/// writes by mistake fails instead of bypassing the writer's group commit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Write,
    Read,
}

/// An open connection, whichever the backend. A PostgreSQL client is large and boxed.
pub(crate) enum Connection {
    Sqlite(rusqlite::Connection),
    Pg(Box<PgConn>),
}

impl Connection {
    /// The connection as domain jobs see it.
    pub fn db(&mut self) -> Db<'_> {
        match self {
            Connection::Sqlite(c) => Db::new(Conn::Sqlite(c)),
            Connection::Pg(c) => Db::new(Conn::Pg(c)),
        }
    }

    /// The PostgreSQL client, for what only PostgreSQL has (LISTEN, advisory locks).
    pub fn into_pg(self) -> Option<PgConn> {
        match self {
            Connection::Pg(c) => Some(*c),
            Connection::Sqlite(_) => None,
        }
    }
}

impl Target {
    /// `sqlite://PATH` or `postgres://…` (also `postgresql://…`).
    pub fn parse(url: &str) -> Result<Target, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (url, tls) = super::tls::from_url(url)?;
            let config =
                postgres::Config::from_str(&url).map_err(|e| StoreError::Open(format!("bad PostgreSQL URL: {e}")))?;
            Ok(Target::Postgres(Box::new(config), tls))
        } else if url.starts_with("sqlite:") {
            Ok(Target::Sqlite { path: sqlite_path(url)? })
        } else {
            Err(StoreError::Open(format!("unknown database URL {url:?}: use sqlite://PATH or postgres://...")))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Target::Sqlite { .. } => Backend::Sqlite,
            Target::Postgres(..) => Backend::Postgres,
        }
    }

    /// Opens one connection.
    pub fn open(&self, access: Access) -> Result<Connection, StoreError> {
        match self {
            Target::Sqlite { path } => open_sqlite(path, access == Access::Read).map(Connection::Sqlite),
            Target::Postgres(config, tls) => {
                let client = match tls {
                    super::tls::Tls::Plain => config.connect(postgres::NoTls)?,
                    super::tls::Tls::Rustls(tls) => config.connect(tls.clone())?,
                };
                Ok(Connection::Pg(Box::new(PgConn::new(client))))
            }
        }
    }
}

/// `sqlite://data/parley.db` → `data/parley.db`; `sqlite:///abs/x.db` → `/abs/x.db`.
fn sqlite_path(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(StoreError::Open(format!("no file in {url:?}")));
    }
    Ok(path.to_owned())
}

fn open_sqlite(path: &str, read_only: bool) -> Result<rusqlite::Connection, StoreError> {
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open(format!("cannot create {}: {e}", dir.display())))?;
    }
    let conn = rusqlite::Connection::open(path)?;
    // FULL costs almost nothing with group commit and makes "acknowledged" mean "on disk".
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;",
    )?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON")?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert!(
            matches!(Target::parse("sqlite://data/parley.db"), Ok(Target::Sqlite { path }) if path == "data/parley.db")
        );
        assert!(
            matches!(Target::parse("sqlite:///abs/x.db?mode=rwc"), Ok(Target::Sqlite { path }) if path == "/abs/x.db")
        );
        assert!(Target::parse("postgresql://u@localhost/db").is_ok_and(|t| t.backend() == Backend::Postgres));
        assert!(Target::parse("sqlite://").is_err());
        assert!(Target::parse("mysql://localhost/db").is_err());
    }
}
