//! The figures of docs/kpi.md over a window, from a replayed `Timeline`.

use super::settings::{BadgeRule, BadgeStatistic, GuildRules};
use super::sla::{self, ServiceLevels};
use super::stats::DelayStats;
use super::timeline::{Request, Survey, Timeline};
use super::{Millis, DAY};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashSet};

/// A report window `[from, to)` evaluated at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Millis,
    pub to: Millis,
    pub now: Millis,
}

impl Window {
    pub fn contains(&self, t: Millis) -> bool {
        self.from <= t && t < self.to && t <= self.now
    }

    /// The `days` days before `now`, evaluated at `now`.
    pub fn last_days(now: Millis, days: i64) -> Window {
        Window {
            from: now - days * DAY,
            to: now,
            now,
        }
    }

    /// The window of the same length that ends at `from`, evaluated at the same `now`.
    pub fn previous(&self) -> Window {
        Window {
            from: self.from - (self.to - self.from),
            to: self.from,
            now: self.now,
        }
    }
}

/// What a report is restricted to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub guild_id: Option<String>,
    /// Only this agent's answers (see `figures` for what that means for each figure).
    pub agent_id: Option<String>,
    /// Only these conversation keys (e.g. the conversations of one channel).
    pub conversations: Option<HashSet<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Answered,
    Unanswered,
    Pending,
}

