-- The Discord half of the communication figures (docs/engagement.md, "In Discord"): the channels
-- whose messages are posts (text, announcement and forum channels), and the role whose members
-- may read `/engagement` besides agents and admins. Kept apart from the support setup
-- (`watched_channels`): a channel can be tracked without being a support channel.
CREATE TABLE engagement_channels (
    guild_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

CREATE TABLE guild_community (
    guild_id          TEXT PRIMARY KEY,
    community_role_id TEXT
);
