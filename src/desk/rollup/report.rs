//! A report from the rollups: the stored days of its windows, the partial days at their ends
//! summed from the facts, and the delay blocks its percentiles need.

use super::{day_range, Desk};
use crate::domain::delay_kind::{ByKind, DelayKind};
use crate::domain::kpi::{self, local_day, Figures, Report, Scope, Window};
use crate::domain::percentile::{BlockKey, Gather, Remote};
use crate::domain::rollup::{self, Part, Piece, ServicePart, ServicePiece};
use crate::domain::sla;
use crate::domain::stats::DelayStats;
use crate::domain::{GuildRules, Millis};
use crate::store::{Result, RollupStore, StoreError};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod charts;
mod read;
mod service;

/// The agents' table needs their response delays only.
const RESPONSE_ONLY: ByKind<bool> = ByKind {
    response: true,
    business_hours: false,
    first_response: false,
};

/// Time ranges `[from, to)`.
type Ranges = Vec<(Millis, Millis)>;

/// Decoded delay blocks: each delay with its agent's tag.
type Blocks = HashMap<BlockKey, Vec<(Millis, u16)>>;

impl Desk {
    /// The report of one guild (or one of its agents) from the rollups, or `None` where they
    /// cannot stand for a replay: a report over several guilds or some channels, a guild whose
    /// places cannot be replayed alone, or `now` before the guild's newest event (the facts
    /// know what happened after it).
    pub async fn rollup_report(&self, scope: &Scope, w: Window) -> Result<Option<Report>> {
        let mut phases = Phases::start();
        let Some((guild, rules)) = self.rollup_guild(scope, w, &mut phases).await? else {
            return Ok(None);
        };
        let mut r = Reader::new(&*self.store, guild, scope, &rules);
        let windows = Windows::of(&rules, w);
        let pending = r.read(&windows, &mut phases).await?;
        let (report, _) = r
            .report(scope, &windows, &pending, &BTreeSet::new(), &mut phases)
            .await?;
        Ok(Some(report))
    }

    /// Whether the guild's rollups, once refreshed, can stand for it at `w.now`.
    async fn rollups_stand(&self, guild: &str, w: Window, phases: &mut Phases) -> Result<bool> {
        // Irregular places may be so only until their missing events arrive: ask after the
        // refresh. A past `now` needs no refresh to be refused.
        let status = self.store.rollup_status(guild).await?;
        if status.newest_event.is_some_and(|t| t > w.now) {
            return Ok(false);
        }
        phases.mark("status");
        self.refresh(Some(guild), &|_| {}).await?;
        phases.mark("refresh");
        let status = self.store.rollup_status(guild).await?;
        if status.irregular || status.newest_event.is_some_and(|t| t > w.now) {
            return Ok(false);
        }
        phases.mark("recheck");
        Ok(true)
    }
}

/// The windows of one report.
struct Windows {
    current: Window,
    /// The one before, for the load alert.
    previous: Window,
    badge: Window,
    /// The daily series'.
    series: Window,
}

impl Windows {
    fn of(rules: &GuildRules, w: Window) -> Windows {
        Windows {
            current: w,
            previous: w.previous(),
            badge: kpi::badge_window(&rules.badge, w.now),
            series: kpi::series_window(w),
        }
    }

    /// The windows with figures of their own: current, previous and badge, in this order.
    fn with_figures(&self) -> [Window; 3] {
        [self.current, self.previous, self.badge]
    }
}

