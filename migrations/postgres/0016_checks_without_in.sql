-- Nothing changes on PostgreSQL: ../sqlite/0016_checks_without_in.sql rewrites SQLite's
-- `CHECK (x IN (...))` constraints as comparisons joined by OR, because SQLite builds a
-- temporary b-tree for each such list at every statement; PostgreSQL does not.
SELECT 1;
