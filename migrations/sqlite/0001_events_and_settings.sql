-- Every event reactif has ever ingested, as it happened on Discord's clock (at_ms: milliseconds
-- since the Unix epoch, UTC). Figures are derived from these rows by replay, so nothing derived
-- can drift from what happened. Ids are text because the import format allows any unique id.
CREATE TABLE events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    guild_id          TEXT    NOT NULL,
    conversation      TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    author_id         TEXT    NOT NULL,
    at_ms             BIGINT  NOT NULL,
    survey_id         TEXT,
    rating            INTEGER CHECK (rating BETWEEN 1 AND 5),
    answer_message_id TEXT,
    body              TEXT
);
CREATE INDEX events_guild_time ON events (guild_id, at_ms);
CREATE INDEX events_place ON events (guild_id, conversation);

-- Per-guild rules, KPI.md's defaults until a guild changes them with /setup.
CREATE TABLE guild_settings (
    guild_id           TEXT    PRIMARY KEY,
    timezone           TEXT    NOT NULL DEFAULT 'UTC',
    business_hours     TEXT    NOT NULL DEFAULT 'always',
    idle_ms            BIGINT  NOT NULL DEFAULT 86400000,
    deadline_ms        BIGINT  NOT NULL DEFAULT 86400000,
    survey_delay_ms    BIGINT  NOT NULL DEFAULT 60000,
    survey_close_ms    BIGINT  NOT NULL DEFAULT 86400000,
    badge_min_rate_bp  INTEGER NOT NULL DEFAULT 9000,
    badge_max_delay_ms BIGINT  NOT NULL DEFAULT 300000,
    badge_window_ms    BIGINT  NOT NULL DEFAULT 604800000,
    badge_statistic    TEXT    NOT NULL DEFAULT 'mean',
    locale             TEXT    NOT NULL DEFAULT 'en',
    note_prefix        TEXT    NOT NULL DEFAULT ';'
);
