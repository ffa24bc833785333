//! Applies the SQL files of `migrations/<backend>/` in order, once each.

use super::{Backend, Db, StoreError};
use crate::params;

/// (version, name, SQLite text, PostgreSQL text). Versions match across backends.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../migrations/sqlite/0001_core.sql"),
        include_str!("../../migrations/postgres/0001_core.sql"),
    ),
    (
        2,
        "telegram",
        include_str!("../../migrations/sqlite/0002_telegram.sql"),
        include_str!("../../migrations/postgres/0002_telegram.sql"),
    ),
    (
        3,
        "distribution",
        include_str!("../../migrations/sqlite/0003_distribution.sql"),
        include_str!("../../migrations/postgres/0003_distribution.sql"),
    ),
    (
        4,
        "search_batched",
        include_str!("../../migrations/sqlite/0004_search_batched.sql"),
        include_str!("../../migrations/postgres/0004_search_batched.sql"),
    ),
    (
        5,
        "message_entities",
        include_str!("../../migrations/sqlite/0005_message_entities.sql"),
        include_str!("../../migrations/postgres/0005_message_entities.sql"),
    ),
    (
        6,
        "send_progress",
        include_str!("../../migrations/sqlite/0006_send_progress.sql"),
        include_str!("../../migrations/postgres/0006_send_progress.sql"),
    ),
    (
        7,
        "console_presence",
        include_str!("../../migrations/sqlite/0007_console_presence.sql"),
        include_str!("../../migrations/postgres/0007_console_presence.sql"),
    ),
    (
        9,
        "outbox_jobs",
        include_str!("../../migrations/sqlite/0009_outbox_jobs.sql"),
        include_str!("../../migrations/postgres/0009_outbox_jobs.sql"),
    ),
];

pub fn run(db: &mut Db) -> Result<(), StoreError> {
    if db.backend() == Backend::Postgres {
        // Several nodes may start at once; one migrates, the others wait.
        db.batch("SELECT pg_advisory_lock(5041524)")?;
    }
    let result = apply(db);
    if db.backend() == Backend::Postgres {
        db.batch("SELECT pg_advisory_unlock(5041524)")?;
    }
    result
}

fn apply(db: &mut Db) -> Result<(), StoreError> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS parley_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )?;
    let done: Vec<i64> = db.query("SELECT version FROM parley_migrations", &[])?.iter().map(|r| r.i64(0)).collect();
    for (version, name, sqlite, pg) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let sql = match db.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => pg,
        };
        tracing::info!(migration.version = version, migration.name = name, "applying migration");
        db.batch("BEGIN")?;
        let applied = db.batch(sql).and_then(|_| {
            db.exec(
                "INSERT INTO parley_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                params![*version, *name, crate::clock::system_now_ms()],
            )
        });
        match applied {
            Ok(_) => db.batch("COMMIT")?,
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    Ok(())
}
