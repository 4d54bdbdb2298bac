-- Engagement rollups (src/domain/engagement/rollup.rs, docs/performance.md): per post its
-- figures with every stored event counted, per local day and key the sums of its posts. All of
-- it derives from eng_posts, eng_reactions and eng_replies: deleting these rows and marking
-- every post dirty loses nothing.

-- Posts whose rows changed since their rollup was derived, by post id (a reaction may arrive
-- before its post). `version` grows with each change, so a refresh that read an older version
-- does not clear a newer mark.
CREATE TABLE eng_dirty_posts (
    post_id      TEXT    PRIMARY KEY,
    version      BIGINT  NOT NULL
);

-- Days whose posts' rollups changed, per guild and time zone, with the day's bounds.
CREATE TABLE eng_dirty_days (
    guild_id     TEXT    NOT NULL,
    zone         TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    start_ms     BIGINT  NOT NULL,
    end_ms       BIGINT  NOT NULL,
    version      BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, zone, day)
);

-- The settings each guild's rollups were derived under: when they change, the guild's rollups
-- are derived again.
CREATE TABLE eng_rollup_guilds (
    guild_id     TEXT    PRIMARY KEY,
    window_ms    BIGINT  NOT NULL,
    zone         TEXT    NOT NULL
);

-- A dense numbering of the people engaged with posts, so that a day's distinct people are a
-- small set of integers. `/forget-me` and `purge` rename or remove the person here too.
CREATE TABLE eng_people (
    idx          INTEGER PRIMARY KEY AUTOINCREMENT,
    person       TEXT    NOT NULL UNIQUE
);

CREATE TABLE eng_post_rollups (
    post_id      TEXT    PRIMARY KEY,
    guild_id     TEXT    NOT NULL,
    channel_id   TEXT    NOT NULL,
    author_id    TEXT    NOT NULL,
    at_ms        BIGINT  NOT NULL,
    window_end   BIGINT  NOT NULL,
    -- The normalised themes, a JSON array.
    themes       TEXT    NOT NULL,
    audience     BIGINT  NOT NULL,
    reactions    BIGINT  NOT NULL,
    replies      BIGINT  NOT NULL,
    -- The post's time, or its latest interaction inside its window.
    last_at      BIGINT  NOT NULL,
    people       BLOB    NOT NULL
);
CREATE INDEX eng_post_rollups_time ON eng_post_rollups (guild_id, at_ms);
CREATE INDEX eng_post_rollups_author ON eng_post_rollups (author_id);

-- Per guild, time zone, local day and key: all posts ('', ''), a theme (t, ''), or the posts
-- with both t and u (t, u). first_post, last_post and last_at are the day's, for every key.
CREATE TABLE eng_day_rollups (
    guild_id     TEXT    NOT NULL,
    zone         TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    theme_a      TEXT    NOT NULL,
    theme_b      TEXT    NOT NULL,
    start_ms     BIGINT  NOT NULL,
    end_ms       BIGINT  NOT NULL,
    window_ms    BIGINT  NOT NULL,
    first_post   BIGINT  NOT NULL,
    last_post    BIGINT  NOT NULL,
    last_at      BIGINT  NOT NULL,
    posts        BIGINT  NOT NULL,
    reactions    BIGINT  NOT NULL,
    replies      BIGINT  NOT NULL,
    engaged      BIGINT  NOT NULL,
    audience     BIGINT  NOT NULL,
    -- RateSum: the sum of the posts' rates in units of 2^-80 (decimal text: it needs 128 bits).
    rate_scaled  TEXT    NOT NULL,
    rate_posts   BIGINT  NOT NULL,
    top          TEXT    NOT NULL,
    people       BLOB    NOT NULL,
    PRIMARY KEY (guild_id, zone, day, theme_a, theme_b)
);
CREATE INDEX eng_day_rollups_time ON eng_day_rollups (zone, start_ms);

-- The posts stored before these tables existed.
INSERT INTO eng_dirty_posts (post_id, version) SELECT id, 1 FROM eng_posts;
