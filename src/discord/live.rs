//! The live path shared by the relay and the watched channels: a Discord message becomes an
//! `Event` timed by its snowflake, its place is locked and replayed, and the event is committed
//! with what the survey rules ask for and the messages it causes, in one transaction.

use super::bot::Bot;
use super::outbox::FollowUp;
use super::render::survey::withdraw_edit;
use crate::desk::{plan_place, LivePlace, SurveyPlan, SurveyTarget};
use crate::domain::{snowflake_time, Event, EventKind, Millis};
use crate::store::{Commit, CommitOutcome, OutboxItem, OutboxOp, TranscriptLine};
use poise::serenity_prelude as serenity;

/// The time of a Discord object, from its snowflake: Discord's clock, not ours.
pub fn discord_time(id: u64) -> Millis {
    snowflake_time(id)
}

pub fn event(id: u64, guild: &str, conversation: &str, author: u64, kind: EventKind) -> Event {
    Event {
        id: id.to_string(),
        guild_id: guild.to_string(),
        place: conversation.to_string(),
        author_id: author.to_string(),
        at: discord_time(id),
        kind,
    }
}

/// An agent's message is a note (kept internal, never counted) when it starts with the prefix.
pub fn agent_kind(content: &str, note_prefix: &str) -> EventKind {
    if !note_prefix.is_empty() && content.trim_start().starts_with(note_prefix) {
        EventKind::Note
    } else {
        EventKind::AgentMessage
    }
}

/// The message body as relayed (and kept in transcripts): text, then attachments as links,
/// stickers and embeds named, so that a message with no text still arrives as something.
pub fn relayed_body(msg: &serenity::Message) -> String {
    let mut body = msg.content.clone();
    for a in &msg.attachments {
        body.push_str(&format!("\n📎 {} <{}>", a.filename, a.url));
    }
    for s in &msg.sticker_items {
        body.push_str(&format!("\n[sticker: {}]", s.name));
    }
    if !msg.embeds.is_empty() && msg.content.trim().is_empty() {
        body.push_str(&format!("\n[{} embed(s)]", msg.embeds.len()));
    }
    if body.trim().is_empty() {
        body = "*(empty message)*".into();
    }
    body
}

/// Serialises the handling of one conversation: its messages may come through different
/// channels (a DM and its staff thread, a support channel and a thread in it).
pub async fn lock_conversation(
    bot: &Bot,
    guild: &str,
    conversation: &str,
) -> tokio::sync::OwnedMutexGuard<()> {
    bot.places
        .lock(conversation_lock(guild, conversation))
        .await
}

/// The name of a conversation's lock in `Bot::places`.
pub fn conversation_lock(guild: &str, conversation: &str) -> String {
    format!("place:{guild}:{conversation}")
}

/// What a live event commits: the event, what the survey rules ask for (a withdrawn survey
/// loses its buttons), the messages it causes, and `transcript` (its text, given only when
/// the guild keeps transcripts).
fn live_commit(
    bot: &Bot,
    place: &LivePlace,
    plan: SurveyPlan,
    items: Vec<OutboxItem>,
    transcript: Option<&str>,
) -> Commit {
    let ev = &place.event;
    let mut commit = Commit {
        events: vec![ev.clone()],
        require_new: true,
        surveys: plan.surveys,
        outbox: plan.outbox,
        ..Commit::default()
    };
    // The service-level timers follow every event of a guild that sets a target or auto-close:
    // an answer cancels a warning, an agent's message plans the auto-close.
    let sla = &place.rules.sla;
    if sla.first_response.is_some()
        || sla.next_response.is_some()
        || sla.resolution.is_some()
        || sla.auto_close.is_some()
    {
        commit.timers.push(plan_place(place, bot.now()));
    }
    if !plan.withdrawn.is_empty() {
        let t = crate::i18n::texts(place.rules.locale);
        for job in &plan.withdrawn {
            if let Some(m) = job.message_id.as_deref().filter(|m| !m.is_empty()) {
                commit.outbox.push(OutboxOp::enqueue(withdraw_edit(
                    t,
                    job,
                    &job.channel_id,
                    m,
                    bot.now(),
                )));
            }
        }
    }
    commit.outbox.extend(items.into_iter().map(|mut item| {
        if item.guild_id.is_none() {
            item.guild_id = Some(ev.guild_id.clone());
        }
        item.conversation = Some(ev.place.clone());
        OutboxOp::enqueue(item)
    }));
    if let Some(content) = transcript {
        commit.transcript.push(TranscriptLine {
            message_id: ev.id.clone(),
            guild_id: ev.guild_id.clone(),
            conversation: ev.place.clone(),
            author_id: ev.author_id.clone(),
            at: ev.at,
            content: content.to_string(),
        });
    }
    commit
}

/// Plans the surveys (with `target`, if the event can cause one), commits the live event with
/// everything it causes, and sends. When another handler moved a survey meanwhile, decides
/// again from what is stored now. Returns the follow-ups of what was delivered, for the caller
/// to perform (nothing when the event was already stored).
pub async fn commit_live(
    bot: &Bot,
    place: &LivePlace,
    target: Option<SurveyTarget>,
    items: Vec<OutboxItem>,
    transcript: Option<&str>,
) -> anyhow::Result<Vec<FollowUp>> {
    for _ in 0..5 {
        let plan = match &target {
            Some(t) => bot.desk.plan_surveys(place, bot.now(), t.clone()).await?,
            None => SurveyPlan::default(),
        };
        let commit = live_commit(bot, place, plan, items.clone(), transcript);
        let sent = bot.outbox.commit_and_send(commit).await?;
        match sent.outcome {
            CommitOutcome::Committed | CommitOutcome::Skipped => return Ok(sent.follow_ups),
            CommitOutcome::Conflict => {
                tracing::debug!(event = %place.event.id, "a survey moved meanwhile; planning again")
            }
        }
    }
    anyhow::bail!(
        "event {}: surveys kept changing under the commit; it will be read again by the catch-up",
        place.event.id
    )
}
