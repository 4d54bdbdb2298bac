//! Sharding as Discord does it: a session's `shard: [id, count]` (from IDENTIFY; absent means
//! `[0, 1]`, one shard with everything), which events each shard gets (a guild's go to
//! `(guild_id >> 22) % count`, the rest, DMs included, to shard 0), and the log of IDENTIFYs a
//! test reads to check that several processes took turns.
//!
//! **Taking turns.** Discord allows one IDENTIFY per 5 s in each bucket of
//! `session_start_limit.max_concurrency` (bucket = `shard_id % max_concurrency`). The fake does
//! not refuse an early IDENTIFY (Discord would invalidate the session, which only hides the
//! mistake); it records each one with the time since the previous IDENTIFY of its bucket and
//! flags it `too_soon` when that is under `FakeConfig::identify_interval_ms`. A test asserts
//! that [`FakeDiscord::identify_overlaps`] is empty.

use crate::fake::FakeDiscord;
use crate::ids::shard_of;
use crate::json::field_id;
use crate::world::World;
use serde_json::Value;
use std::time::Duration;

/// `[shard_id, shard_count]`, as in IDENTIFY.
pub type ShardKey = [u64; 2];

/// The shard of an IDENTIFY's `d`: its `shard` array, or `[0, 1]` without one (an unsharded
/// client) or with a malformed one.
pub(crate) fn shard_of_identify(d: &Value) -> ShardKey {
    let pair = d.get("shard").and_then(Value::as_array);
    match pair.map(|p| {
        (
            p.first().and_then(Value::as_u64),
            p.get(1).and_then(Value::as_u64),
        )
    }) {
        Some((Some(id), Some(count))) if count > 0 && id < count => [id, count],
        _ => [0, 1],
    }
}

/// The guild an event belongs to, for routing: its `guild_id`, the `id` of a guild's own events
/// (GUILD_CREATE, GUILD_UPDATE, GUILD_DELETE), or the guild of a known channel it names.
/// `None` (DMs, events of no guild) goes to shard 0.
pub(crate) fn guild_of_event(world: &World, t: &str, d: &Value) -> Option<u64> {
    if let Some(g) = field_id(d, "guild_id") {
        return Some(g);
    }
    if matches!(t, "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE") {
        return field_id(d, "id");
    }
    field_id(d, "channel_id").and_then(|c| world.guild_of_channel(c))
}

/// Does the session of `shard` get an event of `guild`?
pub(crate) fn owns(shard: ShardKey, guild: Option<u64>) -> bool {
    match guild {
        Some(g) => shard_of(g, shard[1]) == shard[0],
        None => shard[0] == 0,
    }
}

/// One IDENTIFY the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifyRecord {
    /// 0, 1, 2... in arrival order.
    pub seq: usize,
    /// The gateway connection it came on (1, 2, ... in opening order). Which process sent it
    /// is told by its shard: processes run disjoint shard ranges.
    pub conn: u64,
    /// `[shard_id, shard_count]` (`[0, 1]` when the client sent none).
    pub shard: ShardKey,
    /// `shard_id % max_concurrency`: IDENTIFYs of one bucket must be 5 s apart.
    pub bucket: u64,
    /// Milliseconds since the fake started.
    pub at_ms: u64,
    /// Milliseconds since the previous IDENTIFY of the same bucket, if any.
    pub after_previous_ms: Option<u64>,
    /// Came less than `FakeConfig::identify_interval_ms` after the previous one of its bucket.
    pub too_soon: bool,
    /// The session READY gave it.
    pub session_id: String,
}

impl FakeDiscord {
    /// Every IDENTIFY received, in order.
    pub fn identifies(&self) -> Vec<IdentifyRecord> {
        self.shared.state().gateway.identifies.clone()
    }

    /// The IDENTIFYs that came too soon after another of their bucket (see the module comment);
    /// empty when every client took its turn.
    pub fn identify_overlaps(&self) -> Vec<IdentifyRecord> {
        self.identifies()
            .into_iter()
            .filter(|r| r.too_soon)
            .collect()
    }

    /// Waits until each of `shards` (ids, of any count) has IDENTIFYed at or after IDENTIFY
    /// number `since` (`identifies().len()` before a (re)start); returns those IDENTIFYs.
    pub async fn wait_shards_identified(
        &self,
        shards: &[u64],
        since: usize,
        timeout: Duration,
    ) -> Option<Vec<IdentifyRecord>> {
        self.wait_until(timeout, || {
            let all = self.identifies();
            shards
                .iter()
                .map(|s| all.iter().skip(since).find(|r| r.shard[0] == *s).cloned())
                .collect()
        })
        .await
    }

    /// The shards that have an open socket now (sessions whose connection is up), sorted.
    pub fn connected_shards(&self) -> Vec<ShardKey> {
        let state = self.shared.state();
        let mut shards: Vec<ShardKey> = state
            .gateway
            .sessions
            .values()
            .filter(|s| s.conn.is_some())
            .map(|s| s.shard)
            .collect();
        shards.sort_unstable();
        shards
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids;
    use serde_json::json;

    #[test]
    fn identify_without_a_shard_is_the_only_shard() {
        assert_eq!(shard_of_identify(&json!({"token": "t"})), [0, 1]);
        assert_eq!(shard_of_identify(&json!({"shard": [2, 4]})), [2, 4]);
        // Out of range or malformed: treated as unsharded rather than dropping the client.
        assert_eq!(shard_of_identify(&json!({"shard": [4, 4]})), [0, 1]);
        assert_eq!(shard_of_identify(&json!({"shard": [0, 0]})), [0, 1]);
        assert_eq!(shard_of_identify(&json!({"shard": "x"})), [0, 1]);
    }

    #[test]
    fn guild_events_go_to_their_shard_and_the_rest_to_shard_zero() {
        let g2 = ids::SHARD_GUILDS[2].guild;
        assert!(owns([2, 4], Some(g2)));
        assert!(!owns([0, 4], Some(g2)));
        assert!(owns([0, 2], Some(g2)), "shard 2 of 4 is shard 0 of 2");
        assert!(owns([0, 1], Some(g2)), "unsharded gets everything");
        assert!(owns([0, 4], None), "DMs to shard 0");
        assert!(!owns([1, 4], None));
    }

    #[test]
    fn the_guild_of_an_event_comes_from_its_fields_or_its_channel() {
        let mut world = World::default();
        let g = ids::SHARD_GUILDS[3];
        world.learn_guild(&crate::shard_guild(3));
        let msg = json!({"channel_id": g.support.to_string()});
        assert_eq!(
            guild_of_event(&world, "MESSAGE_CREATE", &msg),
            Some(g.guild)
        );
        let with_guild = json!({"guild_id": "7", "channel_id": g.support.to_string()});
        assert_eq!(
            guild_of_event(&world, "MESSAGE_CREATE", &with_guild),
            Some(7)
        );
        let guild = json!({"id": g.guild.to_string()});
        assert_eq!(
            guild_of_event(&world, "GUILD_UPDATE", &guild),
            Some(g.guild)
        );
        let dm = json!({"channel_id": ids::CARLA_DM.to_string()});
        assert_eq!(guild_of_event(&world, "MESSAGE_CREATE", &dm), None);
    }
}
