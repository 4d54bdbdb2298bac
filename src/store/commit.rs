//! Everything one decision of the bot writes (the event, the survey changes, the messages to
//! send, the transcript lines, the alert day), committed together or not at all.

use super::{OutboxItem, Result, SlaTimerRow, SurveyJob, SurveyStatus, TranscriptLine};
use crate::domain::{Event, Millis};
use async_trait::async_trait;

#[async_trait]
pub trait CommitStore: Send + Sync {
    /// Applies everything one decision writes in one transaction: the events, the survey
    /// changes, the outbox changes, the transcript lines and the alert day; or nothing (see
    /// `CommitOutcome`).
    async fn commit(&self, commit: &Commit) -> Result<CommitOutcome>;

    /// Group commit: applies each commit as `commit` would, all in one transaction (each in a
    /// savepoint, so one skipped or in conflict leaves the others); one outcome per commit, in
    /// order. On error nothing is written.
    async fn commit_group(&self, commits: &[Commit]) -> Result<Vec<CommitOutcome>>;
}

/// What `CommitStore::commit` did.
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

/// Everything one decision writes, committed together (see `CommitStore::commit`).
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
    /// Service-level timers planned or performed.
    pub timers: Vec<TimerOp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerOp {
    /// Replaces the place's pending timers by `timers` (each with the place's guild and
    /// conversation). A timer already done stays done: planning it again changes nothing.
    Plan {
        guild_id: String,
        conversation: String,
        timers: Vec<SlaTimerRow>,
    },
    /// Marks a pending timer done; one no longer pending (done by another tick, or dropped by
    /// a newer plan) skips the whole commit, so what it would send is decided once.
    Done(SlaTimerRow),
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
