//! Starting several shards in one process on PostgreSQL: each shard is booted in its turn
//! (`discord/sharding.rs`), the first by serenity's range start, the next ones by the turn
//! taking. The fake Discord does not route by shard here; the two-process tests with a
//! sharded fake are in their own module.

use crate::harness::*;
use crate::support;
use fake_discord::*;
use reactif::clock::SystemClock;
use reactif::desk::Desk;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn two_shards_on_postgres_both_connect_in_their_turns() {
    let db = support::db::postgres().await;
    let desk = Desk::new(db.store.clone());
    let bot = spawn_on(
        FakeConfig::default(),
        &[("REACTIF_SHARD_COUNT", "2")],
        Arc::new(SystemClock),
        db,
        desk,
    )
    .await;
    // The second IDENTIFY comes 5 s after the first shard's READY at the earliest.
    let both = bot
        .fake
        .wait_for_gateway(
            |s| s.identifies >= 2 && s.connected >= 2,
            Duration::from_secs(40),
        )
        .await;
    assert!(both, "{:?}", bot.fake.gateway_stats());
    eventually("health says every shard is connected", WAIT, || async {
        bot.health.gateway_connected().then_some(())
    })
    .await;
    assert_eq!(bot.fake.gateway_stats().identifies, 2);
    bot.stop().await;
}
