//! The request export: one row per request, with its answer, the agent credited and the survey
//! that followed. `reactif export` and `/stats export:True` write it as CSV (`report::csv`).

use crate::domain::kpi::{status, RequestStatus, Scope, Window};
use crate::domain::timeline::{Survey, Timeline};
use crate::domain::{Event, GuildRules, Millis};
use std::collections::HashMap;

/// One row of the request export.
pub struct ExportRow {
    pub guild_id: String,
    pub conversation: String,
    pub customer_id: String,
    pub start: Millis,
    pub answer_at: Option<Millis>,
    pub delay_ms: Option<Millis>,
    pub status: &'static str,
    pub agent_id: Option<String>,
    pub survey_id: Option<String>,
    pub rating: Option<u8>,
}

/// The request export: one row per request started in the window, with its answer, the agent
/// credited, and the survey that followed the answer (the last one that counts as sent).
pub fn export_rows(
    events: &[Event],
    all: &HashMap<String, GuildRules>,
    scope: &Scope,
    window: Window,
) -> Vec<ExportRow> {
    let defaults = GuildRules::default();
    let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
    let tl = Timeline::build(events, Some(window.now), &lookup);
    let mut survey_of: HashMap<usize, &Survey> = HashMap::new();
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
            ExportRow {
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
