//! Service levels, resolution and the traffic heatmap of docs/kpi.md ("Service levels (SLA) and
//! resolution"), from a replayed `Timeline`.
//!
//! Requests are measured against their guild's `first_response` or `next_response` target,
//! conversations against its `resolution` target, each on the guild's SLA clock (calendar time,
//! or the business-hours part of it). A target that is off counts nothing.

use super::kpi::{status, AgentFigures, InScope, Ratio, RequestStatus, Rules, Scope, Window};
use super::settings::{GuildRules, SlaClock, SlaRules};
use super::stats::{nearest_rank, DelayStats};
use super::timeline::{Conversation, End, Request, Timeline};
use super::Millis;
use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaStatus {
    Met,
    Missed,
    /// Neither yet: left out of the attainment.
    InProgress,
}

/// The time from `from` to `to` on the guild's SLA clock.
pub fn sla_ms(g: &GuildRules, from: Millis, to: Millis) -> Millis {
    match g.sla.clock {
        SlaClock::Calendar => (to - from).max(0),
        SlaClock::Business => g.business_hours.overlap_ms(&g.timezone, from, to),
    }
}

/// The target a request is measured against: its conversation's first, or a next one.
pub fn request_target(r: &Request, sla: &SlaRules) -> Option<Millis> {
    if r.is_first {
        sla.first_response
    } else {
        sla.next_response
    }
}

/// A request's standing against its target at `now`; `None` where its guild sets no target.
/// An answer at any time meets or misses; without one, the SLA clock runs to `now`, even
/// once the conversation has been closed or has lapsed.
pub fn request_status(r: &Request, g: &GuildRules, now: Millis) -> Option<SlaStatus> {
    let target = request_target(r, &g.sla)?;
    Some(match &r.answer {
        Some(a) if sla_ms(g, r.start, a.at) <= target => SlaStatus::Met,
        Some(_) => SlaStatus::Missed,
        None if sla_ms(g, r.start, now) > target => SlaStatus::Missed,
        None => SlaStatus::InProgress,
    })
}

/// A conversation's standing against the resolution target at `now`; `None` without one.
pub fn resolution_status(c: &Conversation, g: &GuildRules, now: Millis) -> Option<SlaStatus> {
    let target = g.sla.resolution?;
    Some(match c.end(now) {
        End::Closed(close) if sla_ms(g, c.opened_at, close.at) <= target => SlaStatus::Met,
        End::Closed(_) | End::Lapsed { .. } => SlaStatus::Missed,
        End::Open if sla_ms(g, c.opened_at, now) > target => SlaStatus::Missed,
        End::Open => SlaStatus::InProgress,
    })
}

/// One kind of target over a window: `{target_ms, met, missed, in_progress, attainment}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attainment {
    /// The target; over several guilds, their common target, `None` when they differ.
    pub target_ms: Option<Millis>,
    pub met: u64,
    pub missed: u64,
    pub in_progress: u64,
}

impl Attainment {
    /// `met / (met + missed)`; `None` when both are 0.
    pub fn attainment(&self) -> Option<Ratio> {
        Ratio::new(self.met, self.met + self.missed)
    }

    fn count(&mut self, s: SlaStatus) {
        match s {
            SlaStatus::Met => self.met += 1,
            SlaStatus::Missed => self.missed += 1,
            SlaStatus::InProgress => self.in_progress += 1,
        }
    }
}

/// The service-level figures of one window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceFigures {
    pub first_response: Attainment,
    pub next_response: Attainment,
    pub resolution: Attainment,
    /// Conversations opened in the window, by how they stand at `now`.
    pub resolved: u64,
    pub lapsed: u64,
    pub open: u64,
    /// From opening to close of the resolved ones, on the SLA clock.
    pub resolution_time: DelayStats,
}

/// An agent's met and missed answers (`in_progress` stays 0: an answer is never in progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgentService {
    pub first_response: Attainment,
    pub next_response: Attainment,
}

impl AgentService {
    fn counted(&self) -> u64 {
        self.first_response.met
            + self.first_response.missed
            + self.next_response.met
            + self.next_response.missed
    }
}

/// Requests by local weekday (0 = Monday) and hour, and the median response delay by hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// The guild's time zone; UTC over several guilds.
    pub timezone: Tz,
    pub requests: [[u64; 24]; 7],
    /// Nearest-rank median of the calendar delays of requests answered within `deadline`,
    /// by the local hour of their start.
    pub median_delay_ms_by_hour: [Option<Millis>; 24],
}

/// What a report says about service levels.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceLevels {
    /// The guilds' common SLA clock; `None` when guilds in the report differ.
    pub clock: Option<SlaClock>,
    pub current: ServiceFigures,
    pub previous: ServiceFigures,
    /// Per agent, over the window: only agents credited with a met or missed answer.
    pub agents: BTreeMap<String, AgentService>,
    pub heatmap: Heatmap,
    /// The previous window's, for the arrows (KPI.md gives `previous` every figure).
    pub previous_heatmap: Heatmap,
}

/// The guilds whose settings a report's targets, clock and heatmap time zone are read from:
/// the scope's guild, or every guild with an event up to `now` (the report's own rules when
/// there is none).
fn guild_rules<'r>(tl: &Timeline, rules: &Rules<'r>, scope: &Scope) -> Vec<&'r GuildRules> {
    if let Some(g) = &scope.guild_id {
        return vec![(rules.lookup)(g)];
    }
    let guilds: BTreeSet<&str> = tl
        .guilds
        .iter()
        .map(String::as_str)
        .chain(tl.conversations.iter().map(|c| c.guild_id.as_str()))
        .collect();
    if guilds.is_empty() {
        return vec![rules.report];
    }
    guilds.into_iter().map(|g| (rules.lookup)(g)).collect()
}

