//! Catch-up after downtime: at every READY or RESUME, each channel where the bot handled a
//! message in the last week (DMs, staff threads, watched channels, forum posts), each watched
//! text channel, and each active thread of a watched channel that the bot has not seen (a forum
//! post opened meanwhile), is read from Discord's message history from the last message handled
//! on (from its creation for a new thread), and what was missed goes through the same path as
//! live messages. Delays stay exact: they come from the messages' snowflakes, not from when
//! the bot saw them. Already stored messages are recognised by id and change nothing.

use super::Bot;
use crate::domain::DAY;
use poise::serenity_prelude as serenity;
use std::sync::Arc;

const PAGE: u8 = 100;

pub async fn run(ctx: serenity::Context, bot: Arc<Bot>) {
    if let Err(e) = catch_up(&ctx, &bot).await {
        tracing::warn!(error = %format!("{e:#}"), "catch-up after reconnect failed");
    }
}

async fn catch_up(ctx: &serenity::Context, bot: &Arc<Bot>) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let mut channels: Vec<(String, Option<String>, Option<i64>)> = store
        .recent_cursors(bot.now() - 7 * DAY)
        .await?
        .into_iter()
        .map(|c| (c.channel_id, c.guild_id, Some(c.message_id)))
        .collect();
    for guild in store.guilds_with_staff_channel().await? {
        let watched = store.discord_setup(&guild).await?.watched;
        for w in &watched {
            if w.kind == crate::store::WatchKind::Text
                && !channels.iter().any(|c| c.0 == w.channel_id)
            {
                channels.push((w.channel_id.clone(), Some(guild.clone()), None));
            }
        }
        // Forum posts (and threads of watched channels) opened while we were away have no
        // cursor yet: read each active one from its creation (a forum post's first message
        // has the thread's id).
        let Some(gid) = guild.parse::<u64>().ok().filter(|g| *g > 0) else {
            continue;
        };
        if watched.is_empty() {
            continue;
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
                        channels.push((id, Some(guild.clone()), before));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(guild = %guild, error = %e, "cannot list active threads; new forum posts are not caught up")
            }
        }
    }
    let mut caught = 0usize;
    for (channel, guild, last) in channels {
        // Without a cursor there is nothing to resume from: start at the present.
        let Some(after) = last.and_then(|l| u64::try_from(l).ok()).filter(|l| *l > 0) else {
            continue;
        };
        let (n, end) = read_channel(ctx, bot, &channel, guild.as_deref(), after).await;
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

/// Where a read of a channel's history ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadEnd {
    Finished,
    /// This message could not be handled.
    FailedAt(u64),
    /// The history could not be fetched.
    Unreadable,
}

/// Reads `channel` from after message `after` to the present, through the live path. Stops
/// at the first message that cannot be handled (it is recorded as a hole), so that nothing
/// after it moves the cursor. Returns how many messages were handled, and where it ended.
async fn read_channel(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
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
                bot.record_hole(channel, guild, after.saturating_add(1));
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
            if let Err(e) = super::handler::on_message(ctx, bot, &msg, true).await {
                tracing::error!(message = %msg.id, error = %format!("{e:#}"), "missed message not handled; the channel is read again from it");
                bot.record_hole(channel, guild, msg.id.get());
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
pub async fn fill_holes(bot: &Arc<Bot>) {
    let now = std::time::Instant::now();
    let due: Vec<(String, super::Hole)> = bot
        .lock_holes()
        .iter()
        .filter(|(_, h)| h.next_try <= now)
        .map(|(c, h)| (c.clone(), h.clone()))
        .collect();
    if due.is_empty() {
        return;
    }
    let Some(ctx) = bot
        .context
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
    else {
        return;
    };
    for (channel, hole) in due {
        let (n, end) = read_channel(
            &ctx,
            bot,
            &channel,
            hole.guild.as_deref(),
            hole.first.saturating_sub(1),
        )
        .await;
        let mut holes = bot.lock_holes();
        if end == ReadEnd::Finished {
            tracing::info!(channel = %channel, messages = n, "read back the messages that could not be handled");
            holes.remove(&channel);
            continue;
        }
        let Some(again) = holes.get_mut(&channel) else {
            continue;
        };
        let stopped_at = match end {
            ReadEnd::FailedAt(at) => Some(at),
            _ => None,
        };
        if let Some(at) = stopped_at.filter(|at| *at > hole.first) {
            // Progress: what came before `at` is handled.
            again.first = at;
            again.tries = 0;
        } else {
            again.tries = hole.tries + 1;
        }
        if again.tries >= super::HOLE_TRIES {
            if end == ReadEnd::Unreadable {
                tracing::error!(channel = %channel, from_message = again.first, "giving up: the channel's history could not be read in {} tries", super::HOLE_TRIES);
                holes.remove(&channel);
                continue;
            }
            // Give up on this one message only, and read on after it.
            tracing::error!(channel = %channel, message = again.first, "giving up: this message could not be handled in {} tries and is not stored", super::HOLE_TRIES);
            again.first += 1;
            again.tries = 0;
        }
        again.next_try = std::time::Instant::now()
            + std::time::Duration::from_secs(2u64.pow(again.tries.min(9)));
    }
}