impl Reader<'_> {
    /// The report over `windows`, from the rollups (which must stand for the guild) once
    /// `read`, with the delay blocks it read: those its percentiles need and those of `extra`,
    /// in the same round (the dashboard's delay charts need every day's).
    async fn report(
        &self,
        scope: &Scope,
        windows: &Windows,
        pending: &[u64],
        extra: &BTreeSet<BlockKey>,
        phases: &mut Phases,
    ) -> Result<(Report, Blocks)> {
        let w = windows.current;
        let gathered: Vec<(Part, ByKind<Gather<'_>>)> = windows
            .with_figures()
            .into_iter()
            .map(|win| self.gather(win))
            .collect();
        let decoded = match self.agent {
            None => self.decode_agents(w)?,
            Some(_) => BTreeMap::new(),
        };
        let agent_gathers = match self.agent {
            None => self.agents_gather(w, &decoded),
            Some(_) => BTreeMap::new(),
        };
        // The blocks of every percentile of the report, read in one round, while the service
        // levels read what the report's `now` decides.
        let mut needed: BTreeSet<BlockKey> = gathered
            .iter()
            .flat_map(|(_, kinds)| kinds.values())
            .chain(agent_gathers.values().map(|(_, g)| g))
            .flat_map(Gather::blocks_needed)
            .collect();
        needed.extend(extra);
        phases.mark("gather");
        let (service_levels, blocks) =
            tokio::try_join!(self.service_levels(w), self.blocks(&needed))?;
        phases.mark("service levels and blocks");
        let stats = |g: &Gather<'_>| self.stats(g, &blocks);
        let figures = |i: usize| -> Result<Figures> {
            let (counts, kinds) = &gathered[i];
            let delays = ByKind::from_fn(|k| stats(&kinds[k])).transpose()?;
            Ok(counts.figures_with(windows.with_figures()[i], pending[i], delays))
        };
        let (current, previous, badge_figures) = (figures(0)?, figures(1)?, figures(2)?);
        let badge = kpi::badge_of(&self.rules.badge, windows.badge, &badge_figures);
        let mut agent_parts: BTreeMap<String, (Part, DelayStats)> = BTreeMap::new();
        match self.agent {
            None => {
                for (id, (counts, g)) in agent_gathers {
                    agent_parts.insert(id.to_string(), (counts, stats(&g)?));
                }
            }
            Some(a) => {
                let own = (gathered[0].0.clone(), current.response_delay);
                agent_parts.insert(a.to_string(), own);
            }
        }
        let mut agents = rollup::agent_figures(agent_parts);
        sla::list_credited_agents(&mut agents, &service_levels);
        phases.mark("figures");
        phases.log(self.guild, needed.len());
        let report = Report {
            window: windows.current,
            scope: scope.clone(),
            load_alert: kpi::load_alert(&current, &previous),
            current,
            previous,
            badge,
            agents,
            daily: self.daily(windows.series),
            timezone: self.rules.timezone,
            business_hours_set: !self.rules.business_hours.is_always(),
            service_levels: Some(service_levels),
        };
        Ok((report, blocks))
    }

    /// The statistics of gathered delays, given the blocks they need.
    fn stats(&self, g: &Gather<'_>, blocks: &Blocks) -> Result<DelayStats> {
        g.stats(blocks)
            .map_err(|e| StoreError::Corrupt(format!("delays of guild {}: {e}", self.guild)))
    }
}

/// One report's reads: the stored days of its span, and the pieces of partial days.
impl Desk {
    /// The guild of `scope` and its rules when its rollups can stand for a replay over `w`
    /// (see `rollup_report`), else `None`.
    async fn rollup_guild<'s>(
        &self,
        scope: &'s Scope,
        w: Window,
        phases: &mut Phases,
    ) -> Result<Option<(&'s str, GuildRules)>> {
        let Some(guild) = scope.guild_id.as_deref() else {
            return Ok(None);
        };
        if scope.conversations.is_some() || !self.rollups_stand(guild, w, phases).await? {
            return Ok(None);
        }
        Ok(Some((guild, self.store.guild_rules(guild).await?)))
    }
}

impl<'a> Reader<'a> {
    fn new(
        store: &'a dyn RollupStore,
        guild: &'a str,
        scope: &'a Scope,
        rules: &'a GuildRules,
    ) -> Reader<'a> {
        Reader {
            store,
            guild,
            agent: scope.agent_id.as_deref(),
            rules,
            days: BTreeMap::new(),
            pieces: HashMap::new(),
            service_pieces: HashMap::new(),
        }
    }
}

struct Reader<'a> {
    store: &'a dyn RollupStore,
    guild: &'a str,
    /// The agent the report is about, if any: then each day's own part is that agent's.
    agent: Option<&'a str>,
    rules: &'a GuildRules,
    days: BTreeMap<NaiveDate, StoredDay>,
    pieces: HashMap<(Millis, Millis), Piece>,
    service_pieces: HashMap<(Millis, Millis), ServicePiece>,
}

/// A stored day as a report reads it.
struct StoredDay {
    guild: Part,
    /// For an agent's report: that agent's part, and the agent's index among the day's agents
    /// (the tag of their delays in the day's blocks).
    agent: Option<(Part, Option<u16>)>,
    /// Every agent's part, still encoded: only the days of the per-agent table decode them.
    agents: Vec<u8>,
    /// The report's own service part (the guild's, or its agent's).
    service: ServicePart,
    /// Every agent's service part, encoded as `agents`.
    service_agents: Vec<u8>,
}

impl StoredDay {
    fn own(&self) -> (&Part, Option<u16>) {
        match &self.agent {
            Some((p, tag)) => (p, *tag),
            None => (&self.guild, None),
        }
    }
}

/// A window cut at local midnights: whole days, and time ranges of partial days.
enum Segment {
    Day(NaiveDate),
    Range(Millis, Millis),
}

/// Adds one kind of a stored day's delays (`own`, its guild's part `guild`) to `g`.
fn add_day<'p>(
    g: &mut Gather<'p>,
    day: NaiveDate,
    kind: DelayKind,
    own: &'p Part,
    guild: &'p Part,
    tag: Option<u16>,
) {
    match &own.blocked[kind] {
        None => g.add_known(own.list(kind)),
        Some(blocked) => g.add_remote(Remote {
            day,
            kind,
            blocked,
            groups: guild.blocked[kind]
                .as_ref()
                .map_or(&[][..], |b| b.groups.as_slice()),
            tag,
        }),
    }
}

