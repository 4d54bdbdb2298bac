//! Messages, live or read from history: taken in turn (backpressure), handled one place at a
//! time, held while the database is unreachable, routed to the relay or the watched channels,
//! and the channel's cursor moved on.

use crate::discord::access::is_human_message;
use crate::discord::bot::{database_unreachable, Bot};
use crate::discord::channels::thread_info;
use crate::discord::live::discord_time;
use crate::discord::state::NoTurn;
use crate::discord::{relay, watch};
use crate::store::WatchKind;
use poise::serenity_prelude as serenity;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// A message from the gateway. A burst (a busy channel, a catch-up) must not hold one large
/// handler state per waiting message: it waits here, small, and is handled once its turn comes.
pub async fn on_live_message(ctx: &serenity::Context, bot: &Arc<Bot>, msg: &serenity::Message) {
    let span = tracing::info_span!(
        "message",
        id = %msg.id,
        channel = %msg.channel_id,
        guild = ?msg.guild_id.map(|g| g.get()),
    );
    // The bot's own relays come back through the gateway: they take no place in line.
    if !is_human_message(msg) {
        return;
    }
    let _turn = match bot.intake.turn().await {
        Ok(turn) => turn,
        Err(NoTurn::Full) => {
            let guild = msg.guild_id.map(|g| g.to_string());
            bot.holes
                .record(&msg.channel_id.to_string(), guild.as_deref(), msg.id.get());
            tracing::error!(message = %msg.id, "too many messages waiting: this one is left in Discord's history for the catch-up");
            return;
        }
        Err(NoTurn::Closed) => return,
    };
    if let Err(e) = Box::pin(on_message(ctx, bot, msg, false))
        .instrument(span)
        .await
    {
        tracing::error!(error = %format!("{e:#}"), "message not handled");
    }
}

/// The path of a message read from history (the catch-up's `MessagePath`).
pub fn from_history<'a>(
    ctx: &'a serenity::Context,
    bot: &'a Arc<Bot>,
    msg: &'a serenity::Message,
) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>> {
    Box::pin(on_message(ctx, bot, msg, true))
}

/// Handles one message, live (`delayed` false) or fetched from history after downtime. While
/// the database is unreachable the message is retried here with backoff, and the messages
/// behind it wait for a handler (at most `WAITING_LIMIT`; beyond, they are left in Discord's
/// history, their channel's cursor stays before them, and a catch-up reads them again).
async fn on_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    delayed: bool,
) -> anyhow::Result<()> {
    tracing::debug!(author = %msg.author.id, delayed, "message received");
    if !is_human_message(msg) {
        return Ok(());
    }
    let channel = msg.channel_id.to_string();
    let guild = msg.guild_id.map(|g| g.to_string());
    let Some(_work) = bot.lifecycle.start_work() else {
        tracing::info!("shutting down: message left for the next start's catch-up");
        bot.remember_before(&channel, guild.as_deref(), msg.id.get())
            .await;
        return Ok(());
    };
    let _turn = match msg.guild_id {
        None => bot.places.lock(format!("dm:{}", msg.author.id)).await,
        Some(_) => bot.places.lock(format!("channel:{}", msg.channel_id)).await,
    };
    if msg.guild_id.is_none() && !delayed {
        first_contact(ctx, bot, msg).await;
    }
    route_while_unreachable(ctx, bot, msg, delayed).await?;
    // Past a hole, the cursor must not move: a restart reads the channel from before it.
    if delayed || !bot.holes.contains(&channel) {
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

/// Routes the message, again and again with backoff while the database is unreachable. A
/// message that cannot go through is recorded as a hole, for a later catch-up.
async fn route_while_unreachable(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    delayed: bool,
) -> anyhow::Result<()> {
    let channel = msg.channel_id.to_string();
    let guild = msg.guild_id.map(|g| g.to_string());
    let mut waited = false;
    let mut wait = Duration::from_millis(250);
    loop {
        let Err(e) = route_message(ctx, bot, msg, delayed).await else {
            break;
        };
        crate::observe::database_error(&e);
        if !database_unreachable(&e) {
            // Discord failed us (a thread could not be opened, say): read it again later.
            bot.holes.record(&channel, guild.as_deref(), msg.id.get());
            return Err(e);
        }
        // A catch-up does not wait long: its hole brings it back once the database answers.
        if bot.stopping() || (delayed && wait >= Duration::from_secs(8)) {
            bot.holes.record(&channel, guild.as_deref(), msg.id.get());
            tracing::error!(error = %format!("{e:#}"), "database unreachable: the message stays in Discord's history for a later catch-up");
            return Err(e);
        }
        waited = true;
        tracing::warn!(error = %format!("{e:#}"), retry_in_ms = wait.as_millis() as u64, "database unreachable; the message waits");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(15));
    }
    if waited {
        tracing::info!("message stored after the database came back");
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
        .filter(|m| is_human_message(m) && discord_time(m.id.get()) >= since)
        .collect();
    earlier.sort_by_key(|m| m.id);
    for m in earlier {
        if let Err(e) = route_message(ctx, bot, m, true).await {
            tracing::warn!(message = %m.id, error = %format!("{e:#}"), "an earlier DM could not be handled");
        }
    }
}

/// The feature a message belongs to: a DM to the relay, a ticket thread's message to the
/// relay, a watched channel's or its threads' to the watch; anything else is ignored.
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
    let Some(thread) = thread_info(ctx, msg.channel_id).await else {
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
