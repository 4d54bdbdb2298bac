-- The dashboard (src/web): its signing key, its sessions and the one-time links it has let in.
-- One key for every process on this database, so that a link made by the bot opens on a
-- dashboard served apart (`reactif dashboard`).
CREATE TABLE dashboard_keys (
    name       TEXT   PRIMARY KEY,
    secret     TEXT   NOT NULL,
    created_ms BIGINT NOT NULL
);
-- A session is a browser logged in as a Discord user. Only a hash of its cookie is kept, so
-- a copy of the database opens no session. Revoked sessions stay until they expire.
CREATE TABLE dashboard_sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    -- The guild to open first (the link's, or the first one OAuth2 listed).
    home_guild TEXT,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);
-- The nonces of the one-time links already used: a link is refused the second time.
CREATE TABLE dashboard_links_used (
    nonce      TEXT   PRIMARY KEY,
    used_ms    BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
-- The OAuth2 `state` values handed out and not yet come back (single use, short-lived).
CREATE TABLE dashboard_oauth_states (
    state      TEXT   PRIMARY KEY,
    expires_ms BIGINT NOT NULL
);
