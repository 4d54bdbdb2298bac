//! Messages, live or read from history: taken in turn (backpressure), handled one place at a
//! time, held while the database is unreachable, routed to the relay or the watched channels,
//! and the channel's cursor moved on.

use crate::discord::access::is_human_message;
use crate::discord::bot::{database_outage, Bot};
use crate::discord::channels::{cached, thread_info, Cached};
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
    // The bot's own relays come back through the gateway: they take no place in line; nor
    // does ordinary chat.
    if !is_human_message(msg) || ordinary_chat(ctx, bot, msg).await {
        return;
    }
    let waiting = match bot.intake.enter() {
        Ok(waiting) => waiting,
        Err(NoTurn::Full) => {
            let guild = msg.guild_id.map(|g| g.to_string());
            bot.holes.record_for_database(
                &msg.channel_id.to_string(),
                guild.as_deref(),
                msg.id.get(),
            );
            tracing::error!(message = %msg.id, "too many messages waiting: this one is left in Discord's history for the catch-up");
            return;
        }
        Err(NoTurn::Closed) => return,
    };
    // Fair queueing: the messages of one place wait for it here, in order, holding no handler,
    // so that one person's flood takes one handler and leaves the others to everyone else.
    let _place = bot.places.lock(place_key(msg)).await;
    // Asked again: the message ahead in this place may have just found it is ordinary chat (a
    // thread's first message learns it is not a ticket), and a message dropped here leaves
    // nothing behind, not even a cursor at shutdown.
    if ordinary_chat(ctx, bot, msg).await {
        return;
    }
    let Ok(_turn) = waiting.turn().await else {
        return;
    };
    if let Err(e) = Box::pin(on_message_in_place(ctx, bot, msg, false))
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
    Box::pin(async move {
        let _place = bot.places.lock(place_key(msg)).await;
        on_message_in_place(ctx, bot, msg, true).await
    })
}

/// The lock that makes the messages of one place (a person's DMs, a guild channel) go one at
/// a time.
fn place_key(msg: &serenity::Message) -> String {
    match msg.guild_id {
        None => format!("dm:{}", msg.author.id),
        Some(_) => format!("channel:{}", msg.channel_id),
    }
}

/// Handles one message, live (`delayed` false) or fetched from history after downtime, its
/// place's lock (`place_key`) held by the caller. While
/// the database is unreachable the message is retried here with backoff, and the messages
/// behind it wait for a handler (at most `WAITING_LIMIT`; beyond, they are left in Discord's
/// history, their channel's cursor stays before them, and a catch-up reads them again).
async fn on_message_in_place(
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
    if msg.guild_id.is_none() && !delayed {
        first_contact(ctx, bot, msg).await;
    }
    match route_while_unreachable(ctx, bot, msg, delayed).await? {
        Routed::Handled => {}
        // Nothing kept for this channel: no cursor either.
        Routed::Ignored => return Ok(()),
        // Read again from here once the customer chose a team (or at the next start).
        Routed::WaitingForTeam => {
            bot.remember_before(&channel, None, msg.id.get()).await;
            return Ok(());
        }
    }
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
) -> anyhow::Result<Routed> {
    let channel = msg.channel_id.to_string();
    let guild = msg.guild_id.map(|g| g.to_string());
    let mut waiting = None;
    let mut wait = Duration::from_millis(250);
    let routed = loop {
        let e = match route_message(ctx, bot, msg, delayed).await {
            Ok(routed) => break routed,
            Err(e) => e,
        };
        crate::observe::database_error(&e);
        let Some(outage) = database_outage(&e) else {
            // Discord failed us (a thread could not be opened, say): read it again later.
            bot.holes.record(&channel, guild.as_deref(), msg.id.get());
            return Err(e);
        };
        // A catch-up does not wait long: its hole brings it back once the database answers
        // (a hole for the database is never given up).
        if bot.stopping() || (delayed && wait >= Duration::from_secs(8)) {
            bot.holes
                .record_for_database(&channel, guild.as_deref(), msg.id.get());
            tracing::error!(error = %format!("{e:#}"), cause = outage.describe(), "the message stays in Discord's history for a later catch-up");
            return Err(e);
        }
        if waiting.is_none() {
            waiting = Some(bot.store_waits.start(bot.now(), outage));
        }
        tracing::warn!(error = %format!("{e:#}"), retry_in_ms = wait.as_millis() as u64, cause = outage.describe(), "the message waits for the database");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(15));
    };
    if waiting.is_some() {
        tracing::info!("message stored after the database came back");
    }
    Ok(routed)
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

