//! The gateway events reactif listens to, routed to the relay, the watched channels or the
//! survey buttons. Every failure is logged with the ids involved; none panics.

use super::{relay, survey, watch, Bot};
use crate::domain::EventKind;
use crate::store::WatchKind;
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use tracing::Instrument;

pub async fn dispatch(
    ctx: &serenity::Context,
    event: &serenity::FullEvent,
    bot: &Arc<Bot>,
) -> Result<(), super::Error> {
    match event {
        serenity::FullEvent::Message { new_message } => {
            let span = tracing::info_span!(
                "message",
                id = %new_message.id,
                channel = %new_message.channel_id,
                guild = ?new_message.guild_id.map(|g| g.get()),
            );
            if let Err(e) = on_message(ctx, bot, new_message, false)
                .instrument(span)
                .await
            {
                tracing::error!(error = %format!("{e:#}"), "message not handled");
            }
        }
        serenity::FullEvent::Ready { .. } | serenity::FullEvent::Resume { .. } => {
            // What was said while we were away is in the channels' history.
            tokio::spawn(super::catchup::run(ctx.clone(), Arc::clone(bot)));
        }
        serenity::FullEvent::InteractionCreate { interaction } => {
            let result = match interaction {
                serenity::Interaction::Component(c) => survey::on_component(ctx, bot, c).await,
                serenity::Interaction::Modal(m) => survey::on_modal(ctx, bot, m).await,
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::error!(interaction = %interaction.id(), error = %format!("{e:#}"), "interaction not handled");
            }
        }
        _ => {}
    }
    Ok(())
}

/// Only what people write counts: bots (ourselves included), webhooks and system messages
/// (joins, pins, thread notices) are never customer or agent messages.
pub fn is_human_message(msg: &serenity::Message) -> bool {
    !msg.author.bot
        && !msg.author.system
        && msg.webhook_id.is_none()
        && matches!(
            msg.kind,
            serenity::MessageType::Regular | serenity::MessageType::InlineReply
        )
}

/// Handles one message, live (`delayed` false) or fetched from history after downtime.
pub async fn on_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    delayed: bool,
) -> anyhow::Result<()> {
    tracing::debug!(author = %msg.author.id, delayed, "message received");
    if !is_human_message(msg) {
        return Ok(());
    }
    let _turn = match msg.guild_id {
        None => bot.lock_place(format!("dm:{}", msg.author.id)).await,
        Some(_) => bot.lock_place(format!("channel:{}", msg.channel_id)).await,
    };
    route_message(ctx, bot, msg, delayed).await?;
    let id = i64::try_from(msg.id.get()).unwrap_or(i64::MAX);
    let guild = msg.guild_id.map(|g| g.to_string());
    bot.desk
        .store()
        .advance_cursor(&msg.channel_id.to_string(), guild.as_deref(), id, bot.now())
        .await?;
    Ok(())
}

async fn route_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    delayed: bool,
) -> anyhow::Result<()> {
    let Some(guild_id) = msg.guild_id else {
        return relay::customer_dm(ctx, bot, msg, None, delayed).await;
    };
    let guild = guild_id.to_string();
    if let Some(ticket) = bot
        .desk
        .store()
        .ticket_by_thread(&msg.channel_id.to_string())
        .await?
    {
        return relay::staff_message(ctx, bot, msg, ticket, delayed).await;
    }
    let setup = bot.setup(&guild).await?;
    if setup.watched.is_empty() {
        return Ok(());
    }
    let channel = msg.channel_id.get().to_string();
    if let Some(w) = setup.watched.iter().find(|w| w.channel_id == channel) {
        if w.kind == WatchKind::Text {
            return watch::channel_message(ctx, bot, msg, &setup, &guild).await;
        }
        return Ok(());
    }
    // A thread (forum post, or a thread in a watched text channel)?
    let Some(thread) = watch::thread_info(ctx, msg.channel_id).await else {
        tracing::debug!("not a thread of a watched channel");
        return Ok(());
    };
    tracing::debug!(parent = ?thread.parent_id, "message in a thread");
    match setup
        .watched
        .iter()
        .find(|w| Some(&w.channel_id) == thread.parent_id.as_ref())
    {
        Some(w) => watch::thread_message(ctx, bot, msg, &setup, &guild, &thread, w.kind).await,
        None => Ok(()),
    }
}

/// The author's roles: from the message (gateway messages carry them) or, for messages fetched
/// from history, from the cache.
pub fn author_roles(ctx: &serenity::Context, msg: &serenity::Message) -> Vec<serenity::RoleId> {
    if let Some(m) = &msg.member {
        return m.roles.clone();
    }
    msg.guild_id
        .and_then(|g| ctx.cache.guild(g))
        .and_then(|g| g.members.get(&msg.author.id).map(|m| m.roles.clone()))
        .unwrap_or_default()
}

/// Whether a member (by their roles) is an agent of the guild.
pub fn is_agent(setup: &crate::store::DiscordSetup, roles: &[serenity::RoleId]) -> bool {
    roles
        .iter()
        .any(|r| setup.agent_roles.iter().any(|a| a == &r.get().to_string()))
}

/// An agent's message is a note (kept internal, never counted) when it starts with the prefix.
pub fn agent_kind(content: &str, note_prefix: &str) -> EventKind {
    if !note_prefix.is_empty() && content.trim_start().starts_with(note_prefix) {
        EventKind::Note
    } else {
        EventKind::AgentMessage
    }
}
