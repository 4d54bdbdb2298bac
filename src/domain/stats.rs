//! Delay statistics: arithmetic mean and nearest-rank percentiles, exact on integer milliseconds.

use super::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DelayStats {
    pub count: u64,
    /// Sum of the delays; i128 so that millions of day-long delays cannot overflow.
    pub sum: i128,
    pub mean: Option<f64>,
    pub median: Option<Millis>,
    pub p90: Option<Millis>,
}

/// Nearest-rank percentile of sorted values: the value at 1-based rank `ceil(p/100 * n)`,
/// computed in integers so that rank boundaries are exact.
pub fn nearest_rank(sorted: &[Millis], p: u32) -> Option<Millis> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    let rank = (p as u64 * n).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

/// The index of the nearest-rank `p`th percentile among `count` sorted values (`count` > 0).
fn rank_index(p: u64, count: u64) -> usize {
    ((p * count).div_ceil(100).max(1) - 1) as usize
}

impl DelayStats {
    /// The statistics of `values`, in any order. Percentiles are found by selection rather than
    /// a full sort: a 90-day window merges hundreds of thousands of per-day delays.
    pub fn from_values(mut values: Vec<Millis>) -> DelayStats {
        let sum: i128 = values.iter().map(|&v| v as i128).sum();
        let count = values.len() as u64;
        let (median, p90) = if count == 0 {
            (None, None)
        } else {
            let (m, p) = (rank_index(50, count), rank_index(90, count));
            let (_, median, above) = values.select_nth_unstable(m);
            let median = *median;
            // p >= m: the p90 is the (p - m - 1)-th smallest above the median, or the median.
            let p90 = if p == m {
                median
            } else {
                *above.select_nth_unstable(p - m - 1).1
            };
            (Some(median), Some(p90))
        };
        DelayStats::from_parts(count, sum, median, p90)
    }

    /// The median of `values` (as `from_values` selects it), reordering them in place: for
    /// lists kept by their owner, without the copy and the p90 `from_values` would make.
    pub fn median_of(values: &mut [Millis]) -> Option<Millis> {
        let count = values.len() as u64;
        (count > 0).then(|| *values.select_nth_unstable(rank_index(50, count)).1)
    }

    /// The statistics from a count, a sum and percentiles selected elsewhere.
    pub fn from_parts(
        count: u64,
        sum: i128,
        median: Option<Millis>,
        p90: Option<Millis>,
    ) -> DelayStats {
        DelayStats {
            count,
            sum,
            mean: (count > 0).then(|| sum as f64 / count as f64),
            median,
            p90,
        }
    }

    /// Whether the mean is below `limit`, decided on the exact sum rather than the float mean.
    pub fn mean_below(&self, limit: Millis) -> Option<bool> {
        (self.count > 0).then(|| self.sum < limit as i128 * self.count as i128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_value_is_that_value() {
        let s = DelayStats::from_values(vec![42]);
        assert_eq!((s.median, s.p90, s.mean), (Some(42), Some(42), Some(42.0)));
    }

    #[test]
    fn nearest_rank_median_of_two_values_is_the_lower_one() {
        // rank ceil(0.5 * 2) = 1; p90: ceil(0.9 * 2) = 2.
        let s = DelayStats::from_values(vec![300, 100]);
        assert_eq!(
            (s.median, s.p90, s.mean),
            (Some(100), Some(300), Some(200.0))
        );
    }

    #[test]
    fn nearest_rank_on_ten_values_takes_ranks_five_and_nine() {
        let s = DelayStats::from_values((1..=10).rev().map(|v| v * 1000).collect());
        assert_eq!(s.median, Some(5000));
        assert_eq!(s.p90, Some(9000));
        assert_eq!(s.mean, Some(5500.0));
    }

    #[test]
    fn selection_gives_the_same_ranks_as_sorting() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 1..300usize {
            let values: Vec<Millis> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 50) as Millis
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let mut owned = values.clone();
            assert_eq!(DelayStats::median_of(&mut owned), nearest_rank(&sorted, 50));
            let s = DelayStats::from_values(values);
            assert_eq!(s.median, nearest_rank(&sorted, 50), "n = {n}");
            assert_eq!(s.p90, nearest_rank(&sorted, 90), "n = {n}");
        }
    }

    #[test]
    fn no_values_give_no_statistics() {
        assert_eq!(DelayStats::median_of(&mut []), None);
        let s = DelayStats::from_values(vec![]);
        assert_eq!((s.mean, s.median, s.p90), (None, None, None));
        assert_eq!(s.mean_below(1), None);
    }

    #[test]
    fn mean_below_is_exact_at_the_threshold() {
        let s = DelayStats::from_values(vec![299_999, 300_001]);
        assert_eq!(s.mean_below(300_000), Some(false));
        let s = DelayStats::from_values(vec![299_999, 300_000]);
        assert_eq!(s.mean_below(300_000), Some(true));
    }
}
