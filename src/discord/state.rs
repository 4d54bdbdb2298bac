//! The bot's shared state, in small owned pieces: each keeps its fields private and says what
//! may be done with it, so that no feature reaches into another's bookkeeping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// Serenity runs handlers concurrently; messages of one place are handled one at a time so
/// that, say, two quick DMs cannot open two staff threads.
#[derive(Default)]
pub struct PlaceLocks {
    places: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl PlaceLocks {
    /// Waits for the place named `key`, and holds it until the guard is dropped.
    pub async fn lock(&self, key: String) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self
                .places
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if map.len() > 10_000 {
                map.retain(|_, l| Arc::strong_count(l) > 1);
            }
            Arc::clone(map.entry(key).or_default())
        };
        lock.lock_owned().await
    }
}

/// Events handled at once, at most (far above what the gateway delivers).
const WORK_PERMITS: u32 = 1 << 20;

/// Whether the bot still takes events, and the events in hand (shutdown waits for them).
pub struct Lifecycle {
    /// Set at shutdown: no new event is taken (catch-up reads it at the next start).
    stopping: AtomicBool,
    /// One permit per event being handled.
    work: Arc<Semaphore>,
    /// Set once the first catch-up since start has read what was missed, on every shard of
    /// the process: the service-level timers wait for it, so that an answer or a customer
    /// message posted while the bot was away cancels them before they act.
    caught_up: AtomicBool,
    /// The shards whose first catch-up is over.
    shards_caught_up: std::sync::Mutex<std::collections::BTreeSet<u32>>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            stopping: AtomicBool::new(false),
            work: Arc::new(Semaphore::new(WORK_PERMITS as usize)),
            caught_up: AtomicBool::new(false),
            shards_caught_up: Default::default(),
        }
    }
}

impl Lifecycle {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::SeqCst)
    }

    /// The first catch-up since start is over (whether or not every channel could be read:
    /// one that could not is a hole, read again later, and waiting for it would hold the
    /// timers back indefinitely).
    /// `shard` is one of the process's `shards` (each shard's READY catches up its own
    /// guilds): the process is caught up once every one of them is.
    pub fn mark_caught_up(&self, shard: u32, shards: &crate::domain::shards::Shards) {
        let mut done = self
            .shards_caught_up
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        done.insert(shard);
        if shards.ids().all(|s| done.contains(&s)) {
            self.caught_up.store(true, Ordering::SeqCst);
        }
    }

    /// No new event is taken from now on.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// A permit to handle one event, unless the bot is shutting down.
    pub fn start_work(&self) -> Option<OwnedSemaphorePermit> {
        if self.stopping() {
            return None;
        }
        Arc::clone(&self.work).try_acquire_owned().ok()
    }

    /// Stops taking events and waits, up to `grace`, for the ones in hand; false if some were
    /// still being handled then.
    pub async fn stop_and_wait(&self, grace: std::time::Duration) -> bool {
        self.stop();
        tokio::time::timeout(grace, self.work.acquire_many(WORK_PERMITS))
            .await
            .is_ok()
    }
}

/// Messages handled at once; a few dozen keep both cores and the database busy.
const HANDLERS: usize = 32;

/// Messages that may wait for a handler at once (a burst, or the database away); beyond,
/// they are left in Discord's history and read back by the catch-up.
pub const WAITING_LIMIT: usize = 10_000;

/// Backpressure on live messages: a few are handled at once, the others wait in line (fairly,
/// in arrival order), and beyond `WAITING_LIMIT` waiting ones a message is not taken at all.
pub struct Intake {
    handlers: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl Default for Intake {
    fn default() -> Self {
        Intake {
            handlers: Arc::new(Semaphore::new(HANDLERS)),
            waiting: AtomicUsize::new(0),
        }
    }
}

/// Why a message got no turn.
#[derive(Debug, PartialEq, Eq)]
pub enum NoTurn {
    /// `WAITING_LIMIT` messages are already waiting.
    Full,
    /// The bot is closing.
    Closed,
}

impl Intake {
    /// Messages waiting for a turn now (for `/metrics`).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Counts one more message waiting, unless `WAITING_LIMIT` already are; it waits until its
    /// `Waiting::turn`.
    pub fn enter(&self) -> Result<Waiting<'_>, NoTurn> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= WAITING_LIMIT {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(NoTurn::Full);
        }
        Ok(Waiting { intake: self })
    }
}

