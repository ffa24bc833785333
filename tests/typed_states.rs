//! The schema refuses states outside the closed sets of `src/model/` (migration 0008),
//! on SQLite and PostgreSQL alike.

use parley::params;
use parley::store::{Db, Store, StoreError};

/// A contact with a chat in `status`; returns the chat's id.
fn chat(db: &mut Db, status: &str) -> Result<i64, StoreError> {
    let contact = db.query_one("INSERT INTO contacts (created_at, updated_at) VALUES (0, 0) RETURNING id", &[])?;
    let chat = db.query_one(
        "INSERT INTO chats (contact_id, status, last_message_at, created_at, updated_at) \
         VALUES ($1, $2, 0, 0, 0) RETURNING id",
        params![contact.get::<i64>("id")?, status],
    )?;
    chat.get("id")
}

fn message(
    db: &mut Db,
    chat_id: i64,
    kind: &str,
    direction: &str,
    author: &str,
    state: Option<&str>,
) -> Result<u64, StoreError> {
    db.exec(
        "INSERT INTO messages (chat_id, kind, direction, author_kind, state, text, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'hi', 0)",
        params![chat_id, kind, direction, author, state],
    )
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::support::database_url(dir.path());
    let store = tokio::task::spawn_blocking(move || Store::open(&url, 1)).await.unwrap().unwrap();
    (store, dir)
}

/// Runs `f` in a write job of its own and says whether the database refused it.
async fn refused(store: &Store, f: impl FnOnce(&mut Db) -> Result<(), StoreError> + Send + 'static) -> bool {
    match store.write(f).await {
        Ok(()) => false,
        Err(e) => {
            let text = e.to_string().to_lowercase();
            assert!(text.contains("check"), "refused for another reason than a CHECK constraint: {e}");
            true
        }
    }
}

#[tokio::test]
async fn every_known_state_is_stored() {
    let (store, _dir) = store().await;
    store
        .write(|db| {
            for status in ["open", "closed", "merged"] {
                chat(db, status)?;
            }
            let id = chat(db, "open")?;
            db.exec("UPDATE chats SET handler = 'bot' WHERE id = $1", params![id])?;
            for author in ["contact", "operator", "bot", "broadcast", "system"] {
                message(db, id, "message", "in", author, None)?;
            }
            for state in ["queued", "sent", "delivered", "read", "failed"] {
                message(db, id, "message", "out", "bot", Some(state))?;
            }
            message(db, id, "note", "out", "operator", None)?;
            for (role, status) in [("admin", "online"), ("operator", "away"), ("operator", "offline")] {
                db.exec(
                    "INSERT INTO operators (email, name, role, status, password_hash, created_at) \
                     VALUES ($1, 'N', $2, $3, 'x', 0)",
                    params![format!("{role}.{status}@example.com"), role, status],
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_state_outside_its_set_is_refused() {
    let (store, _dir) = store().await;
    assert!(refused(&store, |db| chat(db, "archived").map(drop)).await, "chat status");
    assert!(
        refused(&store, |db| {
            let id = chat(db, "open")?;
            db.exec("UPDATE chats SET handler = 'robot' WHERE id = $1", params![id]).map(drop)
        })
        .await,
        "chat handler"
    );
    let cases: [(&str, &str, &str, Option<&str>); 4] = [
        ("sticker", "in", "contact", None),
        ("message", "sideways", "contact", None),
        ("message", "in", "visitor", None),
        ("message", "out", "operator", Some("lost")),
    ];
    for (kind, direction, author, state) in cases {
        let what = format!("message {kind}/{direction}/{author}/{state:?}");
        let bad = refused(&store, move |db| {
            let id = chat(db, "open")?;
            message(db, id, kind, direction, author, state).map(drop)
        });
        assert!(bad.await, "{what}");
    }
    assert!(
        refused(&store, |db| {
            db.exec(
                "INSERT INTO operators (email, name, role, status, password_hash, created_at) \
                 VALUES ('x@example.com', 'X', 'operator', 'busy', 'x', 0)",
                &[],
            )
            .map(drop)
        })
        .await,
        "operator status"
    );
    // Nothing of the refused jobs was kept.
    let chats: i64 =
        store.read(|db| db.query_one("SELECT COUNT(*) AS n FROM chats", &[])).await.unwrap().get("n").unwrap();
    assert_eq!(chats, 0);
}

/// SQLite evaluates `x IN ('a', 'b', 'c')` by building a temporary b-tree of the list at
/// every statement that checks it (migration 0016): the schema's CHECK constraints join
/// comparisons with OR instead. Lists of two values are compared directly and may stay.
#[tokio::test]
async fn no_check_of_the_sqlite_schema_builds_a_list_per_statement() {
    let (store, _dir) = store().await;
    if store.backend() != parley::store::Backend::Sqlite {
        return; // PostgreSQL compares against the list as it is
    }
    let rows = store
        .read(|db| db.query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL", &[]))
        .await
        .unwrap();
    let mut offenders = Vec::new();
    for row in &rows {
        let (name, sql): (String, String) = (row.get("name").unwrap(), row.get("sql").unwrap());
        for (at, _) in sql.match_indices(" IN (") {
            let list = &sql[at + 5..at + 5 + sql[at + 5..].find(')').unwrap()];
            if list.split(',').count() >= 3 {
                offenders.push(format!("{name}: IN ({list})"));
            }
        }
    }
    assert!(offenders.is_empty(), "write these as comparisons joined by OR: {offenders:#?}");
}
