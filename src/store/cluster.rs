//! What several bot processes on one database coordinate through it, with the database's own
//! locks and no other service: whose turn it is to IDENTIFY with Discord's gateway.

use super::Result;
use async_trait::async_trait;

/// The first key of the advisory locks of IDENTIFY turns ("REAC"): the second is the bucket.
/// Two-key advisory locks live apart from one-key ones, so nothing else collides with them.
pub const IDENTIFY_LOCK_SPACE: i32 = 0x5245_4143;

#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// Waits until no other process holds IDENTIFY bucket `bucket` (`domain::shards::
    /// identify_bucket`), then holds it until the turn is released or dropped (or the process
    /// dies: the database ends its session). `None` on SQLite, which one process has to itself.
    async fn identify_turn(&self, bucket: u32) -> Result<Option<IdentifyTurn>>;
}

/// An IDENTIFY bucket held on PostgreSQL: a session advisory lock on a connection of its own
/// (taken out of the pool, so that dropping the turn closes it and frees the lock, rather than
/// handing a locked session to the next query).
pub struct IdentifyTurn {
    pub(super) connection: sqlx::PgConnection,
    pub bucket: u32,
}

impl IdentifyTurn {
    /// Lets the next process identify in this bucket.
    pub async fn release(mut self) -> Result<()> {
        use sqlx::Connection;
        sqlx::query("SELECT pg_advisory_unlock($1, $2)")
            .bind(IDENTIFY_LOCK_SPACE)
            .bind(self.bucket as i32)
            .execute(&mut self.connection)
            .await?;
        self.connection.close().await?;
        Ok(())
    }
}

impl std::fmt::Debug for IdentifyTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifyTurn")
            .field("bucket", &self.bucket)
            .finish()
    }
}
