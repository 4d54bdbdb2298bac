//! PostgreSQL, for large volumes (still one bot process per database): a pool with timeouts so that an
//! unreachable server makes calls fail fast (and the caller retry) instead of hanging.

use super::sql::sql_store_impl;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: &'static str = "postgres";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    const BEGIN_WRITE: &'static str = "BEGIN";

    /// Concatenates a column's values with commas, skipping NULLs.
    /// See `ranged` in `store::sql`.
    const RANGES_AS_UNION: bool = true;
    /// Aggregates rows of columns into one JSON array of arrays (NULL for none).
    const JSON_ROWS: (&'static str, &'static str) = ("json_agg(json_build_array(", "))::text");
    const CONCAT: (&'static str, &'static str) = ("string_agg(CAST(", " AS TEXT), ',')");
    /// See `Store::analyze_rollups`.
    const ANALYZE_ROLLUPS: &'static str = "VACUUM ANALYZE kpi_conversations, kpi_messages, kpi_requests, kpi_conv_agents, kpi_surveys, kpi_days, kpi_delay_blocks";
    /// See `Store::analyze_growing`. The queues are vacuumed too: a refresh takes their rows
    /// in order and deletes them, and every later look at their head would step over the dead.
    const ANALYZE_GROWING: &'static [&'static str] = &[
        "VACUUM ANALYZE kpi_dirty_places, kpi_dirty_days",
        "ANALYZE kpi_conversations, kpi_messages, kpi_requests, kpi_conv_agents, kpi_surveys, kpi_irregular, kpi_days, kpi_delay_blocks",
    ];
    /// The delay blocks of a JSON array of keys `{"d": day, "k": kind, "f": first bucket}`.
    const BLOCKS_BY_KEYS: &'static str = "SELECT b.day, b.kind, b.first_bucket, b.data \
         FROM jsonb_to_recordset($2::jsonb) AS k(d TEXT, k BIGINT, f BIGINT) \
         JOIN kpi_delay_blocks b ON b.guild_id = $1 AND b.day = k.d AND b.kind = k.k \
         AND b.first_bucket = k.f";
    /// Locks the rows a write transaction read, until it commits.
    const LOCK_ROWS: &'static str = " FOR UPDATE";

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
        Ok(PgStore { pool })
    }

    /// The pool of the report's reads: the same one, as the server caches pages itself.
    fn reads(&self) -> &PgPool {
        &self.pool
    }
}

sql_store_impl!(PgStore, sqlx::Postgres);
