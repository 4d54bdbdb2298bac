//! The embedded default: one SQLite file, in WAL mode so readers (`/stats`) never block the
//! writer (ingest), with a busy timeout so a briefly locked file waits instead of failing.
//! Everything SQLite-specific is here: the connection setup and the dialect.

use super::backend::{Dialect, SqlStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite;
use std::str::FromStr;
use std::time::Duration;

/// The concerns' SQL, compiled for SQLite (see `store`'s documentation). Both backends
/// mount the folder on purpose (clippy's `duplicate_mod` catches it where it is a mistake).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
/// The database `sql/` is compiled for.
type Db = Sqlite;

pub type SqliteStore = SqlStore<Sqlite>;

/// At most this much of the file is mapped (SQLite's own ceiling is 2 GiB).
const MMAP_SIZE: &str = "2147418112";

/// Rows a read connection's thread may run ahead of the task that takes them (sqlx's default
/// is 50): each time the thread waits for room it sleeps and is woken again, which made the
/// reports' reads of a few thousand rows cost several microseconds a row.
const READ_ROW_BUFFER: usize = 8192;

/// Pages the WAL may hold before they are copied back into the file (SQLite's default is
/// 1,000): an index page that many commits touch is copied once per checkpoint, so fewer
/// checkpoints copy less. With 4 KiB pages a checkpoint is tried at about 40 MB of WAL (a
/// reader still on older pages can hold it back).
pub const WAL_AUTOCHECKPOINT: &str = "10000";

impl Dialect for Sqlite {
    const BACKEND: &'static str = "sqlite";
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    /// Write transactions take the write lock at once: a deferred one that reads first fails
    /// with SQLITE_BUSY_SNAPSHOT, which no busy timeout retries, when another connection
    /// commits between its read and its first write.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    /// In WAL mode a deferred transaction reads from one snapshot, taken at its first read.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN DEFERRED";
    /// A write transaction holds the whole database already.
    const LOCK_ROWS: &'static str = "";
    /// SQLite's planner walks the time index once per range of a `VALUES` table.
    const RANGES_AS_UNION: bool = false;
    const JSON_ROWS: (&'static str, &'static str) = ("json_group_array(json_array(", "))");
    const CONCAT: (&'static str, &'static str) = ("group_concat(", ")");
    const BLOCKS_BY_KEYS: &'static str = "SELECT b.day, b.kind, b.first_bucket, b.data \
         FROM json_each($2) AS k JOIN kpi_delay_blocks b ON b.guild_id = $1 \
         AND b.day = json_extract(k.value, '$.d') AND b.kind = json_extract(k.value, '$.k') \
         AND b.first_bucket = json_extract(k.value, '$.f')";
    const ANALYZE_ROLLUPS: &'static str = "PRAGMA optimize";
    /// SQLite plans these lookups by their indexes without statistics.
    const ANALYZE_GROWING: &'static [&'static str] = &[];
    const CLAIM_MARKS: bool = false;
    /// SQLite's CAST reads the leading digits of a text, 0 when there are none (snowflakes
    /// stay below 2^63 until about 2084).
    fn shard_of(column: &str, count: u32) -> String {
        format!("((COALESCE(CAST({column} AS INTEGER), 0) >> 22) % {count})")
    }
}

/// Whether a connection given back to the pool may be used again. On a full disk or an I/O
/// error SQLite rolls the transaction back by itself; sqlx's own ROLLBACK then fails ("no
/// transaction is active") and it keeps counting a transaction as open, so that every later
/// `BEGIN` on that connection fails for ever. Such a connection is closed (the pool opens a
/// new one) rather than reused: without this, one full disk broke the writers until restart.
async fn still_usable(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    // The ping waits for the rollback a dropped transaction queued.
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

/// Connection options, for a caller that adds its own (a test sets `max_page_count` on the
/// bot's connections to fill the file).
pub type SqliteOptions = SqliteConnectOptions;

impl SqlStore<Sqlite> {
    pub async fn connect(url: &str) -> super::Result<SqliteStore> {
        Self::connect_with(url, |o| o).await
    }

    /// `connect`, with `tune` applied to every connection's options.
    pub async fn connect_with(
        url: &str,
        tune: impl FnOnce(SqliteConnectOptions) -> SqliteConnectOptions,
    ) -> super::Result<SqliteStore> {
        create_private_file(url)?;
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable in WAL mode except on power loss, where the last commits may
            // roll back; the catch-up at start refetches them from Discord.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT);
        let options = tune(options);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .after_release(|conn, _| Box::pin(still_usable(conn)))
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
                        .pragma("mmap_size", MMAP_SIZE)
                        .row_buffer_size(READ_ROW_BUFFER),
                )
        };
        Ok(SqlStore { pool, reads })
    }
}

/// Creates a new database file readable and writable by its owner only (0600): it holds
/// customers' ids and, with transcripts on, their words. SQLite gives the WAL and shared-memory
/// files the main file's mode. An existing file is left as it is (its owner chose its mode).
fn create_private_file(url: &str) -> super::Result<()> {
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // A missing folder and the like: SQLite's own open says it in its words.
        Err(_) => Ok(()),
    }
}

/// The file a `sqlite:` URL names, or `None` for a database in memory.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    (!memory).then_some(path)
}

/// One process has the file: no turns to take.
#[async_trait::async_trait]
impl super::ClusterStore for SqliteStore {
    async fn identify_turn(&self, _bucket: u32) -> super::Result<Option<super::IdentifyTurn>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_of_a_sqlite_url_is_found_and_memory_has_none() {
        assert_eq!(
            super::sqlite_path("sqlite://reactif.db"),
            Some("reactif.db")
        );
        assert_eq!(
            super::sqlite_path("sqlite:///var/lib/r.db?mode=rwc"),
            Some("/var/lib/r.db")
        );
        assert_eq!(super::sqlite_path("sqlite::memory:"), None);
        assert_eq!(super::sqlite_path("sqlite://x.db?mode=memory"), None);
    }
}
