//! Keeping the rollups of `domain::rollup` up to date, and building reports from them.
//!
//! Writes only mark places dirty (in the transaction that stores their events). `refresh`
//! derives the facts of dirty places, then sums the parts of the days those facts changed. The
//! bot refreshes every second, an import once it has stored its file, and a report refreshes
//! its own guild first, so a report never reads stale parts.

use super::Desk;
use crate::domain::kpi::{self, local_day, local_midnight, Report, Scope, Window};
use crate::domain::rollup::{self, day_key, parse_day_key, Part, Piece, PlaceFacts};
use crate::domain::{Event, GuildRules, Millis};
use crate::store::{FactsUpdate, Result};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, HashMap};

/// Places, or days, per round of a refresh.
const REFRESH_BATCH: i64 = 500;
/// A refresh stops after this many rounds that wrote nothing (another process is refreshing
/// the same places) or this many rounds in all (new events keep coming): what is left is
/// newer than the call and the next refresh takes it.
const IDLE_ROUNDS: u32 = 3;
const MAX_ROUNDS: u32 = 10_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshSummary {
    pub places: u64,
    pub days: u64,
}

impl Desk {
    /// Brings the facts and day parts of one guild (or all) up to date with the stored events.
    /// `progress` is told how many places and days were done.
    pub async fn refresh(
        &self,
        guild: Option<&str>,
        progress: &(dyn Fn(RefreshSummary) + Sync),
    ) -> Result<RefreshSummary> {
        let mut summary = RefreshSummary::default();
        let mut rules: HashMap<String, GuildRules> = HashMap::new();
        let (mut idle, mut rounds) = (0, 0);
        while idle < IDLE_ROUNDS && rounds < MAX_ROUNDS {
            rounds += 1;
            let dirty = self.store.dirty_places(guild, REFRESH_BATCH).await?;
            if dirty.is_empty() {
                break;
            }
            let mut updates = Vec::with_capacity(dirty.len());
            let mut by_guild: BTreeMap<&str, Vec<&crate::store::DirtyPlace>> = BTreeMap::new();
            for d in &dirty {
                by_guild.entry(d.guild_id.as_str()).or_default().push(d);
            }
            for (g, places) in by_guild {
                if !rules.contains_key(g) {
                    rules.insert(g.to_string(), self.store.guild_rules(g).await?);
                }
                let r = &rules[g];
                let names: Vec<String> = places.iter().map(|d| d.conversation.clone()).collect();
                let mut events: HashMap<String, Vec<Event>> = HashMap::new();
                for e in self.store.events_of_places(g, &names).await? {
                    events.entry(e.conversation.clone()).or_default().push(e);
                }
                let mut old = self.store.place_facts(g, &names).await?;
                for d in places {
                    let evs = events.remove(&d.conversation).unwrap_or_default();
                    let (facts, regular) = PlaceFacts::derive(&evs, r);
                    let before = old.remove(&d.conversation).unwrap_or_default();
                    let days = PlaceFacts::changed_days(&before, &facts, &r.timezone)
                        .into_iter()
                        .map(day_key)
                        .collect();
                    updates.push(FactsUpdate {
                        place: d.clone(),
                        facts,
                        days,
                        regular,
                    });
                }
            }
            let written = self.store.write_place_facts(&updates).await?;
            summary.places += written as u64;
            idle = if written == 0 { idle + 1 } else { 0 };
            progress(summary);
        }
        let (mut idle, mut rounds) = (0, 0);
        while idle < IDLE_ROUNDS && rounds < MAX_ROUNDS {
            rounds += 1;
            let dirty = self.store.dirty_days(guild, REFRESH_BATCH).await?;
            if dirty.is_empty() {
                break;
            }
            let mut written = 0;
            for d in &dirty {
                if !rules.contains_key(&d.guild_id) {
                    let r = self.store.guild_rules(&d.guild_id).await?;
                    rules.insert(d.guild_id.clone(), r);
                }
                let r = &rules[&d.guild_id];
                let Some(day) = parse_day_key(&d.day) else {
                    continue;
                };
                let (from, to) = day_range(r, day);
                let mut piece = self
                    .store
                    .kpi_piece(&d.guild_id, from, to, r.deadline_ms, None)
                    .await?;
                piece.sort();
                if self.store.write_day(d, &piece).await? {
                    written += 1;
                }
            }
            summary.days += written;
            idle = if written == 0 { idle + 1 } else { 0 };
            progress(summary);
        }
        Ok(summary)
    }

