//! Snowflakes and time: ids carry their creation time, as Discord's do, so a bot that reads
//! times from ids (as reactif does) sees the times a test chose.

use std::sync::atomic::{AtomicU64, Ordering};

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
pub const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
static SNOWFLAKE_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh snowflake whose time is `ms` (Unix milliseconds): `(ms - epoch) << 22` plus a
/// process-wide counter in the low 22 bits, so two ids of the same millisecond differ.
pub fn snowflake_at(ms: i64) -> u64 {
    let since_epoch = u64::try_from(ms - DISCORD_EPOCH_MS).expect("time after 2015");
    (since_epoch << 22) | (SNOWFLAKE_COUNTER.fetch_add(1, Ordering::Relaxed) & 0x3F_FFFF)
}

/// The Unix milliseconds encoded in a snowflake.
pub fn snowflake_ms(id: u64) -> i64 {
    i64::try_from(id >> 22).expect("42 bits") + DISCORD_EPOCH_MS
}

/// The real current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Discord's timestamp format, e.g. `2026-11-26T05:44:29.938000+00:00`.
pub fn timestamp_at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}
