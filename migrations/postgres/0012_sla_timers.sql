-- The bot's service-level timers (docs/operations.md, "Service-level timers"): the warning
-- before a breach, the breach line and the auto-close of each conversation, planned in the
-- transaction of the event that asks for them and decided once: a timer done stays done, so a
-- restart neither loses nor repeats one.
--   kind: warning:first_response, breach:resolution, auto_close ...
--   subject: what it is about (the request's first message id, the conversation's opening
--            message id, or the auto-close instant).
--   status: pending, then done (performed, or found no longer due).
CREATE TABLE sla_timers (
    guild_id     TEXT   NOT NULL,
    conversation TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    subject      TEXT   NOT NULL,
    due_at_ms    BIGINT NOT NULL,
    status       TEXT   NOT NULL DEFAULT 'pending',
    PRIMARY KEY (guild_id, conversation, kind, subject)
);
CREATE INDEX sla_timers_due ON sla_timers (status, due_at_ms);
