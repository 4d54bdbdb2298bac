//! The events: the one source of every figure. Stored once each (ingest is idempotent), and
//! read back by place, by id, or up to a time.

use super::Result;
use crate::domain::{Event, Millis};
use async_trait::async_trait;

/// What ingesting one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// An event with this id was already stored: ingest is idempotent.
    Duplicate,
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores the events whose id is new, all in one transaction; one answer per event, in order.
    /// Each place that gets a new event is marked dirty for the rollups in the same transaction.
    async fn insert_events(&self, events: &[Event]) -> Result<Vec<Inserted>>;

    /// The stored events with these ids (those that exist), in no particular order.
    async fn events_by_ids(&self, ids: &[String]) -> Result<Vec<Event>>;

    /// Every event of one place (a guild's conversation key), in no particular order.
    async fn place_events(&self, guild_id: &str, conversation: &str) -> Result<Vec<Event>>;

    /// The events of one place at or after `since`, in no particular order (one index range).
    async fn place_events_since(
        &self,
        guild_id: &str,
        conversation: &str,
        since: Millis,
    ) -> Result<Vec<Event>>;

    /// The places of a guild where a customer wrote between `from` (included) and `to`
    /// (excluded): those where a request of that window can start.
    async fn places_with_customer_messages(
        &self,
        guild_id: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<String>>;

    /// Whether the guild has any event (one index lookup, whatever its size).
    async fn guild_has_events(&self, guild_id: &str) -> Result<bool>;

    /// Every event at or before `now`, of one guild or of all.
    async fn events_until(&self, guild_id: Option<&str>, now: Millis) -> Result<Vec<Event>>;

    /// Number of stored events (of one guild or all).
    async fn count_events(&self, guild_id: Option<&str>) -> Result<u64>;

    /// Removes every event of a guild, and what the rollups derived from them (the demo uses it
    /// to start afresh).
    async fn delete_guild_events(&self, guild_id: &str) -> Result<u64>;
}
