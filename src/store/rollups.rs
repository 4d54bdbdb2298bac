//! Rollups (`domain::rollup`): facts per place, parts per day. Event writes mark their places
//! dirty in the same transaction; `Desk::refresh` derives the facts of dirty places and the
//! parts of the days they change; a report reads the stored days, sums the partial days at
//! its ends from the facts, and reads the delay blocks its percentiles need.

use super::Result;
use crate::domain::percentile::BlockKey;
use crate::domain::rollup::{Block, FactEnds, Part, Piece, PlaceFacts, ServicePart, ServicePiece};
use crate::domain::{Event, GuildRules, Millis};
use async_trait::async_trait;
use std::collections::HashMap;

/// How long a refresh holds the dirty marks it took (`claim_dirty_places`) before another
/// process may take them: a batch is derived and written in about a second.
pub const MARK_LEASE: Millis = 60_000;

#[async_trait]
pub trait RollupStore: Send + Sync {
    // --- The refresh: dirty places into facts, dirty days into parts. ---

    /// Places whose facts are out of date (of one guild or all), ordered by guild and place,
    /// from just after `after` (a guild and a place) when it is given.
    async fn dirty_places(
        &self,
        guild_id: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyPlace>>;
    /// The next dirty places of every guild after `after`, as `dirty_places`, each taken for
    /// this refresh for `MARK_LEASE`: on PostgreSQL, where several processes refresh at once,
    /// a mark another refresh has taken is skipped (`FOR UPDATE SKIP LOCKED`), so that each
    /// mark is derived by one process. A mark marked again meanwhile is free again (its new
    /// version is new work); a taken mark whose refresh died is free when its lease ends. On
    /// SQLite (one process) it is `dirty_places`.
    async fn claim_dirty_places(
        &self,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyPlace>>;
    /// The events of these places (all of one guild), in no particular order.
    async fn events_of_places(
        &self,
        guild_id: &str,
        conversations: &[String],
    ) -> Result<Vec<Event>>;
    /// The stored facts of these places (all of one guild), one per conversation key.
    async fn place_facts(
        &self,
        guild_id: &str,
        conversations: &[String],
    ) -> Result<HashMap<String, PlaceFacts>>;
    /// Replaces the facts of each place still at the version read, marks the days they change
    /// dirty and the guilds found irregular, in one transaction; returns how many were written.
    async fn write_place_facts(&self, updates: &[FactsUpdate]) -> Result<usize>;
    /// Days whose parts are out of date (of one guild or all), ordered by guild and day, from
    /// just after `after` (a guild and a day) when it is given.
    async fn dirty_days(
        &self,
        guild_id: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyDay>>;
    /// `claim_dirty_places` for the days.
    async fn claim_dirty_days(
        &self,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyDay>>;
    /// Stores the pieces of the days still at the version read, with their delay blocks
    /// (`Piece::block_out`); returns how many.
    async fn write_days(&self, days: &[DayUpdate]) -> Result<usize>;
    /// Refreshes the query planner's statistics of the rollup tables, after a large refresh
    /// (PostgreSQL otherwise plans with what it knew of the tables when they were small), and
    /// on PostgreSQL vacuums them too: until its visibility map knows the new rows, every
    /// "index-only" read of a report visits the table as well (4 to 6 times slower, measured).
    async fn analyze_rollups(&self) -> Result<()>;
    /// Refreshes the planner's statistics of the facts, rollup and queue tables while a large
    /// refresh fills them. On PostgreSQL without them (autovacuum off, or not yet come by), a
    /// lookup of 500 places by name was planned as a scan of the whole guild: 221 ms instead
    /// of 2 ms at 850k fact rows, so that a refresh slowed as it went.
    async fn analyze_growing(&self) -> Result<()>;

    // --- A report's reads. ---

    /// Whether the guild's rollups can stand for it, and its newest event's time.
    async fn rollup_status(&self, guild_id: &str) -> Result<RollupStatus>;
    /// The parts of `scope` over each range `[from, to)`, summed from the facts, one piece per
    /// range in order.
    async fn kpi_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        deadline: Millis,
        scope: PieceScope<'_>,
    ) -> Result<Vec<Piece>>;
    /// Per range `[from, to)`, the requests started after `after` that are not answered
    /// within `deadline`.
    async fn kpi_pending(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        after: Millis,
        deadline: Millis,
    ) -> Result<Vec<u64>>;
    /// The guild's stored days `from_day..=to_day` (`YYYY-MM-DD`), with the agents' parts
    /// only if `agents` (they are most of a day's bytes).
    async fn stored_days(
        &self,
        guild_id: &str,
        from_day: &str,
        to_day: &str,
        agents: bool,
    ) -> Result<Vec<DayRollup>>;
    /// The service parts of the guild and of every agent over each range `[from, to)`,
    /// summed from the facts under `rules`, one piece per range in order.
    async fn service_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        rules: &GuildRules,
    ) -> Result<Vec<ServicePiece>>;
    /// `service_pieces` as a report reads its partial days: for the guild (`Guild`, `All`) its
    /// whole part and each agent's counters only; `GuildOnly`, the guild's part alone; for one
    /// agent, that agent's whole part.
    async fn report_service_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        rules: &GuildRules,
        scope: PieceScope<'_>,
    ) -> Result<Vec<ServicePiece>>;
    /// At most `limit` requests without an answer started in `[from, before)`, newest first:
    /// (start, is_first).
    async fn unanswered_requests(
        &self,
        guild_id: &str,
        from: Millis,
        before: Millis,
        limit: i64,
    ) -> Result<Vec<(Millis, bool)>>;
    /// The conversations opened in `[from, to)` not settled at `now` (their end at `now` is
    /// not their final end: `domain::rollup::levels::settles_at`), of `agent` only if given.
    async fn live_conversations(
        &self,
        guild_id: &str,
        range: (Millis, Millis),
        now: Millis,
        agent: Option<&str>,
    ) -> Result<Vec<LiveConversation>>;
    /// The guild's delay blocks asked for, by key; a key with no block is left out.
    async fn kpi_blocks(
        &self,
        guild_id: &str,
        keys: &[BlockKey],
    ) -> Result<HashMap<BlockKey, Vec<u8>>>;
}

/// Which parts `RollupStore::kpi_pieces` sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceScope<'a> {
    /// The guild's part and every agent's whole part (what a stored day keeps).
    All,
    /// The guild's part, and each agent's without the messages and conversations of their
    /// conversations: a guild's per-agent table shows neither, and they are the costly join.
    Guild,
    /// The guild's part alone: what a report needs of the partial days outside its own
    /// window (the previous window's, the badge's), where no agent's figures are shown.
    GuildOnly,
    /// That agent's part only (and no guild part).
    Agent(&'a str),
}

/// A place whose facts must be derived again, at the version of its mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyPlace {
    pub guild_id: String,
    pub conversation: String,
    pub version: i64,
}

