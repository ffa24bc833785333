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
        8,
        "typed_states",
        include_str!("../../migrations/sqlite/0008_typed_states.sql"),
        include_str!("../../migrations/postgres/0008_typed_states.sql"),
    ),
    (
        9,
        "outbox_jobs",
        include_str!("../../migrations/sqlite/0009_outbox_jobs.sql"),
        include_str!("../../migrations/postgres/0009_outbox_jobs.sql"),
    ),
    (
        10,
        "whatsapp",
        include_str!("../../migrations/sqlite/0010_whatsapp.sql"),
        include_str!("../../migrations/postgres/0010_whatsapp.sql"),
    ),
    (
        11,
        "discord",
        include_str!("../../migrations/sqlite/0011_discord.sql"),
        include_str!("../../migrations/postgres/0011_discord.sql"),
    ),
    (
        12,
        "flows",
        include_str!("../../migrations/sqlite/0012_flows.sql"),
        include_str!("../../migrations/postgres/0012_flows.sql"),
    ),
    (
        13,
        "broadcasts",
        include_str!("../../migrations/sqlite/0013_broadcasts.sql"),
        include_str!("../../migrations/postgres/0013_broadcasts.sql"),
    ),
    (
        14,
        "audit",
        include_str!("../../migrations/sqlite/0014_audit.sql"),
        include_str!("../../migrations/postgres/0014_audit.sql"),
    ),
    (
        16,
        "checks_without_in",
        include_str!("../../migrations/sqlite/0016_checks_without_in.sql"),
        include_str!("../../migrations/postgres/0016_checks_without_in.sql"),
    ),
];

/// Versions whose SQLite text rebuilds tables others refer to (SQLite's 12-step
/// procedure): foreign keys are switched off around their transaction, since the pragma
/// does nothing inside one, and checked before they commit.
const SQLITE_REBUILDS: &[i64] = &[8, 16];

pub fn run(db: &mut Db) -> Result<(), StoreError> {
    if db.backend() == Backend::Postgres {
        // Several nodes may start at once; one migrates, the others wait.
        // (Keyed by the schema: Parleys in other schemas of the database do not wait.)
        db.batch("SELECT pg_advisory_lock(hashtext(current_schema()), 5041524)")?;
    }
    let result = apply(db);
    if db.backend() == Backend::Postgres {
        db.batch("SELECT pg_advisory_unlock(hashtext(current_schema()), 5041524)")?;
    }
    result
}

/// The migrations this build knows that the database has not applied (empty when its
/// schema is current, or newer: a later version of Parley migrated it).
pub fn missing(db: &mut Db) -> Result<Vec<i64>, StoreError> {
    let done: Vec<i64> = crate::store::column(&db.query("SELECT version FROM parley_migrations", &[])?, "version")?;
    Ok(MIGRATIONS.iter().map(|m| m.0).filter(|v| !done.contains(v)).collect())
}

fn apply(db: &mut Db) -> Result<(), StoreError> {
    apply_upto(db, i64::MAX)
}

/// Applies the migrations not applied yet, up to `last` (tests stop before the newest).
fn apply_upto(db: &mut Db, last: i64) -> Result<(), StoreError> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS parley_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )?;
    let done: Vec<i64> = crate::store::column(&db.query("SELECT version FROM parley_migrations", &[])?, "version")?;
    for (version, name, sqlite, pg) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
        if done.contains(version) {
            continue;
        }
        let sql = match db.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => pg,
        };
        tracing::info!(migration.version = version, migration.name = name, "applying migration");
        let rebuild = db.backend() == Backend::Sqlite && SQLITE_REBUILDS.contains(version);
        if rebuild {
            db.batch("PRAGMA foreign_keys = OFF")?;
        }
        db.batch("BEGIN")?;
        let applied = db.batch(sql).and_then(|_| if rebuild { foreign_keys_hold(db) } else { Ok(()) }).and_then(|_| {
            db.exec(
                "INSERT INTO parley_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                params![*version, *name, crate::clock::system_now_ms()],
            )
        });
        let outcome = match applied {
            Ok(_) => db.batch("COMMIT"),
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                Err(e)
            }
        };
        if rebuild {
            db.batch("PRAGMA foreign_keys = ON")?;
        }
        outcome?;
    }
    Ok(())
}

