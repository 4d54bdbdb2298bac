//! The engagement rollups (`domain::engagement::rollup`): per post, per day and key. Engagement
//! writes mark their posts dirty in the same transaction (`insert_engagement`); the refresh
//! (`desk::engagement_rollup`) derives the posts' rollups, then the days they change; a report
//! reads the days and takes the posts at its edges one by one.

use super::Result;
use crate::domain::engagement::rollup::{DayPart, DaySpan, PostRollup};
use crate::domain::engagement::{EngagementEvent, Post};
use crate::domain::Millis;
use async_trait::async_trait;
use std::collections::HashMap;

/// A dirty post or day, with the version of its mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyPost {
    pub post_id: String,
    pub version: i64,
}

/// A local day of a guild in a time zone, `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EngDay {
    pub guild_id: String,
    pub zone: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub start_ms: Millis,
    pub end_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyDay {
    pub day: EngDay,
    pub version: i64,
}

/// What one batch of the posts' refresh writes, in one transaction.
#[derive(Debug, Default)]
pub struct PostRollupsUpdate {
    /// The marks read (only those still at their version are cleared).
    pub marks: Vec<DirtyPost>,
    /// New rollups (replacing the stored ones of the same posts).
    pub rollups: Vec<PostRollup>,
    /// Posts whose rollup goes (no such post any more).
    pub removed: Vec<String>,
    /// The days these posts were or are in.
    pub days: Vec<EngDay>,
}

/// One stored day part, with what it says of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDayPart {
    pub day: EngDay,
    pub window_ms: Millis,
    pub span: DaySpan,
    pub part: DayPart,
    /// The part's people as stored (`rollup::encode_people`), decoded only when summed.
    pub people: Vec<u8>,
}

/// One day's (or block's) new parts (none: it has no post any more).
#[derive(Debug, Clone)]
pub struct DayPartsUpdate {
    pub mark: DirtyDay,
    pub window_ms: Millis,
    pub parts: Option<(DaySpan, Vec<DayPart>)>,
    /// For a day: the block of seven days it is in, marked dirty when the day is written.
    pub block: Option<EngDay>,
}

#[async_trait]
pub trait EngagementRollupStore: Send + Sync {
    /// The engagement window and time zone each guild's rollups were derived under.
    async fn eng_rollup_guilds(&self) -> Result<HashMap<String, (Millis, String)>>;
    /// Records the settings a guild's rollups are derived under. When `rederive`, in the same
    /// transaction: drops its day rollups and marks every one of its posts dirty.
    async fn eng_set_rollup_guild(
        &self,
        guild_id: &str,
        window_ms: Millis,
        zone: &str,
        rederive: bool,
    ) -> Result<()>;
    /// Up to `limit` dirty posts, in order of id.
    async fn eng_dirty_posts(&self, limit: i64) -> Result<Vec<DirtyPost>>;
    /// These posts (by id) and every reaction event and reply on them, in no particular order.
    async fn eng_posts_and_interactions(&self, post_ids: &[String])
        -> Result<Vec<EngagementEvent>>;
    /// The stored rollups of these posts, without their people (`people` empty).
    async fn eng_post_rollups_by_id(&self, post_ids: &[String]) -> Result<Vec<PostRollup>>;
    /// The numbers of these people, numbering those not numbered yet.
    async fn eng_number_people(&self, people: &[String]) -> Result<HashMap<String, u32>>;
    /// The numbers of these people that have one (numbers nobody).
    async fn eng_people_numbers(&self, people: &[String]) -> Result<HashMap<String, u32>>;
    /// The people these numbers stand for.
    async fn eng_people_names(&self, numbers: &[u32]) -> Result<HashMap<u32, String>>;
    /// Writes a batch of the posts' refresh (see `PostRollupsUpdate`).
    async fn eng_write_post_rollups(&self, update: &PostRollupsUpdate) -> Result<()>;
    /// Up to `limit` dirty days.
    async fn eng_dirty_days(&self, limit: i64) -> Result<Vec<DirtyDay>>;
    /// The rollups (with people) of a guild's posts posted in `[from, to)`.
    async fn eng_post_rollups_between(
        &self,
        guild_id: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<PostRollup>>;
    /// A guild's posts posted in `[from, to)`, as their rollups keep them, without figures.
    async fn eng_posts_between(
        &self,
        guild_id: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<Post>>;
    /// Replaces each day's parts, for the days whose mark is still at the version read, and
    /// marks their blocks dirty.
    async fn eng_write_day_parts(&self, days: &[DayPartsUpdate]) -> Result<()>;
    /// Up to `limit` dirty blocks of seven days.
    async fn eng_dirty_blocks(&self, limit: i64) -> Result<Vec<DirtyDay>>;
    /// Replaces each block's parts, for the blocks whose mark is still at the version read.
    async fn eng_write_block_parts(&self, blocks: &[DayPartsUpdate]) -> Result<()>;
    /// Every stored day part (all keys) of a guild in time zone `zone` for the days starting in
    /// `[from, to)`: what a block is merged from.
    async fn eng_day_parts_of(
        &self,
        guild_id: &str,
        zone: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<StoredDayPart>>;
    /// The day parts in time zone `zone` of one guild (or all) for days overlapping
    /// `[from, to)`: the keys `(t, "")` and `("", "")` without a theme, `(theme, u)` and
    /// `(theme, "")` with one.
    /// With `blocks`, the same from the blocks of seven days.
    async fn eng_day_parts(
        &self,
        blocks: bool,
        zone: &str,
        guild_id: Option<&str>,
        theme: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<StoredDayPart>>;
    /// The day parts that count in a day series (`("", "")` without a theme, `(theme, "")`
    /// with one) without their top posts and people (`top` and `people` empty).
    async fn eng_day_counts(
        &self,
        zone: &str,
        guild_id: Option<&str>,
        theme: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<StoredDayPart>>;
    /// The reaction events and replies at or before `now` on these posts.
    async fn eng_interactions_until(
        &self,
        post_ids: &[String],
        now: Millis,
    ) -> Result<Vec<EngagementEvent>>;
}
