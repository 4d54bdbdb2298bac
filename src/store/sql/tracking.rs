//! The guilds' engagement tracking's SQL (`TrackingStore`).

use super::Db;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::{Result, TrackingSetup, TrackingStore, WatchKind, WatchedChannel};

#[async_trait::async_trait]
impl TrackingStore for SqlStore<Db> {
    async fn tracking_setup(&self, guild_id: &str) -> Result<TrackingSetup> {
        let channels: Vec<(String, String)> = sqlx::query_as(
            "SELECT channel_id, kind FROM engagement_channels WHERE guild_id = $1 ORDER BY channel_id",
        )
        .bind(guild_id)
        .fetch_all(&self.pool)
        .await?;
        let role: Option<(Option<String>,)> =
            sqlx::query_as("SELECT community_role_id FROM guild_community WHERE guild_id = $1")
                .bind(guild_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(TrackingSetup {
            channels: channels
                .into_iter()
                .filter_map(|(channel_id, kind)| {
                    WatchKind::parse(&kind).map(|kind| WatchedChannel { channel_id, kind })
                })
                .collect(),
            community_role: role.and_then(|(r,)| r),
        })
    }

    async fn save_tracking_setup(&self, guild_id: &str, setup: &TrackingSetup) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM engagement_channels WHERE guild_id = $1")
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        for c in &setup.channels {
            sqlx::query(
                "INSERT INTO engagement_channels (guild_id, channel_id, kind) VALUES ($1, $2, $3)",
            )
            .bind(guild_id)
            .bind(&c.channel_id)
            .bind(c.kind.name())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO guild_community (guild_id, community_role_id) VALUES ($1, $2) \
             ON CONFLICT (guild_id) DO UPDATE SET community_role_id = excluded.community_role_id",
        )
        .bind(guild_id)
        .bind(setup.community_role.as_deref())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn guilds_tracking(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT guild_id FROM engagement_channels ORDER BY guild_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }
}
