//! Storage: what reactif keeps, in SQLite (the default, one file) or PostgreSQL (for scale). The
//! backend is chosen once, from the URL's scheme (`open`).
//!
//! # The parts
//!
//! `Store` is every concern together. Each concern is a trait of its own, in a file of its own
//! with the types it speaks in:
//!
//! | file           | trait           | what it keeps                                           |
//! |----------------|-----------------|---------------------------------------------------------|
//! | `events.rs`    | `EventStore`    | the events, the one source of every figure              |
//! | `rules.rs`     | `RulesStore`    | each guild's rules (KPI.md's settings)                  |
//! | `commit.rs`    | `CommitStore`   | all one decision of the bot writes, in one transaction  |
//! | `bot_state.rs` | `BotStateStore` | setups, tickets, DM choices, survey timers, cursors     |
//! | `outbox.rs`    | `OutboxStore`   | every action towards Discord, until delivered           |
//! | `privacy.rs`   | `PrivacyStore`  | anonymising places                                      |
//! | `rollups.rs`   | `RollupStore`   | facts per place and parts per day, for fast reports     |
//! | `engagement.rs`| `EngagementStore` | posts, reactions and replies (docs/engagement.md)     |
//! | `engagement_rollups.rs` | `EngagementRollupStore` | engagement per post and per day, for fast reports |
//! | `web.rs`       | `WebStore`      | the dashboard's signing key, sessions, used links       |
//! | `cluster.rs`   | `ClusterStore`  | turns several processes take (IDENTIFY), PostgreSQL only |
//! | `tracking.rs`  | `TrackingStore` | the channels tracked for engagement, the community role |
//!
//! Callers hold a `DynStore` and call any of them (a trait object calls its supertraits'
//! methods without importing them). A part that needs one concern only takes that trait:
//! `desk::rollup` sees `RollupStore` and `RulesStore`.
//!
//! # The SQL
//!
//! The statements live in `sql/`, one file per concern (`sql/events.rs` implements
//! `EventStore`, and so on), written once with `$N` placeholders (which SQLite accepts too).
//! The rows they read are in `rows.rs`. The few things the backends say differently are the
//! items of the `Dialect` trait (`backend.rs`), given for each backend in `sqlite.rs` and
//! `postgres.rs` next to its connection setup.
//!
//! `sql/` is compiled once per backend: `sqlite.rs` and `postgres.rs` each mount the folder
//! (`#[path = "sql/mod.rs"] mod sql;`) with `Db` naming their sqlx database, so that the code
//! in `sql/` is plain sqlx over one concrete type, which rustfmt and rust-analyzer read like
//! any other file. Why not code generic over `DB: sqlx::Database`: each generic function would
//! need a dozen where clauses (the executor, and encoding, decoding and typing every column
//! type), and Rust does not carry a trait's where clauses to its users (rust-lang/rust#20671),
//! so no single bundle could hold them; the noise would be on every function. Why not one
//! macro, as before: rustfmt and rust-analyzer do not see inside a macro's body. Mounting a
//! folder twice costs what the macro cost (the SQL is compiled twice) and nothing more.

pub mod postgres;
pub mod sqlite;

mod backend;
mod bot_state;
mod cluster;
mod commit;
mod engagement;
pub mod engagement_rollups;
mod events;
mod outbox;
mod privacy;
mod rollups;
mod rows;
mod rules;
mod tracking;
mod web;

pub use bot_state::{
    BotStateStore, ChannelCursor, DiscordSetup, SlaTimerRow, SurveyJob, SurveyStatus, Ticket,
    TranscriptLine, WatchKind, WatchedChannel, DEFAULT_TICKETS_PER_HOUR,
};
pub use cluster::{ClusterStore, IdentifyTurn, IDENTIFY_LOCK_SPACE};
pub use commit::{Commit, CommitOutcome, CommitStore, OutboxOp, SurveyOp, TimerOp};
pub use engagement::{EngagementStore, PurgePreview};
pub use engagement_rollups::EngagementRollupStore;
pub use events::{EventStore, Inserted};
pub use outbox::{OutboxBacklog, OutboxItem, OutboxMethod, OutboxStore};
pub use privacy::{
    anon_token, Forgotten, Place, PrivacyStore, ANON_PREFIX, PLACES_OF_CUSTOMER_SQL,
};
pub use rollups::{
    dirty_version, DayRollup, DayUpdate, DirtyDay, DirtyPlace, FactsUpdate, LiveConversation,
    PieceScope, RollupStatus, RollupStore,
};
pub use rules::RulesStore;
pub use sqlite::SqliteOptions;
pub use tracking::{TrackingSetup, TrackingStore};
pub use web::{WebSession, WebStore};

