-- A message its author deleted on the platform (Discord's MESSAGE_DELETE) stays in the
-- chat's history, marked: operators see that it was deleted and what it said. Kept in
-- step with ../sqlite/0011_deleted_messages.sql.
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
