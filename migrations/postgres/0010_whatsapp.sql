-- What the WhatsApp channel (issue 15) needs of the inbox; kept in step with
-- ../sqlite/0010_whatsapp.sql. The delivery states `delivered` and `read` are in
-- messages_state since 0008, so no table is rebuilt.

-- The contact's reaction shown on a message (theirs or ours): a JSON list of
-- {"emoji", "by"}; NULL when nobody reacted.
ALTER TABLE messages ADD COLUMN reactions TEXT;

-- Why the platform refused the channel's own credentials (WhatsApp error 190, an
-- expired token), shown in Settings; cleared when the settings change.
ALTER TABLE channels ADD COLUMN broken_reason TEXT;

-- Statuses and reactions find an outbound message by the id the platform gave it.
CREATE INDEX messages_outbound_by_platform_id ON messages(channel_id, platform_message_id)
    WHERE direction = 'out' AND platform_message_id IS NOT NULL;

-- The outbox asks when the contact last wrote on a channel (a reply window).
CREATE INDEX messages_inbound_by_identity ON messages(identity_id, created_at) WHERE direction = 'in';
