-- Service-level settings per guild (docs/kpi.md, "Service levels (SLA) and resolution"), all
-- off by default: a target or auto-close in milliseconds, NULL when off.
ALTER TABLE guild_settings ADD COLUMN sla_first_response_ms BIGINT;
ALTER TABLE guild_settings ADD COLUMN sla_next_response_ms BIGINT;
ALTER TABLE guild_settings ADD COLUMN sla_resolution_ms BIGINT;
-- 'calendar' or 'business'.
ALTER TABLE guild_settings ADD COLUMN sla_clock TEXT NOT NULL DEFAULT 'calendar';
ALTER TABLE guild_settings ADD COLUMN auto_close_ms BIGINT;
-- The warning before a breach: a percentage of the target (1-99), or a fixed time before the
-- deadline; both NULL when off. KPI.md's default is 20 %.
ALTER TABLE guild_settings ADD COLUMN sla_warning_percent INTEGER DEFAULT 20;
ALTER TABLE guild_settings ADD COLUMN sla_warning_ms BIGINT;

-- How each conversation ends, in its facts (domain::rollup::FactEnds): a report from the
-- rollups reads them to tell resolved, lapsed and open conversations at its `now`.
ALTER TABLE kpi_conversations ADD COLUMN close_ms BIGINT;
ALTER TABLE kpi_conversations ADD COLUMN auto_close_ms BIGINT;
ALTER TABLE kpi_conversations ADD COLUMN lapses_ms BIGINT NOT NULL DEFAULT 0;
-- The service levels read the requests of the window's conversations by conversation.
CREATE INDEX kpi_requests_conv ON kpi_requests (guild_id, conv_id);
-- Facts derived before this version lack how their conversations end: derive them again.
INSERT INTO kpi_dirty_places (guild_id, conversation, version)
SELECT DISTINCT guild_id, conversation, 1 FROM events WHERE 1 = 1
ON CONFLICT (guild_id, conversation) DO NOTHING;
