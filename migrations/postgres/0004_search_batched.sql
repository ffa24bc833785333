-- Nothing to change: the tsvector column is generated with its row, and PostgreSQL's
-- savepoints do not flush the GIN index. SQLite's 0004 moves FTS5 indexing to the end
-- of each group-commit batch; the version exists here so both backends count alike.
SELECT 1;
