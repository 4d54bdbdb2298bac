//! Keeping the rollups of `domain::rollup` up to date (`Desk::refresh`), and building reports
//! from them (`report.rs`).
//!
//! Writes only mark places dirty (in the transaction that stores their events). `refresh`
//! derives the facts of dirty places, then sums the parts of the days those facts changed. The
//! bot refreshes every 10 s, an import once it has stored its file, and a report refreshes
//! its own guild first, so a report never reads stale parts.
//!
//! What is here sees the store through `RollupStore` (and `RulesStore` for the rules the
//! facts are derived under), nothing else.

use super::Desk;
use crate::domain::kpi::local_midnight;
use crate::domain::rollup::{day_key, parse_day_key, PlaceFacts};
use crate::domain::{Event, GuildRules, Millis};
use crate::store::{
    DayUpdate, DirtyDay, DirtyPlace, FactsUpdate, PieceScope, Result, RollupStore, RulesStore,
};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

mod report;

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

/// The store as the rollups see it.
type Rollups = Arc<dyn RollupStore>;

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

/// A phase of the refresh (places, then days), run in batches by `pipeline`.
trait Phase {
    type Item: Send + Sync + 'static;
    /// The next dirty keys after `after` (a guild and a key), derived into what to write.
    async fn derive(&mut self, after: Option<(&str, &str)>) -> Result<Batch<Self::Item>>;
    /// Writes a batch; how many of its items were still current.
    fn write(
        store: Rollups,
        items: Vec<Self::Item>,
    ) -> impl std::future::Future<Output = Result<usize>> + Send + 'static;
}

/// The guilds' rules, each read once per batch, after its dirty marks: a change of rules marks
/// the guild's places in the same transaction, so rules read after the marks are at least as
/// new as the change that made them. Kept for a whole refresh, a refresh running when the
/// rules changed summed the rebuilt days under the old ones (seen: a first-response target
/// set while the bot's refresh ran counted no answer against it).
struct RulesCache<'s> {
    store: &'s dyn RulesStore,
    known: HashMap<String, GuildRules>,
}

impl<'s> RulesCache<'s> {
    fn new(store: &'s dyn RulesStore) -> RulesCache<'s> {
        RulesCache {
            store,
            known: HashMap::new(),
        }
    }

    async fn get(&mut self, guild: &str) -> Result<&GuildRules> {
        if !self.known.contains_key(guild) {
            let rules = self.store.guild_rules(guild).await?;
            self.known.insert(guild.to_string(), rules);
        }
        Ok(&self.known[guild])
    }

    /// Forgets what was read: called once a batch's dirty marks are read.
    fn after_marks(&mut self) {
        self.known.clear();
    }
}

/// Replays dirty places with their guild's rules into their facts.
struct Places<'a, 's> {
    store: &'a Rollups,
    guild: Option<&'a str>,
    rules: &'a mut RulesCache<'s>,
    /// Dirty places read (taken) so far.
    derived: u64,
}

impl Phase for Places<'_, '_> {
    type Item = FactsUpdate;

    async fn derive(&mut self, after: Option<(&str, &str)>) -> Result<Batch<FactsUpdate>> {
        // A refresh of every guild may run in several processes at once: it takes its marks.
        // A report's refresh of its guild reads them all, taken or not, so that the report
        // never waits for another process (versions keep a mark written once).
        let dirty = match self.guild {
            Some(_) => self.store.dirty_places(self.guild, after, REFRESH_BATCH),
            None => self.store.claim_dirty_places(after, REFRESH_BATCH),
        }
        .await?;
        self.rules.after_marks();
        self.derived += dirty.len() as u64;
        let mut updates = Vec::with_capacity(dirty.len());
        let mut by_guild: BTreeMap<&str, Vec<&DirtyPlace>> = BTreeMap::new();
        for d in &dirty {
            by_guild.entry(d.guild_id.as_str()).or_default().push(d);
        }
        for (g, places) in by_guild {
            updates.extend(self.derive_guild(g, places).await?);
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
        store: Rollups,
        items: Vec<FactsUpdate>,
    ) -> impl std::future::Future<Output = Result<usize>> + Send + 'static {
        async move { store.write_place_facts(&items).await }
    }
}

impl Places<'_, '_> {
    /// The new facts of some dirty places of guild `g`.
    async fn derive_guild(
        &mut self,
        g: &str,
        places: Vec<&DirtyPlace>,
    ) -> Result<Vec<FactsUpdate>> {
        let r = self.rules.get(g).await?;
        let names: Vec<String> = places.iter().map(|d| d.conversation.clone()).collect();
        let mut events: HashMap<String, Vec<Event>> = HashMap::new();
        for e in self.store.events_of_places(g, &names).await? {
            events.entry(e.place.clone()).or_default().push(e);
        }
        let mut old = self.store.place_facts(g, &names).await?;
        let mut updates = Vec::with_capacity(places.len());
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
        Ok(updates)
    }
}

/// Sums dirty days from the facts into their parts and delay blocks.
struct Days<'a, 's> {
    store: &'a Rollups,
    guild: Option<&'a str>,
    rules: &'a mut RulesCache<'s>,
    /// Above this many delays of one kind, a day keeps them in blocks.
    inline_max: usize,
    /// Dirty days read (taken) so far.
    derived: u64,
}

impl Phase for Days<'_, '_> {
    type Item = DayUpdate;

