-- The outbox, durable jobs and event consumers (kept in step with
-- ../postgres/0009_outbox_jobs.sql).

-- One row per send that has not ended: a queued message, or a text for an operator's
-- linked messenger chat (notifications, link-code answers). `queue` is the order key
-- (one chat on one channel, or one linked chat): only the oldest row of a queue, its
-- head, may be sent, so a contact reads replies in the order they were written. `lane`
-- says who waits for whom among heads: 0 live (operators, system), 1 bots, 2 broadcasts.
-- `due_at` is the retry schedule (backoff, retry_after) and survives restarts;
-- `lease_until` only reserves a row for the node sending it.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    head INTEGER NOT NULL DEFAULT 0 CHECK (head IN (0, 1)),
    lane INTEGER NOT NULL CHECK (lane IN (0, 1, 2)),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    message_id INTEGER UNIQUE REFERENCES messages(id),
    notification_id INTEGER REFERENCES notifications(id),
    recipient TEXT,
    text TEXT,
    due_at INTEGER NOT NULL,
    parked INTEGER NOT NULL DEFAULT 0 CHECK (parked IN (0, 1)),
    lease_until INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    parts_sent INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK (message_id IS NOT NULL OR (recipient IS NOT NULL AND text IS NOT NULL))
);
CREATE INDEX outbox_by_queue ON outbox(queue, id);
CREATE INDEX outbox_heads ON outbox(lane, id) WHERE head = 1;

-- A channel the platform told to slow down as a whole (429): nothing is sent through it
-- before `until`, on any node, also after a restart.
CREATE TABLE channel_pauses (
    channel_id INTEGER PRIMARY KEY REFERENCES channels(id),
    until INTEGER NOT NULL,
    reason TEXT NOT NULL
);

-- Queued messages move over, in their order, keeping their schedule.
INSERT INTO outbox (queue, lane, channel_id, message_id, due_at, parked, attempts, parts_sent, created_at)
SELECT chat_id || '/' || channel_id,
       CASE author_kind WHEN 'bot' THEN 1 WHEN 'broadcast' THEN 2 ELSE 0 END,
       channel_id, id, COALESCE(next_attempt_at, 0),
       CASE WHEN next_attempt_at IS NULL THEN 1 ELSE 0 END, attempts, parts_sent, created_at
FROM messages WHERE state = 'queued' AND channel_id IS NOT NULL ORDER BY id;
UPDATE outbox SET head = 1 WHERE id IN (SELECT MIN(id) FROM outbox GROUP BY queue);
DROP INDEX messages_outbox;
ALTER TABLE messages DROP COLUMN next_attempt_at;
ALTER TABLE messages DROP COLUMN attempts;
ALTER TABLE messages DROP COLUMN parts_sent;

-- Due work: the answer timeout now, flow waits and scheduled broadcasts next. A job
-- runs at `run_at` or later, on one node (`lease_until`), and is retried with backoff
-- when its handler fails. `key` makes scheduling idempotent and lets a job be replaced
-- or cancelled by name (e.g. one answer timeout per chat).
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('answer_timeout')),
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(run_at);

-- Chats waiting for an answer become answer-timeout jobs. A job that runs before
-- `assigned_at` + the configured timeout puts itself off until then.
INSERT INTO jobs (kind, key, payload, run_at, created_at)
SELECT 'answer_timeout', 'answer_timeout/' || chat_id,
       '{"chat_id":' || chat_id || ',"operator_id":' || operator_id || ',"after_message_id":' || after_message_id
           || ',"assigned_at":' || assigned_at || '}',
       assigned_at, assigned_at
FROM awaiting_answer;
DROP TABLE awaiting_answer;

-- Where each event consumer is in the event log: it resumes after `position` after a
-- crash or restart. Advanced in the same transaction as the consumer's own writes.
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO consumers (name, position, updated_at)
SELECT 'distribution', value, 0 FROM worker_state WHERE name = 'distribution.last_event';
-- The notifier used to start from the newest event; it resumes from here on.
INSERT INTO consumers (name, position, updated_at) SELECT 'notifier', COALESCE(MAX(id), 0), 0 FROM events;
DROP TABLE worker_state;
