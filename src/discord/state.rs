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
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            stopping: AtomicBool::new(false),
            work: Arc::new(Semaphore::new(WORK_PERMITS as usize)),
        }
    }
}

impl Lifecycle {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
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
