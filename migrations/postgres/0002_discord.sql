-- What the Discord bot needs besides events: each guild's Discord setup, the DM tickets and
-- their staff threads, and the surveys with their timers (kept here so that a restart between
-- an answer and its survey still sends the survey, and a click on an old survey still works).

CREATE TABLE guild_discord (
    guild_id          TEXT    PRIMARY KEY,
    staff_channel_id  TEXT,
    alert_channel_id  TEXT,
    show_agent_names  BOOLEAN NOT NULL DEFAULT FALSE,
    last_alert_day    TEXT
);

CREATE TABLE guild_agent_roles (
    guild_id TEXT NOT NULL,
    role_id  TEXT NOT NULL,
    PRIMARY KEY (guild_id, role_id)
);

CREATE TABLE watched_channels (
    guild_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

-- One DM ticket per (guild, customer): the customer's DM channel and the staff thread of the
-- current conversation.
CREATE TABLE tickets (
    guild_id      TEXT   NOT NULL,
    customer_id   TEXT   NOT NULL,
    dm_channel_id TEXT   NOT NULL,
    thread_id     TEXT,
    conversation  TEXT   NOT NULL,
    PRIMARY KEY (guild_id, customer_id)
);
CREATE INDEX tickets_thread ON tickets (thread_id);

-- A customer who shares several support guilds with the bot picks one for their DMs.
CREATE TABLE dm_choices (
    customer_id TEXT PRIMARY KEY,
    guild_id    TEXT NOT NULL
);

-- Which channel a conversation happens in, for `/stats channel:`.
CREATE TABLE conversation_channels (
    guild_id     TEXT NOT NULL,
    conversation TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    PRIMARY KEY (guild_id, conversation)
);
CREATE INDEX conversation_channels_channel ON conversation_channels (guild_id, channel_id);

-- status: scheduled → sent → closed, or cancelled (replaced before it went out), or withdrawn
-- (replaced by a newer answer before a rating).
CREATE TABLE surveys (
    survey_id         TEXT   PRIMARY KEY,
    guild_id          TEXT   NOT NULL,
    conversation      TEXT   NOT NULL,
    customer_id       TEXT   NOT NULL,
    agent_id          TEXT   NOT NULL,
    answer_message_id TEXT   NOT NULL,
    channel_id        TEXT   NOT NULL,
    reply_to          TEXT,
    due_at_ms         BIGINT NOT NULL,
    status            TEXT   NOT NULL,
    message_id        TEXT,
    sent_at_ms        BIGINT,
    rating            INTEGER
);
CREATE INDEX surveys_due ON surveys (status, due_at_ms);
CREATE INDEX surveys_place ON surveys (guild_id, conversation, status);
