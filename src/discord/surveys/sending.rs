//! Sending surveys when they are due, closing them when their rating window has passed, and
//! recording each delivery with its `survey_sent` event.

use crate::discord::bot::Bot;
use crate::discord::outbox::{Delivered, FollowUp};
use crate::discord::render::survey::{close_edit, survey_post, withdraw_edit};
use crate::domain::{Event, EventKind, DAY};
use crate::store::{Commit, CommitOutcome, OutboxOp, SurveyJob, SurveyOp, SurveyStatus};

/// Queues the surveys whose agent has been silent long enough, and sends them.
pub async fn send_due(bot: &Bot) -> anyhow::Result<()> {
    let store = bot.desk.store();
    for job in store.due_surveys(bot.now(), 50, &bot.shards).await? {
        if answer_on_its_way(bot, &job).await? {
            continue;
        }
        let t = bot.texts(&job.guild_id).await;
        let item = survey_post(t, &job, bot.now())?;
        let commit = Commit {
            surveys: vec![SurveyOp::StartSending {
                survey_id: job.survey_id.clone(),
            }],
            outbox: vec![OutboxOp::enqueue(item)],
            ..Commit::default()
        };
        let sent = bot.outbox.commit_and_send(commit).await?;
        for f in sent.follow_ups {
            match f {
                // A failure is logged, and the delivery recorded on a later tick.
                FollowUp::SurveyDelivered(d) => {
                    let _ = delivered(bot, d).await;
                }
                other => bot.outbox.leave(vec![other]),
            }
        }
    }
    Ok(())
}

/// The relay of a DM answer has this many pieces at most (Discord's 4,000 characters and ten
/// attachment links, cut below 2,000 characters a piece).
const ANSWER_PIECES: usize = 8;

/// Whether the answer the survey rates is still on its way to the customer (its relay waits
/// for a retry, or is being sent): the survey then waits for it, so that the customer reads
/// the answer before the question about it. (In a watched channel the answer is the agent's
/// own message: nothing is on its way.)
async fn answer_on_its_way(bot: &Bot, job: &SurveyJob) -> anyhow::Result<bool> {
    let keys: Vec<String> = (0..ANSWER_PIECES)
        .map(|j| format!("relay:{}:{j}", job.answer_message_id))
        .collect();
    // Whoever sends the answer: the question waits for it all the same.
    let anyone = crate::domain::shards::Shards::ALL;
    Ok(!bot
        .desk
        .store()
        .outbox_by_keys(&keys, &anyone)
        .await?
        .is_empty())
}

/// Disables the buttons of surveys whose rating window has passed.
pub async fn close_expired(bot: &Bot) -> anyhow::Result<()> {
    let store = bot.desk.store();
    for job in store
        .surveys_to_close(bot.now() - DAY, 50, &bot.shards)
        .await?
    {
        let t = bot.texts(&job.guild_id).await;
        let mut commit = Commit {
            surveys: vec![SurveyOp::Status {
                survey_id: job.survey_id.clone(),
                from: vec![SurveyStatus::Sent],
                status: SurveyStatus::Closed,
            }],
            ..Commit::default()
        };
        if let Some(m) = job.message_id.as_deref().filter(|m| !m.is_empty()) {
            commit
                .outbox
                .push(OutboxOp::enqueue(close_edit(t, &job, m, bot.now())?));
        }
        let sent = bot.outbox.commit_and_send(commit).await?;
        bot.outbox.leave(sent.follow_ups);
    }
    Ok(())
}

/// The follow-up of a survey that went out: records it. When the database cannot, the
/// delivery is left to the timers (and the survey never sent twice meanwhile); the error is
/// logged and returned.
pub async fn delivered(bot: &Bot, d: Delivered) -> anyhow::Result<()> {
    match record_delivery(bot, &d).await {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(key = %d.item.dedupe_key, error = %format!("{e:#}"), "delivery not recorded; will retry");
            bot.outbox.leave(vec![FollowUp::SurveyDelivered(d)]);
            Err(e)
        }
    }
}

/// Records that a survey went out: it becomes sent with its `survey_sent` event, unless a
/// newer answer cancelled it meanwhile (its buttons are then taken away) or it was already
/// recorded (a second sender got the same message back through the nonce).
async fn record_delivery(bot: &Bot, d: &Delivered) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let only_sent = || Commit {
        outbox: vec![d.sent_op()],
        ..Commit::default()
    };
    let job = match &d.item.survey_id {
        Some(survey_id) => store.survey(survey_id).await?,
        None => None,
    };
    let Some(job) = job else {
        bot.desk.commit(&only_sent()).await?;
        return Ok(());
    };
    if bot.desk.commit(&sent_commit(bot, &job, d)).await? != CommitOutcome::Conflict {
        tracing::info!(survey = %job.survey_id, guild = %job.guild_id, "survey sent");
        return Ok(());
    }
    let now_job = store.survey(&job.survey_id).await?;
    if now_job.as_ref().is_some_and(|j| {
        j.status != SurveyStatus::Sending && j.message_id.as_deref() == Some(d.message_id.as_str())
    }) {
        // Already recorded by another sender.
        bot.desk.commit(&only_sent()).await?;
        return Ok(());
    }
    // A newer answer cancelled the survey while it was on its way: take its buttons away.
    let t = bot.texts(&job.guild_id).await;
    let withdraw = withdraw_edit(t, &job, &d.item.channel_id, &d.message_id, bot.now());
    bot.desk
        .commit(&Commit {
            outbox: vec![d.sent_op(), OutboxOp::enqueue(withdraw)],
            ..Commit::default()
        })
        .await?;
    Ok(())
}

/// The survey becomes sent, at the time of its message's snowflake, with its `survey_sent`
/// event and the delivery, in one transaction.
fn sent_commit(bot: &Bot, job: &SurveyJob, d: &Delivered) -> Commit {
    let message_id = d.message_id.as_str();
    let sent_at = message_id
        .parse::<u64>()
        .map(crate::domain::snowflake_time)
        .unwrap_or_else(|_| bot.now());
    let event = Event {
        id: if message_id.is_empty() {
            format!("survey-{}", job.survey_id)
        } else {
            message_id.to_string()
        },
        guild_id: job.guild_id.clone(),
        place: job.conversation.clone(),
        author_id: bot.bot_user_id.to_string(),
        at: sent_at,
        kind: EventKind::SurveySent {
            survey_id: job.survey_id.clone(),
            answer_message_id: job.answer_message_id.clone(),
        },
    };
    Commit {
        events: vec![event],
        surveys: vec![SurveyOp::Sent {
            survey_id: job.survey_id.clone(),
            message_id: message_id.to_string(),
            sent_at,
        }],
        outbox: vec![d.sent_op()],
        ..Commit::default()
    }
}
