-- Bot flows (src/flows/): their versions, the runs of contacts through them, the
-- counts per step, and contacts for whom an operator paused the bot. Kept in step with
-- ../postgres/0012_flows.sql.

-- A flow: from a file of config/flows/ (read-only in the console) or written through
-- the API. `current_version` is the version new runs start on.
CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL CONSTRAINT flows_origin CHECK (origin IN ('file', 'api')),
    enabled INTEGER NOT NULL DEFAULT 0,
    current_version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- Every change of a flow is a new version, kept: runs stay on the version they began.
CREATE TABLE flow_versions (
    id INTEGER PRIMARY KEY,
    flow_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (flow_id, number)
);

-- One contact's position in one flow. `vars` are the flow's own variables (a JSON
-- object of strings the author saved); the run's state is in typed columns.
CREATE TABLE flow_runs (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    chat_id INTEGER NOT NULL REFERENCES chats(id),
    flow_id TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES flow_versions(id),
    conversation_id INTEGER,
    step TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT flow_runs_status CHECK (status = 'active' OR status = 'finished' OR status = 'handed_off' OR status = 'stopped'),
    waiting TEXT NOT NULL CONSTRAINT flow_runs_waiting CHECK (waiting = 'nothing' OR waiting = 'input' OR waiting = 'http' OR waiting = 'timer'),
    attempts INTEGER NOT NULL DEFAULT 0,
    vars TEXT NOT NULL DEFAULT '{}',
    message_text TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (contact_id, flow_id)
);
CREATE INDEX flow_runs_active ON flow_runs(chat_id, status);

-- How many runs entered each step, left it, and dropped out at its validation.
CREATE TABLE flow_step_counts (
    flow_id TEXT NOT NULL,
    step TEXT NOT NULL,
    entered INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (flow_id, step)
);

-- Contacts an operator paused the bot for: no flow starts or goes on for them.
CREATE TABLE flow_pauses (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),
    paused_by INTEGER REFERENCES operators(id),
    paused_at INTEGER NOT NULL
);

-- Flows' durable jobs: an HTTP step's call, a wait's timer. SQLite cannot change a
-- CHECK constraint, so the jobs table is rebuilt with the longer list.
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind = 'answer_timeout' OR kind = 'flow_http' OR kind = 'flow_wait'),
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
INSERT INTO jobs_new (id, kind, key, payload, run_at, attempts, last_error, lease_until, created_at)
    SELECT id, kind, key, payload, run_at, attempts, last_error, lease_until, created_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs(run_at);
