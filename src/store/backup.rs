//! `parley backup FILE`: a consistent copy of a SQLite database, taken while Parley runs.
//! `VACUUM INTO` reads the database in one read transaction (WAL lets the writer go on
//! meanwhile) and writes a compact copy: every transaction committed before it began,
//! none after. PostgreSQL is backed up with its own tools (docs/DEPLOY.md).

use std::path::Path;

use super::connect::{Access, Target};
use super::{StoreError, Value};

/// Copies the database at `url` into `file`, which must not exist yet.
pub fn backup(url: &str, file: &Path) -> Result<(), StoreError> {
    let target = Target::parse(url)?;
    let Target::Sqlite { path: database } = &target else {
        return Err(StoreError::Open(
            "parley backup copies a SQLite database; back PostgreSQL up with pg_dump or pg_basebackup (docs/DEPLOY.md)"
                .into(),
        ));
    };
    if !Path::new(database).exists() {
        return Err(StoreError::Open(format!("there is no database at {database}")));
    }
    if file.exists() {
        return Err(StoreError::Open(format!("{} exists already; name a new file", file.display())));
    }
    let Some(path) = file.to_str() else {
        return Err(StoreError::Open(format!("{} is not a UTF-8 path", file.display())));
    };
    // Only reads: the running node's writer goes on while the copy is made.
    let mut conn = target.open(Access::Write)?;
    conn.db().exec("VACUUM INTO $1", &[Value::Text(path.to_owned())])?;
    Ok(())
}
