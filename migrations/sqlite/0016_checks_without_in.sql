-- The CHECK constraints of the busiest tables, written as comparisons joined by OR
-- instead of `IN (...)`. Same rule, cheaper: SQLite evaluates `x IN ('a', 'b', 'c')`
-- (three values or more) by building a temporary b-tree of the list at every statement
-- that checks it, so each inserted message paid for two of them, and each queued send
-- for one (seen in callgrind as sqlite3BtreeOpen, seven times per ingested update).
-- PostgreSQL compares against the list directly: ../postgres/0016 changes nothing.
-- tests/typed_states.rs keeps every CHECK of the SQLite schema free of such lists.
--
-- Rebuilt by SQLite's documented procedure, as in 0008_typed_states.sql (foreign keys
-- off around the transaction, checked before COMMIT; ids copied unchanged).

CREATE TABLE chats_new (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL UNIQUE REFERENCES contacts(id),
    status TEXT NOT NULL
        CONSTRAINT chats_status CHECK (status = 'open' OR status = 'closed' OR status = 'merged'),
    handler TEXT NOT NULL DEFAULT 'human' CONSTRAINT chats_handler CHECK (handler = 'human' OR handler = 'bot'),
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

CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    conversation_id INTEGER,
    kind TEXT NOT NULL DEFAULT 'message' CONSTRAINT messages_kind CHECK (kind = 'message' OR kind = 'note'),
    direction TEXT NOT NULL CONSTRAINT messages_direction CHECK (direction = 'in' OR direction = 'out'),
    author_kind TEXT NOT NULL CONSTRAINT messages_author_kind CHECK (author_kind = 'contact'
        OR author_kind = 'operator' OR author_kind = 'bot' OR author_kind = 'broadcast' OR author_kind = 'system'),
    operator_id INTEGER REFERENCES operators(id),
    channel_id INTEGER REFERENCES channels(id),
    identity_id INTEGER REFERENCES identities(id),
    text TEXT,
    attachments TEXT,
    buttons TEXT,
    reply_to TEXT,
    state TEXT CONSTRAINT messages_state CHECK (state = 'queued' OR state = 'sent' OR state = 'delivered'
        OR state = 'read' OR state = 'failed'),
    failure_reason TEXT,
    platform_message_id TEXT,
    edited_at INTEGER,
    created_at INTEGER NOT NULL,
    entities TEXT,
    reactions TEXT,
    deleted_at INTEGER
);
INSERT INTO messages_new (id, chat_id, conversation_id, kind, direction, author_kind, operator_id, channel_id,
    identity_id, text, attachments, buttons, reply_to, state, failure_reason, platform_message_id, edited_at,
    created_at, entities, reactions, deleted_at)
SELECT id, chat_id, conversation_id, kind, direction, author_kind, operator_id, channel_id,
    identity_id, text, attachments, buttons, reply_to, state, failure_reason, platform_message_id, edited_at,
    created_at, entities, reactions, deleted_at FROM messages;
-- Dropping the table drops its triggers too; messages_fts keeps its index (it is an
-- external-content table naming `messages`, and the rowids are the same ids).
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_chat ON messages(chat_id, id);
CREATE UNIQUE INDEX messages_inbound_once ON messages(channel_id, platform_message_id)
    WHERE direction = 'in' AND platform_message_id IS NOT NULL;
CREATE INDEX messages_outbound_by_platform_id ON messages(channel_id, platform_message_id)
    WHERE direction = 'out' AND platform_message_id IS NOT NULL;
CREATE INDEX messages_inbound_by_identity ON messages(identity_id, created_at) WHERE direction = 'in';
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

CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    head INTEGER NOT NULL DEFAULT 0 CHECK (head = 0 OR head = 1),
    lane INTEGER NOT NULL CHECK (lane = 0 OR lane = 1 OR lane = 2),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    message_id INTEGER UNIQUE REFERENCES messages(id),
    notification_id INTEGER REFERENCES notifications(id),
    recipient TEXT,
    text TEXT,
    due_at INTEGER NOT NULL,
    parked INTEGER NOT NULL DEFAULT 0 CHECK (parked = 0 OR parked = 1),
    lease_until INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    parts_sent INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK (message_id IS NOT NULL OR (recipient IS NOT NULL AND text IS NOT NULL))
);
INSERT INTO outbox_new (id, queue, head, lane, channel_id, message_id, notification_id, recipient, text, due_at,
    parked, lease_until, attempts, parts_sent, created_at)
SELECT id, queue, head, lane, channel_id, message_id, notification_id, recipient, text, due_at,
    parked, lease_until, attempts, parts_sent, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_queue ON outbox(queue, id);
CREATE INDEX outbox_heads ON outbox(lane, id) WHERE head = 1;

CREATE TABLE operators_new (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT operators_role CHECK (role = 'admin' OR role = 'operator'),
    status TEXT NOT NULL DEFAULT 'offline'
        CONSTRAINT operators_status CHECK (status = 'online' OR status = 'away' OR status = 'offline'),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deactivated_at INTEGER
);
INSERT INTO operators_new (id, email, name, role, status, password_hash, created_at, deactivated_at)
SELECT id, email, name, role, status, password_hash, created_at, deactivated_at FROM operators;
DROP TABLE operators;
ALTER TABLE operators_new RENAME TO operators;
