//! Exact percentiles over many days without reading every delay.
//!
//! A large day (more than `INLINE_MAX` delays of one kind for its guild) keeps its delays out of
//! its part. The part holds their count per *bucket* (fixed ranges of values 3 to 6 % wide, the
//! same for every day), and the delays themselves go to *blocks*: rows of whole buckets, each
//! delay tagged with the agent who answered. A window's percentile adds up its days' bucket
//! counts to find the bucket that holds the wanted rank, then reads that bucket's delays from
//! one block per day and selects among them. It is still the value at the exact nearest rank of
//! KPI.md, found by reading a few hundredths of the window's delays.

use super::delay_kind::DelayKind;
use super::stats::{nearest_rank, DelayStats};
use super::Millis;
use chrono::NaiveDate;
use std::collections::HashMap;

/// Above this many delays of one kind, a guild's day keeps them in blocks.
pub const INLINE_MAX: usize = 256;
/// A block closes at the first new bucket once it holds this many delays.
const BLOCK_MIN: usize = 64;
/// Sub-buckets per power of two: 16 makes each bucket at most 1/16 (6 %) of its lower bound wide.
const SUB_BITS: u32 = 4;
/// Bucket 0 holds everything below 1,024 ms; then 16 buckets per power of two up to 2^63.
pub const BUCKETS: usize = 1 + (63 - 10) * (1 << SUB_BITS);

/// The bucket of a delay: never decreasing with the delay, which is all selection needs.
pub fn bucket(v: Millis) -> u16 {
    if v < 1 << 10 {
        return 0;
    }
    let e = 63 - v.leading_zeros();
    let sub = ((v >> (e - SUB_BITS)) as u32) & ((1 << SUB_BITS) - 1);
    (((e - 10) << SUB_BITS) + sub + 1) as u16
}

/// The first value of bucket `b` (0 for bucket 0, which also holds negative values).
pub fn bucket_start(b: u16) -> Millis {
    if b == 0 {
        return 0;
    }
    let e = (b as u32 - 1) >> SUB_BITS;
    let sub = (b as u32 - 1) & ((1 << SUB_BITS) - 1);
    (1 << (e + 10)) + ((sub as Millis) << (e + 10 - SUB_BITS))
}

/// One kind of delay of a large day's part, whose values are in blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blocked {
    pub count: u64,
    pub sum: i128,
    /// The day's own median, for the daily series.
    pub median: Option<Millis>,
    /// (bucket, count) for each bucket holding delays, ascending.
    pub hist: Vec<(u16, u32)>,
    /// The first bucket of each of the day's blocks, ascending (the guild's part only: an
    /// agent's delays are in the guild's blocks, under the agent's tag).
    pub groups: Vec<u16>,
}

impl Blocked {
    /// The summary of `sorted` delays.
    pub fn of(sorted: &[Millis], groups: Vec<u16>) -> Blocked {
        let mut hist: Vec<(u16, u32)> = Vec::new();
        for &v in sorted {
            let b = bucket(v);
            match hist.last_mut() {
                Some((last, n)) if *last == b => *n += 1,
                _ => hist.push((b, 1)),
            }
        }
        Blocked {
            count: sorted.len() as u64,
            sum: sorted.iter().map(|&v| v as i128).sum(),
            median: nearest_rank(sorted, 50),
            hist,
            groups,
        }
    }

    pub fn count_in(&self, b: u16) -> u32 {
        self.hist
            .binary_search_by_key(&b, |(k, _)| *k)
            .map_or(0, |i| self.hist[i].1)
    }
}

/// The block of a day that holds bucket `b`: the last one starting at or before it.
fn group_of(groups: &[u16], b: u16) -> Option<u16> {
    let i = groups.partition_point(|g| *g <= b);
    (i > 0).then(|| groups[i - 1])
}

