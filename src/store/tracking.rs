//! What a guild tracks for the communication figures (docs/engagement.md, "In Discord"): the
//! channels whose messages are posts, and the community role that may read `/engagement`.

use super::{Result, WatchedChannel};
use async_trait::async_trait;

#[async_trait]
pub trait TrackingStore: Send + Sync {
    /// The guild's tracked channels (by id) and community role; empty when it set none.
    async fn tracking_setup(&self, guild_id: &str) -> Result<TrackingSetup>;
    /// Replaces the guild's tracked channels and community role, in one transaction.
    async fn save_tracking_setup(&self, guild_id: &str, setup: &TrackingSetup) -> Result<()>;
    /// Guilds with at least one tracked channel (the catch-up reads their posts).
    async fn guilds_tracking(&self) -> Result<Vec<String>>;
}

/// A guild's engagement tracking, changed with `/setup engagement_channel`,
/// `remove_engagement_channel` and `community_role`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackingSetup {
    /// Text and announcement channels are `Text`, forums `Forum`.
    pub channels: Vec<WatchedChannel>,
    pub community_role: Option<String>,
}

impl TrackingSetup {
    pub fn channel(&self, id: &str) -> Option<&WatchedChannel> {
        self.channels.iter().find(|c| c.channel_id == id)
    }
}
