//! Watched support channels and forums: no relay, the bot only measures and asks. In a forum,
//! each post is a conversation whose author is the customer. In a text channel, each customer's
//! messages form their conversation, answered by an agent's reply to them, a mention of them, or
//! any agent message in a thread they started.

use super::handler::{agent_kind, is_agent};
use super::{event, Bot};
use crate::desk::SurveyTarget;
use crate::domain::{Event, EventKind};
use crate::store::{DiscordSetup, WatchKind};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

pub struct ThreadInfo {
    pub parent_id: Option<String>,
    pub owner_id: Option<u64>,
}

fn is_thread(kind: serenity::ChannelType) -> bool {
    matches!(
        kind,
        serenity::ChannelType::PublicThread
            | serenity::ChannelType::PrivateThread
            | serenity::ChannelType::NewsThread
    )
}

/// The parent and owner of a thread, from the cache or, failing that, the REST API.
pub async fn thread_info(
    ctx: &serenity::Context,
    channel: serenity::ChannelId,
) -> Option<ThreadInfo> {
    let from = |c: &serenity::GuildChannel| {
        is_thread(c.kind).then(|| ThreadInfo {
            parent_id: c.parent_id.map(|p| p.to_string()),
            owner_id: c.owner_id.map(|o| o.get()),
        })
    };
    let cached = ctx.cache.guilds().into_iter().find_map(|g| {
        let guild = ctx.cache.guild(g)?;
        guild
            .threads
            .iter()
            .find(|t| t.id == channel)
            .and_then(from)
    });
    if cached.is_some() {
        return cached;
    }
    match channel.to_channel(&ctx.http).await {
        Ok(serenity::Channel::Guild(c)) => from(&c),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(channel = %channel, error = %e, "cannot look up channel");
            None
        }
    }
}

fn member_roles(msg: &serenity::Message) -> &[serenity::RoleId] {
    msg.member
        .as_ref()
        .map(|m| m.roles.as_slice())
        .unwrap_or(&[])
}

async fn ingest_and_survey(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    ev: Event,
    msg: &serenity::Message,
    channel_id: &str,
    reply_in_channel: bool,
    keep_text: bool,
) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let _conversation = super::relay::lock_conversation(bot, &ev.guild_id, &ev.place).await;
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
    let body = super::relay::relayed_body(msg);
    let kept = keep_text.then_some(body.as_str());
    super::relay::commit_live(bot, &ctx.http, &place, Some(target), Vec::new(), kept).await?;
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
    if !is_agent(setup, &super::handler::author_roles(ctx, msg)) {
        let conversation = format!("{channel}:{}", msg.author.id);
        let ev = event(
            msg.id.get(),
            guild,
            &conversation,
            msg.author.id.get(),
            EventKind::CustomerMessage,
        );
        return ingest_and_survey(ctx, bot, ev, msg, &channel, true, setup.transcripts).await;
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
    ingest_and_survey(ctx, bot, ev, msg, &channel, true, setup.transcripts).await
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
    let ev_kind = if is_agent(setup, &super::handler::author_roles(ctx, msg)) {
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
    ingest_and_survey(ctx, bot, ev, msg, &parent, false, setup.transcripts).await
}
