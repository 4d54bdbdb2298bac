//! Connecting this process's shards to the gateway, IDENTIFY in turn across the cluster: a
//! driver, used by `run` only.
//!
//! Discord lets a bot IDENTIFY once every 5 seconds per rate-limit bucket (`shard_id %
//! max_concurrency`); serenity spaces the shards of one process, but several processes would
//! identify at once and have their sessions invalidated. On PostgreSQL each shard's first
//! IDENTIFY is therefore taken in turn through an advisory lock on its bucket
//! (`ClusterStore::identify_turn`): the process takes the bucket, waits 5 seconds, boots the
//! shard, waits for its READY, and lets the bucket go. The 5 seconds come after taking the
//! bucket, not after the READY, so that they also separate this IDENTIFY from one of a process
//! that died holding the bucket right after identifying (its lock goes with its session, and a
//! wait it meant to do after its READY would go with it). Serenity 0.12 has no hook into its
//! shard queue, so the turn is held around the shard's start: the first shard is booted by
//! `Client::start_shard_range`, each next one by `ShardManager::restart` (which boots a shard
//! the manager does not run yet). A re-IDENTIFY after a lost session (rare: a RESUME does not
//! identify) goes through serenity's own queue without the lock.

use crate::domain::shards::{identify_bucket, Shards};
use crate::store::DynStore;
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Discord's spacing between two IDENTIFYs of one bucket.
const IDENTIFY_SPACING: Duration = Duration::from_secs(5);
/// How long a shard may take from its boot to its READY before the turn passes anyway (the
/// shard keeps trying through serenity's queue).
const READY_WAIT: Duration = Duration::from_secs(60);

/// Connects `shards` and runs until the gateway stops (`Client::start`'s contract).
pub async fn start(
    client: &mut serenity::Client,
    shards: Shards,
    store: DynStore,
) -> serenity::Result<()> {
    // Serenity's range is inclusive of its end: `first..last` starts `first` to `last`.
    if store.backend() != "postgres" || shards.count == 1 {
        return client
            .start_shard_range(shards.first..shards.last, shards.count)
            .await;
    }
    let max_concurrency = match client.http.get_bot_gateway().await {
        Ok(gateway) => gateway.session_start_limit.max_concurrency.max(1) as u32,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read max_concurrency from GET /gateway/bot; identifying one shard at a time");
            1
        }
    };
    tracing::info!(%shards, max_concurrency, "connecting shards, IDENTIFY in turn with the other processes");
    let manager = Arc::clone(&client.shard_manager);
    let (first_turn, first_taken) = tokio::sync::oneshot::channel();
    tokio::spawn(take_turns(
        manager,
        shards,
        store,
        max_concurrency,
        first_turn,
    ));
    // Without the turn (the task failed), the first shard starts anyway: serenity's queue and
    // Discord's retry still bring it up.
    let _ = first_taken.await;
    client
        .start_shard_range(shards.first..shards.first, shards.count)
        .await
}

/// Boots each shard of `shards` in its bucket's turn; tells `first_turn` when the first
/// shard's turn is taken (`start` boots that one).
async fn take_turns(
    manager: Arc<serenity::ShardManager>,
    shards: Shards,
    store: DynStore,
    max_concurrency: u32,
    first_turn: tokio::sync::oneshot::Sender<()>,
) {
    let mut first_turn = Some(first_turn);
    for shard in shards.ids() {
        let bucket = identify_bucket(shard, max_concurrency);
        let turn = match store.identify_turn(bucket).await {
            Ok(turn) => turn,
            Err(e) => {
                tracing::warn!(shard, bucket, error = %e, "cannot take the IDENTIFY turn; identifying without it");
                None
            }
        };
        // The previous holder released the bucket (or died) at the earliest when it had
        // identified: waiting now keeps the two IDENTIFYs 5 s apart either way.
        tokio::time::sleep(IDENTIFY_SPACING).await;
        let id = serenity::ShardId(shard);
        match first_turn.take() {
            Some(tell) => {
                let _ = tell.send(());
            }
            None => {
                // `restart` first waits (5 s at most) for the shard's runner to say it has
                // stopped; this one never ran, so it is told at once that it has.
                manager.shutdown_finished(id);
                manager.restart(id).await;
            }
        }
        let booted = Instant::now();
        while booted.elapsed() < READY_WAIT && !connected(&manager, id).await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tracing::info!(shard, bucket, "shard identified");
        if let Some(turn) = turn {
            if let Err(e) = turn.release().await {
                // Closing the connection failed: the session ends with it, and the lock too.
                tracing::warn!(shard, error = %e, "releasing the IDENTIFY turn failed");
            }
        }
    }
}

async fn connected(manager: &serenity::ShardManager, id: serenity::ShardId) -> bool {
    manager
        .runners
        .lock()
        .await
        .get(&id)
        .is_some_and(|r| r.stage == serenity::ConnectionStage::Connected)
}
