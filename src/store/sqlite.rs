//! The embedded default: one SQLite file, in WAL mode so readers (`/stats`) never block the
//! writer (ingest), with a busy timeout so a briefly locked file waits instead of failing.

use super::sql::sql_store_impl;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// At most this much of the file is mapped (SQLite's own ceiling is 2 GiB).
const MMAP_SIZE: &str = "2147418112";

/// Pages the WAL may hold before they are copied back into the file (SQLite's default is
/// 1,000): an index page that many commits touch is copied once per checkpoint, so fewer
/// checkpoints copy less. With 4 KiB pages a checkpoint is tried at about 40 MB of WAL (a
/// reader still on older pages can hold it back).
pub const WAL_AUTOCHECKPOINT: &str = "10000";

pub struct SqliteStore {
    pool: SqlitePool,
    /// The connections of `/stats`'s reads, which map the file into memory: a report reads a
    /// few megabytes of pages, and copying each from the kernel was a fifth of its time. Their
    /// own pool, so that the bot's memory while ingesting does not count the pages a mapping
    /// would keep.
    reads: SqlitePool,
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
    /// Aggregates rows of columns into one JSON array of arrays (`[]` for none).
    const JSON_ROWS: (&'static str, &'static str) = ("json_group_array(json_array(", "))");
    const CONCAT: (&'static str, &'static str) = ("group_concat(", ")");
    /// See `Store::analyze_rollups`.
    const ANALYZE_ROLLUPS: &'static str = "PRAGMA optimize";
    /// SQLite plans these lookups by their indexes without statistics.
    const ANALYZE_GROWING: &'static [&'static str] = &[];
    /// The delay blocks of a JSON array of keys `{"d": day, "k": kind, "f": first bucket}`.
    const BLOCKS_BY_KEYS: &'static str = "SELECT b.day, b.kind, b.first_bucket, b.data \
         FROM json_each($2) AS k JOIN kpi_delay_blocks b ON b.guild_id = $1 \
         AND b.day = json_extract(k.value, '$.d') AND b.kind = json_extract(k.value, '$.k') \
         AND b.first_bucket = json_extract(k.value, '$.f')";
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
            .foreign_keys(true)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        // Opened lazily: a process that never reports never maps the file. A database in
        // memory exists only on its own pool's connections.
        let reads = if url.contains(":memory:") || url.contains("mode=memory") {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .min_connections(0)
                .acquire_timeout(Duration::from_secs(30))
                .connect_lazy_with(
                    options
                        .create_if_missing(false)
                        .pragma("mmap_size", MMAP_SIZE),
                )
        };
        Ok(SqliteStore { pool, reads })
    }

    /// The pool of the report's reads.
    fn reads(&self) -> &SqlitePool {
        &self.reads
    }
}

sql_store_impl!(SqliteStore, sqlx::Sqlite);
