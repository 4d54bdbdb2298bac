//! What the dashboard draws of the response delays besides the report: each day's median and
//! p90, and how the delays of a window spread over a few buckets.
//!
//! The buckets' edges are edges of the fine buckets the rollups count delays in
//! (`percentile::bucket`), the ones nearest to 1 min, 5 min, 15 min, 1 h, 4 h and 24 h: a stored
//! day then says exactly how many of its delays fall in each without reading one delay, and the
//! page states the edges as they are (59 s, not "1 min").

use super::kpi::{self, local_day, local_midnight, InScope, RequestStatus, Rules, Scope, Window};
use super::stats::DelayStats;
use super::timeline::Timeline;
use super::Millis;
use chrono::{Duration, NaiveDate};

/// The upper edges of the buckets (the last bucket has none): each a fine bucket's first value.
pub const EDGES: [Millis; 6] = [
    59_392,     // 2^15 × (1 + 13/16): 59.4 s
    294_912,    // 2^18 × (1 + 2/16): 4 min 54.9 s
    884_736,    // 2^19 × (1 + 11/16): 14 min 44.7 s
    3_538_944,  // 2^21 × (1 + 11/16): 58 min 58.9 s
    14_155_776, // 2^23 × (1 + 11/16): 3 h 55 min 55.8 s
    88_080_384, // 2^26 × (1 + 5/16): 24 h 28 min 0.4 s
];

/// The bucket of a delay among `EDGES` (0 below the first edge, `EDGES.len()` at or above the
/// last).
pub fn slot(v: Millis) -> usize {
    EDGES.partition_point(|e| *e <= v)
}

/// How many of `values` fall in each bucket.
pub fn histogram(values: &[Millis]) -> Vec<u64> {
    let mut out = vec![0; EDGES.len() + 1];
    for &v in values {
        out[slot(v)] += 1;
    }
    out
}

/// One day of the daily delay series.
#[derive(Debug, Clone, PartialEq)]
pub struct DayDelays {
    pub day: NaiveDate,
    /// Response delays of the requests of that day answered within the deadline.
    pub count: u64,
    pub median: Option<Millis>,
    pub p90: Option<Millis>,
}

/// The delay charts of a report's window: the daily series over the report's series window
/// (the previous window and this one), and the histograms of both windows.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayCharts {
    pub daily: Vec<DayDelays>,
    pub current: Vec<u64>,
    pub previous: Vec<u64>,
}

/// The response delays of the requests started in `w` and answered within the deadline, as
/// `kpi::figures` counts them for `response_delay`.
pub fn response_delays(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> Vec<Millis> {
    let keep = InScope::new(tl, scope);
    tl.requests
        .iter()
        .filter(|r| w.contains(r.start) && keep.request(r))
        .filter(|r| {
            let g = (rules.lookup)(&r.guild_id);
            kpi::status(r, g.deadline_ms, w.now) == RequestStatus::Answered
        })
        .map(|r| r.answer.as_ref().map_or(r.start, |a| a.at) - r.start)
        .collect()
}

/// The days of `series` in `tz`, each with the part of it the series covers.
pub fn series_days(series: Window, tz: &chrono_tz::Tz) -> Vec<(NaiveDate, Window)> {
    if series.to <= series.from {
        return Vec::new();
    }
    let (first, last) = (local_day(tz, series.from), local_day(tz, series.to - 1));
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        let next = day + Duration::days(1);
        out.push((
            day,
            Window {
                from: local_midnight(tz, day).max(series.from),
                to: local_midnight(tz, next).min(series.to),
                now: series.now,
            },
        ));
        day = next;
    }
    out
}

/// The delay charts replayed from a timeline (the reference the rollups' are checked against).
pub fn delay_charts(tl: &Timeline, rules: &Rules, scope: &Scope, w: Window) -> DelayCharts {
    let tz = rules.report.timezone;
    let daily = series_days(kpi::series_window(w), &tz)
        .into_iter()
        .map(|(day, dw)| {
            let s = DelayStats::from_values(response_delays(tl, rules, scope, dw));
            DayDelays {
                day,
                count: s.count,
                median: s.median,
                p90: s.p90,
            }
        })
        .collect();
    DelayCharts {
        daily,
        current: histogram(&response_delays(tl, rules, scope, w)),
        previous: histogram(&response_delays(tl, rules, scope, w.previous())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::percentile::bucket;

    #[test]
    fn every_edge_starts_a_fine_bucket_so_stored_days_count_exactly() {
        for e in EDGES {
            assert_ne!(bucket(e - 1), bucket(e), "{e} is inside a fine bucket");
        }
        // Each is the fine edge nearest to its round value.
        let round = [60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000];
        for (e, r) in EDGES.iter().zip(round) {
            assert!((e - r).abs() * 100 < r * 7, "{e} is far from {r}");
        }
    }

    #[test]
    fn a_delay_on_an_edge_belongs_to_the_bucket_above() {
        assert_eq!(slot(0), 0);
        assert_eq!(slot(59_391), 0);
        assert_eq!(slot(59_392), 1);
        assert_eq!(slot(88_080_384), 6);
        assert_eq!(
            histogram(&[1, 59_392, 59_393, 100_000_000]),
            [1, 2, 0, 0, 0, 0, 1]
        );
    }
}
