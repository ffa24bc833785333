//! SQLite's message search index (FTS5), brought up to date once per write batch.
//!
//! FTS5 writes its pending terms to disk at every SAVEPOINT, and each job of a group
//! commit runs in one: an insert trigger made a tiny index segment per message and then
//! merged them. The writer instead calls [`catch_up`] after the batch's jobs, before
//! COMMIT, so a message is searchable as soon as it is committed
//! (migrations/sqlite/0004_search_batched.sql). PostgreSQL's tsvector needs none of this.

use super::{Db, StoreError};

/// Indexes every message above the high-water mark, then moves the mark.
pub(super) fn catch_up(db: &mut Db) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages \
         WHERE id > (SELECT indexed_upto FROM search_index_state) AND text IS NOT NULL",
        &[],
    )?;
    db.exec(
        "UPDATE search_index_state SET indexed_upto = (SELECT MAX(id) FROM messages) \
         WHERE indexed_upto < (SELECT MAX(id) FROM messages)",
        &[],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::params;
    use crate::store::{Db, Store, StoreError};

    fn matches(db: &mut Db, term: &str) -> Result<Vec<i64>, StoreError> {
        let rows = db.query("SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH $1", params![term])?;
        crate::store::column(&rows, "id")
    }

    /// A message edited in the batch that inserted it is indexed once, with its new text;
    /// an edit after that replaces the indexed words.
    #[tokio::test]
    async fn messages_are_indexed_with_their_text_at_commit() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()), 1)?;
        let id = store
            .write(|db| {
                let contact =
                    db.query_one("INSERT INTO contacts (created_at, updated_at) VALUES (0, 0) RETURNING id", &[])?;
                let chat = db.query_one(
                    "INSERT INTO chats (contact_id, status, last_message_at, created_at, updated_at) \
                     VALUES ($1, 'open', 0, 0, 0) RETURNING id",
                    params![contact.get::<i64>("id")?],
                )?;
                let id = db
                    .query_one(
                        "INSERT INTO messages (chat_id, direction, author_kind, text, created_at) \
                         VALUES ($1, 'in', 'contact', 'draft words', 0) RETURNING id",
                        params![chat.get::<i64>("id")?],
                    )?
                    .get::<i64>("id")?;
                db.exec("UPDATE messages SET text = 'final words' WHERE id = $1", params![id])?;
                Ok::<_, StoreError>(id)
            })
            .await?;
        store
            .read(move |db| {
                assert_eq!(matches(db, "final")?, [id]);
                assert!(matches(db, "draft")?.is_empty());
                Ok::<_, StoreError>(())
            })
            .await?;
        store.write(move |db| db.exec("UPDATE messages SET text = 'edited later' WHERE id = $1", params![id])).await?;
        store
            .read(move |db| {
                assert_eq!(matches(db, "later")?, [id]);
                assert!(matches(db, "final")?.is_empty());
                Ok::<_, StoreError>(())
            })
            .await?;
        Ok(())
    }
}
