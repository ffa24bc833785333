-- The states of chats, messages and operators are closed sets (src/model/): the database
-- now refuses any other value, as the Rust enums do. Kept in step with
-- ../postgres/0008_typed_states.sql.
--
-- SQLite cannot add a CHECK constraint to an existing table, so chats, messages and
-- operators are rebuilt by SQLite's documented procedure (https://sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): create the new table, copy the rows,
-- drop the old one, rename the new one, recreate its indexes and triggers. Foreign keys
-- are off while this runs (src/store/migrate.rs does that for this migration, outside its
-- transaction, and runs `PRAGMA foreign_key_check` before COMMIT): every other table
-- keeps referring to these tables by name, and ids are copied unchanged. A row with a
-- value outside a CHECK makes the copy fail, and the whole migration with it, changing
-- nothing.
--
-- Not constrained: events.kind, which grows with every feature (flows and broadcasts
-- add kinds) and is read back by nodes of different versions during a rolling upgrade;
-- channels.kind, which names a connector crate.

-- chats: status and handler.
CREATE TABLE chats_new (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL UNIQUE REFERENCES contacts(id),
    status TEXT NOT NULL CONSTRAINT chats_status CHECK (status IN ('open', 'closed', 'merged')),
    handler TEXT NOT NULL DEFAULT 'human' CONSTRAINT chats_handler CHECK (handler IN ('human', 'bot')),
    assignee_id INTEGER REFERENCES operators(id),
    active_channel_id INTEGER REFERENCES channels(id),
    conversation_id INTEGER,         -- the open conversation; NULL while closed
    unread_count INTEGER NOT NULL DEFAULT 0,
    last_message_id INTEGER,
    last_message_at INTEGER NOT NULL,
    assigned_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO chats_new (id, contact_id, status, handler, assignee_id, active_channel_id, conversation_id,
    unread_count, last_message_id, last_message_at, assigned_at, created_at, updated_at)
SELECT id, contact_id, status, handler, assignee_id, active_channel_id, conversation_id,
    unread_count, last_message_id, last_message_at, assigned_at, created_at, updated_at FROM chats;
DROP TABLE chats;
ALTER TABLE chats_new RENAME TO chats;
CREATE INDEX chats_by_status ON chats(status, last_message_at);
CREATE INDEX chats_by_assignee ON chats(assignee_id, status, last_message_at);

-- messages: kind, direction, author kind, delivery state (NULL for inbound messages
-- and notes).
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    conversation_id INTEGER,
    kind TEXT NOT NULL DEFAULT 'message' CONSTRAINT messages_kind CHECK (kind IN ('message', 'note')),
    direction TEXT NOT NULL CONSTRAINT messages_direction CHECK (direction IN ('in', 'out')),
    author_kind TEXT NOT NULL
        CONSTRAINT messages_author_kind CHECK (author_kind IN ('contact', 'operator', 'bot', 'broadcast', 'system')),
    operator_id INTEGER REFERENCES operators(id),
    channel_id INTEGER REFERENCES channels(id),
    identity_id INTEGER REFERENCES identities(id),
    text TEXT,
    attachments TEXT,
    buttons TEXT,
    reply_to TEXT,
    state TEXT CONSTRAINT messages_state CHECK (state IN ('queued', 'sent', 'delivered', 'read', 'failed')),
    failure_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    platform_message_id TEXT,
    edited_at INTEGER,
    created_at INTEGER NOT NULL,
    entities TEXT,
    parts_sent INTEGER NOT NULL DEFAULT 0
);
INSERT INTO messages_new (id, chat_id, conversation_id, kind, direction, author_kind, operator_id, channel_id,
    identity_id, text, attachments, buttons, reply_to, state, failure_reason, attempts, next_attempt_at,
    platform_message_id, edited_at, created_at, entities, parts_sent)
SELECT id, chat_id, conversation_id, kind, direction, author_kind, operator_id, channel_id,
    identity_id, text, attachments, buttons, reply_to, state, failure_reason, attempts, next_attempt_at,
    platform_message_id, edited_at, created_at, entities, parts_sent FROM messages;
-- Dropping the table drops its triggers too; messages_fts keeps its index (it is an
-- external-content table naming `messages`, and the rowids are the same ids).
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_chat ON messages(chat_id, id);
CREATE UNIQUE INDEX messages_inbound_once ON messages(channel_id, platform_message_id)
    WHERE direction = 'in' AND platform_message_id IS NOT NULL;
CREATE INDEX messages_outbox ON messages(next_attempt_at) WHERE state = 'queued';
-- As in 0004_search_batched.sql.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.text IS NOT NULL AND old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- operators: role and status.
CREATE TABLE operators_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT operators_role CHECK (role IN ('admin', 'operator')),
    status TEXT NOT NULL DEFAULT 'offline' CONSTRAINT operators_status CHECK (status IN ('online', 'away', 'offline')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO operators_new (id, email, name, role, status, password_hash, created_at)
SELECT id, email, name, role, status, password_hash, created_at FROM operators;
DROP TABLE operators;
ALTER TABLE operators_new RENAME TO operators;
