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

    /// Messages waiting for a turn now (for `/metrics`).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}