/// A message counted as waiting for a handler (until it has one, or gives up).
pub struct Waiting<'a> {
    intake: &'a Intake,
}

impl Waiting<'_> {
    /// Waits for a handler (fairly, in arrival order).
    pub async fn turn(self) -> Result<OwnedSemaphorePermit, NoTurn> {
        Arc::clone(&self.intake.handlers)
            .acquire_owned()
            .await
            .map_err(|_| NoTurn::Closed)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.intake.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Per-person limits (`/forget-me` once an hour, a few commands every few seconds): how many
/// turns each person took at each thing in the current period, on Discord's clock. Kept in
/// memory: a restart forgets them, which only ever lets someone through early.
#[derive(Default)]
pub struct RateLimits {
    /// (thing, person) -> (start of the period, turns taken in it).
    turns: Mutex<HashMap<(String, u64), (i64, u32)>>,
}

/// Entries above this many are pruned of the ones no limit still needs.
const RATE_ENTRIES: usize = 10_000;
/// The longest period (`/forget-me`'s hour): an older one limits nothing.
const LONGEST_LIMIT: i64 = 3_600_000;

impl RateLimits {
    /// Takes one of `who`'s `burst` turns at `what` in the period of `every` that started with
    /// their first turn; when none is left, returns how long until the next period.
    pub fn take(&self, what: &str, who: u64, now: i64, burst: u32, every: i64) -> Result<(), i64> {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        if turns.len() >= RATE_ENTRIES {
            turns.retain(|_, (start, _)| now - *start < LONGEST_LIMIT);
        }
        let entry = turns.entry((what.to_string(), who)).or_insert((now, 0));
        if now < entry.0 || now - entry.0 >= every {
            *entry = (now, 0);
        }
        if entry.1 >= burst {
            return Err(every - (now - entry.0));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Gives back a turn taken (what it was for failed on our side).
    pub fn give_back(&self, what: &str, who: u64) {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = turns.get_mut(&(what.to_string(), who)) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod rate_tests {
    use super::RateLimits;

    #[test]
    fn turns_run_out_within_their_period_and_come_back_with_the_next() {
        let limits = RateLimits::default();
        assert_eq!(limits.take("x", 1, 1_000, 1, 100), Ok(()));
        assert_eq!(limits.take("x", 1, 1_060, 1, 100), Err(40));
        assert_eq!(limits.take("x", 2, 1_060, 1, 100), Ok(()), "per person");
        assert_eq!(limits.take("y", 1, 1_060, 1, 100), Ok(()), "per thing");
        assert_eq!(limits.take("x", 1, 1_100, 1, 100), Ok(()));
        limits.give_back("x", 1);
        assert_eq!(limits.take("x", 1, 1_101, 1, 100), Ok(()));
        for _ in 0..3 {
            assert_eq!(limits.take("z", 1, 5_000, 3, 100), Ok(()));
        }
        assert_eq!(limits.take("z", 1, 5_010, 3, 100), Err(90));
    }
}

/// Reports that read a guild's places one by one (an export, a channel's report): one at a
/// time per guild, so that nobody can fill the bot's memory or the database's time with them.
#[derive(Default)]
pub struct HeavyReports {
    busy: Arc<Mutex<std::collections::HashSet<String>>>,
}

/// A guild's turn for a heavy report, given back when dropped.
pub struct HeavySlot {
    busy: Arc<Mutex<std::collections::HashSet<String>>>,
    guild: String,
}

impl HeavyReports {
    /// The guild's turn, unless another of its heavy reports is being prepared.
    pub fn try_start(&self, guild: &str) -> Option<HeavySlot> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.insert(guild.to_string()).then(|| HeavySlot {
            busy: Arc::clone(&self.busy),
            guild: guild.to_string(),
        })
    }
}

impl Drop for HeavySlot {
    fn drop(&mut self) {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.remove(&self.guild);
    }
}

#[cfg(test)]
mod heavy_tests {
    use super::HeavyReports;

    #[test]
    fn one_heavy_report_per_guild_at_a_time() {
        let heavy = HeavyReports::default();
        let slot = heavy.try_start("g").expect("free");
        assert!(heavy.try_start("g").is_none());
        assert!(heavy.try_start("h").is_some(), "another guild is not held");
        drop(slot);
        assert!(heavy.try_start("g").is_some());
    }
}

/// How long the bot trusts its memory of a guild's channels before reading the setup again
/// (`/setup` forgets it at once; this bounds what another writer could leave stale).
const SETUP_MEMORY: std::time::Duration = std::time::Duration::from_secs(60);

/// Threads remembered as not being tickets, at most (the memory is cleared beyond).
const NOT_TICKETS_LIMIT: usize = 100_000;

/// A guild's channels that matter to the bot: its staff channel and its watched channels.
#[derive(Clone, Debug, Default)]
pub struct GuildChannels {
    pub staff: Option<String>,
    pub watched: std::collections::HashSet<String>,
}

impl GuildChannels {
    /// The staff channel or a watched channel.
    pub fn matters(&self, channel: &str) -> bool {
        self.staff.as_deref() == Some(channel) || self.watched.contains(channel)
    }
}

/// What the bot remembers of the guilds' channels, so that ordinary chat is dropped without a
/// database read: each guild's `GuildChannels` (for `SETUP_MEMORY`), and the threads known not
/// to be tickets (a ticket thread is opened by the bot itself, so a thread that is not one now
/// never becomes one).
#[derive(Default)]
pub struct KnownChannels {
    guilds: Mutex<HashMap<String, (std::time::Instant, GuildChannels)>>,
    not_tickets: Mutex<std::collections::HashSet<u64>>,
    /// Each guild's engagement tracking (for `SETUP_MEMORY`): every message and reaction of a
    /// guild asks whether its channel is tracked.
    tracking: Mutex<HashMap<String, (std::time::Instant, crate::store::TrackingSetup)>>,
}

impl KnownChannels {
    /// The guild's channels, if remembered recently.
    pub fn guild(&self, guild: &str) -> Option<GuildChannels> {
        let map = self
            .guilds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(guild)
            .filter(|(at, _)| at.elapsed() < SETUP_MEMORY)
            .map(|(_, c)| c.clone())
    }

    pub fn remember_guild(&self, guild: &str, channels: GuildChannels) {
        self.guilds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(guild.to_string(), (std::time::Instant::now(), channels));
    }

    /// The guild's setup changed: read it again at the next message.
    pub fn forget_guild(&self, guild: &str) {
        self.guilds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(guild);
        self.tracking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(guild);
    }

    /// The guild's engagement tracking, if remembered recently.
    pub fn tracking(&self, guild: &str) -> Option<crate::store::TrackingSetup> {
        let map = self
            .tracking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(guild)
            .filter(|(at, _)| at.elapsed() < SETUP_MEMORY)
            .map(|(_, t)| t.clone())
    }

    pub fn remember_tracking(&self, guild: &str, tracking: crate::store::TrackingSetup) {
        self.tracking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(guild.to_string(), (std::time::Instant::now(), tracking));
    }

    pub fn is_not_a_ticket(&self, thread: u64) -> bool {
        self.not_tickets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&thread)
    }

    pub fn remember_not_a_ticket(&self, thread: u64) {
        let mut set = self
            .not_tickets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if set.len() >= NOT_TICKETS_LIMIT {
            set.clear();
        }
        set.insert(thread);
    }
}

/// Messages waiting for the database (it cannot write: away, full, read-only, a failing disk):
/// how many, since when and why, for the log and `/stats`.
#[derive(Default)]
pub struct StoreWaits {
    waiting: AtomicUsize,
    since: Mutex<Option<(crate::domain::Millis, crate::store::Outage)>>,
}

/// One message waiting for the database; it stops waiting when this is dropped.
pub struct StoreWait<'a>(&'a StoreWaits);

impl Drop for StoreWait<'_> {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.lock() = None;
            tracing::info!("no message waits for the database any more");
        }
    }
}

