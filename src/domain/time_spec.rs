//! A point in time as a person writes it (`7d`, `today`, `2026-11-01`, an RFC 3339 time), shared
//! by the command line and `/stats`. Resolving it needs the window's end, the current time and
//! a time zone, all passed in.

use super::kpi::{local_day, local_midnight};
use super::{parse_time, Millis, DAY};
use chrono::NaiveDate;
use chrono_tz::Tz;

/// A point in time as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeSpec {
    DaysBefore(i64),
    Today,
    Day(NaiveDate),
    Instant(Millis),
}

impl std::str::FromStr for TimeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("today") {
            return Ok(TimeSpec::Today);
        }
        if let Some(n) = s.strip_suffix('d') {
            if let Ok(n) = n.parse::<i64>() {
                if (1..=3660).contains(&n) {
                    return Ok(TimeSpec::DaysBefore(n));
                }
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(TimeSpec::Day(d));
        }
        if let Some(t) = parse_time(s) {
            return Ok(TimeSpec::Instant(t));
        }
        Err(format!(
            "`{s}` is not a time: use 7d, 30d, 90d, today, a day like 2026-11-01 or an RFC 3339 time like 2026-11-01T09:00:00Z"
        ))
    }
}

impl TimeSpec {
    /// Resolves against the window's end (for `Nd`) and the time zone (for days).
    pub fn resolve(&self, tz: &Tz, end: Millis, now: Millis) -> Millis {
        match self {
            TimeSpec::DaysBefore(n) => end - n * DAY,
            TimeSpec::Today => local_midnight(tz, local_day(tz, now)),
            TimeSpec::Day(d) => local_midnight(tz, *d),
            TimeSpec::Instant(t) => *t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Millis {
        parse_time(s).unwrap()
    }

    #[test]
    fn every_written_form_parses() {
        assert_eq!("7d".parse(), Ok(TimeSpec::DaysBefore(7)));
        assert_eq!(" 90d ".parse(), Ok(TimeSpec::DaysBefore(90)));
        assert_eq!("Today".parse(), Ok(TimeSpec::Today));
        assert_eq!(
            "2026-11-01".parse(),
            Ok(TimeSpec::Day(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()))
        );
        assert_eq!(
            "2026-11-01T09:00:00+01:00".parse(),
            Ok(TimeSpec::Instant(at("2026-11-01T08:00:00Z")))
        );
    }

    #[test]
    fn a_bad_time_says_what_to_write() {
        for bad in ["last week", "0d", "3661d", "-7d", "2026-13-01", ""] {
            let err = bad.parse::<TimeSpec>().unwrap_err();
            assert!(err.contains("2026-11-01"), "{bad}: {err}");
        }
    }

    #[test]
    fn days_resolve_to_midnight_in_the_time_zone_and_nd_counts_back_from_the_end() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let now = at("2026-11-10T12:00:00Z");
        let end = at("2026-11-08T00:00:00Z");
        assert_eq!(
            TimeSpec::DaysBefore(7).resolve(&paris, end, now),
            at("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            TimeSpec::Today.resolve(&paris, end, now),
            at("2026-11-09T23:00:00Z")
        );
        assert_eq!(
            TimeSpec::Day(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()).resolve(&paris, end, now),
            at("2026-10-31T23:00:00Z")
        );
        assert_eq!(TimeSpec::Instant(5).resolve(&paris, end, now), 5);
    }
}
