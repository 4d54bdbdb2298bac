//! The pure heart of reactif: events, the conversation clock, surveys and the KPI arithmetic of
//! `docs/kpi.md`. Nothing here performs I/O or reads the system clock: every time is passed in as
//! milliseconds since the Unix epoch (UTC), so a report is a pure function of its events.

pub mod access_link;
pub mod bounds;
pub mod delay_kind;
pub mod engagement;
pub mod event;
pub mod hours;
pub mod kpi;
pub mod open_conversation;
pub mod percentile;
pub mod rollup;
pub mod settings;
pub mod shards;
pub mod sla;
mod sla_rules;
pub mod sla_timers;
pub mod stats;
pub mod time_spec;
pub mod timeline;

pub use event::{Event, EventKind, Rating};
pub use settings::{BadgeStatistic, GuildRules, Locale, SlaClock, SlaRules, SlaWarning};
pub use time_spec::TimeSpec;

/// Milliseconds since the Unix epoch, UTC. Discord's own clock has millisecond precision, and
/// integer milliseconds keep every delay exact (no float drift in sums or comparisons).
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Discord's epoch (2015-01-01T00:00:00Z): a snowflake holds milliseconds since it in its top bits.
pub const DISCORD_EPOCH_MS: Millis = 1_420_070_400_000;

/// The creation time carried by a Discord snowflake.
pub fn snowflake_time(id: u64) -> Millis {
    (id >> 22) as Millis + DISCORD_EPOCH_MS
}

/// The smallest snowflake created at `ms` (the low 22 bits are worker, process and increment).
pub fn snowflake_at(ms: Millis) -> u64 {
    ((ms - DISCORD_EPOCH_MS) as u64) << 22
}

/// Orders ids the way KPI.md asks: snowflakes compared as numbers. Ids that are not numbers (an
/// import may use `s1` as a survey id) sort after every numeric id, then as text, so the order is
/// total and the same on every run.
pub fn id_order_key(id: &str) -> (bool, u128, &str) {
    match id.parse::<u128>() {
        Ok(n) if !id.starts_with('+') => (false, n, id),
        _ => (true, 0, id),
    }
}

pub fn cmp_ids(a: &str, b: &str) -> std::cmp::Ordering {
    id_order_key(a).cmp(&id_order_key(b))
}

/// RFC 3339 with milliseconds and `Z`, the report's time format.
pub fn format_time(ms: Millis) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Parses an RFC 3339 time (any offset) into UTC milliseconds. Sub-millisecond digits are
/// truncated, as Discord's clock has none.
pub fn parse_time(s: &str) -> Option<Millis> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflake_time_round_trips_to_the_millisecond() {
        let ms = parse_time("2026-11-02T09:00:00.000Z").unwrap();
        assert_eq!(snowflake_time(snowflake_at(ms)), ms);
        // The worked example's first id is a snowflake of 09:00:00.000 plus an increment of 1.
        assert_eq!(snowflake_time(1_566_738_638_438_400_001), ms);
    }

    #[test]
    fn numeric_ids_compare_as_numbers_and_text_ids_come_after() {
        assert_eq!(cmp_ids("9", "10"), std::cmp::Ordering::Less);
        assert_eq!(cmp_ids("10", "s1"), std::cmp::Ordering::Less);
        assert_eq!(cmp_ids("s1", "s2"), std::cmp::Ordering::Less);
    }

    #[test]
    fn times_format_with_milliseconds_in_utc() {
        let ms = parse_time("2026-11-20T10:15:02.125+01:00").unwrap();
        assert_eq!(format_time(ms), "2026-11-20T09:15:02.125Z");
    }
}

#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod sla_tests;
