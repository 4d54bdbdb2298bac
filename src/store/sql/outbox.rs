//! The outbox's SQL (`OutboxStore`); its items are queued and settled by `commit.rs`.

use super::{owned_by, Db};
use crate::domain::shards::Shards;
use crate::domain::Millis;
use crate::store::backend::SqlStore;
use crate::store::rows::{OutboxRow, OUTBOX_COLUMNS};
use crate::store::{OutboxBacklog, OutboxItem, OutboxStore, Result};
use sqlx::AssertSqlSafe;

#[async_trait::async_trait]
impl OutboxStore for SqlStore<Db> {
    async fn due_outbox(
        &self,
        now: Millis,
        limit: i64,
        shards: &Shards,
    ) -> Result<Vec<OutboxItem>> {
        let owned = owned_by("o.guild_id", shards);
        let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE status = 'pending' AND next_at_ms <= $1 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $1){owned} \
             AND (after_key IS NULL OR NOT EXISTS \
               (SELECT 1 FROM outbox p WHERE p.dedupe_key = o.after_key AND p.status = 'pending')) \
             ORDER BY id LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(OutboxItem::from).collect())
    }

    async fn outbox_by_keys(&self, keys: &[String], shards: &Shards) -> Result<Vec<OutboxItem>> {
        let owned = owned_by("o.guild_id", shards);
        let mut items = Vec::new();
        for key in keys {
            let row: Option<OutboxRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE dedupe_key = $1 AND status = 'pending'{owned}"
            )))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            items.extend(row.map(OutboxItem::from));
        }
        Ok(items)
    }

    async fn claim_outbox(
        &self,
        id: i64,
        now: Millis,
        lease_until: Millis,
        shards: &Shards,
    ) -> Result<bool> {
        let owned = owned_by("guild_id", shards);
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE outbox SET lease_until_ms = $3 WHERE id = $1 AND status = 'pending' AND next_at_ms <= $2 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $2){owned}",
        )))
        .bind(id)
        .bind(now)
        .bind(lease_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_retry(&self, id: i64, next_at: Millis, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_at_ms = $2, last_error = $3, \
             lease_until_ms = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(next_at)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_outbox_leases(&self, shards: &Shards) -> Result<u64> {
        let owned = owned_by("guild_id", shards);
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE outbox SET lease_until_ms = NULL WHERE lease_until_ms IS NOT NULL AND status = 'pending'{owned}",
        )))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn retarget_outbox(&self, old_channel: &str, new_channel: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET channel_id = $2 WHERE channel_id = $1 AND status = 'pending'",
        )
        .bind(old_channel)
        .bind(new_channel)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbox_backlog(&self, guild_id: Option<&str>) -> Result<OutboxBacklog> {
        let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at_ms) FROM outbox WHERE status = 'pending' \
             AND ($1 IS NULL OR guild_id = $1)",
        )
        .bind(guild_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxBacklog {
            pending: n.max(0) as u64,
            oldest,
        })
    }
}
