-- Operator notifications through a messenger (Telegram). Kept in step with
-- ../postgres/0002_telegram.sql.

-- One-time codes of "Connect Telegram" deep links (t.me/<bot>?start=<code>); only a
-- SHA-256 of the code is stored. used_by is the Telegram chat that used it.
CREATE TABLE notify_codes (
    code_hash TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);

-- The messenger chat an operator linked: one per operator; one operator per chat.
CREATE TABLE notify_links (
    operator_id INTEGER PRIMARY KEY REFERENCES operators(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    external_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (channel_id, external_id)
);

-- Each notification: claimed once per (event, operator) so that with several nodes
-- only one sends it; its platform message id maps a reply back to the chat.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    platform_message_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (event_id, operator_id)
);
CREATE INDEX notifications_by_message ON notifications(channel_id, platform_message_id);

-- Replies an operator wrote in the messenger and Parley relayed to the customer, so a
-- redelivered update is relayed once.
CREATE TABLE notify_replies (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    platform_message_id TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (channel_id, platform_message_id)
);
