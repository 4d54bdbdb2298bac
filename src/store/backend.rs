//! What a SQL backend is: its connection pools (`SqlStore`) and the few things its SQL says
//! differently (`Dialect`). Each backend's file (`sqlite.rs`, `postgres.rs`) gives both.

use sqlx::{Database, Pool};

/// A store on one SQL backend. The concerns' SQL (`sql/`) implements every store trait for it.
pub struct SqlStore<DB: Database> {
    /// The pool of writes and of the bot's reads.
    pub(super) pool: Pool<DB>,
    /// The pool of `/stats`'s reads. On SQLite its connections map the file into memory: a
    /// report reads a few megabytes of pages, and copying each from the kernel was a fifth of
    /// its time. Their own pool, so that the bot's memory while ingesting does not count the
    /// pages a mapping would keep. On PostgreSQL it is the same pool, as the server caches pages
    /// itself.
    pub(super) reads: Pool<DB>,
}

/// What the backends' SQL says differently. Everything else in `sql/` is written once, with
/// `$N` placeholders (which SQLite accepts too).
pub trait Dialect: Database {
    /// `sqlite` or `postgres`, for logs.
    const BACKEND: &'static str;
    /// The backend's migrations folder.
    const MIGRATOR: sqlx::migrate::Migrator;
    /// Starts a write transaction.
    const BEGIN_WRITE: &'static str;
    /// Starts a transaction whose reads all see one snapshot of the database, for a read of
    /// several statements that must agree (a refresh may commit between two of them).
    const BEGIN_SNAPSHOT: &'static str;
    /// Locks the rows a write transaction read, until it commits (appended to a `SELECT`).
    const LOCK_ROWS: &'static str;
    /// How a query over numbered time ranges is built (see `ranged` in `sql/pieces.rs`): as
    /// one `SELECT` per range joined by `UNION ALL`, or as a join with a `VALUES` table.
    const RANGES_AS_UNION: bool;
    /// Aggregates rows of columns into one JSON array of arrays, as text: what goes before the
    /// columns and after them. Over no rows it is `[]` or NULL.
    const JSON_ROWS: (&'static str, &'static str);
    /// Concatenates a column's values with commas, skipping NULLs: what goes before the
    /// expression and after it.
    const CONCAT: (&'static str, &'static str);
    /// The delay blocks (`day, kind, first_bucket, data`) of guild `$1` at the keys of JSON
    /// array `$2`, each key `{"d": day, "k": kind, "f": first bucket}`.
    const BLOCKS_BY_KEYS: &'static str;
    /// See `RollupStore::analyze_rollups`.
    const ANALYZE_ROLLUPS: &'static str;
    /// See `RollupStore::analyze_growing`: run one at a time.
    const ANALYZE_GROWING: &'static [&'static str];
    /// Whether several processes share the database, so that the refresh claims its dirty
    /// marks (`FOR UPDATE SKIP LOCKED`) rather than reading them: PostgreSQL. SQLite is one
    /// process's.
    const CLAIM_MARKS: bool;
    /// The shard of `count` that owns a row whose guild id (text, NULL for a DM) is in
    /// `column`: `(guild_id >> 22) % count`, 0 when the id is none or not a snowflake
    /// (`domain::shards::shard_of_guild`).
    fn shard_of(column: &str, count: u32) -> String;
}
