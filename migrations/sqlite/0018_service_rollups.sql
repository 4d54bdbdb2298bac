-- Service levels and the heatmap summed per day (src/domain/rollup/levels.rs), so that a report
-- reads a row per day instead of every request and conversation of its windows: the guild's
-- service part, and its agents' in the layout of `agents`. NULL on days summed before this
-- version, which are marked dirty below and summed again by the next refresh (every report
-- refreshes its guild first).
ALTER TABLE kpi_days ADD COLUMN service BLOB;
ALTER TABLE kpi_days ADD COLUMN service_agents BLOB;

-- What a report reads at its `now`: the requests still without an answer, newest first ...
CREATE INDEX kpi_requests_unanswered ON kpi_requests (guild_id, start_ms) WHERE answer_ms IS NULL;
-- ... and the conversations not settled yet (levels::settles_at), a few at the end of time.
CREATE INDEX kpi_conversations_settles
    ON kpi_conversations (guild_id, (COALESCE(close_ms, auto_close_ms, lapses_ms)));

INSERT INTO kpi_dirty_days (guild_id, day, version)
SELECT guild_id, day, 1 FROM kpi_days WHERE 1 = 1
ON CONFLICT (guild_id, day) DO NOTHING;
