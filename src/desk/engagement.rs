//! The communication half on the desk (docs/engagement.md): ingesting posts, reactions and
//! replies, and the engagement report from what is stored.

use super::{Desk, IngestSummary};
use crate::domain::engagement::{self, EngagementEvent, Filters, Report};
use crate::domain::kpi::{Rules, Window};
use crate::domain::GuildRules;
use crate::store::{Inserted, Result};
use std::collections::HashMap;

impl Desk {
    /// Stores a batch of posts, reaction events and replies in one transaction (idempotent by
    /// id, as `ingest`).
    pub async fn ingest_engagement(&self, events: &[EngagementEvent]) -> Result<IngestSummary> {
        let outcome = self.store().insert_engagement(events).await?;
        let new = outcome.iter().filter(|o| **o == Inserted::New).count() as u64;
        Ok(IngestSummary {
            new,
            duplicates: events.len() as u64 - new,
        })
    }

    /// The engagement report of docs/engagement.md over `window`, replayed from the stored
    /// posts of the window and the previous one, and all their reactions and replies: what the
    /// rollups (`engagement_report`) are checked against, and the benchmark's baseline.
    pub async fn engagement_replay_report(
        &self,
        filters: &Filters,
        window: Window,
    ) -> Result<Report> {
        let from = window.previous().from;
        let events = self
            .store()
            .engagement_events(filters.guild_id.as_deref(), from, window.to, window.now)
            .await?;
        let all = self.store().all_guild_rules().await?;
        Ok(build_engagement_report(&events, &all, filters, window))
    }
}

/// The pure part of `Desk::engagement_report`: each post under its own guild's engagement
/// window, the daily series in the guild's time zone with `--guild` (UTC over several guilds).
pub fn build_engagement_report(
    events: &[EngagementEvent],
    all: &HashMap<String, GuildRules>,
    filters: &Filters,
    window: Window,
) -> Report {
    let defaults = GuildRules::default();
    let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
    let report_rules = filters
        .guild_id
        .as_deref()
        .and_then(|g| all.get(g))
        .unwrap_or(&defaults);
    let rules = Rules {
        lookup: &lookup,
        report: report_rules,
    };
    engagement::report(events, &rules, filters, window)
}
