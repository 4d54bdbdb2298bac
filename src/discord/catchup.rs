//! Catch-up after downtime: at every READY or RESUME, each channel where the bot handled a
//! message in the last week (DMs, staff threads, watched channels, forum posts), each watched
//! text channel, and each active thread of a watched channel that the bot has not seen (a forum
//! post opened meanwhile), is read from Discord's message history from the last message handled
//! on (from its creation for a new thread), and what was missed goes through the same path as
//! live messages. Delays stay exact: they come from the messages' snowflakes, not from when
//! the bot saw them. Already stored messages are recognised by id and change nothing.
//!
//! The same reading fills holes: channels where a message could not be handled are read again
//! from it, with backoff (`holes`).

use super::bot::Bot;
use super::holes::ReadEnd;
use crate::domain::DAY;
use crate::store::{WatchKind, WatchedChannel};
use poise::serenity_prelude as serenity;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

const PAGE: u8 = 100;

/// The live path a message read from history goes through (stored, relayed, surveyed, and its
/// channel's cursor moved on), given by whoever starts the read: the gateway's.
pub type MessagePath = for<'a> fn(
    &'a serenity::Context,
    &'a Arc<Bot>,
    &'a serenity::Message,
) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// A channel to read: its guild, and the last message handled in it (none: start at the present).
type ToRead = (String, Option<String>, Option<i64>);

pub async fn run(ctx: serenity::Context, bot: Arc<Bot>, path: MessagePath) {
    if let Err(e) = catch_up(&ctx, &bot, path).await {
        tracing::warn!(error = %format!("{e:#}"), "catch-up after reconnect failed");
    }
    bot.lifecycle.mark_caught_up(ctx.shard_id.0, &bot.shards);
}

async fn catch_up(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    path: MessagePath,
) -> anyhow::Result<()> {
    let channels = channels_to_read(ctx, bot).await?;
    let mut caught = 0usize;
    for (channel, guild, last) in channels {
        // Without a cursor there is nothing to resume from: start at the present.
        let Some(after) = last.and_then(|l| u64::try_from(l).ok()).filter(|l| *l > 0) else {
            continue;
        };
        let (n, end) = read_channel(ctx, bot, path, &channel, guild.as_deref(), after).await;
        caught += n;
        if end != ReadEnd::Finished {
            tracing::warn!(channel = %channel, "catch-up stopped early; the channel is read again later");
        }
    }
    if caught > 0 {
        tracing::info!(
            messages = caught,
            "caught up with messages posted while offline"
        );
    }
    Ok(())
}

/// The channels with a recent cursor, every watched text channel, and the active threads of
/// watched channels that have no cursor yet.
async fn channels_to_read(ctx: &serenity::Context, bot: &Bot) -> anyhow::Result<Vec<ToRead>> {
    let store = bot.desk.store();
    // Each shard's READY catches up with the guilds of that shard (DMs: shard 0's).
    let shard = bot.shards.only(ctx.shard_id.0);
    let mut channels: Vec<ToRead> = store
        .recent_cursors(bot.now() - 7 * DAY, &shard)
        .await?
        .into_iter()
        .map(|c| (c.channel_id, c.guild_id, Some(c.message_id)))
        .collect();
    let guilds = store.guilds_with_staff_channel().await?;
    for guild in guilds.into_iter().filter(|g| shard.owns_guild(Some(g))) {
        let watched = store.discord_setup(&guild).await?.watched;
        for w in &watched {
            if w.kind == WatchKind::Text && !channels.iter().any(|c| c.0 == w.channel_id) {
                channels.push((w.channel_id.clone(), Some(guild.clone()), None));
            }
        }
        new_threads(ctx, &guild, &watched, &mut channels).await;
    }
    Ok(channels)
}

/// Forum posts (and threads of watched channels) opened while we were away have no cursor
/// yet: each active one is read from its creation (a forum post's first message has the
/// thread's id).
async fn new_threads(
    ctx: &serenity::Context,
    guild: &str,
    watched: &[WatchedChannel],
    channels: &mut Vec<ToRead>,
) {
    let Some(gid) = guild.parse::<u64>().ok().filter(|g| *g > 0) else {
        return;
    };
    if watched.is_empty() {
        return;
    }
    match serenity::GuildId::new(gid)
        .get_active_threads(&ctx.http)
        .await
    {
        Ok(active) => {
            for t in active.threads {
                let id = t.id.to_string();
                let in_watched = t
                    .parent_id
                    .is_some_and(|p| watched.iter().any(|w| w.channel_id == p.to_string()));
                if in_watched && !channels.iter().any(|c| c.0 == id) {
                    let before = i64::try_from(t.id.get().saturating_sub(1)).ok();
                    channels.push((id, Some(guild.to_string()), before));
                }
            }
        }
        Err(e) => {
            tracing::warn!(guild = %guild, error = %e, "cannot list active threads; new forum posts are not caught up")
        }
    }
}

/// Reads `channel` from after message `after` to the present, through `path`. Stops at the
/// first message that cannot be handled (it is recorded as a hole), so that nothing after it
/// moves the cursor. Returns how many messages were handled, and where it ended.
async fn read_channel(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    path: MessagePath,
    channel: &str,
    guild: Option<&str>,
    mut after: u64,
) -> (usize, ReadEnd) {
    let Some(channel_id) = channel.parse::<u64>().ok().filter(|c| *c > 0) else {
        return (0, ReadEnd::Finished);
    };
    let guild_id = guild
        .and_then(|g| g.parse::<u64>().ok())
        .filter(|g| *g > 0)
        .map(serenity::GuildId::new);
    let mut caught = 0;
    loop {
        let page = match serenity::ChannelId::new(channel_id)
            .messages(
                &ctx.http,
                serenity::GetMessages::new()
                    .after(serenity::MessageId::new(after))
                    .limit(PAGE),
            )
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(channel = %channel, error = %e, "cannot read channel history");
                bot.holes.record(channel, guild, after.saturating_add(1));
                return (caught, ReadEnd::Unreadable);
            }
        };
        let full = page.len() >= PAGE as usize;
        let mut page = page;
        page.sort_by_key(|m| m.id);
        for mut msg in page {
            after = after.max(msg.id.get());
            // History messages do not say which guild they belong to.
            if msg.guild_id.is_none() {
                msg.guild_id = guild_id;
            }
            if let Err(e) = path(ctx, bot, &msg).await {
                tracing::error!(message = %msg.id, error = %format!("{e:#}"), "missed message not handled; the channel is read again from it");
                bot.holes.record(channel, guild, msg.id.get());
                return (caught, ReadEnd::FailedAt(msg.id.get()));
            }
            caught += 1;
        }
        if !full {
            return (caught, ReadEnd::Finished);
        }
    }
}

/// Reads again, with backoff, the channels where a message could not be handled (the database
/// was away, Discord failed): from that message on. The hole stays recorded during the read,
/// so that live messages do not move the channel's cursor past it.
pub async fn fill_holes(bot: &Arc<Bot>, path: MessagePath) {
    let due = bot.holes.due(std::time::Instant::now());
    if due.is_empty() {
        return;
    }
    let Some(ctx) = bot.holes.context() else {
        return;
    };
    for (channel, hole) in due {
        let from = hole.first.saturating_sub(1);
        let (n, end) = read_channel(&ctx, bot, path, &channel, hole.guild.as_deref(), from).await;
        bot.holes.settle(&channel, &hole, n, end);
    }
}