use async_trait::async_trait;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use sqlite://FILE (e.g. sqlite://reactif.db) or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Why the database cannot take writes right now, when it is something that passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Down, restarting, cut off, out of connections, locked past the busy timeout.
    Unreachable,
    /// The disk (or SQLite's size limit) is full.
    Full,
    /// The database or its file is read-only (permissions, a PostgreSQL standby).
    ReadOnly,
    /// The disk or the file system failed a read or a write.
    Io,
}

impl Outage {
    /// What the operator reads in the log.
    pub fn describe(self) -> &'static str {
        match self {
            Outage::Unreachable => "the database cannot be reached",
            Outage::Full => "the database is full (free disk space, or raise its size limit)",
            Outage::ReadOnly => "the database is read-only (check the file's permissions, or that PostgreSQL is the primary)",
            Outage::Io => "the database's disk failed a read or write (check the disk)",
        }
    }
}

impl StoreError {
    /// True when the same call may succeed later: the database cannot be reached, or cannot
    /// write for a reason an operator mends (full, read-only, a failing disk); false for a
    /// query, a migration or data that is wrong.
    pub fn is_transient(&self) -> bool {
        self.outage().is_some()
    }

    /// Why the database cannot take the call right now, if that is what this error says.
    pub fn outage(&self) -> Option<Outage> {
        let StoreError::Database(sql) = self else {
            return None;
        };
        match sql {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed => Some(Outage::Unreachable),
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    sqlite_outage(code.parse().unwrap_or(0))
                } else {
                    postgres_outage(&code)
                }
            }
            _ => None,
        }
    }
}

/// SQLite's result codes (the extended code's low byte is the primary code): BUSY 5 and
/// LOCKED 6 (locked past the busy timeout), READONLY 8, IOERR 10, FULL 13, CANTOPEN 14.
fn sqlite_outage(extended: i32) -> Option<Outage> {
    match extended & 0xff {
        5 | 6 => Some(Outage::Unreachable),
        8 => Some(Outage::ReadOnly),
        10 | 14 => Some(Outage::Io),
        13 => Some(Outage::Full),
        _ => None,
    }
}

/// PostgreSQL's SQLSTATE: connection exceptions (08…), shutdown and crash (57P…), disk full
/// (53100) and other missing resources (53…), I/O errors (58030, and the system errors 58…),
/// a read-only transaction (25006: a standby, or `default_transaction_read_only`).
fn postgres_outage(code: &str) -> Option<Outage> {
    if code == "53100" {
        Some(Outage::Full)
    } else if code == "25006" {
        Some(Outage::ReadOnly)
    } else if code.starts_with("58") {
        Some(Outage::Io)
    } else if code.starts_with("08") || code.starts_with("57P") || code.starts_with("53") {
        Some(Outage::Unreachable)
    } else {
        None
    }
}

#[cfg(test)]
mod transient_tests {
    use super::StoreError;

