//! One decision's writes (`CommitStore`): its events, survey changes, outbox changes,
//! transcript lines and alert day, in one transaction, or in one savepoint of a group's.

use super::rollups::mark_places;
use super::{Db, Tx};
use crate::store::backend::{Dialect, SqlStore};
use crate::store::rows::{columns, EVENT_COLUMNS, SURVEY_COLUMNS};
use crate::store::{
    Commit, CommitOutcome, CommitStore, OutboxItem, OutboxMethod, OutboxOp, Result, SlaTimerRow,
    SurveyJob, SurveyOp, SurveyStatus, TimerOp, TranscriptLine,
};
use sqlx::{AssertSqlSafe, QueryBuilder};
use std::collections::BTreeSet;

#[async_trait::async_trait]
impl CommitStore for SqlStore<Db> {
    async fn commit(&self, c: &Commit) -> Result<CommitOutcome> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let outcome = apply_commit(&mut tx, c).await?;
        if outcome.committed() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(outcome)
    }

    async fn commit_group(&self, commits: &[Commit]) -> Result<Vec<CommitOutcome>> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let mut outcomes = Vec::with_capacity(commits.len());
        for c in commits {
            // One savepoint each: a commit skipped or in conflict leaves the others.
            sqlx::query("SAVEPOINT one_commit")
                .execute(&mut *tx)
                .await?;
            let outcome = apply_commit(&mut tx, c).await?;
            if !outcome.committed() {
                sqlx::query("ROLLBACK TO SAVEPOINT one_commit")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("RELEASE SAVEPOINT one_commit")
                .execute(&mut *tx)
                .await?;
            outcomes.push(outcome);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// Writes one commit in `tx`; an outcome other than `Committed` means the caller must undo
/// what this wrote (roll back the transaction or the savepoint).
async fn apply_commit(tx: &mut Tx, c: &Commit) -> Result<CommitOutcome> {
    if !write_events(tx, c).await? {
        return Ok(CommitOutcome::Skipped);
    }
    if let Some((guild_id, day)) = &c.alert_day {
        if !claim_alert_day(tx, guild_id, day).await? {
            return Ok(CommitOutcome::Skipped);
        }
    }
    for op in &c.surveys {
        let outcome = apply_survey_op(tx, op).await?;
        if !outcome.committed() {
            return Ok(outcome);
        }
    }
    for op in &c.timers {
        if !apply_timer_op(tx, op).await? {
            return Ok(CommitOutcome::Skipped);
        }
    }
    for op in &c.outbox {
        apply_outbox_op(tx, op).await?;
    }
    for line in &c.transcript {
        write_transcript_line(tx, line).await?;
    }
    Ok(CommitOutcome::Committed)
}

/// Stores the commit's new events and marks their places dirty; false when the first event
/// was already stored and the commit requires it new.
async fn write_events(tx: &mut Tx, c: &Commit) -> Result<bool> {
    let mut marked: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, e) in c.events.iter().enumerate() {
        let k = columns(e);
        let done = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO NOTHING"
        )))
        .bind(&e.id)
        .bind(&e.guild_id)
        .bind(&e.place)
        .bind(k.kind)
        .bind(&e.author_id)
        .bind(e.at)
        .bind(k.survey_id)
        .bind(k.rating)
        .bind(k.answer_message_id)
        .bind(k.body)
        .execute(&mut **tx)
        .await?;
        if i == 0 && c.require_new && done.rows_affected() == 0 {
            return Ok(false);
        }
        if done.rows_affected() > 0 {
            marked.insert((e.guild_id.as_str(), e.place.as_str()));
        }
    }
    mark_places(tx, &marked).await?;
    Ok(true)
}

/// Claims the guild's load alert of `day`; false when it was already claimed.
async fn claim_alert_day(tx: &mut Tx, guild_id: &str, day: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE guild_discord SET last_alert_day = $2 WHERE guild_id = $1 \
         AND (last_alert_day IS NULL OR last_alert_day <> $2)",
    )
    .bind(guild_id)
    .bind(day)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Applies one survey change: `Committed` when it holds, otherwise what the commit becomes.