/// A guild's local day whose parts must be summed again, at the version of its mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyDay {
    pub guild_id: String,
    pub day: String,
    pub version: i64,
}

/// New facts for one place (see `RollupStore::write_place_facts`).
#[derive(Debug, Clone)]
pub struct FactsUpdate {
    pub place: DirtyPlace,
    pub facts: PlaceFacts,
    /// The local days (`YYYY-MM-DD`) whose parts change.
    pub days: Vec<String>,
    /// False when the place cannot be replayed alone (see `domain::rollup`).
    pub regular: bool,
}

/// A day's new parts (see `RollupStore::write_days`).
#[derive(Debug, Clone)]
pub struct DayUpdate {
    pub day: DirtyDay,
    /// The guild's part and every agent's, their large delay lists moved to `blocks`.
    pub piece: Piece,
    pub blocks: Vec<Block>,
    /// Its service levels and heatmap, the guild's and every agent's.
    pub service: ServicePiece,
}

/// A stored day as `RollupStore::stored_days` reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRollup {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The guild's part.
    pub guild: Part,
    /// The agents' parts encoded by `Piece::encode_agents`; empty unless asked for.
    pub agents: Vec<u8>,
    /// The guild's service part.
    pub service: ServicePart,
    /// The agents' service parts (`ServicePiece::encode_agents`); empty unless asked for.
    pub service_agents: Vec<u8>,
}

/// A conversation whose standing at a report's `now` is not its final one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConversation {
    pub opened_at: Millis,
    pub ends: FactEnds,
    /// The agents who answered in it.
    pub agents: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupStatus {
    pub irregular: bool,
    pub newest_event: Option<Millis>,
}

/// A fresh version for a dirty mark: random, so that a mark deleted and made again never
/// comes back with a version a refresh has already read.
pub fn dirty_version() -> i64 {
    (rand::random::<u64>() >> 1) as i64
}
