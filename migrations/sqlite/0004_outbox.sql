-- Messages to Discord that could not be delivered at once (Discord or the network failing):
-- kept here and retried with backoff, across restarts, until delivered or refused for good.
-- dedupe_key makes enqueuing idempotent; the nonce sent with each try lets Discord drop a
-- duplicate when an earlier try did arrive.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    channel_id      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at_ms      BIGINT  NOT NULL,
    created_at_ms   BIGINT  NOT NULL,
    sent_message_id TEXT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_at_ms);
