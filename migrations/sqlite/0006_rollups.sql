-- Rollups for fast, exact reports (src/domain/rollup.rs). Everything here is derived from the
-- events and can be rebuilt from them: deleting these rows and marking every place dirty
-- loses nothing.

-- Places whose events changed since their facts were derived. `version` grows with each
-- change, so a refresh that read an older version does not clear a newer mark.
CREATE TABLE kpi_dirty_places (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, conversation)
);

-- Facts: what replaying each place found. conv_id is the id of the message that opened the
-- conversation.
CREATE TABLE kpi_conversations (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    conv_id      TEXT    NOT NULL,
    opened_ms    BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, conv_id)
);
CREATE INDEX kpi_conversations_time ON kpi_conversations (guild_id, opened_ms);
CREATE INDEX kpi_conversations_place ON kpi_conversations (guild_id, conversation);

CREATE TABLE kpi_messages (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    conv_id      TEXT    NOT NULL,
    at_ms        BIGINT  NOT NULL
);
CREATE INDEX kpi_messages_time ON kpi_messages (guild_id, at_ms);
CREATE INDEX kpi_messages_place ON kpi_messages (guild_id, conversation);

CREATE TABLE kpi_requests (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    conv_id      TEXT    NOT NULL,
    start_id     TEXT    NOT NULL,
    start_ms     BIGINT  NOT NULL,
    answer_ms    BIGINT,
    agent_id     TEXT,
    is_first     INTEGER NOT NULL,
    business_ms  BIGINT
);
CREATE INDEX kpi_requests_time ON kpi_requests (guild_id, start_ms);
CREATE INDEX kpi_requests_place ON kpi_requests (guild_id, conversation);

CREATE TABLE kpi_conv_agents (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    conv_id      TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL,
    PRIMARY KEY (guild_id, conv_id, agent_id)
);
CREATE INDEX kpi_conv_agents_place ON kpi_conv_agents (guild_id, conversation);

-- Surveys that count as sent.
CREATE TABLE kpi_surveys (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    survey_id    TEXT    NOT NULL,
    sent_ms      BIGINT  NOT NULL,
    agent_id     TEXT,
    rating       INTEGER,
    PRIMARY KEY (guild_id, survey_id)
);
CREATE INDEX kpi_surveys_time ON kpi_surveys (guild_id, sent_ms);
CREATE INDEX kpi_surveys_place ON kpi_surveys (guild_id, conversation);

-- Places that cannot be replayed alone (a survey or rating pointing elsewhere): while a guild
-- has one, its reports replay everything.
CREATE TABLE kpi_irregular (
    guild_id     TEXT    NOT NULL,
    conversation TEXT    NOT NULL,
    PRIMARY KEY (guild_id, conversation)
);

-- Local days (YYYY-MM-DD in the guild's time zone) whose parts must be summed again.
CREATE TABLE kpi_dirty_days (
    guild_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, day)
);

-- Each day's parts (domain::rollup::Piece, encoded): the guild's, and its agents' together,
-- so that a 90-day report reads 90 rows whatever the number of agents.
CREATE TABLE kpi_days (
    guild_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    agents       BLOB    NOT NULL,
    PRIMARY KEY (guild_id, day)
);

-- What is already stored gets its facts at the first refresh.
INSERT INTO kpi_dirty_places (guild_id, conversation, version)
SELECT DISTINCT guild_id, conversation, 1 FROM events;
