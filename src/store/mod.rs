//! Storage: one trait, one implementation per backend (SQLite by default, PostgreSQL for scale),
//! one migrations folder per backend. The backend is chosen once, from the URL's scheme.

pub mod postgres;
mod sql;
pub mod sqlite;

use crate::domain::{Event, GuildRules, Millis};
use async_trait::async_trait;
use std::collections::HashMap;
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

pub type Result<T> = std::result::Result<T, StoreError>;

/// What ingesting one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// An event with this id was already stored: ingest is idempotent.
    Duplicate,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies the backend's pending migrations.
    async fn migrate(&self) -> Result<()>;

    /// Stores the events whose id is new, all in one transaction; one answer per event, in order.
    async fn insert_events(&self, events: &[Event]) -> Result<Vec<Inserted>>;

    /// Every event of one place (a guild's conversation key), in no particular order.
    async fn place_events(&self, guild_id: &str, conversation: &str) -> Result<Vec<Event>>;

    /// Every event at or before `now`, of one guild or of all.
    async fn events_until(&self, guild_id: Option<&str>, now: Millis) -> Result<Vec<Event>>;

    /// Number of stored events (of one guild or all).
    async fn count_events(&self, guild_id: Option<&str>) -> Result<u64>;

    /// Removes every event of a guild (the demo uses it to start afresh).
    async fn delete_guild_events(&self, guild_id: &str) -> Result<u64>;

    /// The guild's rules, KPI.md's defaults where it has set none.
    async fn guild_rules(&self, guild_id: &str) -> Result<GuildRules>;

    /// The rules of every guild that has set any.
    async fn all_guild_rules(&self) -> Result<HashMap<String, GuildRules>>;

    async fn save_guild_rules(&self, guild_id: &str, rules: &GuildRules) -> Result<()>;

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
