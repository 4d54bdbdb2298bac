-- A report reads the facts of its partial days by time: these indexes cover what it reads,
-- so that a range is one index scan with no lookup of each row in its table.
DROP INDEX kpi_messages_time;
CREATE INDEX kpi_messages_time ON kpi_messages (guild_id, at_ms, conv_id);
DROP INDEX kpi_requests_time;
CREATE INDEX kpi_requests_time ON kpi_requests (guild_id, start_ms, agent_id, answer_ms, business_ms, is_first);
DROP INDEX kpi_conversations_time;
CREATE INDEX kpi_conversations_time ON kpi_conversations (guild_id, opened_ms, conv_id);
DROP INDEX kpi_surveys_time;
CREATE INDEX kpi_surveys_time ON kpi_surveys (guild_id, sent_ms, agent_id, rating);

-- An agent's report counts the messages of the conversations the agent answered in: it
-- starts from those conversations.
CREATE INDEX kpi_conv_agents_agent ON kpi_conv_agents (guild_id, agent_id, conv_id);

-- Rollup rows are read whole and often: kept uncompressed, they cost no decompression.
ALTER TABLE kpi_days ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE kpi_days ALTER COLUMN agents SET STORAGE EXTERNAL;
ALTER TABLE kpi_delay_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
