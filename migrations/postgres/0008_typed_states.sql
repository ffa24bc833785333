-- The states of chats, messages and operators are closed sets (src/model/): the database
-- now refuses any other value, as the Rust enums do. Kept in step with
-- ../sqlite/0008_typed_states.sql (which has to rebuild the tables to do the same).
-- Adding a constraint checks the rows already stored: one outside it fails the migration.
--
-- Not constrained: events.kind, which grows with every feature (flows and broadcasts
-- add kinds) and is read back by nodes of different versions during a rolling upgrade;
-- channels.kind, which names a connector crate.

ALTER TABLE chats
    ADD CONSTRAINT chats_status CHECK (status IN ('open', 'closed', 'merged')),
    ADD CONSTRAINT chats_handler CHECK (handler IN ('human', 'bot'));

-- The delivery state is NULL for inbound messages and notes.
ALTER TABLE messages
    ADD CONSTRAINT messages_kind CHECK (kind IN ('message', 'note')),
    ADD CONSTRAINT messages_direction CHECK (direction IN ('in', 'out')),
    ADD CONSTRAINT messages_author_kind CHECK (author_kind IN ('contact', 'operator', 'bot', 'broadcast', 'system')),
    ADD CONSTRAINT messages_state CHECK (state IN ('queued', 'sent', 'delivered', 'read', 'failed'));

ALTER TABLE operators
    ADD CONSTRAINT operators_role CHECK (role IN ('admin', 'operator')),
    ADD CONSTRAINT operators_status CHECK (status IN ('online', 'away', 'offline'));
