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
/// After a refresh this large (an import, a first start after an upgrade), the planner's
/// statistics of the rollup tables are refreshed too.
const ANALYZE_AFTER: u64 = 10_000;

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
            let mut by_guild: BTreeMap<&str, Vec<(&crate::store::DirtyDay, NaiveDate)>> =
                BTreeMap::new();
            for d in &dirty {
                if let Some(day) = parse_day_key(&d.day) {
                    by_guild
                        .entry(d.guild_id.as_str())
                        .or_default()
                        .push((d, day));
                }
            }
            let mut done = Vec::with_capacity(dirty.len());
            for (g, days) in by_guild {
                if !rules.contains_key(g) {
                    rules.insert(g.to_string(), self.store.guild_rules(g).await?);
                }
                let r = &rules[g];
                let ranges: Vec<(Millis, Millis)> =
                    days.iter().map(|(_, day)| day_range(r, *day)).collect();
                let pieces = self
                    .store
                    .kpi_pieces(g, &ranges, r.deadline_ms, None)
                    .await?;
                for ((d, _), mut piece) in days.into_iter().zip(pieces) {
                    piece.sort();
                    done.push((d.clone(), piece));
                }
            }
            let written = self.store.write_days(&done).await? as u64;
            summary.days += written;
            idle = if written == 0 { idle + 1 } else { 0 };
            progress(summary);
        }
        if summary.places + summary.days >= ANALYZE_AFTER {
            self.store.analyze_rollups().await?;
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
            pieces: HashMap::new(),
        };
        let badge_w = kpi::badge_window(&rules.badge, w.now);
        let series = kpi::series_window(w);
        let windows = [w, w.previous(), badge_w];
        let span_from = [w.previous().from, badge_w.from, series.from, w.from]
            .into_iter()
            .min()
            .unwrap_or(w.from);
        let span_to = w.to.max(w.now + 1);
        r.load(span_from, span_to).await?;
        // Every partial day the report needs, read from the facts in one round.
        let mut ranges: Vec<(Millis, Millis)> = windows
            .iter()
            .flat_map(|win| r.segments(*win))
            .chain(
                r.series_days(series)
                    .into_iter()
                    .flat_map(|(_, dw)| r.segments(dw)),
            )
            .filter_map(|s| match s {
                Segment::Range(a, b) => Some((a, b)),
                Segment::Day(_) => None,
            })
            .collect();
        ranges.sort_unstable();
        ranges.dedup();
        r.prefetch(&ranges).await?;
        // An agent's late answers are unanswered, never pending (see `kpi::figures`).
        let pending = match r.agent {
            Some(_) => vec![0; windows.len()],
            None => {
                let ends: Vec<(Millis, Millis)> = windows
                    .iter()
                    .map(|win| (win.from, win.to.min(win.now + 1)))
                    .collect();
                self.store
                    .kpi_pending(guild, &ends, w.now - rules.deadline_ms, rules.deadline_ms)
                    .await?
            }
        };
        let current = r.part(w).figures(w, pending[0]);
        let previous = r.part(w.previous()).figures(w.previous(), pending[1]);
        let badge = kpi::badge_of(
            &rules.badge,
            badge_w,
            &r.part(badge_w).figures(badge_w, pending[2]),
        );
        let agents = rollup::agent_figures(r.agents(w)?);
        let daily = r.daily(series);
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

