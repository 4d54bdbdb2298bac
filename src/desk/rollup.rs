//! Keeping the rollups of `domain::rollup` up to date, and building reports from them.
//!
//! Writes only mark places dirty (in the transaction that stores their events). `refresh`
//! derives the facts of dirty places, then sums the parts of the days those facts changed. The
//! bot refreshes every 10 s, an import once it has stored its file, and a report refreshes
//! its own guild first, so a report never reads stale parts.

use super::Desk;
use crate::domain::delay_kind::{ByKind, DelayKind};
use crate::domain::kpi::{self, local_day, local_midnight, Figures, Report, Scope, Window};
use crate::domain::percentile::{decode_block, BlockKey, Gather, Remote};
use crate::domain::rollup::{self, day_key, parse_day_key, Part, Piece, PlaceFacts};
use crate::domain::stats::DelayStats;
use crate::domain::{Event, GuildRules, Millis};
use crate::store::{DayRollup, DayUpdate, DirtyDay, DynStore, FactsUpdate, PieceScope, Result};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The agents' table needs their response delays only.
const RESPONSE_ONLY: ByKind<bool> = ByKind {
    response: true,
    business_hours: false,
    first_response: false,
};

/// Places, or days, per batch of a refresh.
const REFRESH_BATCH: i64 = 500;
/// A refresh stops after this many batches from the first key that wrote nothing (another
/// process is refreshing the same places) or this many batches in all (new events keep
/// coming): what is left is newer than the call and the next refresh takes it.
const IDLE_ROUNDS: u32 = 3;
const MAX_ROUNDS: u32 = 10_000;
/// After a refresh this large (an import, a first start after an upgrade), the planner's
/// statistics of the rollup tables are refreshed too.
const ANALYZE_AFTER: u64 = 10_000;
/// While a refresh fills the tables, their statistics are refreshed when it has written this
/// many places (or days), then twice as many, and so on: a few times per refresh, each before
/// the tables have grown past what the planner was told.
const ANALYZE_FIRST: u64 = 2_000;

/// A threshold that doubles each time a growing count passes it.
struct Doubling(u64);

impl Doubling {
    fn new(first: u64) -> Doubling {
        Doubling(first)
    }

    /// Whether `count` has reached the threshold; if so, the next one is twice as far.
    fn passed(&mut self, count: u64) -> bool {
        let passed = count >= self.0;
        if passed {
            self.0 = self.0.saturating_mul(2);
        }
        passed
    }
}

/// One batch of a refresh phase: the items to write, and where the next batch starts.
struct Batch<T> {
    items: Vec<T>,
    /// The last key read (a guild and a place or day); `None` when none was dirty.
    last: Option<(String, String)>,
    /// Whether the batch was as large as asked: keys may follow it.
    full: bool,
    /// Whether it was read from the first dirty key on.
    from_start: bool,
}

impl<T> Batch<T> {
    fn new(items: Vec<T>, read: usize, last: Option<(String, String)>, after: bool) -> Batch<T> {
        Batch {
            items,
            last,
            full: read as i64 == REFRESH_BATCH,
            from_start: !after,
        }
    }
}

/// A phase of the refresh (places, then days), run in batches by `Desk::pipeline`.
trait Phase {
    type Item: Send + Sync + 'static;
    /// The next dirty keys after `after` (a guild and a key), derived into what to write.
    async fn derive(&mut self, after: Option<(&str, &str)>) -> Result<Batch<Self::Item>>;
    /// Writes a batch; how many of its items were still current.
    fn write(
        store: DynStore,
        items: Vec<Self::Item>,
    ) -> impl std::future::Future<Output = Result<usize>> + Send + 'static;
}

/// Replays dirty places with their guild's rules into their facts.
struct Places<'a> {
    desk: &'a Desk,
    guild: Option<&'a str>,
    rules: &'a mut HashMap<String, GuildRules>,
}

