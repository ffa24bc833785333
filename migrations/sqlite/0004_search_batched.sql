-- FTS5 writes its pending terms to disk at every SAVEPOINT, and the writer runs each job
-- of a group commit in a savepoint: indexing each message as it is inserted made one
-- tiny index segment per message, then merged them (about a seventh of ingest's time).
-- New messages are now indexed once per batch, after the jobs and before COMMIT
-- (store::search_index::catch_up), so search sees a message as soon as it is committed.
-- `indexed_upto` is the highest message id in messages_fts; messages are never deleted,
-- so ids above it are exactly the ones still to index.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;

CREATE TABLE search_index_state (indexed_upto INTEGER NOT NULL);
INSERT INTO search_index_state (indexed_upto) SELECT COALESCE(MAX(id), 0) FROM messages;

-- Edits and deletions of messages already indexed keep the index in step at once; a
-- message not yet indexed is indexed with its current text at the end of the batch.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.text IS NOT NULL AND old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
