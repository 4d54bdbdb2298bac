//! Storage: one trait, one implementation per backend (SQLite by default, PostgreSQL for scale),
//! one migrations folder per backend. The backend is chosen once, from the URL's scheme.

pub mod postgres;
mod sql;
pub mod sqlite;

use crate::domain::rollup::{Block, Part, Piece, PlaceFacts};
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

    /// The stored events with these ids (those that exist), in no particular order.
    async fn events_by_ids(&self, ids: &[String]) -> Result<Vec<Event>>;

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

    // --- What the Discord bot keeps besides events. ---

    async fn discord_setup(&self, guild_id: &str) -> Result<DiscordSetup>;
    async fn save_discord_setup(&self, guild_id: &str, setup: &DiscordSetup) -> Result<()>;
    /// Guilds whose staff channel is set: the teams a customer's DM can reach.
    async fn guilds_with_staff_channel(&self) -> Result<Vec<String>>;
    async fn ticket(&self, guild_id: &str, customer_id: &str) -> Result<Option<Ticket>>;
    async fn ticket_by_thread(&self, thread_id: &str) -> Result<Option<Ticket>>;
    async fn save_ticket(&self, ticket: &Ticket) -> Result<()>;

    async fn dm_choice(&self, customer_id: &str) -> Result<Option<String>>;
    async fn set_dm_choice(&self, customer_id: &str, guild_id: &str) -> Result<()>;
    async fn forget_dm_choice(&self, customer_id: &str) -> Result<()>;

    async fn set_conversation_channel(
        &self,
        guild_id: &str,
        conversation: &str,
        channel_id: &str,
    ) -> Result<()>;
    async fn conversations_in_channel(
        &self,
        guild_id: &str,
        channel_id: &str,
    ) -> Result<Vec<String>>;

    async fn survey(&self, survey_id: &str) -> Result<Option<SurveyJob>>;
    async fn surveys_in_place(
        &self,
        guild_id: &str,
        conversation: &str,
        status: SurveyStatus,
    ) -> Result<Vec<SurveyJob>>;
    async fn due_surveys(&self, now: Millis, limit: i64) -> Result<Vec<SurveyJob>>;
    /// Sent surveys sent at or before `sent_before`: the ones to close.
    async fn surveys_to_close(&self, sent_before: Millis, limit: i64) -> Result<Vec<SurveyJob>>;
    /// Records that `message_id` was handled in `channel_id` (keeps the largest id).
    async fn advance_cursor(
        &self,
        channel_id: &str,
        guild_id: Option<&str>,
        message_id: i64,
        now: Millis,
    ) -> Result<()>;
    /// The last message handled in `channel_id`, if any.
    async fn cursor(&self, channel_id: &str) -> Result<Option<i64>>;
    /// Moves `channel_id`'s cursor back to `message_id` if it is further (creating it if
    /// missing): a catch-up then reads the channel again from there.
    async fn rewind_cursor(
        &self,
        channel_id: &str,
        guild_id: Option<&str>,
        message_id: i64,
        now: Millis,
    ) -> Result<()>;
    /// Channels with a message handled since `since`: (channel, guild, last message id).
    async fn recent_cursors(&self, since: Millis) -> Result<Vec<(String, Option<String>, i64)>>;

    /// Applies everything one decision writes in one transaction: the events, the survey
    /// changes, the outbox changes, the transcript lines and the alert day; or nothing (see
    /// `CommitOutcome`).
    async fn commit(&self, commit: &Commit) -> Result<CommitOutcome>;

    /// Group commit: applies each commit as `commit` would, all in one transaction (each in a
    /// savepoint, so one skipped or in conflict leaves the others); one outcome per commit, in
    /// order. On error nothing is written.
    async fn commit_group(&self, commits: &[Commit]) -> Result<Vec<CommitOutcome>>;

    // --- Outbox: every action towards Discord, until delivered or refused for good. ---

    /// Pending items due at `now` whose previous piece (if any) has gone.
    async fn due_outbox(&self, now: Millis, limit: i64) -> Result<Vec<OutboxItem>>;
    /// Pending items with these keys, in the order given.
    async fn outbox_by_keys(&self, keys: &[String]) -> Result<Vec<OutboxItem>>;
    /// Takes an item for delivery until `lease_until` (false if another sender has it, or it
    /// is no longer pending): two senders never post the same item at once.
    async fn claim_outbox(&self, id: i64, now: Millis, lease_until: Millis) -> Result<bool>;
    async fn outbox_retry(&self, id: i64, next_at: Millis, error: &str) -> Result<()>;
    /// Frees the items a previous process was sending when it died (one bot process per
    /// database), so that they are retried at once rather than when the lease runs out.
    async fn release_outbox_leases(&self) -> Result<u64>;
    /// Points the pending items of a deleted channel (a ticket thread) to its replacement.
    async fn retarget_outbox(&self, old_channel: &str, new_channel: &str) -> Result<()>;
    /// Pending messages (of one guild, or all) and the creation time of the oldest, for logs
    /// and `/stats`.
    async fn outbox_backlog(&self, guild_id: Option<&str>) -> Result<(u64, Option<Millis>)>;

    /// The stored transcript of a place (guilds with transcripts on), oldest first.
    async fn transcript(&self, guild_id: &str, conversation: &str) -> Result<Vec<TranscriptLine>>;

    // --- Privacy. ---

    /// Places (guild, conversation) whose last event is before `before` and that are not
    /// anonymised yet.
    async fn places_ended_before(&self, before: Millis) -> Result<Vec<(String, String)>>;
    /// Places where `user_id` wrote as a customer (messages, ratings, comments).
    async fn places_of_customer(&self, user_id: &str) -> Result<Vec<(String, String)>>;
    /// Replaces, in one transaction per place, the conversation key and every author who is not
    /// an agent of that place by random tokens, empties comments, and drops the place's tickets,
    /// survey jobs, transcript and cursors. Times, kinds and agents stay, so every figure stays the same.
    async fn anonymize_place(&self, guild_id: &str, conversation: &str) -> Result<()>;

    // --- Rollups (src/domain/rollup.rs): facts per place, parts per day. Event writes mark
    // their places dirty in the same transaction; `Desk::refresh` derives the rest. ---

    /// Places whose facts are out of date (of one guild or all), ordered by guild and place,
    /// from just after `after` (a guild and a place) when it is given.
    async fn dirty_places(
        &self,
        guild_id: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyPlace>>;
    /// The events of these places (all of one guild), in no particular order.
    async fn events_of_places(
        &self,
        guild_id: &str,
        conversations: &[String],
    ) -> Result<Vec<Event>>;
    /// The stored facts of these places (all of one guild), one per conversation key.
    async fn place_facts(
        &self,
        guild_id: &str,
        conversations: &[String],
    ) -> Result<HashMap<String, PlaceFacts>>;
    /// Replaces the facts of each place still at the version read, marks the days they change
    /// dirty and the guilds found irregular, in one transaction; returns how many were written.
    async fn write_place_facts(&self, updates: &[FactsUpdate]) -> Result<usize>;
    /// Days whose parts are out of date (of one guild or all), ordered by guild and day, from
    /// just after `after` (a guild and a day) when it is given.
    async fn dirty_days(
        &self,
        guild_id: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyDay>>;
    /// The parts of `scope` over each range `[from, to)`, summed from the facts, one piece per
    /// range in order.
    async fn kpi_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        deadline: Millis,
        scope: PieceScope<'_>,
    ) -> Result<Vec<Piece>>;
    /// Per range `[from, to)`, the requests started after `after` that are not answered
    /// within `deadline`.
    async fn kpi_pending(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        after: Millis,
        deadline: Millis,
    ) -> Result<Vec<u64>>;
    /// Stores the pieces of the days still at the version read, with their delay blocks
    /// (`Piece::block_out`); returns how many.
    async fn write_days(&self, days: &[(DirtyDay, Piece, Vec<Block>)]) -> Result<usize>;
    /// The guild's delay blocks at each (day `YYYY-MM-DD`, kind, first bucket) asked for, with
    /// their key; a key with no block is left out.
    async fn kpi_blocks(
        &self,
        guild_id: &str,
        keys: &[(String, i64, i64)],
    ) -> Result<Vec<((String, i64, i64), Vec<u8>)>>;
    /// The guild's stored days `from_day..=to_day` (`YYYY-MM-DD`): (day, guild part, the
    /// agents' parts encoded by `Piece::encode_agents`, or nothing unless `agents`: they are
    /// most of a day's bytes).
    async fn stored_days(
        &self,
        guild_id: &str,
        from_day: &str,
        to_day: &str,
        agents: bool,
    ) -> Result<Vec<(String, Part, Vec<u8>)>>;
    /// Refreshes the query planner's statistics of the rollup tables, after a large refresh
    /// (PostgreSQL otherwise plans with what it knew of the tables when they were small), and
    /// on PostgreSQL vacuums them too: until its visibility map knows the new rows, every
    /// "index-only" read of a report visits the table as well (4 to 6 times slower, measured).
    async fn analyze_rollups(&self) -> Result<()>;
    /// Refreshes the planner's statistics of the facts, rollup and queue tables while a large
    /// refresh fills them. On PostgreSQL without them (autovacuum off, or not yet come by), a
    /// lookup of 500 places by name was planned as a scan of the whole guild: 221 ms instead
    /// of 2 ms at 850k fact rows, so that a refresh slowed as it went.
    async fn analyze_growing(&self) -> Result<()>;
    /// Whether the guild's rollups can stand for it, and its newest event's time.
    async fn rollup_status(&self, guild_id: &str) -> Result<RollupStatus>;

    async fn close(&self);
}

