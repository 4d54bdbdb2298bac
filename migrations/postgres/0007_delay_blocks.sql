-- The delays of large days, in blocks of whole buckets (src/domain/percentile.rs), so that a
-- percentile over a long window reads one block per day instead of every delay. A day part of
-- format 1 kept every delay inline; its days are summed again in the new format.

CREATE TABLE kpi_delay_blocks (
    guild_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    -- 0 response delay, 1 business-hours delay, 2 first response time
    kind         BIGINT  NOT NULL,
    first_bucket BIGINT  NOT NULL,
    -- (delay in ms: i64, answering agent's index in the day's agents: u16), little-endian
    data         BYTEA   NOT NULL,
    PRIMARY KEY (guild_id, day, kind, first_bucket)
);

INSERT INTO kpi_dirty_days (guild_id, day, version)
SELECT guild_id, day, 1 FROM kpi_days WHERE 1 = 1
ON CONFLICT (guild_id, day) DO NOTHING;
DELETE FROM kpi_days;
