-- Broadcasts: one message to an audience of contacts, with a row per recipient written
-- before anything is sent (kept in step with ../postgres/0013_broadcasts.sql).

-- A contact who asked to receive no broadcasts (`/stop`, the "unsubscribe" keyword or
-- button, the contact card's switch): when, or NULL while subscribed.
ALTER TABLE contacts ADD COLUMN unsubscribed_at INTEGER;

-- One broadcast. `content` is the message ({text, buttons, attachments}), `audience` the
-- filter its recipients were (or will be) chosen by; both as the API took them.
-- `send_at` (UTC) with the zone it was written in, for a scheduled start.
-- `rate_per_second`: an optional cap of its own, below the channels' limits.
-- `fed_at`: when its sender last put recipients into the outbox (the rate's clock).
CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    audience TEXT NOT NULL,
    state TEXT NOT NULL CONSTRAINT broadcasts_state
        CHECK (state = 'draft' OR state = 'scheduled' OR state = 'sending' OR state = 'paused' OR state = 'done' OR state = 'cancelled'),
    send_at INTEGER,
    time_zone TEXT,
    rate_per_second INTEGER,
    created_by INTEGER REFERENCES operators(id),
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    fed_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX broadcasts_by_state ON broadcasts(state, send_at);

-- Who a broadcast reaches: one row per (broadcast, contact), written when it starts.
-- `message_id` is set when the recipient's message is written to its chat and queued;
-- from then on the row follows that message (sent, delivered, read, failed, blocked),
-- in the same transaction that changes the message. `unknown`: the send was in flight
-- when Parley stopped; it is never sent again by itself. `skipped`: unsubscribed or
-- unreachable when the broadcast started, never queued.
CREATE TABLE broadcast_recipients (
    id INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    identity_id INTEGER REFERENCES identities(id),
    channel_id INTEGER REFERENCES channels(id),
    message_id INTEGER UNIQUE REFERENCES messages(id),
    state TEXT NOT NULL CONSTRAINT broadcast_recipients_state
        CHECK (state = 'queued' OR state = 'sent' OR state = 'delivered' OR state = 'read' OR state = 'failed' OR state = 'blocked' OR state = 'unknown' OR state = 'skipped' OR state = 'cancelled'),
    reason TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (broadcast_id, contact_id)
);
CREATE INDEX broadcast_recipients_by_state ON broadcast_recipients(broadcast_id, state, id);