    #[test]
    fn an_unreachable_database_is_transient_and_a_wrong_query_is_not() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(StoreError::Database(sqlx::Error::Io(io)).is_transient());
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_transient());
        assert!(!StoreError::Corrupt("bad row".into()).is_transient());
        assert!(!StoreError::UnsupportedUrl("mysql://x".into()).is_transient());
    }

    #[test]
    fn a_full_read_only_or_failing_disk_is_an_outage_that_passes() {
        use super::{postgres_outage, sqlite_outage, Outage};
        // SQLITE_FULL, SQLITE_READONLY_DBMOVED (8 | 4 << 8), SQLITE_IOERR_WRITE (10 | 3 << 8).
        assert_eq!(sqlite_outage(13), Some(Outage::Full));
        assert_eq!(sqlite_outage(8 | (4 << 8)), Some(Outage::ReadOnly));
        assert_eq!(sqlite_outage(10 | (3 << 8)), Some(Outage::Io));
        assert_eq!(sqlite_outage(517), Some(Outage::Unreachable));
        // SQLITE_CONSTRAINT_UNIQUE (19 | 8 << 8) is a wrong write, not an outage.
        assert_eq!(sqlite_outage(2067), None);
        assert_eq!(postgres_outage("53100"), Some(Outage::Full));
        assert_eq!(postgres_outage("25006"), Some(Outage::ReadOnly));
        assert_eq!(postgres_outage("58030"), Some(Outage::Io));
        assert_eq!(postgres_outage("08006"), Some(Outage::Unreachable));
        assert_eq!(postgres_outage("23505"), None);
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Every concern of the store, on one backend.
#[async_trait]
pub trait Store:
    EventStore
    + RulesStore
    + CommitStore
    + BotStateStore
    + OutboxStore
    + PrivacyStore
    + RollupStore
    + EngagementStore
    + EngagementRollupStore
    + TrackingStore
    + WebStore
    + ClusterStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies the backend's pending migrations.
    async fn migrate(&self) -> Result<()>;

    async fn close(&self);
}

pub type DynStore = Arc<dyn Store>;

/// The database used when `DATABASE_URL` is not set: a file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://reactif.db";

/// Opens (creating a SQLite file if needed) and migrates the database at `url`.
pub async fn open(url: &str) -> Result<DynStore> {
    let store: DynStore = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteStore::connect(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(postgres::PgStore::connect(url).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    };
    store.migrate().await?;
    Ok(store)
}

/// Hides every password in a URL (a database's, or `DISCORD_API_URL`'s) for logs, messages
/// and `Debug`: the one after `user:` and any query parameter whose name says password
/// (`?password=`, `&sslpassword=`).
pub fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let mut out = match main.find("://") {
        Some(scheme_end) => {
            let rest = &main[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => {
                    let user = rest[..at].split(':').next().unwrap_or_default();
                    let hidden = if rest[..at].contains(':') { ":***" } else { "" };
                    format!("{}{user}{hidden}{}", &main[..scheme_end + 3], &rest[at..])
                }
                None => main.to_string(),
            }
        }
        None => main.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_password_never_shows_in_messages() {
        assert_eq!(
            super::redact_url("postgres://bot:s3cret@db.example/reactif"),
            "postgres://bot:***@db.example/reactif"
        );
        assert_eq!(
            super::redact_url("sqlite://reactif.db"),
            "sqlite://reactif.db"
        );
    }

    #[test]
    fn a_password_anywhere_in_a_url_is_hidden() {
        let cases = [
            (
                "postgres://bot@db/reactif?password=s3cret&sslmode=require",
                "postgres://bot@db/reactif?password=***&sslmode=require",
            ),
            (
                "postgresql://db/reactif?user=bot&Password=s3cret",
                "postgresql://db/reactif?user=bot&Password=***",
            ),
            (
                "postgres://bot:p@ss:w@rd@db:5432/reactif?sslpassword=s3cret",
                "postgres://bot:***@db:5432/reactif?sslpassword=***",
            ),
            (
                "http://proxy:s3cret@127.0.0.1:8080",
                "http://proxy:***@127.0.0.1:8080",
            ),
            (
                "https://gw.example/api?password=s3cret",
                "https://gw.example/api?password=***",
            ),
            ("http://127.0.0.1:8080/a@b", "http://127.0.0.1:8080/a@b"),
        ];
        for (url, shown) in cases {
            let redacted = super::redact_url(url);
            assert_eq!(redacted, shown);
            assert!(!redacted.contains("s3cret") && !redacted.contains("p@ss"));
        }
    }
}