impl StoreWaits {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<(crate::domain::Millis, crate::store::Outage)>> {
        self.since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A message starts waiting because of `outage`; the first of an outage is logged loudly.
    pub fn start(&self, now: crate::domain::Millis, outage: crate::store::Outage) -> StoreWait<'_> {
        let first = self.waiting.fetch_add(1, Ordering::SeqCst) == 0;
        let mut since = self.lock();
        if first || since.is_none_or(|(_, o)| o != outage) {
            tracing::error!(
                cause = outage.describe(),
                "the database cannot store messages: they wait in memory and are retried, nothing is skipped"
            );
            *since = Some((since.map_or(now, |(at, _)| at), outage));
        }
        StoreWait(self)
    }

    /// Messages waiting now, since when, and why (`None` when none waits).
    pub fn now(&self) -> Option<(usize, crate::domain::Millis, crate::store::Outage)> {
        let n = self.waiting.load(Ordering::SeqCst);
        let since = *self.lock();
        since.filter(|_| n > 0).map(|(at, o)| (n, at, o))
    }
}

/// Staff channels Discord refused to open a ticket thread in (deleted, or the bot lost access),
/// by guild: logged once, shown by `/setup`, forgotten when `/setup` changes the guild's
/// setup or a thread opens there again.
#[derive(Default)]
pub struct LostStaffChannels {
    lost: Mutex<HashMap<String, (String, u16)>>,
}