impl Phase for Places<'_> {
    type Item = FactsUpdate;

    async fn derive(&mut self, after: Option<(&str, &str)>) -> Result<Batch<FactsUpdate>> {
        let store = &self.desk.store;
        let dirty = store.dirty_places(self.guild, after, REFRESH_BATCH).await?;
        let mut updates = Vec::with_capacity(dirty.len());
        let mut by_guild: BTreeMap<&str, Vec<&crate::store::DirtyPlace>> = BTreeMap::new();
        for d in &dirty {
            by_guild.entry(d.guild_id.as_str()).or_default().push(d);
        }
        for (g, places) in by_guild {
            let r = rules_of(store, self.rules, g).await?;
            let names: Vec<String> = places.iter().map(|d| d.conversation.clone()).collect();
            let mut events: HashMap<String, Vec<Event>> = HashMap::new();
            for e in store.events_of_places(g, &names).await? {
                events.entry(e.place.clone()).or_default().push(e);
            }
            let mut old = store.place_facts(g, &names).await?;
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
        let last = dirty
            .last()
            .map(|d| (d.guild_id.clone(), d.conversation.clone()));
        Ok(Batch::new(updates, dirty.len(), last, after.is_some()))
    }

    // Not an `async fn`: it would capture the phase's lifetime, and a spawned write must
    // borrow nothing.
    #[allow(clippy::manual_async_fn)]
    fn write(
        store: DynStore,
        items: Vec<FactsUpdate>,
    ) -> impl std::future::Future<Output = Result<usize>> + Send + 'static {
        async move { store.write_place_facts(&items).await }
    }
}

/// Sums dirty days from the facts into their parts and delay blocks.
struct Days<'a> {
    desk: &'a Desk,
    guild: Option<&'a str>,
    rules: &'a mut HashMap<String, GuildRules>,
}

impl Phase for Days<'_> {
    type Item = DayUpdate;

    async fn derive(&mut self, after: Option<(&str, &str)>) -> Result<Batch<Self::Item>> {
        let store = &self.desk.store;
        let dirty = store.dirty_days(self.guild, after, REFRESH_BATCH).await?;
        let mut by_guild: BTreeMap<&str, Vec<(&DirtyDay, NaiveDate)>> = BTreeMap::new();
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
            let r = rules_of(store, self.rules, g).await?;
            let ranges: Vec<(Millis, Millis)> =
                days.iter().map(|(_, day)| day_range(r, *day)).collect();
            let pieces = store
                .kpi_pieces(g, &ranges, r.deadline_ms, PieceScope::All)
                .await?;
            for ((d, _), mut piece) in days.into_iter().zip(pieces) {
                piece.sort();
                let blocks = piece.block_out(self.desk.inline_max);
                done.push(DayUpdate {
                    day: d.clone(),
                    piece,
                    blocks,
                });
            }
        }
        let last = dirty.last().map(|d| (d.guild_id.clone(), d.day.clone()));
        Ok(Batch::new(done, dirty.len(), last, after.is_some()))
    }

    // Not an `async fn`: it would capture the phase's lifetime, and a spawned write must
    // borrow nothing.
    #[allow(clippy::manual_async_fn)]
    fn write(
        store: DynStore,
        items: Vec<Self::Item>,
    ) -> impl std::future::Future<Output = Result<usize>> + Send + 'static {
        async move { store.write_days(&items).await }
    }
}