async fn apply_survey_op(tx: &mut Tx, op: &SurveyOp) -> Result<CommitOutcome> {
    // The outcome when the survey was not where the change expects it.
    let (changed, otherwise) = match op {
        SurveyOp::Schedule(job) => {
            schedule_survey(tx, job).await?;
            return Ok(CommitOutcome::Committed);
        }
        SurveyOp::Postpone { survey_id, due_at } => {
            sqlx::query(
                "UPDATE surveys SET due_at_ms = $2 WHERE survey_id = $1 AND status = 'scheduled' AND due_at_ms < $2",
            )
            .bind(survey_id)
            .bind(due_at)
            .execute(&mut **tx)
            .await?;
            return Ok(CommitOutcome::Committed);
        }
        SurveyOp::Status {
            survey_id,
            from,
            status,
        } => {
            let changed = set_survey_status(tx, survey_id, from, *status).await?;
            // With no status to come from, any outcome holds.
            (changed || from.is_empty(), CommitOutcome::Conflict)
        }
        SurveyOp::Rating { survey_id, rating } => {
            let done = sqlx::query(
                "UPDATE surveys SET rating = $2 WHERE survey_id = $1 AND status = 'sent'",
            )
            .bind(survey_id)
            .bind(rating)
            .execute(&mut **tx)
            .await?;
            (done.rows_affected() > 0, CommitOutcome::Conflict)
        }
        SurveyOp::StartSending { survey_id } => {
            let done = sqlx::query(
                "UPDATE surveys SET status = 'sending' WHERE survey_id = $1 AND status = 'scheduled'",
            )
            .bind(survey_id)
            .execute(&mut **tx)
            .await?;
            (done.rows_affected() == 1, CommitOutcome::Skipped)
        }
        SurveyOp::Sent {
            survey_id,
            message_id,
            sent_at,
        } => {
            let done = sqlx::query(
                "UPDATE surveys SET status = 'sent', message_id = $2, sent_at_ms = $3 \
                 WHERE survey_id = $1 AND status = 'sending'",
            )
            .bind(survey_id)
            .bind(message_id)
            .bind(sent_at)
            .execute(&mut **tx)
            .await?;
            (done.rows_affected() > 0, CommitOutcome::Conflict)
        }
    };
    Ok(if changed {
        CommitOutcome::Committed
    } else {
        otherwise
    })
}

/// Stores a new survey; one already stored under the same id is left as it is.
async fn schedule_survey(tx: &mut Tx, j: &SurveyJob) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO surveys ({SURVEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (survey_id) DO NOTHING"
    )))
    .bind(&j.survey_id)
    .bind(&j.guild_id)
    .bind(&j.conversation)
    .bind(&j.customer_id)
    .bind(&j.agent_id)
    .bind(&j.answer_message_id)
    .bind(&j.channel_id)
    .bind(j.reply_to.as_deref())
    .bind(j.due_at)
    .bind(j.status.name())
    .bind(j.message_id.as_deref())
    .bind(j.sent_at)
    .bind(j.rating)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves a survey from one of `from` (any status if empty) to `status`; whether it moved.
async fn set_survey_status(
    tx: &mut Tx,
    survey_id: &str,
    from: &[SurveyStatus],
    status: SurveyStatus,
) -> Result<bool> {
    let mut qb: QueryBuilder<Db> = QueryBuilder::new("UPDATE surveys SET status = ");
    qb.push_bind(status.name())
        .push(" WHERE survey_id = ")
        .push_bind(survey_id.to_string());
    if status == SurveyStatus::Withdrawn {
        // Only an unrated survey is withdrawn (docs/kpi.md).
        qb.push(" AND rating IS NULL");
    }
    if !from.is_empty() {
        qb.push(" AND status IN (");
        let mut list = qb.separated(", ");
        for f in from {
            list.push_bind(f.name());
        }
        qb.push(")");
    }
    let done = qb.build().execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}