/// Which parts `Store::kpi_pieces` sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceScope<'a> {
    /// The guild's part and every agent's whole part (what a stored day keeps).
    All,
    /// The guild's part, and each agent's without the messages and conversations of their
    /// conversations: a guild's per-agent table shows neither, and they are the costly join.
    Guild,
    /// That agent's part only (and no guild part).
    Agent(&'a str),
}

/// A place whose facts must be derived again, at the version of its mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyPlace {
    pub guild_id: String,
    pub conversation: String,
    pub version: i64,
}

/// A guild's local day whose parts must be summed again, at the version of its mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyDay {
    pub guild_id: String,
    pub day: String,
    pub version: i64,
}

/// New facts for one place (see `Store::write_place_facts`).
#[derive(Debug, Clone)]
pub struct FactsUpdate {
    pub place: DirtyPlace,
    pub facts: PlaceFacts,
    /// The local days (`YYYY-MM-DD`) whose parts change.
    pub days: Vec<String>,
    /// False when the place cannot be replayed alone (see `domain::rollup`).
    pub regular: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupStatus {
    pub irregular: bool,
    pub newest_event: Option<Millis>,
}

/// A fresh version for a dirty mark: random, so that a mark deleted and made again never
/// comes back with a version a refresh has already read.
pub fn dirty_version() -> i64 {
    (rand::random::<u64>() >> 1) as i64
}

/// What `Store::commit` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// Nothing written, as asked: the event was already stored (`require_new`), the alert day
    /// was already claimed, or the survey to start sending is no longer scheduled.
    Skipped,
    /// Nothing written: a survey was not in the status the decision was made on (another
    /// handler moved it meanwhile). Decide again from what is stored now.
    Conflict,
}