    async fn derive(&mut self, after: Option<(&str, &str)>) -> Result<Batch<DayUpdate>> {
        let dirty = match self.guild {
            Some(_) => self.store.dirty_days(self.guild, after, REFRESH_BATCH),
            None => self.store.claim_dirty_days(after, REFRESH_BATCH),
        }
        .await?;
        self.rules.after_marks();
        self.derived += dirty.len() as u64;
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
            let r = self.rules.get(g).await?;
            let ranges: Vec<(Millis, Millis)> =
                days.iter().map(|(_, day)| day_range(r, *day)).collect();
            let (pieces, services) = tokio::try_join!(
                self.store
                    .kpi_pieces(g, &ranges, r.deadline_ms, PieceScope::All),
                self.store.service_pieces(g, &ranges, r)
            )?;
            for (((d, _), mut piece), mut service) in days.into_iter().zip(pieces).zip(services) {
                piece.sort();
                service.sort();
                let blocks = piece.block_out(self.inline_max);
                done.push(DayUpdate {
                    day: d.clone(),
                    piece,
                    blocks,
                    service,
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
        store: Rollups,
        items: Vec<DayUpdate>,
    ) -> impl std::future::Future<Output = Result<usize>> + Send + 'static {
        async move { store.write_days(&items).await }
    }
}

/// A local day as `[midnight, next midnight)` in UTC milliseconds.
fn day_range(rules: &GuildRules, day: NaiveDate) -> (Millis, Millis) {
    (
        local_midnight(&rules.timezone, day),
        local_midnight(&rules.timezone, day + Duration::days(1)),
    )
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshSummary {
    /// Places and days written.
    pub places: u64,
    pub days: u64,
    /// Dirty places, and days, this refresh derived: the work it did, written or found
    /// changed meanwhile (another process's refresh derives the others).
    pub places_derived: u64,
    pub days_derived: u64,
}

impl Desk {
    /// Brings the facts and day parts of one guild (or all) up to date with the stored events.
    /// `progress` is told how many places and days were done.
    pub async fn refresh(
        &self,
        guild: Option<&str>,
        progress: &(dyn Fn(RefreshSummary) + Sync),
    ) -> Result<RefreshSummary> {
        let store: Rollups = self.store.clone();
        let mut rules = RulesCache::new(&*self.store);
        let mut summary = RefreshSummary::default();
        let started = std::time::Instant::now();
        let mut places = Places {
            store: &store,
            guild,
            rules: &mut rules,
            derived: 0,
        };
        pipeline(&store, &mut places, |n| {
            summary.places += n;
            progress(summary);
        })
        .await?;
        // The days are summed by index-only reads of the facts just written: on PostgreSQL
        // these visit the table too until a vacuum has marked its pages all-visible.
        if summary.places >= ANALYZE_AFTER {
            store.analyze_rollups().await?;
        }
        let places_took = started.elapsed();
        summary.places_derived = places.derived;
        let mut days = Days {
            store: &store,
            guild,
            rules: &mut rules,
            inline_max: self.inline_max,
            derived: 0,
        };
        pipeline(&store, &mut days, |n| {
            summary.days += n;
            progress(summary);
        })
        .await?;
        summary.days_derived = days.derived;
        if summary.places + summary.days >= ANALYZE_AFTER {
            store.analyze_rollups().await?;
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
}

/// Runs one phase of the refresh to its end. While one batch is written, the next one is
/// read and derived: its keys come after this batch's, so the two cannot overlap. The write
/// is its own task so that both can run at once, on their own connections. A short batch was
/// the last one: the next starts again from the first key, once this one is written, for what
/// was marked meanwhile or skipped as changed. `written` is told how many items each batch
/// wrote.
async fn pipeline<P: Phase>(
    store: &Rollups,
    phase: &mut P,
    mut written: impl FnMut(u64),
) -> Result<()> {
    let (mut idle, mut rounds, mut total) = (0, 0, 0);
    let mut analyze = Doubling::new(ANALYZE_FIRST);
    let mut next = phase.derive(None).await?;
    while idle < IDLE_ROUNDS && rounds < MAX_ROUNDS {
        rounds += 1;
        if analyze.passed(total) {
            store.analyze_growing().await?;
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
        let write = tokio::spawn(P::write(store.clone(), std::mem::take(&mut next.items)));
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
        // Batches in the middle of a pass that wrote nothing were refreshed by someone else
        // just ahead (a report's refresh of its guild): moving on costs little. Only passes
        // from the first key that write nothing say the rest is not ours to do.
        if count > 0 {
            idle = 0;
        } else if from_start {
            idle += 1;
        }
        written(count);
    }
    Ok(())
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
