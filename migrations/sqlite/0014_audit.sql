-- Hardening (issue 16): operators an admin deactivated, sessions and API tokens their
-- owner lists and revokes, and the audit log of admin actions (src/audit.rs). Kept in
-- step with ../postgres/0014_audit.sql.

-- NULL while the operator may log in; set when an admin deactivates them.
ALTER TABLE operators ADD COLUMN deactivated_at INTEGER;

-- A session's or token's public id (the first 16 hex digits of its hash: enough to
-- name it, nothing to log in with), and the client address it was created from.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
ALTER TABLE sessions ADD COLUMN created_from TEXT;
UPDATE sessions SET public_id = substr(token_hash, 1, 16);
CREATE UNIQUE INDEX sessions_by_public_id ON sessions(public_id);

-- Who changed what and when; written in the transaction of the change.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES operators(id),   -- NULL: the command line
    subject TEXT NOT NULL CONSTRAINT audit_subject
        CHECK (subject = 'channel' OR subject = 'operator' OR subject = 'settings' OR subject = 'merge' OR subject = 'flow' OR subject = 'broadcast'),
    subject_id INTEGER,
    action TEXT NOT NULL CONSTRAINT audit_action
        CHECK (action = 'created' OR action = 'updated' OR action = 'deleted' OR action = 'deactivated' OR action = 'reactivated' OR action = 'merged' OR action = 'undone' OR action = 'published' OR action = 'started' OR action = 'stopped' OR action = 'cancelled'),
    changes TEXT NOT NULL                        -- JSON: what changed
);
