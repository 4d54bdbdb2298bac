//! Watched support channels and forums: no relay, the bot only measures and asks. In a forum,
//! each post is a conversation whose author is the customer. In a text channel, each customer's
//! messages form their conversation, answered by an agent's reply to them, a mention of them, or
//! any agent message in a thread they started.

use super::access::{author_roles, is_agent};
use super::bot::Bot;
use super::channels::ThreadInfo;
use super::live::{agent_kind, commit_live, event, lock_conversation, relayed_body};
use crate::desk::SurveyTarget;
use crate::domain::{Event, EventKind};
use crate::store::{DiscordSetup, WatchKind};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

fn member_roles(msg: &serenity::Message) -> &[serenity::RoleId] {
    msg.member
        .as_ref()
        .map(|m| m.roles.as_slice())
        .unwrap_or(&[])
}

async fn ingest_and_survey(
    bot: &Bot,
    ev: Event,
    msg: &serenity::Message,
    channel_id: &str,
    reply_in_channel: bool,
    keep_text: bool,
) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let _conversation = lock_conversation(bot, &ev.guild_id, &ev.place).await;
    let place = bot.desk.replay_live(&ev).await?;
    store
        .set_conversation_channel(&ev.guild_id, &ev.place, channel_id)
        .await?;
    if !place.new {
        return Ok(());
    }
    let target = SurveyTarget {
        channel_id: msg.channel_id.to_string(),
        reply_to: reply_in_channel,
    };
    let body = relayed_body(msg);
    let kept = keep_text.then_some(body.as_str());
    // Nothing here queues a message that asks for a follow-up; should one come, the timers
    // perform it.
    let follow_ups = commit_live(bot, &place, Some(target), Vec::new(), kept).await?;
    bot.outbox.leave(follow_ups);
    Ok(())
}

/// A message in a watched text channel.
pub async fn channel_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    setup: &DiscordSetup,
    guild: &str,
) -> anyhow::Result<()> {
    let channel = msg.channel_id.to_string();
    if !is_agent(setup, &author_roles(ctx, msg)) {
        let conversation = format!("{channel}:{}", msg.author.id);
        let ev = event(
            msg.id.get(),
            guild,
            &conversation,
            msg.author.id.get(),
            EventKind::CustomerMessage,
        );
        return ingest_and_survey(bot, ev, msg, &channel, true, setup.transcripts).await;
    }
    // Whom is the agent answering? The author of the message replied to, else the first
    // person mentioned who is neither a bot, nor the agent, nor (as far as we can tell) an agent.
    let replied = msg
        .referenced_message
        .as_ref()
        .filter(|r| !r.author.bot && r.author.id != msg.author.id)
        .filter(|r| !is_agent(setup, member_roles(r)))
        .map(|r| r.author.id);
    let mentioned = msg
        .mentions
        .iter()
        .filter(|u| !u.bot && u.id != msg.author.id)
        .find(|u| !u.member.as_ref().is_some_and(|m| is_agent(setup, &m.roles)))
        .map(|u| u.id);
    let Some(customer) = replied.or(mentioned) else {
        tracing::debug!("agent message in a watched channel that answers nobody in particular");
        return Ok(());
    };
    let rules = bot.rules(guild).await?;
    let conversation = format!("{channel}:{customer}");
    let kind = agent_kind(&msg.content, &rules.note_prefix);
    let ev = event(
        msg.id.get(),
        guild,
        &conversation,
        msg.author.id.get(),
        kind,
    );
    ingest_and_survey(bot, ev, msg, &channel, true, setup.transcripts).await
}

/// A message in a forum post or in a thread of a watched text channel.
pub async fn thread_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    setup: &DiscordSetup,
    guild: &str,
    thread: &ThreadInfo,
    kind: WatchKind,
) -> anyhow::Result<()> {
    let parent = thread.parent_id.clone().unwrap_or_default();
    let conversation = match kind {
        WatchKind::Forum => msg.channel_id.to_string(),
        WatchKind::Text => format!(
            "{parent}:{}",
            thread.owner_id.unwrap_or(msg.author.id.get())
        ),
    };
    let ev_kind = if is_agent(setup, &author_roles(ctx, msg)) {
        let rules = bot.rules(guild).await?;
        agent_kind(&msg.content, &rules.note_prefix)
    } else {
        EventKind::CustomerMessage
    };
    let ev = event(
        msg.id.get(),
        guild,
        &conversation,
        msg.author.id.get(),
        ev_kind,
    );
    ingest_and_survey(bot, ev, msg, &parent, false, setup.transcripts).await
}