/// A guild's rules, read once per refresh.
async fn rules_of<'r>(
    store: &DynStore,
    rules: &'r mut HashMap<String, GuildRules>,
    guild: &str,
) -> Result<&'r GuildRules> {
    if !rules.contains_key(guild) {
        rules.insert(guild.to_string(), store.guild_rules(guild).await?);
    }
    Ok(&rules[guild])
}

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
        let started = std::time::Instant::now();
        let mut rules: HashMap<String, GuildRules> = HashMap::new();
        let mut places = Places {
            desk: self,
            guild,
            rules: &mut rules,
        };
        self.pipeline(&mut places, |n| {
            summary.places += n;
            progress(summary);
        })
        .await?;
        // The days are summed by index-only reads of the facts just written: on PostgreSQL
        // these visit the table too until a vacuum has marked its pages all-visible.
        if summary.places >= ANALYZE_AFTER {
            self.store.analyze_rollups().await?;
        }
        let places_took = started.elapsed();
        let mut days = Days {
            desk: self,
            guild,
            rules: &mut rules,
        };
        self.pipeline(&mut days, |n| {
            summary.days += n;
            progress(summary);
        })
        .await?;
        if summary.places + summary.days >= ANALYZE_AFTER {
            self.store.analyze_rollups().await?;
        }
        if summary.places + summary.days > 0 {
            tracing::debug!(
                places = summary.places,
                days = summary.days,
                "refresh: places in {:.1?}, days in {:.1?}",
                places_took,
                started.elapsed() - places_took
            );
        }
        Ok(summary)
    }

    /// Runs one phase of the refresh to its end. While one batch is written, the next one is
    /// read and derived: its keys come after this batch's, so the two cannot overlap. The
    /// write is its own task so that both can run at once, on their own connections.
    /// A short batch was the last one: the next starts again from the first key, once this
    /// one is written, for what was marked meanwhile or skipped as changed. `written` is told
    /// how many items each batch wrote.
    async fn pipeline<P: Phase>(&self, phase: &mut P, mut written: impl FnMut(u64)) -> Result<()> {
        let (mut idle, mut rounds, mut total) = (0, 0, 0);
        let mut analyze = Doubling::new(ANALYZE_FIRST);
        let mut next = phase.derive(None).await?;
        while idle < IDLE_ROUNDS && rounds < MAX_ROUNDS {
            rounds += 1;
            if analyze.passed(total) {
                self.store.analyze_growing().await?;
            }
            let from_start = next.from_start;
            let Some((guild, key)) = next.last.take() else {
                if from_start {
                    break;
                }
                // The cursor ran past the last key: start again from the first.
                next = phase.derive(None).await?;
                continue;
            };
            let write = tokio::spawn(P::write(
                self.store.clone(),
                std::mem::take(&mut next.items),
            ));
            let upcoming = match next.full {
                true => Some(phase.derive(Some((&guild, &key))).await),
                false => None,
            };
            let count = match write.await {
                Ok(count) => count? as u64,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => {
                    let stopped = std::io::Error::other(format!("a refresh write stopped: {e}"));
                    return Err(sqlx::Error::Io(stopped).into());
                }
            };
            next = match upcoming {
                Some(upcoming) => upcoming?,
                None => phase.derive(None).await?,
            };
            total += count;
            // Batches in the middle of a pass that wrote nothing were refreshed by someone
            // else just ahead (a report's refresh of its guild): moving on costs little. Only
            // passes from the first key that write nothing say the rest is not ours to do.
            if count > 0 {
                idle = 0;
            } else if from_start {
                idle += 1;
            }
            written(count);
        }
        Ok(())
    }

    /// The report of one guild (or one of its agents) from the rollups, or `None` where they
    /// cannot stand for a replay: a report over several guilds or some channels, a guild whose
    /// places cannot be replayed alone, or `now` before the guild's newest event (the facts
    /// know what happened after it).
    pub async fn rollup_report(&self, scope: &Scope, w: Window) -> Result<Option<Report>> {
        let mut phases = Phases::start();
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
        phases.mark("status");
        self.refresh(Some(guild), &|_| {}).await?;
        phases.mark("refresh");
        let status = self.store.rollup_status(guild).await?;
        if status.irregular || status.newest_event.is_some_and(|t| t > w.now) {
            return Ok(None);
        }
        phases.mark("recheck");
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
        // An agent's late answers are unanswered, never pending (see `kpi::figures`).
        let pending = async {
            match r.agent {
                Some(_) => Ok(vec![0; windows.len()]),
                None => {
                    let after = w.now - rules.deadline_ms;
                    // Only requests started after `now - deadline` can be pending: the range
                    // starts there, so that it is scanned alone.
                    let ends: Vec<(Millis, Millis)> = windows
                        .iter()
                        .map(|win| {
                            (
                                win.from.max(after + 1),
                                win.to.min(win.now + 1).max(after + 1),
                            )
                        })
                        .collect();
                    self.store
                        .kpi_pending(guild, &ends, after, rules.deadline_ms)
                        .await
                }
            }
        };
        // The stored days, the partial days and the pending requests are independent reads:
        // made at once, on as many connections.
        let ((days, days_took), (pieces, pieces_took), (pending, pending_took)) = tokio::try_join!(
            timed(r.read_days((span_from, span_to), (w.from, w.to.min(w.now + 1)))),
            timed(r.read_pieces(&ranges)),
            timed(pending)
        )?;
        r.days = days;
        r.pieces = pieces;
        phases.mark("read");
        phases.within("of which days", days_took);
        phases.within("of which partial days", pieces_took);
        phases.within("of which pending", pending_took);
        let gathered: Vec<(Part, ByKind<Gather<'_>>)> =
            windows.iter().map(|win| r.gather(*win)).collect();
        let decoded = match r.agent {
            None => r.decode_agents(w)?,
            Some(_) => BTreeMap::new(),
        };
        let agent_gathers = match r.agent {
            None => r.agents_gather(w, &decoded),
            Some(_) => BTreeMap::new(),
        };
        // The blocks of every percentile of the report, read in one round.
        let needed: BTreeSet<BlockKey> = gathered
            .iter()
            .flat_map(|(_, kinds)| kinds.values())
            .chain(agent_gathers.values().map(|(_, g)| g))
            .flat_map(Gather::blocks_needed)
            .collect();
        phases.mark("gather");
        let blocks = r.blocks(&needed).await?;
        phases.mark("blocks");
        let stats = |g: &Gather<'_>| {
            g.stats(&blocks).map_err(|e| {
                crate::store::StoreError::Corrupt(format!("delays of guild {guild}: {e}"))
            })
        };
        let figures = |i: usize| -> Result<Figures> {
            let (counts, kinds) = &gathered[i];
            let delays = ByKind::from_fn(|k| stats(&kinds[k])).transpose()?;
            Ok(counts.figures_with(windows[i], pending[i], delays))
        };
        let (current, previous, badge_figures) = (figures(0)?, figures(1)?, figures(2)?);
        let badge = kpi::badge_of(&rules.badge, badge_w, &badge_figures);
        let mut agent_parts: BTreeMap<String, (Part, DelayStats)> = BTreeMap::new();
        match r.agent {
            None => {
                for (id, (counts, g)) in agent_gathers {
                    let delays = stats(&g)?;
                    agent_parts.insert(id.to_string(), (counts, delays));
                }
            }
            Some(a) => {
                agent_parts.insert(
                    a.to_string(),
                    (gathered[0].0.clone(), current.response_delay),
                );
            }
        }
        let agents = rollup::agent_figures(agent_parts);
        phases.mark("figures");
        phases.log(guild, needed.len());
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
    /// The agent the report is about, if any: then each day's own part is that agent's.
    agent: Option<&'a str>,
    rules: &'a GuildRules,
    days: BTreeMap<NaiveDate, StoredDay>,
    pieces: HashMap<(Millis, Millis), Piece>,
}

