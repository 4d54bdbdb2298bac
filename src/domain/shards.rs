//! Shards: which bot process owns which guilds. Discord splits a bot's guilds over
//! `shard_count` gateway connections by `(guild_id >> 22) % shard_count` and sends DMs to
//! shard 0; a process connects a range of shards and owns exactly the work (outbox rows,
//! timers, cursors, alerts) of the guilds those shards receive, so that several processes on
//! one database never do the same work twice.

use std::fmt;
use std::ops::RangeInclusive;

/// The shard Discord sends guild `guild_id`'s events to.
pub fn shard_of(guild_id: u64, shard_count: u32) -> u32 {
    ((guild_id >> 22) % u64::from(shard_count.max(1))) as u32
}

/// The shard that owns a row of `guild_id`: a DM (no guild), or an id that is not a snowflake
/// (an import's `demo` guild), is shard 0's, as Discord sends DMs to shard 0.
pub fn shard_of_guild(guild_id: Option<&str>, shard_count: u32) -> u32 {
    guild_id
        .and_then(|g| g.parse::<u64>().ok())
        .map_or(0, |g| shard_of(g, shard_count))
}

/// Discord's IDENTIFY rate-limit bucket of a shard: shards of one bucket identify at most once
/// every 5 seconds, buckets in parallel (`max_concurrency` from `GET /gateway/bot`).
pub fn identify_bucket(shard: u32, max_concurrency: u32) -> u32 {
    shard % max_concurrency.max(1)
}

/// The shards one process connects: `first..=last` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shards {
    pub first: u32,
    pub last: u32,
    pub count: u32,
}

impl Shards {
    /// One shard, the whole bot: what a single process runs, and what a store call that is not
    /// about one process's share asks for.
    pub const ALL: Shards = Shards {
        first: 0,
        last: 0,
        count: 1,
    };

    /// Every shard of `count`, in one process.
    pub fn whole(count: u32) -> Shards {
        let count = count.max(1);
        Shards {
            first: 0,
            last: count - 1,
            count,
        }
    }

    /// `first..=last` of `count`, if it is a range of that count's shards.
    pub fn new(first: u32, last: u32, count: u32) -> Option<Shards> {
        (count > 0 && first <= last && last < count).then_some(Shards { first, last, count })
    }

    /// Whether this is every shard (then nothing needs filtering).
    pub fn is_whole(&self) -> bool {
        self.first == 0 && self.last + 1 == self.count
    }

    /// The shard ids, in order.
    pub fn ids(&self) -> RangeInclusive<u32> {
        self.first..=self.last
    }

    /// How many shards the process connects.
    pub fn len(&self) -> u32 {
        self.last - self.first + 1
    }

    /// Never true: a range holds at least one shard (for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Shard `shard` alone, when it is one of these (else all of these): what one shard's
    /// READY has to catch up with.
    pub fn only(&self, shard: u32) -> Shards {
        match self.owns_shard(shard) {
            true => Shards {
                first: shard,
                last: shard,
                count: self.count,
            },
            false => *self,
        }
    }

    pub fn owns_shard(&self, shard: u32) -> bool {
        self.ids().contains(&shard)
    }

    /// Whether the work of `guild_id` (none: a DM) is this process's.
    pub fn owns_guild(&self, guild_id: Option<&str>) -> bool {
        self.is_whole() || self.owns_shard(shard_of_guild(guild_id, self.count))
    }
}

impl Default for Shards {
    fn default() -> Self {
        Shards::ALL
    }
}

impl fmt::Display for Shards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} of {}", self.first, self.last, self.count)
    }
}

/// Reads a range written `A-B` (or one shard, `A`); `None` if it is not one.
pub fn parse_range(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guild_goes_to_the_shard_of_its_timestamp_bits() {
        // 987654321098765432 >> 22 = 235_475_139_879 (worked with a calculator);
        // 235_475_139_879 = 16 * 14_717_196_242 + 7, and it is odd.
        assert_eq!(987654321098765432u64 >> 22, 235_475_139_879);
        assert_eq!(shard_of(987654321098765432, 16), 7);
        assert_eq!(shard_of(987654321098765432, 2), 1);
        assert_eq!(shard_of(987654321098765432, 1), 0);
        // The low 22 bits never matter.
        assert_eq!(shard_of((5 << 22) | 0x3f_ffff, 4), 1);
        assert_eq!(shard_of_guild(None, 16), 0);
        assert_eq!(shard_of_guild(Some("demo"), 16), 0);
        assert_eq!(shard_of_guild(Some("987654321098765432"), 16), 7);
        // 19 digits, as today's ids: 1191168956174565386 >> 22 = 283_996_810_001.
        assert_eq!(shard_of_guild(Some("1191168956174565386"), 2), 1);
    }

    #[test]
    fn a_process_owns_its_range_and_dms_go_with_shard_0() {
        let low = Shards::new(0, 1, 4).unwrap();
        let high = Shards::new(2, 3, 4).unwrap();
        for shard in 0..4u64 {
            let guild = (shard << 22).to_string();
            assert_eq!(low.owns_guild(Some(&guild)), shard < 2, "{guild}");
            assert_eq!(high.owns_guild(Some(&guild)), shard >= 2, "{guild}");
        }
        assert!(low.owns_guild(None));
        assert!(!high.owns_guild(None));
        assert!(Shards::whole(4).owns_guild(Some(&(3u64 << 22).to_string())));
        assert!(Shards::ALL.is_whole() && Shards::whole(4).is_whole() && !low.is_whole());
        assert_eq!(low.len(), 2);
    }

    #[test]
    fn ranges_are_read_and_checked() {
        assert_eq!(parse_range("0-3"), Some((0, 3)));
        assert_eq!(parse_range(" 2 - 2 "), Some((2, 2)));
        assert_eq!(parse_range("5"), Some((5, 5)));
        assert_eq!(parse_range("3-1"), None);
        assert_eq!(parse_range("a-b"), None);
        assert_eq!(parse_range("-1"), None);
        assert_eq!(Shards::new(0, 3, 4), Some(Shards::whole(4)));
        assert_eq!(Shards::new(2, 4, 4), None);
        assert_eq!(Shards::new(0, 0, 0), None);
    }

    #[test]
    fn identify_buckets_repeat_every_max_concurrency_shards() {
        assert_eq!(identify_bucket(5, 1), 0);
        assert_eq!(identify_bucket(5, 16), 5);
        assert_eq!(identify_bucket(17, 16), 1);
        assert_eq!(identify_bucket(3, 0), 0);
    }
}