    /// The report of one guild (or one of its agents) from the rollups, or `None` where they
    /// cannot stand for a replay: a report over several guilds or some channels, a guild whose
    /// places cannot be replayed alone, or `now` before the guild's newest event (the facts
    /// know what happened after it).
    pub async fn rollup_report(&self, scope: &Scope, w: Window) -> Result<Option<Report>> {
        let Some(guild) = scope.guild_id.as_deref() else {
            return Ok(None);
        };
        if scope.conversations.is_some() {
            return Ok(None);
        }
        // Irregular places may be so only until their missing events arrive: ask after the
        // refresh. A past `now` needs no refresh to be refused.
        let status = self.store.rollup_status(guild).await?;
        if status.newest_event.is_some_and(|t| t > w.now) {
            return Ok(None);
        }
        self.refresh(Some(guild), &|_| {}).await?;
        let status = self.store.rollup_status(guild).await?;
        if status.irregular || status.newest_event.is_some_and(|t| t > w.now) {
            return Ok(None);
        }
        let rules = self.store.guild_rules(guild).await?;
        let mut r = Reader {
            desk: self,
            guild,
            agent: scope.agent_id.as_deref(),
            rules: &rules,
            days: BTreeMap::new(),
            agent_days: BTreeMap::new(),
            pieces: HashMap::new(),
        };
        let badge_w = kpi::badge_window(&rules.badge, w.now);
        let series = kpi::series_window(w);
        let span_from = [w.previous().from, badge_w.from, series.from, w.from]
            .into_iter()
            .min()
            .unwrap_or(w.from);
        let span_to = w.to.max(w.now + 1);
        r.load(span_from, span_to, w).await?;

        let current = r.figures(w).await?;
        let previous = r.figures(w.previous()).await?;
        let badge = kpi::badge_of(&rules.badge, badge_w, &r.figures(badge_w).await?);
        let agents = rollup::agent_figures(r.agents(w).await?);
        let daily = r.daily(series).await?;
        Ok(Some(Report {
            window: w,
            scope: scope.clone(),
            load_alert: kpi::load_alert(&current, &previous),
            current,
            previous,
            badge,
            agents,
            daily,
            timezone: rules.timezone,
            business_hours_set: !rules.business_hours.is_always(),
        }))
    }
}

/// A local day as `[midnight, next midnight)` in UTC milliseconds.
fn day_range(rules: &GuildRules, day: NaiveDate) -> (Millis, Millis) {
    (
        local_midnight(&rules.timezone, day),
        local_midnight(&rules.timezone, day + Duration::days(1)),
    )
}

/// One report's reads: the day parts of its span, and the pieces of partial days.
struct Reader<'a> {
    desk: &'a Desk,
    guild: &'a str,
    /// The agent the report is about, if any: then `days` are that agent's parts.
    agent: Option<&'a str>,
    rules: &'a GuildRules,
    days: BTreeMap<NaiveDate, Part>,
    /// Every agent's parts, for the per-agent table (days of the report's window).
    agent_days: BTreeMap<NaiveDate, BTreeMap<String, Part>>,
    pieces: HashMap<(Millis, Millis), Piece>,
}

/// A window cut at local midnights: whole days, and time ranges of partial days.
enum Segment {
    Day(NaiveDate),
    Range(Millis, Millis),
}

