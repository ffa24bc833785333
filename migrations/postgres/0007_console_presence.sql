-- Open consoles per node and operator, so that any node can tell whether an operator has
-- the console open somewhere else: Telegram notifications of new messages go only to
-- operators who have not. Each node rewrites its rows about once a second.
CREATE TABLE console_presence (
    node TEXT NOT NULL,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    open INTEGER NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (node, operator_id)
);
