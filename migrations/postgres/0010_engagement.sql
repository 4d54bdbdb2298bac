-- The communication half (docs/engagement.md): posts of tracked channels, the reactions and the
-- replies they get. No message content is kept: a post's themes are derived when it is ingested
-- (forum tags and hashtags) and stored as a JSON array of strings, exactly as given.
CREATE TABLE eng_posts (
    id          TEXT    PRIMARY KEY,
    guild_id    TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL,
    author_id   TEXT    NOT NULL,
    at_ms       BIGINT  NOT NULL,
    themes      TEXT    NOT NULL,
    -- Who could see the post when it was posted: a ceiling of its reach, never recomputed.
    audience    BIGINT  NOT NULL CHECK (audience >= 0)
);
CREATE INDEX eng_posts_time ON eng_posts (guild_id, at_ms);
CREATE INDEX eng_posts_author ON eng_posts (author_id);

-- Reaction events: `added` is 1 for reaction_add, 0 for reaction_remove. They find their post by
-- post_id alone (the post may come later, or never: then they count for nothing).
CREATE TABLE eng_reactions (
    id          TEXT    PRIMARY KEY,
    guild_id    TEXT    NOT NULL,
    post_id     TEXT    NOT NULL,
    author_id   TEXT    NOT NULL,
    emoji       TEXT    NOT NULL,
    added       INTEGER NOT NULL CHECK (added IN (0, 1)),
    at_ms       BIGINT  NOT NULL
);
CREATE INDEX eng_reactions_post ON eng_reactions (post_id, at_ms);
CREATE INDEX eng_reactions_author ON eng_reactions (author_id);

CREATE TABLE eng_replies (
    id          TEXT    PRIMARY KEY,
    guild_id    TEXT    NOT NULL,
    post_id     TEXT    NOT NULL,
    author_id   TEXT    NOT NULL,
    at_ms       BIGINT  NOT NULL
);
CREATE INDEX eng_replies_post ON eng_replies (post_id, at_ms);
CREATE INDEX eng_replies_author ON eng_replies (author_id);

-- ENGAGEMENT.md's per-guild setting, 7 days by default.
ALTER TABLE guild_settings ADD COLUMN engagement_window_ms BIGINT NOT NULL DEFAULT 604800000;