impl Reader<'_> {
    fn segments(&self, w: Window) -> Vec<Segment> {
        let tz = &self.rules.timezone;
        // Nothing after `now` counts, and no fact is after it.
        let end = w.to.min(w.now + 1);
        let mut out = Vec::new();
        let mut t = w.from;
        let mut day = local_day(tz, t);
        while t < end {
            let (start, next) = day_range(self.rules, day);
            let stop = next.min(end);
            if t == start && stop == next {
                out.push(Segment::Day(day));
            } else {
                out.push(Segment::Range(t, stop));
            }
            t = stop;
            day += Duration::days(1);
        }
        out
    }

    async fn load(&mut self, from: Millis, to: Millis, w: Window) -> Result<()> {
        let tz = &self.rules.timezone;
        let (first, last) = (day_key(local_day(tz, from)), day_key(local_day(tz, to - 1)));
        let store = self.desk.store();
        match self.agent {
            None => {
                for (day, part) in store.guild_days(self.guild, &first, &last).await? {
                    if let Some(d) = parse_day_key(&day) {
                        self.days.insert(d, part);
                    }
                }
                let end = w.to.min(w.now + 1).max(w.from + 1);
                let (a, b) = (
                    day_key(local_day(tz, w.from)),
                    day_key(local_day(tz, end - 1)),
                );
                for (day, agent, part) in store.agent_days(self.guild, &a, &b, None).await? {
                    if let Some(d) = parse_day_key(&day) {
                        self.agent_days.entry(d).or_default().insert(agent, part);
                    }
                }
            }
            Some(agent) => {
                for (day, _, part) in store
                    .agent_days(self.guild, &first, &last, Some(agent))
                    .await?
                {
                    if let Some(d) = parse_day_key(&day) {
                        self.days.insert(d, part);
                    }
                }
            }
        }
        Ok(())
    }

    async fn piece(&mut self, from: Millis, to: Millis) -> Result<&Piece> {
        if !self.pieces.contains_key(&(from, to)) {
            let mut p = self
                .desk
                .store()
                .kpi_piece(self.guild, from, to, self.rules.deadline_ms, self.agent)
                .await?;
            p.sort();
            self.pieces.insert((from, to), p);
        }
        Ok(&self.pieces[&(from, to)])
    }

    /// The report's own part (the guild's, or its agent's) of a time range.
    async fn range_part(&mut self, from: Millis, to: Millis) -> Result<Part> {
        let agent = self.agent;
        let p = self.piece(from, to).await?;
        Ok(match agent {
            None => p.guild.clone(),
            Some(a) => p.agents.get(a).cloned().unwrap_or_default(),
        })
    }

    async fn part(&mut self, w: Window) -> Result<Part> {
        let mut total = Part::default();
        for s in self.segments(w) {
            match s {
                Segment::Day(d) => {
                    if let Some(p) = self.days.get(&d) {
                        total.merge(p);
                    }
                }
                Segment::Range(a, b) => total.merge(&self.range_part(a, b).await?),
            }
        }
        Ok(total)
    }

    async fn figures(&mut self, w: Window) -> Result<kpi::Figures> {
        let part = self.part(w).await?;
        // An agent's late answers are unanswered, never pending (see `kpi::figures`).
        let pending = match self.agent {
            Some(_) => 0,
            None => {
                let deadline = self.rules.deadline_ms;
                self.desk
                    .store()
                    .kpi_pending(
                        self.guild,
                        w.from,
                        w.to.min(w.now + 1),
                        w.now - deadline,
                        deadline,
                    )
                    .await?
            }
        };
        Ok(part.figures(w, pending))
    }

    /// Each agent's part of the window.
    async fn agents(&mut self, w: Window) -> Result<BTreeMap<String, Part>> {
        let mut out: BTreeMap<String, Part> = BTreeMap::new();
        for s in self.segments(w) {
            match s {
                Segment::Day(d) => match self.agent {
                    None => {
                        for (a, p) in self.agent_days.get(&d).into_iter().flatten() {
                            out.entry(a.clone()).or_default().merge(p);
                        }
                    }
                    Some(a) => {
                        if let Some(p) = self.days.get(&d) {
                            out.entry(a.to_string()).or_default().merge(p);
                        }
                    }
                },
                Segment::Range(from, to) => {
                    for (a, p) in &self.piece(from, to).await?.agents {
                        out.entry(a.clone()).or_default().merge(p);
                    }
                }
            }
        }
        Ok(out)
    }

    async fn daily(&mut self, series: Window) -> Result<Vec<kpi::DayPoint>> {
        if series.to <= series.from {
            return Ok(Vec::new());
        }
        let tz = self.rules.timezone;
        let (first, last) = (local_day(&tz, series.from), local_day(&tz, series.to - 1));
        let mut out = Vec::new();
        let mut day = first;
        while day <= last {
            let (start, next) = day_range(self.rules, day);
            let dw = Window {
                from: start.max(series.from),
                to: next.min(series.to),
                now: series.now,
            };
            let segments = self.segments(dw);
            let point = match segments.as_slice() {
                [Segment::Day(d)] => self.days.get(d).map(|p| p.day_point(day)),
                [Segment::Range(a, b)] => Some(self.range_part(*a, *b).await?.day_point(day)),
                // Empty: the day starts after `now`.
                _ => None,
            };
            out.push(point.unwrap_or_else(|| Part::default().day_point(day)));
            day += Duration::days(1);
        }
        Ok(out)
    }
}
