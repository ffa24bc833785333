-- A message its author deleted on the platform (Discord's MESSAGE_DELETE) stays in the
-- chat's history, marked: operators see that it was deleted and what it said. Kept in
-- step with ../sqlite/0011_discord.sql.
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;

-- What a connector keeps for a channel across restarts (src/channels/state.rs): Discord's
-- gateway does not replay to a new session, so the connector saves how far it has read
-- each Discord channel and fetches what came meanwhile when it starts again.
CREATE TABLE connector_state (
    channel_id BIGINT PRIMARY KEY REFERENCES channels(id),
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