/// A stored day as a report reads it.
struct StoredDay {
    guild: Part,
    /// For an agent's report: that agent's part, and the agent's index among the day's agents
    /// (the tag of their delays in the day's blocks).
    agent: Option<(Part, Option<u16>)>,
    /// Every agent's part, still encoded: only the days of the per-agent table decode them.
    agents: Vec<u8>,
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

    fn corrupt(&self, what: &str, day: impl std::fmt::Display) -> crate::store::StoreError {
        crate::store::StoreError::Corrupt(format!("{what} of {} on {day}", self.guild))
    }

    /// The stored days of `span`, with every agent's part on those of `agents_span` (an
    /// agent's report needs its own on every day; a guild report, the agents' table, only on
    /// the days of its window).
    async fn read_days(
        &self,
        span: (Millis, Millis),
        agents_span: (Millis, Millis),
    ) -> Result<BTreeMap<NaiveDate, StoredDay>> {
        let mut out = BTreeMap::new();
        let tz = &self.rules.timezone;
        let days = |(from, to): (Millis, Millis)| (local_day(tz, from), local_day(tz, to - 1));
        let (first, last) = match self.agent {
            Some(_) => days(span),
            None => days(agents_span),
        };
        // Two halves read at once, on two connections: the days of a long window are most of
        // a report's reading. A guild report reads the rest of its span without the agents.
        let middle = first + Duration::days((last - first).num_days() / 2);
        let store = self.desk.store();
        let keys = [first, middle, middle + Duration::days(1), last].map(day_key);
        let (whole_first, whole_last) = days(span);
        let whole = [whole_first, whole_last].map(day_key);
        let (early, late, rest) = tokio::try_join!(
            store.stored_days(self.guild, &keys[0], &keys[1], true),
            store.stored_days(self.guild, &keys[2], &keys[3], true),
            async {
                match self.agent {
                    Some(_) => Ok(Vec::new()),
                    None => {
                        store
                            .stored_days(self.guild, &whole[0], &whole[1], false)
                            .await
                    }
                }
            },
        )?;
        // The days with their agents come last, to replace the same days read without.
        for DayRollup { day, guild, agents } in rest.into_iter().chain(early).chain(late) {
            let Some(d) = parse_day_key(&day) else {
                continue;
            };
            let agent = match self.agent {
                None => None,
                Some(a) => {
                    let entries = Piece::agent_entries(&agents)
                        .ok_or_else(|| self.corrupt("agents' rollup", &day))?;
                    match entries
                        .into_iter()
                        .enumerate()
                        .find(|(_, (id, _))| *id == a)
                    {
                        Some((i, (_, bytes))) => Some((
                            Part::decode(bytes)
                                .ok_or_else(|| self.corrupt("agents' rollup", &day))?,
                            u16::try_from(i).ok(),
                        )),
                        None => Some((Part::default(), None)),
                    }
                }
            };
            out.insert(
                d,
                StoredDay {
                    guild,
                    agent,
                    agents,
                },
            );
        }
        Ok(out)
    }

