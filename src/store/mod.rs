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
//! | `web.rs`       | `WebStore`      | the dashboard's signing key, sessions, used links       |
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
mod commit;
mod events;
mod outbox;
mod privacy;
mod rollups;
mod rows;
mod rules;
mod web;

pub use bot_state::{
    BotStateStore, ChannelCursor, DiscordSetup, SurveyJob, SurveyStatus, Ticket, TranscriptLine,
    WatchKind, WatchedChannel,
};
pub use commit::{Commit, CommitOutcome, CommitStore, OutboxOp, SurveyOp};
pub use events::{EventStore, Inserted};
pub use outbox::{OutboxBacklog, OutboxItem, OutboxMethod, OutboxStore};
pub use privacy::{anon_token, Place, PrivacyStore, ANON_PREFIX};
pub use rollups::{
    dirty_version, DayRollup, DayUpdate, DirtyDay, DirtyPlace, FactsUpdate, PieceScope,
    RollupStatus, RollupStore,
};
pub use rules::RulesStore;
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

impl StoreError {
    /// True when the database cannot be reached right now (down, restarting, out of
    /// connections, locked past the busy timeout), so the same call may succeed later; false
    /// for a query, a migration or data that is wrong.
    pub fn is_transient(&self) -> bool {
        let StoreError::Database(sql) = self else {
            return false;
        };
        match sql {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // SQLite: BUSY, LOCKED (and their extended codes). PostgreSQL: connection
                // exceptions (08…), shutdown and crash (57P…), out of resources (53…).
                matches!(code.as_ref(), "5" | "6" | "261" | "262" | "517")
                    || code.starts_with("08")
                    || code.starts_with("57P")
                    || code.starts_with("53")
            }
            _ => false,
        }
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
    + WebStore
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
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    };
    store.migrate().await?;
    Ok(store)
}

/// Hides a password in a database URL for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
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
}