/// A guild message in a channel that is neither watched nor a ticket thread, nor a thread of
/// a watched channel: ordinary chat, dropped before it costs a REST call, a lock or a write.
/// Told by the gateway's cache and the bot's memory of the guild's setup; a channel the cache
/// does not know, or a thread not yet known not to be a ticket, takes the full path.
async fn ordinary_chat(ctx: &serenity::Context, bot: &Bot, msg: &serenity::Message) -> bool {
    let Some(guild) = msg.guild_id else {
        return false;
    };
    let known = match bot.guild_channels(&guild.to_string()).await {
        Ok(known) => known,
        Err(_) => return false,
    };
    let channel = msg.channel_id.to_string();
    if known.matters(&channel) {
        return false;
    }
    match cached(ctx, guild, msg.channel_id) {
        Some(Cached::Plain) => true,
        Some(Cached::Thread { parent }) => {
            !parent.is_some_and(|p| known.matters(&p))
                && bot.known.is_not_a_ticket(msg.channel_id.get())
        }
        None => false,
    }
}

/// What became of a message.
enum Routed {
    /// Stored (or already stored) and acted on.
    Handled,
    /// Ordinary chat, or a message no feature takes: nothing kept.
    Ignored,
    /// A DM whose customer was asked which team they mean: relayed once they choose.
    WaitingForTeam,
}

/// The feature a message belongs to: a DM to the relay, a ticket thread's message to the
/// relay, a watched channel's or its threads' to the watch; anything else is ignored.
async fn route_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    delayed: bool,
) -> anyhow::Result<Routed> {
    let Some(guild_id) = msg.guild_id else {
        return Ok(
            match relay::customer_dm(ctx, bot, msg, None, delayed).await? {
                relay::Dm::Relayed => Routed::Handled,
                relay::Dm::WaitingForTeam => Routed::WaitingForTeam,
            },
        );
    };
    let guild = guild_id.to_string();
    if let Some(ticket) = bot
        .desk
        .store()
        .ticket_by_thread(&msg.channel_id.to_string())
        .await?
    {
        relay::staff_message(ctx, bot, msg, ticket, delayed).await?;
        return Ok(Routed::Handled);
    }
    let setup = bot.setup(&guild).await?;
    let channel = msg.channel_id.get().to_string();
    if let Some(w) = setup.watched.iter().find(|w| w.channel_id == channel) {
        if w.kind == WatchKind::Text {
            watch::channel_message(ctx, bot, msg, &setup, &guild).await?;
            return Ok(Routed::Handled);
        }
        return Ok(Routed::Ignored);
    }
    if let Some(Cached::Plain) = cached(ctx, guild_id, msg.channel_id) {
        return Ok(Routed::Ignored);
    }
    // A thread (forum post, or a thread in a watched text channel)?
    let Some(thread) = thread_info(ctx, msg.channel_id).await else {
        tracing::debug!("not a thread of a watched channel");
        return Ok(Routed::Ignored);
    };
    tracing::debug!(parent = ?thread.parent_id, "message in a thread");
    match setup
        .watched
        .iter()
        .find(|w| Some(&w.channel_id) == thread.parent_id.as_ref())
    {
        Some(w) => {
            watch::thread_message(ctx, bot, msg, &setup, &guild, &thread, w.kind).await?;
            Ok(Routed::Handled)
        }
        None => {
            bot.known.remember_not_a_ticket(msg.channel_id.get());
            Ok(Routed::Ignored)
        }
    }
}
