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
    /// Waits for a turn to handle one message; the turn ends when the permit is dropped.
    pub async fn turn(&self) -> Result<OwnedSemaphorePermit, NoTurn> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= WAITING_LIMIT {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(NoTurn::Full);
        }
        let turn = Arc::clone(&self.handlers).acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        turn.map_err(|_| NoTurn::Closed)
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
pub struct Waiting<'a>(&'a StoreWaits);

impl Drop for Waiting<'_> {
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
    pub fn start(&self, now: crate::domain::Millis, outage: crate::store::Outage) -> Waiting<'_> {
        let first = self.waiting.fetch_add(1, Ordering::SeqCst) == 0;
        let mut since = self.lock();
        if first || since.is_none_or(|(_, o)| o != outage) {
            tracing::error!(
                cause = outage.describe(),
                "the database cannot store messages: they wait in memory and are retried, nothing is skipped"
            );
            *since = Some((since.map_or(now, |(at, _)| at), outage));
        }
        Waiting(self)
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
