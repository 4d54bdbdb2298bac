//! What makes `/stats` fast without changing a single figure.
//!
//! Replaying a whole guild costs as much as its history. Instead, each place (a conversation
//! key) is replayed on its own when its events change, and what the replay found is kept as
//! *facts*: its conversations, customer messages, requests and surveys, with their times. Facts
//! are summed per guild, local day and agent into *parts*: counts, sums, and every delay of the
//! day, so percentiles stay exact (a percentile over a window is a selection over the delays of
//! its days, never an average of daily percentiles). A window is its whole days' parts plus, for
//! the partial days at its ends, a part summed from the facts of just that time range.
//!
//! A place's replay equals the guild's replay restricted to it when the place is *regular*: its
//! surveys follow answers sent in the same place and its ratings rate surveys sent there (what
//! the bot always writes). Anything else (a survey or a rating pointing into another place, as
//! an import may) marks the guild irregular, and its reports replay everything as before.

use super::kpi::{local_day, AgentFigures};
use super::settings::GuildRules;
use super::stats::DelayStats;
use super::timeline::Timeline;
use super::{Event, EventKind, Millis};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

mod codec;
pub mod levels;
mod part;

pub use levels::{ServicePart, ServicePiece};
pub use part::{Block, Part, Piece};

/// One request, as its place's replay found it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestFact {
    pub start: Millis,
    pub start_id: String,
    pub answer_at: Option<Millis>,
    pub agent_id: Option<String>,
    pub is_first: bool,
    /// The part of the delay inside business hours (set when answered).
    pub business_ms: Option<Millis>,
}

/// One conversation: named by the id of the message that opened it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationFact {
    pub id: String,
    pub opened_at: Millis,
    /// Its customer messages' times, ascending.
    pub messages: Vec<Millis>,
    pub requests: Vec<RequestFact>,
    /// The agents who answered a request of it (at any time).
    pub agents: BTreeSet<String>,
    /// How it ends, for the service levels (which depend on `now`): see `timeline::Conversation`.
    pub ends: FactEnds,
}

/// When a conversation ends, as its place's replay found it: by a close, by the bot's
/// auto-close, or by lapsing. With every event up to `now` replayed (what a report from the
/// rollups requires), `Conversation::end(now)` is the same from these as from the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FactEnds {
    pub close_at: Option<Millis>,
    pub auto_close_at: Option<Millis>,
    pub lapses_at: Millis,
}

impl ConversationFact {
    fn times(&self) -> impl Iterator<Item = Millis> + '_ {
        std::iter::once(self.opened_at)
            .chain(self.messages.iter().copied())
            .chain(self.requests.iter().map(|r| r.start))
    }
}

/// A survey that counts as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SurveyFact {
    pub survey_id: String,
    pub sent_at: Millis,
    pub agent_id: Option<String>,
    pub rating: Option<u8>,
}

/// Everything one place contributes to its guild's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceFacts {
    pub conversations: Vec<ConversationFact>,
    pub surveys: Vec<SurveyFact>,
}

impl PlaceFacts {
    /// Replays one place's events under its guild's rules. The flag is false when the place
    /// is not regular (see the module's documentation): its facts cannot stand for it then.
    pub fn derive(events: &[Event], rules: &GuildRules) -> (PlaceFacts, bool) {
        let lookup = |_: &str| rules;
        let tl = Timeline::build(events, None, &lookup);
        let mut surveys: Vec<SurveyFact> = tl
            .surveys
            .iter()
            .filter(|s| s.counts_as_sent())
            .map(|s| SurveyFact {
                survey_id: s.survey_id.clone(),
                sent_at: s.sent_at,
                agent_id: s.agent_id.clone(),
                rating: s.rating.map(|r| r.get()),
            })
            .collect();
        surveys.sort_by(|a, b| a.survey_id.cmp(&b.survey_id));
        let facts = PlaceFacts {
            conversations: conversation_facts(&tl, rules),
            surveys,
        };
        (facts, is_regular(events, &tl))
    }

    /// The local days whose figures differ between `old` and `new` facts of one place: every
    /// day touched by a conversation or survey that changed, before or after the change. A
    /// conversation counts whole, since a new answering agent changes that agent's counts of
    /// all its messages.
    pub fn changed_days(old: &PlaceFacts, new: &PlaceFacts, tz: &Tz) -> BTreeSet<NaiveDate> {
        let conversations = changed(&old.conversations, &new.conversations, |c| &c.id);
        let surveys = changed(&old.surveys, &new.surveys, |s| &s.survey_id);
        conversations
            .into_iter()
            .flat_map(ConversationFact::times)
            .chain(surveys.into_iter().map(|s| s.sent_at))
            .map(|t| local_day(tz, t))
            .collect()
    }
}