impl LostStaffChannels {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, u16)>> {
        self.lost
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Discord answered `status` when asked to open a thread in `channel`; logged once.
    pub fn lost(&self, guild: &str, channel: &str, status: u16) {
        let previous = self
            .lock()
            .insert(guild.to_string(), (channel.to_string(), status));
        if previous.as_ref().is_none_or(|(c, _)| c != channel) {
            tracing::error!(
                guild,
                channel,
                status,
                "the staff channel is gone or closed to the bot: DMs are not relayed; choose another with /setup staff_channel, or give the bot access again"
            );
        }
    }

    pub fn found(&self, guild: &str) {
        self.lock().remove(guild);
    }

    /// The guild's lost staff channel and Discord's answer, if it is lost.
    pub fn get(&self, guild: &str) -> Option<(String, u16)> {
        self.lock().get(guild).cloned()
    }
}

#[cfg(test)]
mod lifecycle_tests {
    use crate::domain::shards::Shards;

    #[test]
    fn a_process_is_caught_up_once_each_of_its_shards_is() {
        let life = super::Lifecycle::default();
        let shards = Shards::new(2, 3, 4).unwrap();
        assert!(!life.caught_up());
        life.mark_caught_up(3, &shards);
        assert!(!life.caught_up(), "shard 2 has not caught up yet");
        life.mark_caught_up(2, &shards);
        assert!(life.caught_up());
        let alone = super::Lifecycle::default();
        alone.mark_caught_up(0, &Shards::ALL);
        assert!(alone.caught_up());
    }
}

/// Ids for reaction events, which Discord gives none: strings of digits that sort by the time
/// the bot stamped them, then by the order it took them (docs/engagement.md orders events by
/// time, then id as numbers), and differ for different reactions at the same millisecond (a
/// hash of what the event is about), so that no two events of one process or of two share one.
#[derive(Default)]
pub struct ReactionIds {
    taken: AtomicUsize,
}

impl ReactionIds {
    /// A stamp: the time `at` and a place in the order taken. A handler takes it when it learns
    /// what happened, before reading anything, so that of two events of the same millisecond
    /// the one learnt later sorts later (a catch-up that listed Discord before a live removal
    /// must not undo it by writing afterwards).
    pub fn stamp(&self, at: crate::domain::Millis) -> Stamp {
        let seq = self.taken.fetch_add(1, Ordering::SeqCst) as u128 % 1_000_000;
        Stamp { at, seq }
    }
}

