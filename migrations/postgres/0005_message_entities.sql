-- Formatting and links inside a message's text (Telegram's message entities): a JSON list
-- of {kind, offset, length, url?, language?}, offsets in UTF-16 code units; NULL for none.
ALTER TABLE messages ADD COLUMN entities TEXT;
