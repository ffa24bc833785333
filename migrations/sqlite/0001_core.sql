-- Parley's core model. Times are milliseconds since the Unix epoch (UTC);
-- JSON columns hold text; flags are 0/1. Kept in step with ../postgres/0001_core.sql.

-- One configured connection to a platform. `key` is public (the widget's data-channel).
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL DEFAULT '{}',
    distribution INTEGER NOT NULL DEFAULT 1,   -- new chats are handed out automatically
    created_at INTEGER NOT NULL
);

-- One person across channels. phone_e164 and email_lc are the normalized keys that
-- find duplicates. A merged contact keeps its row (merged_into) so a merge can be undone.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    username TEXT,
    phone TEXT,
    phone_e164 TEXT,
    email TEXT,
    email_lc TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}',
    start_payload TEXT,
    merged_into INTEGER REFERENCES contacts(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_phone ON contacts(phone_e164) WHERE phone_e164 IS NOT NULL;
CREATE INDEX contacts_email ON contacts(email_lc) WHERE email_lc IS NOT NULL;

-- Lower-cased search terms of each contact (names, phone digits, email, username):
-- one index serves prefix search on all of them, fast on millions of contacts.
CREATE TABLE contact_terms (
    term TEXT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (term, contact_id)
) WITHOUT ROWID;
CREATE INDEX contact_terms_contact ON contact_terms(contact_id);

-- A contact's address on one channel.
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    external_id TEXT NOT NULL,
    username TEXT,
    unreachable_reason TEXT,     -- set when the platform refused for good (blocked bot)
    created_at INTEGER NOT NULL,
    UNIQUE (channel_id, external_id)
);
CREATE INDEX identities_contact ON identities(contact_id);

CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,              -- admin | operator
    status TEXT NOT NULL DEFAULT 'offline',
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The single thread with a contact. status: open | closed | merged (the source of a
-- merge, hidden until the merge is undone). handler: who answers, human or bot.
CREATE TABLE chats (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL UNIQUE REFERENCES contacts(id),
    status TEXT NOT NULL,
    handler TEXT NOT NULL DEFAULT 'human',
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
CREATE INDEX chats_by_status ON chats(status, last_message_at);
CREATE INDEX chats_by_assignee ON chats(assignee_id, status, last_message_at);

-- One period in which a chat was open; the grain of the KPI reports.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    channel_id INTEGER REFERENCES channels(id),
    opened_at INTEGER NOT NULL,
    reopened INTEGER NOT NULL DEFAULT 0,   -- opened by the contact writing to a closed chat
    first_reply_at INTEGER,
    closed_at INTEGER,
    closed_by INTEGER REFERENCES operators(id)
);
CREATE INDEX conversations_by_chat ON conversations(chat_id);
CREATE INDEX conversations_by_closed ON conversations(closed_at);

-- Messages and notes. Outbound messages carry a delivery state; queued ones are the
-- outbox (next_attempt_at). Inbound ones are unique per (channel, platform id).
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    conversation_id INTEGER,
    kind TEXT NOT NULL DEFAULT 'message',  -- message | note
    direction TEXT NOT NULL,               -- in | out
    author_kind TEXT NOT NULL,             -- contact | operator | bot | broadcast | system
    operator_id INTEGER REFERENCES operators(id),
    channel_id INTEGER REFERENCES channels(id),
    identity_id INTEGER REFERENCES identities(id),
    text TEXT,
    attachments TEXT,
    buttons TEXT,
    reply_to TEXT,
    state TEXT,                            -- queued | sent | delivered | read | failed
    failure_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    platform_message_id TEXT,
    edited_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_chat ON messages(chat_id, id);
CREATE UNIQUE INDEX messages_inbound_once ON messages(channel_id, platform_message_id)
    WHERE direction = 'in' AND platform_message_id IS NOT NULL;
CREATE INDEX messages_outbox ON messages(next_attempt_at) WHERE state = 'queued';

-- Full-text search over every message, whatever its age.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts (rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    chat_id INTEGER,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Console sessions and API tokens; only a SHA-256 of the token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    kind TEXT NOT NULL,          -- session | api
    name TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX sessions_by_operator ON sessions(operator_id);

-- The one-time link that lets the first admin set a password.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

-- What each merge moved, so an admin can undo it exactly.
CREATE TABLE merges (
    id INTEGER PRIMARY KEY,
    target_id INTEGER NOT NULL REFERENCES contacts(id),
    source_id INTEGER NOT NULL REFERENCES contacts(id),
    operator_id INTEGER REFERENCES operators(id),
    moved TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    undone_at INTEGER
);

-- Every status change of every operator, for the time-in-status report.
CREATE TABLE operator_status_log (
    id INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    status TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX operator_status_log_by_operator ON operator_status_log(operator_id, at);
