-- The service parts' lists (resolution times, the heatmap's delays) are now written as
-- fixed-width numbers instead of varint steps (src/domain/rollup/levels.rs, format 2): a
-- 90-day report decodes about a million of them. Days of format 1 are still read; they are
-- marked dirty here so that the next refresh writes them again in the faster format (every
-- report refreshes its guild first).
INSERT INTO kpi_dirty_days (guild_id, day, version)
SELECT guild_id, day, 1 FROM kpi_days WHERE 1 = 1
ON CONFLICT (guild_id, day) DO NOTHING;
