//! The communication half's events (docs/engagement.md): posts of tracked channels, reaction
//! events and replies. Stored once each (ingest is idempotent by id, within each kind of row),
//! without any message content: a post keeps its themes, derived when it was ingested.

use super::{Inserted, Result};
use crate::domain::engagement::EngagementEvent;
use crate::domain::Millis;
use async_trait::async_trait;

#[async_trait]
pub trait EngagementStore: Send + Sync {
    /// Stores the events whose id is new for their kind of row (posts; reaction events; replies),
    /// all in one transaction; one answer per event, in order. A post id stored again with an
    /// earlier time takes that copy (docs/engagement.md, choice 7: a post is its earliest copy).
    async fn insert_engagement(&self, events: &[EngagementEvent]) -> Result<Vec<Inserted>>;

    /// The stored posts, reaction events and replies with these ids, in no particular order.
    async fn engagement_by_ids(&self, ids: &[String]) -> Result<Vec<EngagementEvent>>;

    /// The posts of one guild (or of all) posted in `[from, to)` and at or before `now`, then
    /// every reaction event and reply on them at or before `now`: all a report over them needs.
    async fn engagement_events(
        &self,
        guild_id: Option<&str>,
        from: Millis,
        to: Millis,
        now: Millis,
    ) -> Result<Vec<EngagementEvent>>;

    /// Number of stored posts (of one guild or all).
    async fn count_posts(&self, guild_id: Option<&str>) -> Result<u64>;

    /// Removes a guild's posts, and every reaction event and reply of the guild (the demo
    /// starts afresh with it).
    async fn delete_guild_engagement(&self, guild_id: &str) -> Result<u64>;

    /// `/forget-me`: replaces `user_id`, wherever it is the author of a post, a reaction event
    /// or a reply, by one random token, in one transaction. The figures stay exactly the same (the
    /// token stands for the same person everywhere). Returns how many rows changed.
    async fn forget_engagement_user(&self, user_id: &str) -> Result<u64>;

    /// `purge`: the posts whose engagement window ended at or before `before` (their guild's
    /// window), with their reactions and replies, and the reactions and replies before `before`
    /// on no stored post, lose their people's ids: each person gets one random token for all
    /// these rows, so the figures of these posts stay exactly the same. Returns how many people
    /// were anonymised.
    async fn purge_engagement_before(&self, before: Millis) -> Result<u64>;

    /// What `purge_engagement_before(before)` would anonymise, changing nothing: the rows that
    /// still carry a person's id (not a token) and the distinct people.
    async fn purge_engagement_preview(&self, before: Millis) -> Result<PurgePreview>;
}

/// What a purge of the engagement rows would anonymise (`reactif purge --dry-run`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgePreview {
    pub people: u64,
    pub posts: u64,
    pub reactions: u64,
    pub replies: u64,
}
