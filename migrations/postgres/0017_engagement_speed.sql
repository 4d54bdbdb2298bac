-- Dense people numbers (docs/performance.md, "/engagement"). Numbering a person already
-- numbered took a number from the sequence all the same, so the numbers had gaps (189,089 for
-- 50,000 people in the benchmark) and every set of people, a bitmap up to the largest number,
-- was several times larger than needed. When the numbers have gaps, they are given again from 1
-- in the same order, the day rollups are dropped and every post is marked dirty: the next
-- refresh (before any report) derives them all again with the new numbers.
DELETE FROM eng_day_rollups
WHERE (SELECT COALESCE(MAX(idx), 0) FROM eng_people) > (SELECT COUNT(*) FROM eng_people);
DELETE FROM eng_dirty_days
WHERE (SELECT COALESCE(MAX(idx), 0) FROM eng_people) > (SELECT COUNT(*) FROM eng_people);
INSERT INTO eng_dirty_posts (post_id, version)
SELECT post_id, 1 FROM eng_post_rollups
WHERE (SELECT COALESCE(MAX(idx), 0) FROM eng_people) > (SELECT COUNT(*) FROM eng_people)
ON CONFLICT (post_id) DO UPDATE SET version = eng_dirty_posts.version + 1;

CREATE TEMPORARY TABLE eng_people_dense AS
SELECT ROW_NUMBER() OVER (ORDER BY idx) AS idx, person FROM eng_people;
DELETE FROM eng_people;
INSERT INTO eng_people (idx, person) SELECT idx, person FROM eng_people_dense;
DROP TABLE eng_people_dense;
SELECT setval(pg_get_serial_sequence('eng_people', 'idx'),
              (SELECT COALESCE(MAX(idx), 0) + 1 FROM eng_people), false);

-- Blocks of seven local days (from a Monday), per guild, time zone and key: the same sums as
-- eng_day_rollups, merged from the days' parts, so that a report over 90 days reads about 13
-- blocks and the days at its ends instead of 90 days. `day` is the block's first day,
-- start_ms and end_ms its bounds; first_post, last_post and last_at are the block's.
CREATE TABLE eng_block_rollups (
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
    rate_scaled  TEXT    NOT NULL,
    rate_posts   BIGINT  NOT NULL,
    top          TEXT    NOT NULL,
    people       BYTEA   NOT NULL,
    PRIMARY KEY (guild_id, zone, day, theme_a, theme_b)
);
CREATE INDEX eng_block_rollups_time ON eng_block_rollups (zone, start_ms);

-- Blocks whose days' parts changed, marked in the transaction that writes the days.
CREATE TABLE eng_dirty_blocks (
    guild_id     TEXT    NOT NULL,
    zone         TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    start_ms     BIGINT  NOT NULL,
    end_ms       BIGINT  NOT NULL,
    version      BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, zone, day)
);

-- The days stored before the blocks existed are derived again, which marks their blocks.
INSERT INTO eng_dirty_days (guild_id, zone, day, start_ms, end_ms, version)
SELECT DISTINCT guild_id, zone, day, start_ms, end_ms, 1 FROM eng_day_rollups WHERE true
ON CONFLICT (guild_id, zone, day) DO NOTHING;