/// The value every guild has, `None` when they differ (or have none).
fn common<T: PartialEq + Copy>(
    guilds: &[&GuildRules],
    pick: impl Fn(&GuildRules) -> T,
) -> Option<T> {
    let first = pick(guilds.first()?);
    guilds.iter().all(|g| pick(g) == first).then_some(first)
}

/// The service-level figures of window `w`.
pub fn figures(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> ServiceFigures {
    let guilds = guild_rules(tl, rules, scope);
    let target = |pick: fn(&SlaRules) -> Option<Millis>| Attainment {
        target_ms: common(&guilds, |g| pick(&g.sla)).flatten(),
        ..Attainment::default()
    };
    let mut f = ServiceFigures {
        first_response: target(|s| s.first_response),
        next_response: target(|s| s.next_response),
        resolution: target(|s| s.resolution),
        ..ServiceFigures::default()
    };
    let keep = InScope::new(tl, scope);
    for r in tl
        .requests
        .iter()
        .filter(|r| w.contains(r.start) && keep.request(r))
    {
        let g = (rules.lookup)(&r.guild_id);
        if let Some(s) = request_status(r, g, w.now) {
            match r.is_first {
                true => f.first_response.count(s),
                false => f.next_response.count(s),
            }
        }
    }
    let mut times = Vec::new();
    for (i, c) in tl.conversations.iter().enumerate() {
        if !(w.contains(c.opened_at) && keep.conversation(i)) {
            continue;
        }
        let g = (rules.lookup)(&c.guild_id);
        match c.end(w.now) {
            End::Closed(close) => {
                f.resolved += 1;
                times.push(sla_ms(g, c.opened_at, close.at));
            }
            End::Lapsed { .. } => f.lapsed += 1,
            End::Open => f.open += 1,
        }
        if let Some(s) = resolution_status(c, g, w.now) {
            f.resolution.count(s);
        }
    }
    f.resolution_time = DelayStats::from_values(times);
    f
}

/// Each agent's met and missed answers to requests started in `w`, whatever their delay.
pub fn agents(
    tl: &Timeline,
    rules: &Rules,
    scope: &Scope,
    w: Window,
) -> BTreeMap<String, AgentService> {
    let keep = InScope::new(tl, scope);
    let mut out: BTreeMap<String, AgentService> = BTreeMap::new();
    for r in tl
        .requests
        .iter()
        .filter(|r| w.contains(r.start) && keep.request(r))
    {
        let (Some(a), g) = (&r.answer, (rules.lookup)(&r.guild_id)) else {
            continue;
        };
        if let Some(s) = request_status(r, g, w.now) {
            let e = out.entry(a.agent_id.clone()).or_default();
            match r.is_first {
                true => e.first_response.count(s),
                false => e.next_response.count(s),
            }
        }
    }
    out
}

/// The heatmap of `w`: in the time zone of the report's guild (the scope's, or the only one
/// with a conversation, as for the targets), or UTC over several guilds.
pub fn heatmap(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> Heatmap {
    let timezone = match guild_rules(tl, rules, scope).as_slice() {
        [one] => one.timezone,
        _ => Tz::UTC,
    };
    let mut requests = [[0u64; 24]; 7];
    let mut delays: [Vec<Millis>; 24] = Default::default();
    let keep = InScope::new(tl, scope);
    for r in tl
        .requests
        .iter()
        .filter(|r| w.contains(r.start) && keep.request(r))
    {
        let Some(local) = chrono::DateTime::from_timestamp_millis(r.start) else {
            continue;
        };
        let local = local.with_timezone(&timezone);
        let (day, hour) = (
            local.weekday().num_days_from_monday() as usize,
            local.hour() as usize,
        );
        requests[day][hour] += 1;
        let g = (rules.lookup)(&r.guild_id);
        if let (RequestStatus::Answered, Some(d)) = (status(r, g.deadline_ms, w.now), r.delay()) {
            delays[hour].push(d);
        }
    }
    let median_delay_ms_by_hour = delays.map(|mut d| {
        d.sort_unstable();
        nearest_rank(&d, 50)
    });
    Heatmap {
        timezone,
        requests,
        median_delay_ms_by_hour,
    }
}

/// Everything a report says about service levels over `w` and the window before it.
pub fn service_levels(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> ServiceLevels {
    ServiceLevels {
        clock: common(&guild_rules(tl, rules, scope), |g| g.sla.clock),
        current: figures(tl, rules, scope, w),
        previous: figures(tl, rules, scope, w.previous()),
        agents: agents(tl, rules, scope, w),
        heatmap: heatmap(tl, rules, scope, w),
        previous_heatmap: heatmap(tl, rules, scope, w.previous()),
    }
}

/// Adds to the report's agents those credited only with met or missed answers (a late answer
/// that missed its target, say): a miss credited to an agent shows against that agent.
pub fn list_credited_agents(agents: &mut Vec<AgentFigures>, s: &ServiceLevels) {
    let listed: BTreeSet<String> = agents.iter().map(|a| a.agent_id.clone()).collect();
    let extra: Vec<AgentFigures> = s
        .agents
        .iter()
        .filter(|(id, a)| a.counted() > 0 && !listed.contains(*id))
        .map(|(id, _)| AgentFigures {
            agent_id: id.clone(),
            answered: 0,
            response_delay: DelayStats::default(),
            surveys_sent: 0,
            ratings: 0,
            rating_sum: 0,
            satisfied: 0,
        })
        .collect();
    if !extra.is_empty() {
        agents.extend(extra);
        super::kpi::sort_agents(agents);
    }
}