impl CommitOutcome {
    pub fn committed(self) -> bool {
        self == CommitOutcome::Committed
    }
}

/// Everything one decision writes, committed together (see `Store::commit`).
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub events: Vec<Event>,
    /// Write nothing if the first event is already stored (a replayed gateway event).
    pub require_new: bool,
    pub surveys: Vec<SurveyOp>,
    pub outbox: Vec<OutboxOp>,
    pub transcript: Vec<TranscriptLine>,
    /// (guild, local day): at most one load alert a day; an already claimed day cancels all.
    pub alert_day: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyOp {
    /// A new survey; one already stored under the same id is left as it is.
    Schedule(SurveyJob),
    /// Moves a scheduled survey's due time later (never earlier).
    Postpone { survey_id: String, due_at: Millis },
    /// Moves a survey from one of `from` (any status if empty) to `status`; a survey found in
    /// another status makes the commit a `Conflict`.
    Status {
        survey_id: String,
        from: Vec<SurveyStatus>,
        status: SurveyStatus,
    },
    /// A click's rating; a survey no longer `sent` (withdrawn or closed meanwhile) makes the
    /// commit a `Conflict`.
    Rating { survey_id: String, rating: i32 },
    /// Takes a scheduled survey for sending; one no longer scheduled cancels the whole commit.
    StartSending { survey_id: String },
    /// The survey's message went out (its `survey_sent` event is in the same commit); a survey
    /// no longer `sending` (a newer answer cancelled it meanwhile) makes it a `Conflict`.
    Sent {
        survey_id: String,
        message_id: String,
        sent_at: Millis,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxOp {
    /// Queues an item; one already queued under the same key is left as it is.
    Enqueue(Box<OutboxItem>),
    Sent {
        id: i64,
        message_id: String,
    },
    /// Discord refused the item for good.
    Failed {
        id: i64,
        error: String,
    },
    /// Drops the not yet delivered message of a survey that was replaced.
    CancelSurvey {
        survey_id: String,
    },
}

impl OutboxOp {
    pub fn enqueue(item: OutboxItem) -> OutboxOp {
        OutboxOp::Enqueue(Box::new(item))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxMethod {
    /// `POST /channels/{channel}/messages`.
    Post,
    /// `PATCH /channels/{channel}/messages/{message}`: an edit of a message we sent.
    Patch(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    /// Names the action: queuing it twice queues it once, and Discord's nonce derives from it.
    pub dedupe_key: String,
    pub channel_id: String,
    pub method: OutboxMethod,
    /// The JSON body of the request.
    pub body: String,
    /// The key of the piece that must go first.
    pub after_key: Option<String>,
    /// Set on a survey's message: its delivery marks the survey sent.
    pub survey_id: Option<String>,
    /// Where to tell the agents when Discord refuses the message for good.
    pub notify_channel_id: Option<String>,
    pub guild_id: Option<String>,
    pub conversation: Option<String>,
    /// Set on a relay into a ticket thread: a deleted thread is reopened for this customer.
    pub ticket_customer_id: Option<String>,
    pub attempts: i32,
    pub next_at: Millis,
    pub created_at: Millis,
}

impl OutboxItem {
    /// A new message to post in `channel_id`.
    pub fn post(key: String, channel_id: &str, body: serde_json::Value, now: Millis) -> OutboxItem {
        OutboxItem {
            id: 0,
            dedupe_key: key,
            channel_id: channel_id.to_string(),
            method: OutboxMethod::Post,
            body: body.to_string(),
            after_key: None,
            survey_id: None,
            notify_channel_id: None,
            guild_id: None,
            conversation: None,
            ticket_customer_id: None,
            attempts: 0,
            next_at: now,
            created_at: now,
        }
    }

    /// The item belongs to this guild's conversation (for `/stats` and privacy).
    pub fn in_place(mut self, guild_id: &str, conversation: &str) -> OutboxItem {
        self.guild_id = Some(guild_id.to_string());
        self.conversation = Some(conversation.to_string());
        self
    }

    /// A plain text message to post in `channel_id`, pinging no one.
    pub fn post_text(key: String, channel_id: &str, text: &str, now: Millis) -> OutboxItem {
        OutboxItem::post(
            key,
            channel_id,
            serde_json::json!({"content": text, "allowed_mentions": {"parse": []}}),
            now,
        )
    }

    /// An edit of message `message_id` in `channel_id`.
    pub fn patch(
        key: String,
        channel_id: &str,
        message_id: &str,
        body: serde_json::Value,
        now: Millis,
    ) -> OutboxItem {
        OutboxItem {
            method: OutboxMethod::Patch(message_id.to_string()),
            ..OutboxItem::post(key, channel_id, body, now)
        }
    }
}

/// One message of a guild's transcript (only with transcripts on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub message_id: String,
    pub guild_id: String,
    pub conversation: String,
    pub author_id: String,
    pub at: Millis,
    pub content: String,
}

/// Prefix of the keys and ids that replace personal data.
pub const ANON_PREFIX: &str = "anon-";

/// A fresh random token: it cannot be traced back to what it replaced.
pub fn anon_token() -> String {
    use rand::Rng;
    format!("{ANON_PREFIX}{:016x}", rand::thread_rng().gen::<u64>())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    Text,
    Forum,
}

impl WatchKind {
    pub fn name(self) -> &'static str {
        match self {
            WatchKind::Text => "text",
            WatchKind::Forum => "forum",
        }
    }
    pub fn parse(s: &str) -> Option<WatchKind> {
        match s {
            "text" => Some(WatchKind::Text),
            "forum" => Some(WatchKind::Forum),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedChannel {
    pub channel_id: String,
    pub kind: WatchKind,
}

/// A guild's Discord setup, changed with `/setup`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscordSetup {
    pub staff_channel_id: Option<String>,
    pub alert_channel_id: Option<String>,
    pub show_agent_names: bool,
    /// Store message content (off by default: only ids and times are kept).
    pub transcripts: bool,
    pub agent_roles: Vec<String>,
    pub watched: Vec<WatchedChannel>,
}

/// A customer's DM ticket with one guild's team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub guild_id: String,
    pub customer_id: String,
    pub dm_channel_id: String,
    pub thread_id: Option<String>,
    pub conversation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyStatus {
    Scheduled,
    /// Due, and its message is in the outbox.
    Sending,
    Sent,
    Closed,
    Cancelled,
    Withdrawn,
}

impl SurveyStatus {
    pub fn name(self) -> &'static str {
        match self {
            SurveyStatus::Scheduled => "scheduled",
            SurveyStatus::Sending => "sending",
            SurveyStatus::Sent => "sent",
            SurveyStatus::Closed => "closed",
            SurveyStatus::Cancelled => "cancelled",
            SurveyStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<SurveyStatus> {
        [
            SurveyStatus::Scheduled,
            SurveyStatus::Sending,
            SurveyStatus::Sent,
            SurveyStatus::Closed,
            SurveyStatus::Cancelled,
            SurveyStatus::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.name() == s)
    }
}

/// A survey and its timer: scheduled after an answer, sent when the agent has been silent long
/// enough, closed 24 h later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyJob {
    pub survey_id: String,
    pub guild_id: String,
    pub conversation: String,
    pub customer_id: String,
    pub agent_id: String,
    pub answer_message_id: String,
    /// Where the survey is posted: the customer's DM, or the conversation's channel or thread.
    pub channel_id: String,
    /// In a watched channel, the customer message the survey replies to.
    pub reply_to: Option<String>,
    pub due_at: Millis,
    pub status: SurveyStatus,
    pub message_id: Option<String>,
    pub sent_at: Option<Millis>,
    pub rating: Option<i32>,
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
