-- Who answers, and the KPI reports. Times are milliseconds since the Unix epoch (UTC).
-- Kept in step with ../postgres/0003_distribution.sql.

-- Every change of a chat's assignee, by the distributor or by hand: the history behind
-- round robin, the export's transfers and operators involved, and "was it routed yet".
CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    conversation_id INTEGER,                           -- the chat's open conversation then
    operator_id INTEGER REFERENCES operators(id),      -- NULL: back to the queue
    from_operator_id INTEGER REFERENCES operators(id),
    by_operator_id INTEGER REFERENCES operators(id),   -- who did it by hand (a transfer)
    reason TEXT NOT NULL,   -- policy | returned | no_answer | transfer | offline | reopened
    at INTEGER NOT NULL
);
CREATE INDEX assignments_by_conversation ON assignments(conversation_id);
CREATE INDEX assignments_by_operator ON assignments(operator_id, id);

-- Chats the distributor handed out whose assignee has not answered yet; the answer
-- timeout looks only here. A row goes once the chat is answered, closed or moved.
CREATE TABLE awaiting_answer (
    chat_id INTEGER PRIMARY KEY REFERENCES chats(id),
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    after_message_id INTEGER NOT NULL,   -- the chat's last message when it was assigned
    assigned_at INTEGER NOT NULL
);
CREATE INDEX awaiting_answer_due ON awaiting_answer(assigned_at);

-- When each operator last had a console connected, on any node (heartbeats): after the
-- grace period without one, an Online or Away operator becomes Offline.
CREATE TABLE operator_presence (
    operator_id INTEGER PRIMARY KEY REFERENCES operators(id),
    last_seen_at INTEGER NOT NULL
);

-- Small state of background workers: the distributor's last handled event id.
CREATE TABLE worker_state (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO worker_state (name, value) SELECT 'distribution.last_event', COALESCE(MAX(id), 0) FROM events;

-- One row per closed conversation, written in the transaction that closes it: the grain
-- of the KPI report and of the CSV export. A closed conversation never changes, so the
-- figures are computed once instead of on every report.
CREATE TABLE conversation_stats (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    chat_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    channel_id INTEGER,
    operator_id INTEGER,          -- the assignee when it closed: whose figures it counts in
    closed_by INTEGER,
    opened_at INTEGER NOT NULL,
    first_reply_at INTEGER,
    closed_at INTEGER NOT NULL,
    first_reply_ms INTEGER,       -- first_reply_at - opened_at; NULL when never answered
    close_ms INTEGER NOT NULL,    -- closed_at - opened_at
    messages_in INTEGER NOT NULL,
    messages_out INTEGER NOT NULL,
    notes INTEGER NOT NULL,
    transfers INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    operators TEXT NOT NULL       -- JSON array of the ids of the operators involved
);
-- The KPI report reads one operator's range at a time from this index alone.
CREATE INDEX conversation_stats_report ON conversation_stats(
    operator_id, closed_at, channel_id, first_reply_ms, close_ms, messages_in, messages_out, reopened);
-- The export pages through a range in closing order.
CREATE INDEX conversation_stats_by_closed ON conversation_stats(closed_at, conversation_id);

-- Conversations closed before this migration.
INSERT INTO conversation_stats (conversation_id, chat_id, contact_id, channel_id, operator_id, closed_by,
    opened_at, first_reply_at, closed_at, first_reply_ms, close_ms, messages_in, messages_out, notes,
    transfers, reopened, operators)
SELECT v.id, v.chat_id, c.contact_id, v.channel_id, COALESCE(c.assignee_id, v.closed_by), v.closed_by,
    v.opened_at, v.first_reply_at, v.closed_at, v.first_reply_at - v.opened_at, v.closed_at - v.opened_at,
    (SELECT COUNT(*) FROM messages m WHERE m.chat_id = v.chat_id AND m.conversation_id = v.id
        AND m.kind = 'message' AND m.direction = 'in'),
    (SELECT COUNT(*) FROM messages m WHERE m.chat_id = v.chat_id AND m.conversation_id = v.id
        AND m.kind = 'message' AND m.direction = 'out'),
    (SELECT COUNT(*) FROM messages m WHERE m.chat_id = v.chat_id AND m.conversation_id = v.id
        AND m.kind = 'note'),
    0, v.reopened, '[]'
FROM conversations v JOIN chats c ON c.id = v.chat_id
WHERE v.closed_at IS NOT NULL;
