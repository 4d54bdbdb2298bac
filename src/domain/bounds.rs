//! The limits on every time and window a person gives (`/stats`, the command line, `purge`,
//! an import): checked before any work, so that nothing typed can make a report walk millions
//! of days or allocate gigabytes.

use super::{format_time, Millis, DAY, MINUTE};
use chrono::{Datelike, TimeZone, Utc};

/// The first year a time may fall in: Discord's epoch (nothing on Discord is older).
pub const FIRST_YEAR: i32 = 2015;
/// The longest window a report or an export covers.
pub const MAX_WINDOW_DAYS: i64 = 400;
/// How far ahead of our clock an imported event may be (two clocks never agree exactly).
pub const IMPORT_SKEW: Millis = MINUTE;

/// A time or a window outside the limits, saying which limit and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    #[error("{what} {at} is outside the years {FIRST_YEAR} to {last} that reactif accepts (e.g. 2026-11-01)")]
    Year { what: String, at: String, last: i32 },
    #[error("the window is {days} days long: at most {MAX_WINDOW_DAYS} days are allowed (e.g. since 2026-01-01 until 2026-12-31); ask for several shorter windows")]
    Window { days: i64 },
    #[error("{what} {at} is in the future: an imported event must have happened (at most a minute ahead of this machine's clock)")]
    Future { what: String, at: String },
}

/// The last year a time may fall in: the year after `now`'s.
pub fn last_year(now: Millis) -> i32 {
    year(now) + 1
}

fn year(at: Millis) -> i32 {
    Utc.timestamp_millis_opt(at)
        .single()
        .map_or(i32::MAX, |t| t.year())
}

/// `at` (named `what` in the error, e.g. `--since`) when its year is within
/// `FIRST_YEAR..=last_year(now)`.
pub fn check_time(what: &str, at: Millis, now: Millis) -> Result<Millis, BoundsError> {
    let last = last_year(now);
    let y = year(at);
    if (FIRST_YEAR..=last).contains(&y) {
        Ok(at)
    } else {
        Err(BoundsError::Year {
            what: what.to_string(),
            at: format_time(at),
            last,
        })
    }
}

/// `from..to` when it is at most `MAX_WINDOW_DAYS` long.
pub fn check_window(from: Millis, to: Millis) -> Result<(), BoundsError> {
    let len = to.saturating_sub(from);
    if len > MAX_WINDOW_DAYS * DAY {
        return Err(BoundsError::Window {
            days: (len - 1) / DAY + 1,
        });
    }
    Ok(())
}

/// An imported event's time: within the years, and not after `now` (beyond clock skew). A
/// future event would stand after every later report's `now` and send each of them down the
/// slow path of replaying the guild's events (see docs/performance.md).
pub fn check_imported(at: Millis, now: Millis) -> Result<Millis, BoundsError> {
    check_time("`at`", at, now)?;
    if at > now.saturating_add(IMPORT_SKEW) {
        return Err(BoundsError::Future {
            what: "`at`".into(),
            at: format_time(at),
        });
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_time;

    fn at(s: &str) -> Millis {
        parse_time(s).unwrap()
    }

    #[test]
    fn years_from_2015_to_the_next_one_are_accepted_and_others_name_the_limit() {
        let now = at("2026-12-03T12:00:00Z");
        assert!(check_time("--since", at("2015-01-01T00:00:00Z"), now).is_ok());
        assert!(check_time("--since", at("2027-12-31T23:59:59Z"), now).is_ok());
        let err = check_time("--since", at("2014-12-31T23:59:59Z"), now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--since 2014-12-31T23:59:59.000Z is outside the years 2015 to 2027 that reactif accepts (e.g. 2026-11-01)"
        );
        assert!(check_time("--until", at("2028-01-01T00:00:00Z"), now).is_err());
        assert!(check_time("--until", i64::MAX, now).is_err());
        assert!(check_time("--until", i64::MIN, now).is_err());
    }

    #[test]
    fn a_window_of_400_days_is_accepted_and_a_longer_one_names_the_limit() {
        let from = at("2026-01-01T00:00:00Z");
        assert!(check_window(from, from + 400 * DAY).is_ok());
        let err = check_window(from, from + 400 * DAY + 1).unwrap_err();
        assert!(err.to_string().contains("401 days long"), "{err}");
        assert!(err.to_string().contains("at most 400 days"), "{err}");
        assert!(check_window(i64::MIN, i64::MAX).is_err());
    }

    #[test]
    fn an_imported_event_must_have_happened() {
        let now = at("2026-12-03T12:00:00Z");
        assert!(check_imported(now + IMPORT_SKEW, now).is_ok());
        let err = check_imported(at("2027-06-01T00:00:00Z"), now).unwrap_err();
        assert!(err.to_string().contains("in the future"), "{err}");
        assert!(check_imported(at("2001-01-01T00:00:00Z"), now).is_err());
    }
}
