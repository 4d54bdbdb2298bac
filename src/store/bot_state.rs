//! What the Discord bot keeps besides events: each guild's setup, the customers' DM tickets
//! and choices, which channel each place lives in, the survey timers, how far each channel
//! was read, and the transcripts of the guilds that keep them.

use super::Result;
use crate::domain::shards::Shards;
use crate::domain::Millis;
use async_trait::async_trait;

/// New tickets one customer may open in an hour, unless `/setup` says otherwise.
pub const DEFAULT_TICKETS_PER_HOUR: u32 = 5;

#[async_trait]
pub trait BotStateStore: Send + Sync {
    // --- A guild's setup (`/setup`). ---

    async fn discord_setup(&self, guild_id: &str) -> Result<DiscordSetup>;
    async fn save_discord_setup(&self, guild_id: &str, setup: &DiscordSetup) -> Result<()>;
    /// Guilds whose staff channel is set: the teams a customer's DM can reach.
    async fn guilds_with_staff_channel(&self) -> Result<Vec<String>>;
    /// New tickets one customer may open in an hour (`/setup tickets_per_hour`, default 5).
    async fn ticket_limit(&self, guild_id: &str) -> Result<u32>;
    async fn set_ticket_limit(&self, guild_id: &str, per_hour: u32) -> Result<()>;

    // --- DM tickets, and which team a customer's DMs go to. ---

    async fn ticket(&self, guild_id: &str, customer_id: &str) -> Result<Option<Ticket>>;
    async fn ticket_by_thread(&self, thread_id: &str) -> Result<Option<Ticket>>;
    async fn save_ticket(&self, ticket: &Ticket) -> Result<()>;

    async fn dm_choice(&self, customer_id: &str) -> Result<Option<String>>;
    async fn set_dm_choice(&self, customer_id: &str, guild_id: &str) -> Result<()>;
    async fn forget_dm_choice(&self, customer_id: &str) -> Result<()>;

    // --- Which channel each place lives in. ---

    /// Records the channel of a place (the first one recorded stays).
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

    // --- Survey timers (their changes are written by `CommitStore::commit`). ---

    async fn survey(&self, survey_id: &str) -> Result<Option<SurveyJob>>;
    async fn surveys_in_place(
        &self,
        guild_id: &str,
        conversation: &str,
        status: SurveyStatus,
    ) -> Result<Vec<SurveyJob>>;
    /// Scheduled surveys of `shards`' guilds due at `now` (`domain::shards`).
    async fn due_surveys(&self, now: Millis, limit: i64, shards: &Shards)
        -> Result<Vec<SurveyJob>>;
    /// Surveys of `shards`' guilds sent at or before `sent_before`: the ones to close.
    async fn surveys_to_close(
        &self,
        sent_before: Millis,
        limit: i64,
        shards: &Shards,
    ) -> Result<Vec<SurveyJob>>;

    // --- Service-level timers (their changes are written by `CommitStore::commit`). ---

    /// Pending timers of `shards`' guilds due at `now`, oldest first.
    async fn due_sla_timers(
        &self,
        now: Millis,
        limit: i64,
        shards: &Shards,
    ) -> Result<Vec<SlaTimerRow>>;
    /// A place's timers, pending and done.
    async fn sla_timers_in_place(
        &self,
        guild_id: &str,
        conversation: &str,
    ) -> Result<Vec<SlaTimerRow>>;

    // --- Channel cursors: how far the catch-up has read each channel. ---

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
    /// Channels of `shards`' guilds (DM channels: shard 0) with a message handled since `since`.
    async fn recent_cursors(&self, since: Millis, shards: &Shards) -> Result<Vec<ChannelCursor>>;

    // --- Transcripts (written by `CommitStore::commit`). ---

    /// The stored transcript of a place (guilds with transcripts on), oldest first.
    async fn transcript(&self, guild_id: &str, conversation: &str) -> Result<Vec<TranscriptLine>>;
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

/// How far a channel was read: the last message handled in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCursor {
    pub channel_id: String,
    /// The channel's guild; none for a DM channel.
    pub guild_id: Option<String>,
    pub message_id: i64,
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

/// A service-level timer of a place (`domain::sla_timers`): a warning, a breach line or an
/// auto-close, due at `due_at` unless something comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTimerRow {
    pub guild_id: String,
    pub conversation: String,
    /// `warning:first_response`, `breach:resolution`, `auto_close`...
    pub kind: String,
    /// What it is about (see `domain::sla_timers::SlaTimer::subject`).
    pub subject: String,
    pub due_at: Millis,
    /// Performed, or found no longer due: never planned nor performed again.
    pub done: bool,
}