/// The posts with live reaction events not stored yet (a handler waiting for the database, say),
/// by how many. A catch-up leaves those posts alone: their live events carry the times they
/// were learnt at, and a catch-up that wrote what Discord shows meanwhile would record a
/// reaction twice (once at its own time, once at the live event's).
#[derive(Default)]
pub struct LiveReactions(Mutex<HashMap<u64, usize>>);

impl LiveReactions {
    /// Marks a live event about `post` as in flight until the guard is dropped.
    pub fn begin(&self, post: u64) -> InFlight<'_> {
        *self.posts().entry(post).or_default() += 1;
        InFlight { live: self, post }
    }

    /// Whether a live reaction event about `post` is in flight.
    pub fn busy(&self, post: u64) -> bool {
        self.posts().contains_key(&post)
    }

    /// A handler that panicked while holding the lock left counts that are still right.
    fn posts(&self) -> std::sync::MutexGuard<'_, HashMap<u64, usize>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A live reaction event in flight (`LiveReactions::begin`).
pub struct InFlight<'a> {
    live: &'a LiveReactions,
    post: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut posts = self.live.posts();
        if let Some(n) = posts.get_mut(&self.post) {
            *n -= 1;
            if *n == 0 {
                posts.remove(&self.post);
            }
        }
    }
}

/// When a reaction event happened, as the bot knows it (see `ReactionIds::stamp`).
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub at: crate::domain::Millis,
    seq: u128,
}

impl Stamp {
    /// The id of the reaction event about `what` (post, user, emoji, add or remove).
    pub fn id(&self, what: &str) -> String {
        reaction_id(self.at, self.seq, what)
    }
}

/// `at` (ms), then six digits of order, then nine of hash (FNV-1a of `what`).
pub fn reaction_id(at: crate::domain::Millis, seq: u128, what: &str) -> String {
    let hash = what.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let at = u128::try_from(at.max(0)).unwrap_or(0);
    (at * 1_000_000_000_000_000 + seq * 1_000_000_000 + u128::from(hash % 1_000_000_000))
        .to_string()
}

#[cfg(test)]
mod live_reactions_tests {
    use super::LiveReactions;

    #[test]
    fn a_post_is_busy_while_any_of_its_live_events_is_in_flight() {
        let live = LiveReactions::default();
        let first = live.begin(7);
        let second = live.begin(7);
        let other = live.begin(8);
        assert!(live.busy(7) && live.busy(8) && !live.busy(9));
        drop(first);
        assert!(live.busy(7), "one event of post 7 is still in flight");
        drop(second);
        assert!(!live.busy(7));
        assert!(live.busy(8));
        drop(other);
        assert!(!live.busy(8));
    }
}

#[cfg(test)]
mod reaction_id_tests {
    use super::{reaction_id, ReactionIds};
    use crate::domain::cmp_ids;
    use std::cmp::Ordering;

    #[test]
    fn reaction_ids_sort_by_time_then_order_taken_and_differ_by_subject() {
        // A later millisecond sorts after, whatever the order and hash digits.
        let early = reaction_id(1_700_000_000_000, 999_999, "z");
        let late = reaction_id(1_700_000_000_001, 0, "a");
        assert_eq!(cmp_ids(&early, &late), Ordering::Less);
        assert!(early.starts_with("1700000000000999999"), "{early}");
        // Within one millisecond, the order taken decides.
        let ids = ReactionIds::default();
        let first = ids.stamp(1_700_000_000_000).id("p|u|👍|remove");
        let second = ids.stamp(1_700_000_000_000).id("p|u|👍|add");
        assert_eq!(cmp_ids(&first, &second), Ordering::Less);
        assert_ne!(
            reaction_id(5, 0, "p|u|👍|add"),
            reaction_id(5, 0, "p|v|👍|add")
        );
    }
}
