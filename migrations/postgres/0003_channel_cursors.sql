-- The last message handled in each channel (DM, staff thread, watched channel, forum post), so
-- that after downtime the bot fetches what it missed from Discord's message history.
CREATE TABLE channel_cursors (
    channel_id      TEXT   PRIMARY KEY,
    guild_id        TEXT,
    last_message_id BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);
CREATE INDEX channel_cursors_updated ON channel_cursors (updated_at_ms);
