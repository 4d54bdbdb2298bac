//! PostgreSQL, for large volumes and for several bot processes (shards) on one database: a
//! pool with timeouts so that an unreachable server makes calls fail fast (and the caller
//! retry) instead of hanging.
//! Everything PostgreSQL-specific is here: the connection setup and the dialect.

use super::backend::{Dialect, SqlStore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Postgres;
use std::str::FromStr;
use std::time::Duration;

/// The concerns' SQL, compiled for PostgreSQL (see `store`'s documentation). Both backends
/// mount the folder on purpose (clippy's `duplicate_mod` catches it where it is a mistake).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
/// The database `sql/` is compiled for.
type Db = Postgres;

pub type PgStore = SqlStore<Postgres>;

impl Dialect for Postgres {
    const BACKEND: &'static str = "postgres";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    const BEGIN_WRITE: &'static str = "BEGIN";
    /// READ COMMITTED (the default) takes a new snapshot at every statement.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    /// One `SELECT` per range, each planned with its own bounds: with a `VALUES` table the
    /// planner misjudged the ranges and scanned whole guilds.
    const RANGES_AS_UNION: bool = true;
    const JSON_ROWS: (&'static str, &'static str) = ("json_agg(json_build_array(", "))::text");
    const CONCAT: (&'static str, &'static str) = ("string_agg(CAST(", " AS TEXT), ',')");
    const BLOCKS_BY_KEYS: &'static str = "SELECT b.day, b.kind, b.first_bucket, b.data \
         FROM jsonb_to_recordset($2::jsonb) AS k(d TEXT, k BIGINT, f BIGINT) \
         JOIN kpi_delay_blocks b ON b.guild_id = $1 AND b.day = k.d AND b.kind = k.k \
         AND b.first_bucket = k.f";
    const ANALYZE_ROLLUPS: &'static str = "VACUUM ANALYZE kpi_conversations, kpi_messages, kpi_requests, kpi_conv_agents, kpi_surveys, kpi_days, kpi_delay_blocks";
    /// The queues are vacuumed too: a refresh takes their rows in order and deletes them, and
    /// every later look at their head would step over the dead.
    const ANALYZE_GROWING: &'static [&'static str] = &[
        "VACUUM ANALYZE kpi_dirty_places, kpi_dirty_days",
        "ANALYZE kpi_conversations, kpi_messages, kpi_requests, kpi_conv_agents, kpi_surveys, kpi_irregular, kpi_days, kpi_delay_blocks",
    ];
    const CLAIM_MARKS: bool = true;
    /// In NUMERIC, so that no id overflows a BIGINT (snowflakes are unsigned 64-bit) and fails
    /// the whole query; `DIV` by 2^22 is the shift.
    fn shard_of(column: &str, count: u32) -> String {
        format!(
            "MOD(DIV(CASE WHEN {column} ~ '^[0-9]{{1,20}}$' THEN CAST({column} AS NUMERIC) ELSE 0 END, 4194304), {count})"
        )
    }
}

impl SqlStore<Postgres> {
    pub async fn connect(url: &str) -> super::Result<PgStore> {
        // Statements are prepared once per connection; PostgreSQL's generic plan for them is
        // chosen while the rollup tables are still small (a sequential scan) and kept as they
        // grow, which made each refresh read whole tables. A plan per execution costs little.
        let options =
            PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // The server caches pages itself: reports read on the same pool.
        let reads = pool.clone();
        Ok(SqlStore { pool, reads })
    }
}

/// `pg_advisory_lock` waits in the server until the bucket is free: processes take their
/// turns in the order they asked, with no polling.
#[async_trait::async_trait]
impl super::ClusterStore for PgStore {
    async fn identify_turn(&self, bucket: u32) -> super::Result<Option<super::IdentifyTurn>> {
        let mut connection = self.pool.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock($1, $2)")
            .bind(super::IDENTIFY_LOCK_SPACE)
            .bind(bucket as i32)
            .execute(&mut connection)
            .await?;
        Ok(Some(super::IdentifyTurn { connection, bucket }))
    }
}
