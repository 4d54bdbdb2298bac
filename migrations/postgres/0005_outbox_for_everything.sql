-- Every action towards Discord now goes through the outbox, written in the same transaction as
-- the event that causes it: relays, acknowledgements, surveys, survey edits and alerts.
--   method / target_message_id: a new message (post) or an edit of one we sent (patch);
--   after_key: the piece before this one (a long relay is cut in pieces that keep their order);
--   survey_id: a survey's message, whose delivery records the survey as sent;
--   notify_channel_id: where to tell the agents if Discord refuses the message for good;
--   guild_id / ticket_customer_id: a relay into a customer's ticket thread, reopened if deleted.
ALTER TABLE outbox ADD COLUMN method TEXT NOT NULL DEFAULT 'post';
ALTER TABLE outbox ADD COLUMN target_message_id TEXT;
ALTER TABLE outbox ADD COLUMN after_key TEXT;
ALTER TABLE outbox ADD COLUMN survey_id TEXT;
ALTER TABLE outbox ADD COLUMN notify_channel_id TEXT;
ALTER TABLE outbox ADD COLUMN guild_id TEXT;
ALTER TABLE outbox ADD COLUMN ticket_customer_id TEXT;
-- The conversation the item belongs to: /forget-me and purge clear it with the place.
ALTER TABLE outbox ADD COLUMN conversation TEXT;
CREATE INDEX outbox_place ON outbox (guild_id, conversation);
-- A sender holds an item while it is being sent; a new process releases what a dead one held.
ALTER TABLE outbox ADD COLUMN lease_until_ms BIGINT;
CREATE INDEX outbox_survey ON outbox (survey_id);
-- Earlier releases kept the body of delivered messages: relayed text is not to be kept.
UPDATE outbox SET body = '' WHERE status <> 'pending';

-- Transcripts: message content is stored only for guilds that turn them on.
ALTER TABLE guild_discord ADD COLUMN transcripts BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE transcripts (
    message_id   TEXT   PRIMARY KEY,
    guild_id     TEXT   NOT NULL,
    conversation TEXT   NOT NULL,
    author_id    TEXT   NOT NULL,
    at_ms        BIGINT NOT NULL,
    content      TEXT   NOT NULL
);
CREATE INDEX transcripts_place ON transcripts (guild_id, conversation);