    async fn read_pieces(
        &self,
        ranges: &[(Millis, Millis)],
    ) -> Result<HashMap<(Millis, Millis), Piece>> {
        let mut out = HashMap::with_capacity(ranges.len());
        let pieces = self
            .desk
            .store()
            .kpi_pieces(
                self.guild,
                ranges,
                self.rules.deadline_ms,
                self.agent.map_or(PieceScope::Guild, PieceScope::Agent),
            )
            .await?;
        for (range, mut p) in ranges.iter().zip(pieces) {
            p.sort();
            out.insert(*range, p);
        }
        Ok(out)
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

    /// The delay blocks asked for, decoded.
    async fn blocks(
        &self,
        keys: &BTreeSet<BlockKey>,
    ) -> Result<HashMap<BlockKey, Vec<(Millis, u16)>>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let asked: Vec<BlockKey> = keys.iter().copied().collect();
        let mut out = HashMap::with_capacity(keys.len());
        // In two halves read at once, as the days.
        let (early, late) = asked.split_at(asked.len() / 2);
        let store = self.desk.store();
        let (early, late) = tokio::try_join!(
            store.kpi_blocks(self.guild, early),
            store.kpi_blocks(self.guild, late)
        )?;
        for (key, data) in early.into_iter().chain(late) {
            let values = decode_block(&data).ok_or_else(|| self.corrupt("delay block", key.day))?;
            out.insert(key, values);
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

#[cfg(test)]
mod tests {
    use super::Doubling;

    #[test]
    fn doubling_passes_at_the_first_threshold_then_at_each_doubling() {
        let mut d = Doubling::new(2_000);
        let passed: Vec<u64> = (0..=20_000).step_by(500).filter(|&c| d.passed(c)).collect();
        assert_eq!(passed, vec![2_000, 4_000, 8_000, 16_000]);
    }
}