/// `PRAGMA foreign_key_check`: every reference still finds its row.
fn foreign_keys_hold(db: &mut Db) -> Result<(), StoreError> {
    let broken = db.query("PRAGMA foreign_key_check", &[])?;
    match broken.first() {
        None => Ok(()),
        Some(r) => Err(StoreError::Sqlite(format!(
            "{} rows break foreign keys after the migration, the first in table {}",
            broken.len(),
            r.get::<String>("table")?
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChatStatus, MessageState};
    use crate::store::db::Conn;

    fn names(db: &mut Db, kind: &str) -> Vec<String> {
        let rows = db
            .query(
                "SELECT name FROM sqlite_master WHERE type = $1 AND name NOT LIKE 'sqlite_%' ORDER BY name",
                params![kind],
            )
            .unwrap();
        crate::store::column(&rows, "name").unwrap()
    }

    /// 0008 rebuilds chats, messages and operators on SQLite: rows, ids, indexes,
    /// triggers, the full-text index and every reference to them survive it.
    #[test]
    fn the_sqlite_rebuild_keeps_rows_indexes_search_and_references() {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let db = &mut Db::new(Conn::Sqlite(&conn));
        apply_upto(db, 7).unwrap();
        let (indexes, triggers) = (names(db, "index"), names(db, "trigger"));
        db.batch(
            "INSERT INTO channels (id, kind, name, key, created_at) VALUES (3, 'webhook', 'Hooks', 'k', 0);
             INSERT INTO operators (id, email, name, role, status, password_hash, created_at)
                 VALUES (5, 'a@example.com', 'Ada', 'admin', 'online', 'h', 0);
             INSERT INTO contacts (id, created_at, updated_at) VALUES (7, 0, 0);
             INSERT INTO identities (id, contact_id, channel_id, external_id, created_at) VALUES (11, 7, 3, 'u', 0);
             INSERT INTO chats (id, contact_id, status, assignee_id, active_channel_id, last_message_at, created_at, updated_at)
                 VALUES (13, 7, 'open', 5, 3, 0, 0, 0);
             INSERT INTO messages (id, chat_id, direction, author_kind, channel_id, identity_id, text, entities, created_at)
                 VALUES (17, 13, 'in', 'contact', 3, 11, 'hello searchable world', '[]', 0);
             INSERT INTO messages (id, chat_id, direction, author_kind, operator_id, text, state, parts_sent, created_at)
                 VALUES (19, 13, 'out', 'operator', 5, 'answer', 'sent', 1, 0);
             INSERT INTO messages_fts (rowid, text) VALUES (17, 'hello searchable world'), (19, 'answer');
             UPDATE search_index_state SET indexed_upto = 19;
             INSERT INTO notify_replies (channel_id, platform_message_id, message_id) VALUES (3, 'p', 19);
             INSERT INTO assignments (chat_id, operator_id, reason, at) VALUES (13, 5, 'policy', 0);",
        )
        .unwrap();

        apply_upto(db, 8).unwrap();

        assert_eq!(names(db, "index"), indexes, "every index is back");
        assert_eq!(names(db, "trigger"), triggers, "every trigger is back");
        let r = db.query_one("SELECT status, assignee_id, active_channel_id FROM chats WHERE id = 13", &[]).unwrap();
        assert_eq!(r.get::<ChatStatus>("status").unwrap(), ChatStatus::Open);
        assert_eq!((r.get::<i64>("assignee_id").unwrap(), r.get::<i64>("active_channel_id").unwrap()), (5, 3));
        let r = db.query_one("SELECT state, parts_sent, operator_id FROM messages WHERE id = 19", &[]).unwrap();
        assert_eq!(r.get::<MessageState>("state").unwrap(), MessageState::Sent);
        assert_eq!((r.get::<i64>("parts_sent").unwrap(), r.get::<i64>("operator_id").unwrap()), (1, 5));
        let found =
            db.query("SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH 'searchable'", &[]).unwrap();
        assert_eq!(crate::store::column::<i64>(&found, "id").unwrap(), [17]);
        // The update trigger is back: an edit replaces the indexed words.
        db.exec("UPDATE messages SET text = 'edited words' WHERE id = 17", &[]).unwrap();
        assert!(
            db.query("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'searchable'", &[]).unwrap().is_empty()
        );
        assert!(db.query("PRAGMA foreign_key_check", &[]).unwrap().is_empty());
        // Foreign keys are on again, and point at the rebuilt tables.
        assert!(
            db.exec(
                "INSERT INTO notify_replies (channel_id, platform_message_id, message_id) VALUES (3, 'q', 999)",
                &[]
            )
            .is_err()
        );
        assert!(db.exec("UPDATE chats SET status = 'lost' WHERE id = 13", &[]).is_err());
        let fks = db.query("SELECT \"table\" FROM pragma_foreign_key_list('messages')", &[]).unwrap();
        let tables: Vec<String> = crate::store::column(&fks, "table").unwrap();
        assert!(tables.iter().all(|t| !t.ends_with("_new")), "references name the tables, not their rebuilds");
    }
}