async fn apply_outbox_op(tx: &mut Tx, op: &OutboxOp) -> Result<()> {
    match op {
        OutboxOp::Enqueue(item) => enqueue(tx, item).await?,
        OutboxOp::Sent { id, message_id } => {
            // The body held relayed content: it goes once delivered.
            sqlx::query(
                "UPDATE outbox SET status = 'sent', sent_message_id = $2, body = '', \
                 attempts = attempts + 1, lease_until_ms = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(message_id)
            .execute(&mut **tx)
            .await?;
        }
        OutboxOp::Failed { id, error } => {
            sqlx::query(
                "UPDATE outbox SET status = 'failed', body = '', attempts = attempts + 1, \
                 last_error = $2, lease_until_ms = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(error)
            .execute(&mut **tx)
            .await?;
        }
        OutboxOp::CancelSurvey { survey_id } => {
            sqlx::query(
                "UPDATE outbox SET status = 'cancelled', body = '' WHERE survey_id = $1 AND status = 'pending'",
            )
            .bind(survey_id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Plans a place's timers or marks one done; false when the timer to mark is no longer pending.
async fn apply_timer_op(tx: &mut Tx, op: &TimerOp) -> Result<bool> {
    match op {
        TimerOp::Plan {
            guild_id,
            conversation,
            timers,
        } => {
            sqlx::query(
                "DELETE FROM sla_timers WHERE guild_id = $1 AND conversation = $2 AND status = 'pending'",
            )
            .bind(guild_id)
            .bind(conversation)
            .execute(&mut **tx)
            .await?;
            for t in timers {
                insert_timer(tx, t).await?;
            }
            Ok(true)
        }
        TimerOp::Done(t) => {
            let done = sqlx::query(
                "UPDATE sla_timers SET status = 'done' WHERE guild_id = $1 AND conversation = $2 \
                 AND kind = $3 AND subject = $4 AND status = 'pending'",
            )
            .bind(&t.guild_id)
            .bind(&t.conversation)
            .bind(&t.kind)
            .bind(&t.subject)
            .execute(&mut **tx)
            .await?;
            Ok(done.rows_affected() > 0)
        }
    }
}

async fn insert_timer(tx: &mut Tx, t: &SlaTimerRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO sla_timers (guild_id, conversation, kind, subject, due_at_ms, status) \
         VALUES ($1, $2, $3, $4, $5, 'pending') \
         ON CONFLICT (guild_id, conversation, kind, subject) DO NOTHING",
    )
    .bind(&t.guild_id)
    .bind(&t.conversation)
    .bind(&t.kind)
    .bind(&t.subject)
    .bind(t.due_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues an item; one already queued under the same key is left as it is.
async fn enqueue(tx: &mut Tx, item: &OutboxItem) -> Result<()> {
    let (method, target) = match &item.method {
        OutboxMethod::Post => ("post", None),
        OutboxMethod::Patch(m) => ("patch", Some(m.as_str())),
        OutboxMethod::Archive => ("archive", None),
    };
    sqlx::query(
        "INSERT INTO outbox (dedupe_key, channel_id, body, status, attempts, next_at_ms, created_at_ms, \
         method, target_message_id, after_key, survey_id, notify_channel_id, guild_id, ticket_customer_id, conversation) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&item.dedupe_key)
    .bind(&item.channel_id)
    .bind(&item.body)
    .bind(item.attempts)
    .bind(item.next_at)
    .bind(item.created_at)
    .bind(method)
    .bind(target)
    .bind(item.after_key.as_deref())
    .bind(item.survey_id.as_deref())
    .bind(item.notify_channel_id.as_deref())
    .bind(item.guild_id.as_deref())
    .bind(item.ticket_customer_id.as_deref())
    .bind(item.conversation.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_transcript_line(tx: &mut Tx, line: &TranscriptLine) -> Result<()> {
    sqlx::query(
        "INSERT INTO transcripts (message_id, guild_id, conversation, author_id, at_ms, content) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&line.message_id)
    .bind(&line.guild_id)
    .bind(&line.conversation)
    .bind(&line.author_id)
    .bind(line.at)
    .bind(&line.content)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