/// Whether a place's surveys follow answers sent in it and its ratings and comments rate
/// surveys sent in it (see the module's documentation).
fn is_regular(events: &[Event], tl: &Timeline) -> bool {
    let agent_messages: HashSet<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::AgentMessage)
        .map(|e| e.id.as_str())
        .collect();
    let sent: HashSet<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SurveySent { survey_id, .. } => Some(survey_id.as_str()),
            _ => None,
        })
        .collect();
    tl.surveys
        .iter()
        .all(|s| agent_messages.contains(s.answer_message_id.as_str()))
        && events.iter().all(|e| match &e.kind {
            EventKind::Rating { survey_id, .. } | EventKind::Comment { survey_id, .. } => {
                sent.contains(survey_id.as_str())
            }
            _ => true,
        })
}

/// A replayed place's conversations with their messages, requests and answering agents,
/// sorted by id.
fn conversation_facts(tl: &Timeline, rules: &GuildRules) -> Vec<ConversationFact> {
    let mut conversations: Vec<ConversationFact> = tl
        .conversations
        .iter()
        .map(|c| ConversationFact {
            id: c.opened_by.clone(),
            opened_at: c.opened_at,
            messages: Vec::new(),
            requests: Vec::new(),
            agents: BTreeSet::new(),
            ends: FactEnds {
                close_at: c.close.as_ref().map(|close| close.at),
                auto_close_at: c.auto_close_at,
                lapses_at: c.lapses_at,
            },
        })
        .collect();
    for m in &tl.customer_messages {
        conversations[m.conversation].messages.push(m.at);
    }
    for r in &tl.requests {
        let c = &mut conversations[r.conversation];
        if let Some(a) = &r.answer {
            c.agents.insert(a.agent_id.clone());
        }
        c.requests.push(RequestFact {
            start: r.start,
            start_id: r.start_id.clone(),
            answer_at: r.answer.as_ref().map(|a| a.at),
            agent_id: r.answer.as_ref().map(|a| a.agent_id.clone()),
            is_first: r.is_first,
            business_ms: r.answer.as_ref().map(|a| {
                rules
                    .business_hours
                    .overlap_ms(&rules.timezone, r.start, a.at)
            }),
        });
    }
    for c in &mut conversations {
        c.messages.sort_unstable();
        c.requests.sort();
    }
    conversations.sort_by(|a, b| a.id.cmp(&b.id));
    conversations
}

/// The items of `old` and of `new` that are not the same, by `key`, on either side: those
/// changed (both versions), removed and added.
fn changed<'a, T: PartialEq>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> &String,
) -> Vec<&'a T> {
    let index = |list: &'a [T]| -> HashMap<&'a String, &'a T> {
        list.iter().map(|x| (key(x), x)).collect()
    };
    let (a, b) = (index(old), index(new));
    let differs = |from: &HashMap<&'a String, &'a T>, to: &HashMap<&'a String, &'a T>| {
        from.iter()
            .filter(|(k, x)| to.get(*k) != Some(*x))
            .map(|(_, x)| *x)
            .collect::<Vec<_>>()
    };
    let mut out = differs(&a, &b);
    out.extend(differs(&b, &a));
    out
}

/// The per-agent figures of a window from each agent's part: the agents with an answer
/// within the deadline or a survey in it, sorted like `kpi::agents`.
/// The per-agent table: each agent's counts with the statistics of their response delays.
pub fn agent_figures(parts: BTreeMap<String, (Part, DelayStats)>) -> Vec<AgentFigures> {
    let mut out: Vec<AgentFigures> = parts
        .into_iter()
        .filter(|(_, (p, _))| p.answered > 0 || p.surveys_sent > 0)
        .map(|(agent_id, (p, response_delay))| AgentFigures {
            agent_id,
            answered: p.answered,
            response_delay,
            surveys_sent: p.surveys_sent,
            ratings: p.ratings,
            rating_sum: p.rating_sum,
            satisfied: p.satisfied,
        })
        .collect();
    out.sort_by(|a, b| {
        b.answered
            .cmp(&a.answered)
            .then_with(|| super::cmp_ids(&a.agent_id, &b.agent_id))
    });
    out
}

/// The rules a guild's facts and day parts depend on: changing any of them rebuilds both.
/// Auto-close ends conversations (and so opens the next ones); the service-level targets and
/// clock are read at report time, but a change of them re-derives too, so that no report ever
/// mixes facts of two settings (and a rebuild is what an operator expects of a change).
pub fn rules_affect_rollups(a: &GuildRules, b: &GuildRules) -> bool {
    a.idle_ms != b.idle_ms
        || a.deadline_ms != b.deadline_ms
        || a.survey_close_ms != b.survey_close_ms
        || a.timezone != b.timezone
        || a.business_hours != b.business_hours
        || a.sla.auto_close != b.sla.auto_close
        || a.sla.first_response != b.sla.first_response
        || a.sla.next_response != b.sla.next_response
        || a.sla.resolution != b.sla.resolution
        || a.sla.clock != b.sla.clock
}

/// A day as stored in the rollup tables: `YYYY-MM-DD`, which sorts like the days.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub fn parse_day_key(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(key, "%Y-%m-%d").ok()
}
