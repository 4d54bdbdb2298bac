//! Weekly business hours in a guild's time zone, and the part of a delay that falls inside them.
//!
//! Hours are local wall-clock times, so a 09:00-18:00 day lasts 9 real hours even on the day the
//! clocks change; a local time that does not exist (inside a spring-forward gap) is taken as the
//! instant the gap ends, and an ambiguous one (fall-back) as its earlier instant.

use super::Millis;
use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES_FR: [&str; 7] = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"];

/// Open intervals per weekday (Monday first), in minutes after local midnight, sorted and merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    days: Option<[Vec<(u32, u32)>; 7]>,
}

impl BusinessHours {
    /// No business hours set: every instant counts, so the business-hours delay equals the
    /// calendar delay.
    pub fn always() -> Self {
        BusinessHours { days: None }
    }

    pub fn is_always(&self) -> bool {
        self.days.is_none()
    }

    /// The milliseconds of `[start, end]` that fall inside business hours.
    pub fn overlap_ms(&self, tz: &Tz, start: Millis, end: Millis) -> Millis {
        if end <= start {
            return 0;
        }
        let Some(days) = &self.days else {
            return end - start;
        };
        let (Some(s), Some(e)) = (
            chrono::DateTime::from_timestamp_millis(start),
            chrono::DateTime::from_timestamp_millis(end),
        ) else {
            return 0;
        };
        // One day of margin on each side covers intervals that start the local day before.
        let first = s.with_timezone(tz).date_naive() - Duration::days(1);
        let last = e.with_timezone(tz).date_naive() + Duration::days(1);
        let mut total = 0;
        let mut day = first;
        while day <= last {
            let weekday = day.weekday().num_days_from_monday() as usize;
            for &(open, close) in &days[weekday] {
                let a = local_instant(tz, day, open).max(start);
                let b = local_instant(tz, day, close).min(end);
                if b > a {
                    total += b - a;
                }
            }
            day += Duration::days(1);
        }
        total
    }
}