/// Cuts tagged delays, sorted ascending, into blocks of whole buckets: the blocks' first
/// buckets, and each block's first bucket with its encoded delays.
pub fn make_blocks(tagged: &[(Millis, u16)]) -> (Vec<u16>, Vec<(u16, Vec<u8>)>) {
    let (mut groups, mut blocks) = (Vec::new(), Vec::new());
    let mut start = 0;
    for i in 1..=tagged.len() {
        let closes = i == tagged.len()
            || (i - start >= BLOCK_MIN && bucket(tagged[i].0) != bucket(tagged[i - 1].0));
        if closes {
            let first = bucket(tagged[start].0);
            groups.push(first);
            blocks.push((first, encode_block(&tagged[start..i])));
            start = i;
        }
    }
    (groups, blocks)
}

fn encode_block(values: &[(Millis, u16)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 10);
    for (v, tag) in values {
        out.extend_from_slice(&v.to_le_bytes());
        out.extend_from_slice(&tag.to_le_bytes());
    }
    out
}

pub fn decode_block(bytes: &[u8]) -> Option<Vec<(Millis, u16)>> {
    if !bytes.len().is_multiple_of(10) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(10)
            .map(|c| {
                let (v, t) = c.split_at(8);
                (
                    Millis::from_le_bytes(v.try_into().unwrap_or_default()),
                    u16::from_le_bytes(t.try_into().unwrap_or_default()),
                )
            })
            .collect(),
    )
}

/// A block of a guild's delays: its day, its kind of delay and its first bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockKey {
    pub day: NaiveDate,
    pub kind: DelayKind,
    pub first: u16,
}

/// A large day's delays of one kind, as one window sees them.
#[derive(Debug, Clone, Copy)]
pub struct Remote<'a> {
    pub day: NaiveDate,
    pub kind: DelayKind,
    pub blocked: &'a Blocked,
    /// The guild's blocks of that day and kind.
    pub groups: &'a [u16],
    /// Only the delays of this agent's tag, or all of them.
    pub tag: Option<u16>,
}

impl Remote<'_> {
    /// The key of this day's block starting at bucket `first`.
    fn key(&self, first: u16) -> BlockKey {
        BlockKey {
            day: self.day,
            kind: self.kind,
            first,
        }
    }
}

/// The delays of one kind over a window: some known here, some counted per bucket and kept
/// in blocks.
#[derive(Debug, Clone, Default)]
pub struct Gather<'a> {
    count: u64,
    sum: i128,
    known: Vec<Millis>,
    remote: Vec<Remote<'a>>,
    /// Where the percentiles are, once everything is added.
    picks: std::cell::OnceCell<Vec<Pick>>,
}

/// Where a percentile is: the bucket holding its rank, and its 1-based rank in that bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pick {
    bucket: u16,
    rank: u64,
    in_bucket: u64,
}

/// The percentiles `DelayStats` reports.
const PERCENTILES: [u64; 2] = [50, 90];

impl<'a> Gather<'a> {
    pub fn add_known(&mut self, values: &[Millis]) {
        debug_assert!(self.picks.get().is_none());
        self.count += values.len() as u64;
        self.sum += values.iter().map(|&v| v as i128).sum::<i128>();
        self.known.extend_from_slice(values);
    }

