-- Several bot processes on one PostgreSQL database refresh the rollups at once: a refresh takes
-- the dirty marks it works on until this time (ms), and the others skip them, so that each
-- mark is derived once. A mark marked again is free again. Unused on SQLite (one process),
-- kept so that both schemas hold the same columns.
ALTER TABLE kpi_dirty_places ADD COLUMN claimed_until_ms BIGINT;
ALTER TABLE kpi_dirty_days ADD COLUMN claimed_until_ms BIGINT;