/// The UTC instant of `minutes` after local midnight of `day` (1440 is the next midnight).
fn local_instant(tz: &Tz, day: NaiveDate, minutes: u32) -> Millis {
    let naive: NaiveDateTime = day.and_time(NaiveTime::MIN) + Duration::minutes(minutes as i64);
    let mut probe = naive;
    // A gap is at most a few hours; walk forward minute by minute until the wall clock exists.
    for _ in 0..=24 * 60 {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.timestamp_millis(),
            LocalResult::Ambiguous(early, _) => return early.timestamp_millis(),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    naive.and_utc().timestamp_millis()
}

fn parse_day(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    let short: String = s.chars().take(3).collect();
    DAY_NAMES
        .iter()
        .position(|d| *d == short)
        .or_else(|| DAY_NAMES_FR.iter().position(|d| *d == short))
}

fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

const EXAMPLE: &str =
    "e.g. `mon-fri 09:00-18:00` or `mon-fri 09:00-12:00 13:00-18:00; sat 10:00-14:00`";

impl FromStr for BusinessHours {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("always") || t.eq_ignore_ascii_case("none") {
            return Ok(BusinessHours::always());
        }
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for segment in t.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut parts = segment.split_whitespace();
            let day_spec = parts
                .next()
                .ok_or_else(|| format!("empty business hours segment; {EXAMPLE}"))?;
            let mut chosen = Vec::new();
            for item in day_spec.split(',') {
                let lower = item.to_ascii_lowercase();
                if lower == "daily" || lower == "everyday" {
                    chosen.extend(0..7);
                } else if let Some((a, b)) = item.split_once('-') {
                    let (a, b) = (parse_day(a), parse_day(b));
                    let (Some(a), Some(b)) = (a, b) else {
                        return Err(format!("`{item}` is not a day range; {EXAMPLE}"));
                    };
                    let mut d = a;
                    loop {
                        chosen.push(d);
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                } else {
                    chosen.push(
                        parse_day(item)
                            .ok_or_else(|| format!("`{item}` is not a day; {EXAMPLE}"))?,
                    );
                }
            }
            let mut any = false;
            for range in parts {
                any = true;
                let (a, b) = range
                    .split_once('-')
                    .ok_or_else(|| format!("`{range}` is not a time range; {EXAMPLE}"))?;
                let (Some(a), Some(b)) = (parse_clock(a), parse_clock(b)) else {
                    return Err(format!(
                        "`{range}` is not a time range like 09:00-18:00; {EXAMPLE}"
                    ));
                };
                if b <= a {
                    return Err(format!("`{range}` ends before it starts; {EXAMPLE}"));
                }
                for &d in &chosen {
                    days[d].push((a, b));
                }
            }
            if !any {
                return Err(format!("`{segment}` has no hours; {EXAMPLE}"));
            }
        }
        for intervals in days.iter_mut() {
            intervals.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(intervals.len());
            for &(a, b) in intervals.iter() {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            *intervals = merged;
        }
        Ok(BusinessHours { days: Some(days) })
    }
}

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(days) = &self.days else {
            return f.write_str("always");
        };
        let mut first = true;
        for (i, intervals) in days.iter().enumerate() {
            if intervals.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            f.write_str(DAY_NAMES[i])?;
            for (a, b) in intervals {
                write!(
                    f,
                    " {:02}:{:02}-{:02}:{:02}",
                    a / 60,
                    a % 60,
                    b / 60,
                    b % 60
                )?;
            }
        }
        if first {
            f.write_str("never")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{parse_time, HOUR, MINUTE};

    fn t(s: &str) -> Millis {
        parse_time(s).unwrap()
    }

    #[test]
    fn without_business_hours_the_delay_is_the_calendar_delay() {
        let h = BusinessHours::always();
        let tz: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            h.overlap_ms(&tz, t("2026-11-06T17:00:00Z"), t("2026-11-09T10:00:00Z")),
            65 * HOUR
        );
    }

    #[test]
    fn business_hours_skip_the_weekend() {
        // Friday 2026-11-06 17:00 UTC to Monday 2026-11-09 10:00 UTC, 09:00-18:00 UTC on weekdays:
        // one hour on Friday, one on Monday.
        let h: BusinessHours = "mon-fri 09:00-18:00".parse().unwrap();
        assert_eq!(
            h.overlap_ms(
                &Tz::UTC,
                t("2026-11-06T17:00:00Z"),
                t("2026-11-09T10:00:00Z")
            ),
            2 * HOUR
        );
    }

    #[test]
    fn business_hours_follow_the_local_clock_across_a_dst_change() {
        // Europe/Paris leaves summer time on Sunday 2026-10-25. On Friday 10-23 09:00 local is
        // 07:00 UTC; on Monday 10-26 it is 08:00 UTC. From Friday 16:00 UTC (18:00 local, closed)
        // to Monday 09:30 UTC (10:30 local): 1 h 30 min of business time on Monday only.
        let h: BusinessHours = "mon-fri 09:00-18:00".parse().unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            h.overlap_ms(&paris, t("2026-10-23T16:00:00Z"), t("2026-10-26T09:30:00Z")),
            HOUR + 30 * MINUTE
        );
        // The spring change (2026-03-29, Sunday 02:00 → 03:00): a daily 00:00-06:00 window on
        // that day lasts five real hours.
        let h: BusinessHours = "daily 00:00-06:00".parse().unwrap();
        assert_eq!(
            h.overlap_ms(&paris, t("2026-03-28T23:00:00Z"), t("2026-03-29T12:00:00Z")),
            5 * HOUR
        );
    }

    #[test]
    fn business_hours_parse_ranges_lists_and_french_days() {
        let h: BusinessHours = "lun-ven 09:00-12:00 13:00-18:00; sat 10:00-14:00"
            .parse()
            .unwrap();
        assert_eq!(
            h.to_string(),
            "mon 09:00-12:00 13:00-18:00; tue 09:00-12:00 13:00-18:00; wed 09:00-12:00 13:00-18:00; thu 09:00-12:00 13:00-18:00; fri 09:00-12:00 13:00-18:00; sat 10:00-14:00"
        );
        assert!("mon-fri 18:00-09:00".parse::<BusinessHours>().is_err());
        assert!("funday 09:00-10:00".parse::<BusinessHours>().is_err());
        assert!("mon-fri".parse::<BusinessHours>().is_err());
        assert!("always".parse::<BusinessHours>().unwrap().is_always());
    }
}