/// One report's reads: the stored days of its span, and the pieces of partial days.
struct Reader<'a> {
    desk: &'a Desk,
    guild: &'a str,
    /// The agent the report is about, if any: then each day's part is that agent's.
    agent: Option<&'a str>,
    rules: &'a GuildRules,
    /// Per day, the report's own part (the guild's or its agent's) and every agent's parts,
    /// still encoded: only the days of the per-agent table decode them.
    days: BTreeMap<NaiveDate, (Part, Vec<u8>)>,
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

    async fn load(&mut self, from: Millis, to: Millis) -> Result<()> {
        let tz = &self.rules.timezone;
        let (first, last) = (day_key(local_day(tz, from)), day_key(local_day(tz, to - 1)));
        let corrupt = |day: &str| {
            crate::store::StoreError::Corrupt(format!("agents' rollup of {} on {day}", self.guild))
        };
        for (day, guild_part, agents) in self
            .desk
            .store()
            .stored_days(self.guild, &first, &last)
            .await?
        {
            let Some(d) = parse_day_key(&day) else {
                continue;
            };
            let own = match self.agent {
                None => guild_part,
                Some(a) => {
                    let entries = Piece::agent_entries(&agents).ok_or_else(|| corrupt(&day))?;
                    match entries.into_iter().find(|(id, _)| *id == a) {
                        Some((_, bytes)) => Part::decode(bytes).ok_or_else(|| corrupt(&day))?,
                        None => Part::default(),
                    }
                }
            };
            self.days.insert(d, (own, agents));
        }
        Ok(())
    }

    async fn prefetch(&mut self, ranges: &[(Millis, Millis)]) -> Result<()> {
        let pieces = self
            .desk
            .store()
            .kpi_pieces(self.guild, ranges, self.rules.deadline_ms, self.agent)
            .await?;
        for (range, mut p) in ranges.iter().zip(pieces) {
            p.sort();
            self.pieces.insert(*range, p);
        }
        Ok(())
    }

    /// The report's own part (the guild's, or its agent's) of a prefetched time range.
    fn range_part(&self, from: Millis, to: Millis) -> Part {
        let Some(p) = self.pieces.get(&(from, to)) else {
            return Part::default();
        };
        match self.agent {
            None => p.guild.clone(),
            Some(a) => p.agents.get(a).cloned().unwrap_or_default(),
        }
    }

    fn part(&self, w: Window) -> Part {
        let mut total = Part::default();
        for s in self.segments(w) {
            match s {
                Segment::Day(d) => {
                    if let Some((p, _)) = self.days.get(&d) {
                        total.merge(p);
                    }
                }
                Segment::Range(a, b) => total.merge(&self.range_part(a, b)),
            }
        }
        total
    }

    /// Each agent's part of the window.
    fn agents(&self, w: Window) -> Result<BTreeMap<String, Part>> {
        let mut out: BTreeMap<String, Part> = BTreeMap::new();
        for s in self.segments(w) {
            match s {
                Segment::Day(d) => match self.agent {
                    None => {
                        if let Some((_, blob)) = self.days.get(&d) {
                            let parts = Piece::decode_agents(blob).ok_or_else(|| {
                                crate::store::StoreError::Corrupt(format!(
                                    "agents' rollup of {} on {d}",
                                    self.guild
                                ))
                            })?;
                            for (a, p) in parts {
                                out.entry(a).or_default().merge(&p);
                            }
                        }
                    }
                    Some(a) => {
                        if let Some((p, _)) = self.days.get(&d) {
                            out.entry(a.to_string()).or_default().merge(p);
                        }
                    }
                },
                Segment::Range(from, to) => {
                    if let Some(piece) = self.pieces.get(&(from, to)) {
                        for (a, p) in &piece.agents {
                            out.entry(a.clone()).or_default().merge(p);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The days of the daily series, each with its window.
    fn series_days(&self, series: Window) -> Vec<(NaiveDate, Window)> {
        if series.to <= series.from {
            return Vec::new();
        }
        let tz = self.rules.timezone;
        let (first, last) = (local_day(&tz, series.from), local_day(&tz, series.to - 1));
        let mut out = Vec::new();
        let mut day = first;
        while day <= last {
            let (start, next) = day_range(self.rules, day);
            out.push((
                day,
                Window {
                    from: start.max(series.from),
                    to: next.min(series.to),
                    now: series.now,
                },
            ));
            day += Duration::days(1);
        }
        out
    }

    fn daily(&self, series: Window) -> Vec<kpi::DayPoint> {
        self.series_days(series)
            .into_iter()
            .map(|(day, dw)| {
                let point = match self.segments(dw).as_slice() {
                    [Segment::Day(d)] => self.days.get(d).map(|(p, _)| p.day_point(day)),
                    [Segment::Range(a, b)] => Some(self.range_part(*a, *b).day_point(day)),
                    // Empty: the day starts after `now`.
                    _ => None,
                };
                point.unwrap_or_else(|| Part::default().day_point(day))
            })
            .collect()
    }
}