    pub fn add_remote(&mut self, r: Remote<'a>) {
        debug_assert!(self.picks.get().is_none());
        self.count += r.blocked.count;
        self.sum += r.blocked.sum;
        self.remote.push(r);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many delays fall below each of `edges`, between them, and above the last: exact
    /// when every edge is a bucket's first value (`delay_charts::EDGES`), as a stored day
    /// counts its delays per bucket.
    pub fn histogram(&self, slot: impl Fn(Millis) -> usize, slots: usize) -> Vec<u64> {
        let mut out = vec![0; slots];
        for &v in &self.known {
            out[slot(v).min(slots - 1)] += 1;
        }
        for r in &self.remote {
            for &(b, n) in &r.blocked.hist {
                out[slot(bucket_start(b)).min(slots - 1)] += n as u64;
            }
        }
        out
    }

    fn picks(&self) -> &[Pick] {
        self.picks.get_or_init(|| self.find_picks())
    }

    fn find_picks(&self) -> Vec<Pick> {
        if self.count == 0 {
            return Vec::new();
        }
        let mut counts = vec![0u64; BUCKETS];
        for &v in &self.known {
            counts[bucket(v) as usize] += 1;
        }
        for r in &self.remote {
            for &(b, n) in &r.blocked.hist {
                if let Some(c) = counts.get_mut(b as usize) {
                    *c += n as u64;
                }
            }
        }
        PERCENTILES
            .iter()
            .map(|p| {
                let k = (p * self.count).div_ceil(100).max(1);
                let mut below = 0;
                let mut b = 0;
                while b + 1 < BUCKETS && below + counts[b] < k {
                    below += counts[b];
                    b += 1;
                }
                Pick {
                    bucket: b as u16,
                    rank: k - below,
                    in_bucket: counts[b],
                }
            })
            .collect()
    }

    /// The blocks the percentiles need.
    pub fn blocks_needed(&self) -> Vec<BlockKey> {
        let mut out = Vec::new();
        for pick in self.picks() {
            for r in &self.remote {
                if r.blocked.count_in(pick.bucket) > 0 {
                    if let Some(first) = group_of(r.groups, pick.bucket) {
                        out.push(r.key(first));
                    }
                }
            }
        }
        out
    }

    /// The statistics, given the blocks of `blocks_needed`; an error names what is missing or
    /// inconsistent.
    pub fn stats(
        &self,
        blocks: &HashMap<BlockKey, Vec<(Millis, u16)>>,
    ) -> Result<DelayStats, String> {
        let mut found = [None, None];
        for (slot, pick) in found.iter_mut().zip(self.picks()) {
            let b = pick.bucket;
            let mut values: Vec<Millis> = self
                .known
                .iter()
                .copied()
                .filter(|&v| bucket(v) == b)
                .collect();
            for r in &self.remote {
                if r.blocked.count_in(b) == 0 {
                    continue;
                }
                let key = group_of(r.groups, b).map(|first| r.key(first));
                let block = key
                    .and_then(|k| blocks.get(&k))
                    .ok_or_else(|| format!("delay block of {} for bucket {b}", r.day))?;
                // Blocks are written ascending (`make_blocks`): a bucket is one run of its block.
                let start = block.partition_point(|(v, _)| bucket(*v) < b);
                let end = start + block[start..].partition_point(|(v, _)| bucket(*v) == b);
                values.extend(
                    block[start..end]
                        .iter()
                        .filter(|(_, tag)| r.tag.is_none_or(|t| t == *tag))
                        .map(|(v, _)| *v),
                );
            }
            if values.len() as u64 != pick.in_bucket || pick.rank == 0 {
                return Err(format!(
                    "bucket {b} counts {} delays, its blocks hold {}",
                    pick.in_bucket,
                    values.len()
                ));
            }
            let i = (pick.rank - 1) as usize;
            *slot = Some(*values.select_nth_unstable(i).1);
        }
        Ok(DelayStats::from_parts(
            self.count, self.sum, found[0], found[1],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_never_decrease_and_stay_narrow() {
        let mut last = 0;
        for v in (0..5_000_000i64).step_by(7).chain([i64::MAX / 3, i64::MAX]) {
            let b = bucket(v);
            assert!(b >= last, "bucket({v}) = {b} < {last}");
            assert!((b as usize) < BUCKETS);
            last = b;
        }
        // 16 buckets per power of two above 1,024 ms.
        assert_eq!(bucket(1023), 0);
        assert_eq!(bucket(1024), 1);
        assert_eq!(bucket(2047), 16);
        assert_eq!(bucket(2048), 17);
        assert_eq!(bucket(-5), 0);
        // Each bucket starts where the one before ends.
        for b in 1..(BUCKETS as u16 - 1) {
            let start = bucket_start(b);
            assert_eq!(bucket(start), b, "start of {b}");
            assert_eq!(bucket(start - 1), b - 1, "before {b}");
        }
    }

    fn response_key(day: NaiveDate, first: u16) -> BlockKey {
        BlockKey {
            day,
            kind: DelayKind::Response,
            first,
        }
    }

    /// A brute-force check: delays spread over days, some kept in blocks, must give the
    /// percentiles of sorting them all.
    #[test]
    fn blocked_days_give_the_percentiles_of_sorting() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..40 {
            let days = 1 + next(6) as usize;
            let mut all = Vec::new();
            let mut agent_all = Vec::new();
            // (day, the guild's summary, agent 1's summary, the day's tagged delays)
            type Stored = (NaiveDate, Blocked, Blocked, Vec<(Millis, u16)>);
            let mut stored: Vec<Stored> = Vec::new();
            let mut known = Vec::new();
            for d in 0..days {
                let n = next(2_000) as usize;
                let mut tagged: Vec<(Millis, u16)> = (0..n)
                    .map(|_| {
                        let v = match next(3) {
                            0 => next(2_000) as Millis,
                            1 => next(900_000) as Millis,
                            _ => 3_600_000 + next(20_000_000) as Millis,
                        };
                        (v, next(3) as u16)
                    })
                    .collect();
                tagged.sort_unstable();
                all.extend(tagged.iter().map(|t| t.0));
                agent_all.extend(tagged.iter().filter(|t| t.1 == 1).map(|t| t.0));
                if d % 2 == case % 2 {
                    known.push(tagged);
                    continue;
                }
                let (groups, _) = make_blocks(&tagged);
                let values: Vec<Millis> = tagged.iter().map(|t| t.0).collect();
                let agent: Vec<Millis> = tagged.iter().filter(|t| t.1 == 1).map(|t| t.0).collect();
                let day = NaiveDate::from_ymd_opt(2026, 1, 1 + d as u32).unwrap();
                stored.push((
                    day,
                    Blocked::of(&values, groups),
                    Blocked::of(&agent, Vec::new()),
                    tagged,
                ));
            }
            let mut blocks = HashMap::new();
            for (day, _, _, tagged) in &stored {
                for (first, data) in make_blocks(tagged).1 {
                    blocks.insert(response_key(*day, first), decode_block(&data).unwrap());
                }
            }
            let (mut guild, mut agent) = (Gather::default(), Gather::default());
            for k in &known {
                guild.add_known(&k.iter().map(|t| t.0).collect::<Vec<_>>());
                agent.add_known(
                    &k.iter()
                        .filter(|t| t.1 == 1)
                        .map(|t| t.0)
                        .collect::<Vec<_>>(),
                );
            }
            for (day, g, a, _) in &stored {
                let remote = |blocked, tag| Remote {
                    day: *day,
                    kind: DelayKind::Response,
                    blocked,
                    groups: &g.groups,
                    tag,
                };
                guild.add_remote(remote(g, None));
                agent.add_remote(remote(a, Some(1)));
            }
            for (gather, mut expected) in [(guild, all), (agent, agent_all)] {
                // Only the blocks asked for may be read.
                let needed: HashMap<BlockKey, Vec<(Millis, u16)>> = gather
                    .blocks_needed()
                    .into_iter()
                    .map(|k| (k, blocks[&k].clone()))
                    .collect();
                expected.sort_unstable();
                let got = gather.stats(&needed).unwrap();
                let want = DelayStats::from_values(expected.clone());
                assert_eq!(got, want, "case {case}");
            }
        }
    }

    #[test]
    fn a_missing_block_is_an_error_not_a_wrong_figure() {
        let tagged: Vec<(Millis, u16)> = (0..500).map(|i| (i * 1_000, 0)).collect();
        let values: Vec<Millis> = tagged.iter().map(|t| t.0).collect();
        let (groups, _) = make_blocks(&tagged);
        let b = Blocked::of(&values, groups.clone());
        let mut g = Gather::default();
        g.add_remote(Remote {
            day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            kind: DelayKind::Response,
            blocked: &b,
            groups: &groups,
            tag: None,
        });
        assert!(!g.blocks_needed().is_empty());
        assert!(g.stats(&HashMap::new()).is_err());
    }
}
