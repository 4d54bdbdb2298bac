//! PostgreSQL, for large volumes (still one bot process per database): a pool with timeouts so that an
//! unreachable server makes calls fail fast (and the caller retry) instead of hanging.

use super::sql::sql_store_impl;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: &'static str = "postgres";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    const BEGIN_WRITE: &'static str = "BEGIN";

    /// Concatenates a column's values with commas, skipping NULLs.
    const CONCAT: (&'static str, &'static str) = ("string_agg(CAST(", " AS TEXT), ',')");
    /// Locks the rows a write transaction read, until it commits.
    const LOCK_ROWS: &'static str = " FOR UPDATE";

    pub async fn connect(url: &str) -> super::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(PgStore { pool })
    }
}

sql_store_impl!(PgStore, sqlx::Postgres);