/// A request's status at `now` under `deadline`.
pub fn status(req: &Request, deadline: Millis, now: Millis) -> RequestStatus {
    match req.delay() {
        Some(d) if d <= deadline => RequestStatus::Answered,
        _ if req.start + deadline <= now => RequestStatus::Unanswered,
        _ => RequestStatus::Pending,
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    pub window: Option<Window>,
    pub messages_received: u64,
    pub conversations: u64,
    pub requests: u64,
    pub answered: u64,
    pub unanswered: u64,
    pub pending: u64,
    pub response_delay: DelayStats,
    pub business_hours_delay: DelayStats,
    pub first_response: DelayStats,
    pub surveys_sent: u64,
    pub ratings: u64,
    pub rating_sum: u64,
    pub satisfied: u64,
}

/// An exact fraction, so threshold comparisons never suffer float rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

impl Ratio {
    pub fn new(num: u64, den: u64) -> Option<Ratio> {
        (den > 0).then_some(Ratio { num, den })
    }
    pub fn value(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl Figures {
    pub fn response_rate(&self) -> Option<Ratio> {
        Ratio::new(self.answered, self.answered + self.unanswered)
    }
    pub fn survey_response_rate(&self) -> Option<Ratio> {
        Ratio::new(self.ratings, self.surveys_sent)
    }
    pub fn average_rating(&self) -> Option<f64> {
        Ratio::new(self.rating_sum, self.ratings).map(Ratio::value)
    }
    pub fn csat(&self) -> Option<Ratio> {
        Ratio::new(self.satisfied, self.ratings)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentFigures {
    pub agent_id: String,
    pub answered: u64,
    pub response_delay: DelayStats,
    pub surveys_sent: u64,
    pub ratings: u64,
    pub rating_sum: u64,
    pub satisfied: u64,
}

impl AgentFigures {
    pub fn average_rating(&self) -> Option<f64> {
        Ratio::new(self.rating_sum, self.ratings).map(Ratio::value)
    }
    pub fn csat(&self) -> Option<Ratio> {
        Ratio::new(self.satisfied, self.ratings)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BadgeFailure {
    /// The response rate is below the threshold by `short_by` (a fraction).
    ResponseRate {
        actual: f64,
        required: f64,
        short_by: f64,
    },
    /// The delay statistic is not under the threshold; `over_by_ms` is how far above (0 at it).
    Delay {
        actual_ms: f64,
        limit_ms: Millis,
        over_by_ms: f64,
    },
    /// Nothing to compute the rate from (no answered or unanswered request in the window).
    NoResponseRate,
    /// No answered request in the window, so no delay.
    NoDelay,
}

impl BadgeFailure {
    pub fn code(&self) -> &'static str {
        match self {
            BadgeFailure::ResponseRate { .. } => "response_rate",
            BadgeFailure::Delay { .. } => "response_delay",
            BadgeFailure::NoResponseRate => "no_response_rate",
            BadgeFailure::NoDelay => "no_response_delay",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    pub awarded: bool,
    pub window: Window,
    pub response_rate: Option<Ratio>,
    pub delay_ms: Option<f64>,
    pub statistic: BadgeStatistic,
    pub rule: BadgeRule,
    pub failing: Vec<BadgeFailure>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadAlert {
    pub requests_growth: f64,
    pub rate_drop_points: Option<f64>,
    pub mean_growth: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DayPoint {
    pub day: NaiveDate,
    pub messages_received: u64,
    pub requests: u64,
    pub answered: u64,
    pub median_delay_ms: Option<Millis>,
    pub surveys_sent: u64,
    pub ratings: u64,
    pub csat: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub window: Window,
    pub scope: Scope,
    pub current: Figures,
    pub previous: Figures,
    pub badge: Badge,
    pub load_alert: Option<LoadAlert>,
    pub agents: Vec<AgentFigures>,
    pub daily: Vec<DayPoint>,
    pub timezone: Tz,
    /// Business-hours delays are only meaningful when some guild in scope has hours set.
    pub business_hours_set: bool,
    /// Service levels, resolution and the heatmaps. Every report reactif builds carries them,
    /// replayed or from the rollups; the renderers leave their fields out of one that does not
    /// (kept optional so that other features' hand-made reports need not invent them).
    pub service_levels: Option<ServiceLevels>,
}

/// Everything a report needs besides the timeline: each guild's rules.
pub struct Rules<'a> {
    pub lookup: &'a dyn Fn(&str) -> &'a GuildRules,
    /// Rules for a report over several guilds (badge thresholds, time zone of the daily series).
    pub report: &'a GuildRules,
}

fn in_scope_guild(scope: &Scope, guild: &str) -> bool {
    scope.guild_id.as_deref().is_none_or(|g| g == guild)
}

fn in_scope_place(scope: &Scope, tl: &Timeline, conversation: usize) -> bool {
    let c = &tl.conversations[conversation];
    in_scope_guild(scope, &c.guild_id)
        && scope
            .conversations
            .as_ref()
            .is_none_or(|set| set.contains(&c.key))
}

/// Which conversations and requests of a timeline a scope keeps. With an agent in scope: the
/// requests whose answer that agent sent, and the conversations in which the agent answered.
pub(crate) struct InScope<'a> {
    tl: &'a Timeline,
    scope: &'a Scope,
    agent_conversations: Option<HashSet<usize>>,
}

impl<'a> InScope<'a> {
    pub(crate) fn new(tl: &'a Timeline, scope: &'a Scope) -> InScope<'a> {
        let agent_conversations = scope.agent_id.as_ref().map(|agent| {
            tl.requests
                .iter()
                .filter(|r| r.answer.as_ref().is_some_and(|a| &a.agent_id == agent))
                .map(|r| r.conversation)
                .collect()
        });
        InScope {
            tl,
            scope,
            agent_conversations,
        }
    }

    pub(crate) fn conversation(&self, c: usize) -> bool {
        in_scope_place(self.scope, self.tl, c)
            && self
                .agent_conversations
                .as_ref()
                .is_none_or(|s| s.contains(&c))
    }

    pub(crate) fn request(&self, r: &Request) -> bool {
        in_scope_place(self.scope, self.tl, r.conversation)
            && self
                .scope
                .agent_id
                .as_ref()
                .is_none_or(|agent| r.answer.as_ref().is_some_and(|a| &a.agent_id == agent))
    }
}

fn survey_in_scope(scope: &Scope, s: &Survey) -> bool {
    in_scope_guild(scope, &s.guild_id)
        && scope
            .conversations
            .as_ref()
            .is_none_or(|set| set.contains(&s.key))
        && scope
            .agent_id
            .as_ref()
            .is_none_or(|a| s.agent_id.as_ref() == Some(a))
}

/// The figures of one window.
///
/// With an agent in scope, request figures count the requests whose answer that agent sent
/// (answered within the deadline, or late: unanswered; nothing is pending), conversations and
/// messages those of the conversations in which the agent answered, first response the
/// conversations whose first request the agent answered, surveys those credited to the agent.
pub fn figures(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> Figures {
    let mut f = Figures {
        window: Some(w),
        ..Figures::default()
    };
    let keep = InScope::new(tl, scope);
    let conv_ok = |c: usize| keep.conversation(c);
    let req_ok = |r: &Request| keep.request(r);

    f.messages_received = tl
        .customer_messages
        .iter()
        .filter(|m| w.contains(m.at) && conv_ok(m.conversation))
        .count() as u64;
    f.conversations = tl
        .conversations
        .iter()
        .enumerate()
        .filter(|(i, c)| w.contains(c.opened_at) && conv_ok(*i))
        .count() as u64;

    let mut delays = Vec::new();
    let mut bh_delays = Vec::new();
    let mut first = Vec::new();
    for r in tl
        .requests
        .iter()
        .filter(|r| w.contains(r.start) && req_ok(r))
    {
        let g = (rules.lookup)(&r.guild_id);
        f.requests += 1;
        match status(r, g.deadline_ms, w.now) {
            RequestStatus::Answered => {
                f.answered += 1;
                let answer = r.answer.as_ref().map_or(r.start, |a| a.at);
                delays.push(answer - r.start);
                bh_delays.push(g.business_hours.overlap_ms(&g.timezone, r.start, answer));
                if r.is_first {
                    first.push(answer - r.start);
                }
            }
            RequestStatus::Unanswered => f.unanswered += 1,
            RequestStatus::Pending => f.pending += 1,
        }
    }
    f.response_delay = DelayStats::from_values(delays);
    f.business_hours_delay = DelayStats::from_values(bh_delays);
    f.first_response = DelayStats::from_values(first);

    for s in tl
        .surveys
        .iter()
        .filter(|s| s.counts_as_sent() && w.contains(s.sent_at) && survey_in_scope(scope, s))
    {
        f.surveys_sent += 1;
        if let Some(r) = s.rating {
            f.ratings += 1;
            f.rating_sum += r.get() as u64;
            f.satisfied += r.is_satisfied() as u64;
        }
    }
    f
}

/// Per-agent figures in the window, sorted by answered (most first), then agent id.
pub fn agents(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> Vec<AgentFigures> {
    let mut delays: BTreeMap<&str, Vec<Millis>> = BTreeMap::new();
    for r in tl
        .requests
        .iter()
        .filter(|r| w.contains(r.start) && in_scope_place(scope, tl, r.conversation))
    {
        let g = (rules.lookup)(&r.guild_id);
        if let (RequestStatus::Answered, Some(a)) = (status(r, g.deadline_ms, w.now), &r.answer) {
            if scope.agent_id.as_ref().is_none_or(|x| x == &a.agent_id) {
                delays
                    .entry(a.agent_id.as_str())
                    .or_default()
                    .push(a.at - r.start);
            }
        }
    }
    let mut surveys: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new();
    for s in tl
        .surveys
        .iter()
        .filter(|s| s.counts_as_sent() && w.contains(s.sent_at) && survey_in_scope(scope, s))
    {
        let Some(agent) = s.agent_id.as_deref() else {
            continue;
        };
        let e = surveys.entry(agent).or_default();
        e.0 += 1;
        if let Some(r) = s.rating {
            e.1 += 1;
            e.2 += r.get() as u64;
            e.3 += r.is_satisfied() as u64;
        }
    }
    let ids: std::collections::BTreeSet<&str> =
        delays.keys().chain(surveys.keys()).copied().collect();
    let mut out: Vec<AgentFigures> = ids
        .into_iter()
        .map(|id| {
            let d = delays.remove(id).unwrap_or_default();
            let (sent, ratings, sum, satisfied) = surveys.get(id).copied().unwrap_or_default();
            AgentFigures {
                agent_id: id.to_string(),
                answered: d.len() as u64,
                response_delay: DelayStats::from_values(d),
                surveys_sent: sent,
                ratings,
                rating_sum: sum,
                satisfied,
            }
        })
        .collect();
    sort_agents(&mut out);
    out
}

/// KPI.md's order: by answered, most first, then by agent id.
pub fn sort_agents(agents: &mut [AgentFigures]) {
    agents.sort_by(|a, b| {
        b.answered
            .cmp(&a.answered)
            .then_with(|| super::cmp_ids(&a.agent_id, &b.agent_id))
    });
}

/// The window of the "Very responsive" badge: `[now - window, now)`.
pub fn badge_window(rule: &BadgeRule, now: Millis) -> Window {
    Window {
        from: now - rule.window_ms,
        to: now,
        now,
    }
}

/// The "Very responsive" badge over `[now - window, now)`.
pub fn badge(tl: &Timeline, rules: &Rules, scope: &Scope, now: Millis) -> Badge {
    let w = badge_window(&rules.report.badge, now);
    badge_of(&rules.report.badge, w, &figures(tl, rules, scope, w))
}

/// The badge decided from the figures `f` of its window `w`.
pub fn badge_of(rule: &BadgeRule, w: Window, f: &Figures) -> Badge {
    let rule = rule.clone();
    let rate = f.response_rate();
    let stat = &f.response_delay;
    let delay = match rule.statistic {
        BadgeStatistic::Mean => stat.mean,
        BadgeStatistic::Median => stat.median.map(|m| m as f64),
    };
    let delay_ok = match rule.statistic {
        BadgeStatistic::Mean => stat.mean_below(rule.max_delay_ms),
        BadgeStatistic::Median => stat.median.map(|m| m < rule.max_delay_ms),
    };
    let mut failing = Vec::new();
    match rate {
        None => failing.push(BadgeFailure::NoResponseRate),
        // rate >= bp / 10000, in integers.
        Some(r) if (r.num as u128) * 10_000 < (rule.min_rate_bp as u128) * (r.den as u128) => {
            let required = rule.min_rate_bp as f64 / 10_000.0;
            failing.push(BadgeFailure::ResponseRate {
                actual: r.value(),
                required,
                short_by: required - r.value(),
            })
        }
        Some(_) => {}
    }
    match (delay, delay_ok) {
        (Some(d), Some(false)) => failing.push(BadgeFailure::Delay {
            actual_ms: d,
            limit_ms: rule.max_delay_ms,
            over_by_ms: d - rule.max_delay_ms as f64,
        }),
        (Some(_), Some(true)) => {}
        _ => failing.push(BadgeFailure::NoDelay),
    }
    Badge {
        awarded: failing.is_empty(),
        window: w,
        response_rate: rate,
        delay_ms: delay,
        statistic: rule.statistic,
        rule,
        failing,
    }
}

/// "Load is rising while responsiveness falls: add agents", decided in exact arithmetic.
pub fn load_alert(cur: &Figures, prev: &Figures) -> Option<LoadAlert> {
    if prev.requests == 0 {
        return None;
    }
    // requests >= 1.2 * previous.requests
    if cur.requests * 5 < prev.requests * 6 {
        return None;
    }
    // previous.rate - rate >= 0.05, i.e. 20 * (pa * d - a * pd) >= pd * d
    let rate_fell = match (prev.response_rate(), cur.response_rate()) {
        (Some(p), Some(c)) => {
            let lhs = 20 * (p.num as i128 * c.den as i128 - c.num as i128 * p.den as i128);
            lhs >= p.den as i128 * c.den as i128
        }
        _ => false,
    };
    // mean >= 1.2 * previous.mean, i.e. 5 * sum * pn >= 6 * psum * n
    let (c, p) = (&cur.response_delay, &prev.response_delay);
    let slower = c.count > 0 && p.count > 0 && {
        5 * c.sum * p.count as i128 >= 6 * p.sum * c.count as i128
    };
    if !(rate_fell || slower) {
        return None;
    }
    Some(LoadAlert {
        requests_growth: cur.requests as f64 / prev.requests as f64 - 1.0,
        rate_drop_points: match (prev.response_rate(), cur.response_rate()) {
            (Some(p), Some(c)) => Some((p.value() - c.value()) * 100.0),
            _ => None,
        },
        mean_growth: match (c.mean, p.mean) {
            (Some(cm), Some(pm)) if pm > 0.0 => Some(cm / pm - 1.0),
            _ => None,
        },
    })
}

/// Midnight of a local day in `tz`, as UTC milliseconds (the first instant of the day where
/// midnight does not exist).
pub fn local_midnight(tz: &Tz, day: NaiveDate) -> Millis {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.timestamp_millis(),
        chrono::LocalResult::Ambiguous(t, _) => t.timestamp_millis(),
        chrono::LocalResult::None => {
            let mut probe = naive;
            for _ in 0..24 * 60 {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.timestamp_millis();
                }
            }
            naive.and_utc().timestamp_millis()
        }
    }
}

pub fn local_day(tz: &Tz, t: Millis) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(t)
        .unwrap_or_default()
        .with_timezone(tz)
        .date_naive()
}

/// The daily series of the window, by calendar day in `tz`.
pub fn daily(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window, tz: &Tz) -> Vec<DayPoint> {
    if w.to <= w.from {
        return Vec::new();
    }
    let first = local_day(tz, w.from);
    let last = local_day(tz, w.to - 1);
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        let next = day + Duration::days(1);
        let dw = Window {
            from: local_midnight(tz, day).max(w.from),
            to: local_midnight(tz, next).min(w.to),
            now: w.now,
        };
        let f = figures(tl, rules, scope, dw);
        out.push(DayPoint {
            day,
            messages_received: f.messages_received,
            requests: f.requests,
            answered: f.answered,
            median_delay_ms: f.response_delay.median,
            surveys_sent: f.surveys_sent,
            ratings: f.ratings,
            csat: f.csat().map(Ratio::value),
        });
        day = next;
    }
    out
}

/// The window of the daily series. It covers the previous window too, so a chart shows the
/// trend into this one; over years it would be unreadable and slow, so it stops at 366 days.
pub fn series_window(w: Window) -> Window {
    Window {
        from: w.previous().from.max(w.to - 366 * DAY),
        ..w
    }
}

/// The whole report: the window, the previous window, the badge at `now`, the load alert, the
/// agents and the daily series.
pub fn report(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> Report {
    let current = figures(tl, rules, scope, w);
    let previous = figures(tl, rules, scope, w.previous());
    let tz = rules.report.timezone;
    let series_window = series_window(w);
    let service_levels = sla::service_levels(tl, rules, scope, w);
    let mut agents = agents(tl, rules, scope, w);
    sla::list_credited_agents(&mut agents, &service_levels);
    Report {
        window: w,
        scope: scope.clone(),
        badge: badge(tl, rules, scope, w.now),
        load_alert: load_alert(&current, &previous),
        agents,
        daily: daily(tl, rules, scope, series_window, &tz),
        current,
        previous,
        timezone: tz,
        business_hours_set: !rules.report.business_hours.is_always(),
        service_levels: Some(service_levels),
    }
}
