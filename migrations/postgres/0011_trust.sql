-- /forget-me finds what one person wrote through these indexes, never by reading whole tables:
-- their events (covering: the places and kinds come from the index), their transcript lines,
-- their surveys and their tickets.
CREATE INDEX events_author ON events (author_id, guild_id, conversation, kind);
CREATE INDEX transcripts_author ON transcripts (author_id);
CREATE INDEX surveys_customer ON surveys (customer_id);
CREATE INDEX tickets_customer ON tickets (customer_id);

-- New DM tickets a customer may open in an hour (a /setup option); beyond, their DM joins
-- their latest ticket.
ALTER TABLE guild_discord ADD COLUMN tickets_per_hour INTEGER NOT NULL DEFAULT 5;

-- Live handling reads only the place's latest conversation, by time: the place's index carries
-- the time (it serves every lookup of a whole place as before).
DROP INDEX events_place;
CREATE INDEX events_place ON events (guild_id, conversation, at_ms);
