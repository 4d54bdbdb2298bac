//! The one ingest path. The Discord adapter, `reactif import` and `reactif demo` all hand their
//! events to `Desk`, which stores them in one transaction per batch (ingest is idempotent: an id
//! seen before changes nothing), and builds reports from what is stored.

use crate::domain::kpi::{self, Report, Rules, Scope, Window};
use crate::domain::timeline::Timeline;
use crate::domain::{Event, GuildRules};
use crate::store::{DynStore, Inserted, Result};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub new: u64,
    pub duplicates: u64,
}

impl IngestSummary {
    pub fn add(&mut self, other: IngestSummary) {
        self.new += other.new;
        self.duplicates += other.duplicates;
    }
}

#[derive(Clone)]
pub struct Desk {
    store: DynStore,
}

impl Desk {
    pub fn new(store: DynStore) -> Desk {
        Desk { store }
    }

    pub fn store(&self) -> &DynStore {
        &self.store
    }

    /// Stores a batch of events in one transaction. Nothing is counted as stored before the
    /// transaction commits: on error, the whole batch is to be retried (ids make it idempotent).
    pub async fn ingest(&self, events: &[Event]) -> Result<IngestSummary> {
        let outcome = self.store.insert_events(events).await?;
        let new = outcome.iter().filter(|o| **o == Inserted::New).count() as u64;
        for (e, o) in events.iter().zip(&outcome) {
            tracing::trace!(event = %e, outcome = ?o, "ingested");
        }
        Ok(IngestSummary {
            new,
            duplicates: events.len() as u64 - new,
        })
    }

    /// The rules a report over `scope` uses for badge thresholds and the daily series: the
    /// guild's own when the report is about one guild, KPI.md's defaults otherwise.
    pub async fn report_rules(
        &self,
        scope: &Scope,
    ) -> Result<(HashMap<String, GuildRules>, GuildRules)> {
        let all = self.store.all_guild_rules().await?;
        let report = scope
            .guild_id
            .as_ref()
            .and_then(|g| all.get(g).cloned())
            .unwrap_or_default();
        Ok((all, report))
    }

    /// The full report of KPI.md over `window`, replayed from the stored events.
    pub async fn report(&self, scope: &Scope, window: Window) -> Result<Report> {
        let events = self
            .store
            .events_until(scope.guild_id.as_deref(), window.now)
            .await?;
        let (all, report_rules) = self.report_rules(scope).await?;
        Ok(build_report(&events, &all, &report_rules, scope, window))
    }
}

/// The pure part of `Desk::report`, shared with tests and benchmarks.
pub fn build_report(
    events: &[Event],
    all: &HashMap<String, GuildRules>,
    report_rules: &GuildRules,
    scope: &Scope,
    window: Window,
) -> Report {
    let defaults = GuildRules::default();
    let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
    let timeline = Timeline::build(events, Some(window.now), &lookup);
    let rules = Rules {
        lookup: &lookup,
        report: report_rules,
    };
    kpi::report(&timeline, &rules, scope, window)
}

/// The request export: one row per request started in the window, with its answer, the agent
/// credited, and the survey that followed the answer (the last one that counts as sent).
pub fn export_rows(
    events: &[Event],
    all: &HashMap<String, GuildRules>,
    scope: &Scope,
    window: Window,
) -> Vec<crate::report::csv::ExportRow> {
    use crate::domain::kpi::{status, RequestStatus};
    let defaults = GuildRules::default();
    let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
    let tl = Timeline::build(events, Some(window.now), &lookup);
    let mut survey_of: HashMap<usize, &crate::domain::timeline::Survey> = HashMap::new();
    for s in tl.surveys.iter().filter(|s| s.counts_as_sent()) {
        if let Some(r) = s.request {
            survey_of.insert(r, s);
        }
    }
    tl.requests
        .iter()
        .enumerate()
        .filter(|(_, r)| window.contains(r.start))
        .filter(|(_, r)| scope.guild_id.as_ref().is_none_or(|g| g == &r.guild_id))
        .filter(|(_, r)| {
            scope
                .agent_id
                .as_ref()
                .is_none_or(|a| r.answer.as_ref().is_some_and(|x| &x.agent_id == a))
        })
        .map(|(i, r)| {
            let rules = lookup(&r.guild_id);
            let survey = survey_of.get(&i);
            crate::report::csv::ExportRow {
                guild_id: r.guild_id.clone(),
                conversation: tl.conversations[r.conversation].key.clone(),
                customer_id: r.customer_id.clone(),
                start: r.start,
                answer_at: r.answer.as_ref().map(|a| a.at),
                delay_ms: r.delay(),
                status: match status(r, rules.deadline_ms, window.now) {
                    RequestStatus::Answered => "answered",
                    RequestStatus::Unanswered => "unanswered",
                    RequestStatus::Pending => "pending",
                },
                agent_id: r.answer.as_ref().map(|a| a.agent_id.clone()),
                survey_id: survey.map(|s| s.survey_id.clone()),
                rating: survey.and_then(|s| s.rating.map(|x| x.get())),
            }
        })
        .collect()
}
