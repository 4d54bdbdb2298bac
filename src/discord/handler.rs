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
            // A burst (a busy channel, a catch-up) must not hold one large handler state per
            // waiting message: wait here, small, and build the handler once its turn comes.
            use std::sync::atomic::Ordering;
            // The bot's own relays come back through the gateway: they take no place in line.
            if !is_human_message(new_message) {
                return Ok(());
            }
            if bot.waiting.fetch_add(1, Ordering::SeqCst) >= super::WAITING_LIMIT {
                bot.waiting.fetch_sub(1, Ordering::SeqCst);
                let guild = new_message.guild_id.map(|g| g.to_string());
                bot.record_hole(
                    &new_message.channel_id.to_string(),
                    guild.as_deref(),
                    new_message.id.get(),
                );
                tracing::error!(message = %new_message.id, "too many messages waiting: this one is left in Discord's history for the catch-up");
                return Ok(());
            }
            let turn = Arc::clone(&bot.handlers).acquire_owned().await;
            bot.waiting.fetch_sub(1, Ordering::SeqCst);
            let Ok(_turn) = turn else {
                return Ok(());
            };
            if let Err(e) = Box::pin(on_message(ctx, bot, new_message, false))
                .instrument(span)
                .await
            {
                tracing::error!(error = %format!("{e:#}"), "message not handled");
            }
        }
        serenity::FullEvent::Ready { .. } | serenity::FullEvent::Resume { .. } => {
            *bot.context
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(ctx.clone());
            // What was said while we were away is in the channels' history.
            tokio::spawn(super::catchup::run(ctx.clone(), Arc::clone(bot)));
        }
        serenity::FullEvent::InteractionCreate { interaction } => {
            let Some(_work) = bot.start_work() else {
                return Ok(());
            };
            let result = match interaction {
                serenity::Interaction::Component(c) => survey::on_component(ctx, bot, c).await,
                serenity::Interaction::Modal(m) => survey::on_modal(ctx, bot, m).await,
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::error!(interaction = %interaction.id(), error = %format!("{e:#}"), "interaction not handled");
                // Tell the clicker rather than leave Discord's "interaction failed" (this fails
                // harmlessly if a response was already sent).
                let sorry = serenity::CreateInteractionResponse::Message(
                    serenity::CreateInteractionResponseMessage::new()
                        .content("Something went wrong on our side; please try again in a minute. / Un problème de notre côté : réessayez dans une minute.")
                        .ephemeral(true),
                );
                let _ = match interaction {
                    serenity::Interaction::Component(c) => {
                        c.create_response(&ctx.http, sorry).await
                    }
                    serenity::Interaction::Modal(m) => m.create_response(&ctx.http, sorry).await,
                    _ => Ok(()),
                };
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

/// True when `e` comes from a database that cannot be reached right now (down, restarting,
/// locked past the busy timeout), as opposed to a query that is wrong. Every database error
/// reaches this edge as a `StoreError`, which says itself whether it is transient.
pub fn database_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<crate::store::StoreError>()
            .is_some_and(crate::store::StoreError::is_transient)
    })
}

/// Handles one message, live (`delayed` false) or fetched from history after downtime. While
/// the database is unreachable the message is retried here with backoff, and the messages
/// behind it wait for a handler (at most `WAITING_LIMIT`; beyond, they are left in Discord's
/// history, their channel's cursor stays before them, and a catch-up reads them again).
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
    let Some(_work) = bot.start_work() else {
        tracing::info!("shutting down: message left for the next start's catch-up");
        let guild = msg.guild_id.map(|g| g.to_string());
        bot.remember_before(&msg.channel_id.to_string(), guild.as_deref(), msg.id.get())
            .await;
        return Ok(());
    };
    let _turn = match msg.guild_id {
        None => bot.lock_place(format!("dm:{}", msg.author.id)).await,
        Some(_) => bot.lock_place(format!("channel:{}", msg.channel_id)).await,
    };
    let channel = msg.channel_id.to_string();
    let guild = msg.guild_id.map(|g| g.to_string());
    if msg.guild_id.is_none() && !delayed {
        first_contact(ctx, bot, msg).await;
    }
    let mut waited = false;
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        let Err(e) = route_message(ctx, bot, msg, delayed).await else {
            break;
        };
        if !database_unreachable(&e) {
            // Discord failed us (a thread could not be opened, say): read it again later.
            bot.record_hole(&channel, guild.as_deref(), msg.id.get());
            return Err(e);
        }
        // A catch-up does not wait long: its hole brings it back once the database answers.
        if bot.stopping() || (delayed && wait >= std::time::Duration::from_secs(8)) {
            bot.record_hole(&channel, guild.as_deref(), msg.id.get());
            tracing::error!(error = %format!("{e:#}"), "database unreachable: the message stays in Discord's history for a later catch-up");
            return Err(e);
        }
        waited = true;
        tracing::warn!(error = %format!("{e:#}"), retry_in_ms = wait.as_millis() as u64, "database unreachable; the message waits");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(15));
    }
    if waited {
        tracing::info!("message stored after the database came back");
    }
    // Past a hole, the cursor must not move: a restart reads the channel from before it.
    if delayed || !bot.lock_holes().contains_key(&channel) {
        let id = i64::try_from(msg.id.get()).unwrap_or(i64::MAX);
        if let Err(e) = bot
            .desk
            .store()
            .advance_cursor(&channel, guild.as_deref(), id, bot.now())
            .await
        {
            // The message is stored; a stale cursor only means a re-read that changes nothing.
            tracing::warn!(error = %e, "cannot record the channel's progress");
        }
    }
    Ok(())
}

/// A DM channel the bot has never handled a message in: what the customer wrote there while
/// the bot was down (Discord lists no DM channels, so no catch-up could find it) is read now,
/// before the message that revealed the channel. Best effort: a failure is logged, and the
/// message itself is handled anyway.
async fn first_contact(ctx: &serenity::Context, bot: &Arc<Bot>, msg: &serenity::Message) {
    let channel = msg.channel_id.to_string();
    match bot.desk.store().cursor(&channel).await {
        Ok(None) => {}
        Ok(Some(_)) => return,
        Err(e) => {
            tracing::debug!(error = %e, "cannot read the DM channel's cursor");
            return;
        }
    }
    let earlier = match msg
        .channel_id
        .messages(
            &ctx.http,
            serenity::GetMessages::new().before(msg.id).limit(100),
        )
        .await
    {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the DM channel's history");
            return;
        }
    };
    let since = bot.now() - 7 * crate::domain::DAY;
    let mut earlier: Vec<&serenity::Message> = earlier
        .iter()
        .filter(|m| is_human_message(m) && super::discord_time(m.id.get()) >= since)
        .collect();
    earlier.sort_by_key(|m| m.id);
    for m in earlier {
        if let Err(e) = route_message(ctx, bot, m, true).await {
            tracing::warn!(message = %m.id, error = %format!("{e:#}"), "an earlier DM could not be handled");
        }
    }
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
