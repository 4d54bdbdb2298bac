//! The embedded default: one SQLite file, in WAL mode so readers (`/stats`) never block the
//! writer (ingest), with a busy timeout so a briefly locked file waits instead of failing.

use super::sql::sql_store_impl;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    /// Write transactions take the write lock at once: a deferred one that reads first fails
    /// with SQLITE_BUSY_SNAPSHOT, which no busy timeout retries, when another connection
    /// commits between its read and its first write.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    /// Concatenates a column's values with commas, skipping NULLs.
    /// See `ranged` in `store::sql`.
    const RANGES_AS_UNION: bool = false;
    const CONCAT: (&'static str, &'static str) = ("group_concat(", ")");
    /// See `Store::analyze_rollups`.
    const ANALYZE_ROLLUPS: &'static str = "PRAGMA optimize";
    /// SQLite plans these lookups by their indexes without statistics.
    const ANALYZE_GROWING: &'static [&'static str] = &[];
    /// Locks the rows a write transaction read, until it commits.
    const LOCK_ROWS: &'static str = "";

    pub async fn connect(url: &str) -> super::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable in WAL mode except on power loss, where the last commits may
            // roll back; the catch-up at start refetches them from Discord.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }
}

sql_store_impl!(SqliteStore, sqlx::Sqlite);
