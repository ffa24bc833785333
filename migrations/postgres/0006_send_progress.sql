-- How many parts of an outbound message (pieces of a long text, files) the platform has
-- taken: a retry after a failure midway sends only the rest (SendError::Partial).
ALTER TABLE messages ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
