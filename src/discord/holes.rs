//! Holes: channels where a message could not be handled (the database was away, the queue was
//! full, Discord failed). Their cursor stays before the message, and the catch-up reads them
//! again from it, with backoff, until it goes through or `HOLE_TRIES` tries failed.

use poise::serenity_prelude as serenity;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A channel's message that could not be handled: the catch-up reads the channel again from it.
#[derive(Debug, Clone)]
pub struct Hole {
    pub guild: Option<String>,
    pub first: u64,
    pub tries: u32,
    pub next_try: Instant,
    /// It waits for the database (away, full, read-only): never given up, tried at least
    /// once a minute.
    pub database: bool,
}

pub const HOLE_TRIES: u32 = 10;

/// Where a read of a channel's history ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    Finished,
    /// This message could not be handled.
    FailedAt(u64),
    /// The history could not be fetched.
    Unreadable,
}

#[derive(Default)]
pub struct Holes {
    /// Channel → its first message not handled.
    holes: Mutex<HashMap<String, Hole>>,
    /// Set while a read-back of holes runs (one at a time, beside the timers).
    filling: AtomicBool,
    /// The gateway context, for read-backs started by the timers.
    context: Mutex<Option<serenity::Context>>,
}

impl Holes {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Hole>> {
        self.holes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a message that could not be handled now: the channel is read again from it.
    pub fn record(&self, channel: &str, guild: Option<&str>, message: u64) {
        self.insert(channel, guild, message, false);
    }

    /// Records a message that waits for the database: read again from it, never given up.
    pub fn record_for_database(&self, channel: &str, guild: Option<&str>, message: u64) {
        self.insert(channel, guild, message, true);
    }

    fn insert(&self, channel: &str, guild: Option<&str>, message: u64, database: bool) {
        self.lock()
            .entry(channel.to_string())
            .and_modify(|h| {
                h.first = h.first.min(message);
                // Once the database was the cause, the hole is never given up.
                h.database |= database;
            })
            .or_insert(Hole {
                guild: guild.map(str::to_string),
                first: message,
                tries: 0,
                next_try: Instant::now(),
                database,
            });
    }

    /// Channels with messages not handled yet (for `/metrics`).
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Whether the channel has a message not handled yet (its cursor must then stay put).
    pub fn contains(&self, channel: &str) -> bool {
        self.lock().contains_key(channel)
    }

    /// Every hole, as it is now.
    pub fn all(&self) -> Vec<(String, Hole)> {
        self.lock()
            .iter()
            .map(|(c, h)| (c.clone(), h.clone()))
            .collect()
    }

    /// The holes whose next try is due.
    pub fn due(&self, now: Instant) -> Vec<(String, Hole)> {
        self.lock()
            .iter()
            .filter(|(_, h)| h.next_try <= now)
            .map(|(c, h)| (c.clone(), h.clone()))
            .collect()
    }

    /// After a read-back of `channel` from `hole` (as it was when the read started) that
    /// handled `n` messages and ended at `end`: the hole is gone, moves past what was handled,
    /// or waits longer; after `HOLE_TRIES` failed tries, the message it stops at is given up.
    pub fn settle(&self, channel: &str, hole: &Hole, n: usize, end: ReadEnd) {
        let mut holes = self.lock();
        if end == ReadEnd::Finished {
            tracing::info!(channel = %channel, messages = n, "read back the messages that could not be handled");
            holes.remove(channel);
            return;
        }
        let Some(again) = holes.get_mut(channel) else {
            return;
        };
        let stopped_at = match end {
            ReadEnd::FailedAt(at) => Some(at),
            _ => None,
        };
        if let Some(at) = stopped_at.filter(|at| *at > hole.first) {
            // Progress: what came before `at` is handled.
            again.first = at;
            again.tries = 0;
        } else {
            again.tries = hole.tries + 1;
        }
        if again.database {
            // Storage failures pass once an operator mends them: never skip the message.
            again.next_try = Instant::now() + Duration::from_secs(2u64.pow(again.tries.min(6)));
            return;
        }
        if again.tries >= HOLE_TRIES {
            if end == ReadEnd::Unreadable {
                tracing::error!(channel = %channel, from_message = again.first, "giving up: the channel's history could not be read in {} tries", HOLE_TRIES);
                holes.remove(channel);
                return;
            }
            // Give up on this one message only, and read on after it.
            tracing::error!(channel = %channel, message = again.first, "giving up: this message could not be handled in {} tries and is not stored", HOLE_TRIES);
            again.first += 1;
            again.tries = 0;
        }
        again.next_try = Instant::now() + Duration::from_secs(2u64.pow(again.tries.min(9)));
    }

    /// Claims the read-back (one at a time); false when one is already running.
    pub fn start_filling(&self) -> bool {
        !self.filling.swap(true, Ordering::SeqCst)
    }

    pub fn finish_filling(&self) {
        self.filling.store(false, Ordering::SeqCst);
    }

    /// Keeps the gateway context of the latest READY or RESUME.
    pub fn set_context(&self, ctx: &serenity::Context) {
        *self
            .context
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(ctx.clone());
    }

    pub fn context(&self) -> Option<serenity::Context> {
        self.context
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