impl Reader<'_> {
    /// The partial days (time ranges) of the windows, in their order.
    fn partial_ranges(&self, windows: impl IntoIterator<Item = Window>) -> Ranges {
        windows
            .into_iter()
            .flat_map(|win| self.segments(win))
            .filter_map(|s| match s {
                Segment::Range(a, b) => Some((a, b)),
                Segment::Day(_) => None,
            })
            .collect()
    }

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

    fn corrupt(&self, what: &str, day: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{what} of {} on {day}", self.guild))
    }

    /// The report's own part (the guild's, or its agent's) of a prefetched time range.
    fn range_part(&self, from: Millis, to: Millis) -> Option<&Part> {
        let p = self.pieces.get(&(from, to))?;
        match self.agent {
            None => Some(&p.guild),
            Some(a) => p.agents.get(a),
        }
    }

    /// The counts of a window and its three kinds of delay, ready for their percentiles.
    fn gather(&self, w: Window) -> (Part, ByKind<Gather<'_>>) {
        let mut counts = Part::default();
        let mut kinds: ByKind<Gather<'_>> = Default::default();
        for s in self.segments(w) {
            match s {
                Segment::Day(d) => {
                    if let Some(day) = self.days.get(&d) {
                        let (own, tag) = day.own();
                        counts.merge_counts(own);
                        for (k, g) in kinds.iter_mut() {
                            add_day(g, d, k, own, &day.guild, tag);
                        }
                    }
                }
                Segment::Range(a, b) => {
                    if let Some(p) = self.range_part(a, b) {
                        counts.merge_counts(p);
                        for (k, g) in kinds.iter_mut() {
                            g.add_known(p.list(k));
                        }
                    }
                }
            }
        }
        (counts, kinds)
    }

    /// Every agent's parts of the window's whole days, in each day's order (their tags).
    fn decode_agents(&self, w: Window) -> Result<BTreeMap<NaiveDate, Vec<(String, Part)>>> {
        let mut out = BTreeMap::new();
        for s in self.segments(w) {
            let Segment::Day(d) = s else { continue };
            let Some(day) = self.days.get(&d) else {
                continue;
            };
            let entries = Piece::agent_entries(&day.agents)
                .ok_or_else(|| self.corrupt("agents' rollup", d))?;
            let parts = entries
                .into_iter()
                .map(|(id, bytes)| {
                    Some((id.to_string(), Part::decode_kinds(bytes, RESPONSE_ONLY)?))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.corrupt("agents' rollup", d))?;
            out.insert(d, parts);
        }
        Ok(out)
    }

    /// Each agent's counts and response delays over the window.
    fn agents_gather<'p>(
        &'p self,
        w: Window,
        decoded: &'p BTreeMap<NaiveDate, Vec<(String, Part)>>,
    ) -> BTreeMap<&'p str, (Part, Gather<'p>)> {
        let mut out: BTreeMap<&str, (Part, Gather<'_>)> = BTreeMap::new();
        for s in self.segments(w) {
            match s {
                Segment::Day(d) => {
                    let (Some(day), Some(parts)) = (self.days.get(&d), decoded.get(&d)) else {
                        continue;
                    };
                    for (i, (id, p)) in parts.iter().enumerate() {
                        let (counts, g) = out.entry(id.as_str()).or_default();
                        counts.merge_counts(p);
                        let tag = u16::try_from(i).ok();
                        add_day(g, d, DelayKind::Response, p, &day.guild, tag);
                    }
                }
                Segment::Range(from, to) => {
                    if let Some(piece) = self.pieces.get(&(from, to)) {
                        for (id, p) in &piece.agents {
                            let (counts, g) = out.entry(id.as_str()).or_default();
                            counts.merge_counts(p);
                            g.add_known(&p.delays);
                        }
                    }
                }
            }
        }
        out
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
                    [Segment::Day(d)] => self.days.get(d).map(|s| s.own().0.day_point(day)),
                    [Segment::Range(a, b)] => self.range_part(*a, *b).map(|p| p.day_point(day)),
                    // Empty: the day starts after `now`.
                    _ => None,
                };
                point.unwrap_or_else(|| Part::default().day_point(day))
            })
            .collect()
    }
}

/// `f`'s result with the time it took.
async fn timed<T>(
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<(T, std::time::Duration)> {
    let start = std::time::Instant::now();
    let out = f.await?;
    Ok((out, start.elapsed()))
}

/// How long each step of a report from rollups took, logged at debug level
/// (`RUST_LOG=reactif::desk=debug`) to find what a slow `/stats` waits for.
struct Phases {
    last: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn start() -> Phases {
        Phases {
            last: std::time::Instant::now(),
            done: Vec::new(),
        }
    }

    fn mark(&mut self, what: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((what, now - self.last));
        self.last = now;
    }

    /// The time one of the concurrent reads of the last step took on its own.
    fn within(&mut self, what: &'static str, took: std::time::Duration) {
        self.done.push((what, took));
    }

    fn log(&self, guild: &str, blocks: usize) {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let steps: Vec<String> = self
                .done
                .iter()
                .map(|(what, d)| format!("{what} {:.1} ms", d.as_secs_f64() * 1000.0))
                .collect();
            tracing::debug!(guild, blocks, "report from rollups: {}", steps.join(", "));
        }
    }
}
