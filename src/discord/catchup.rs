//! Catch-up after downtime: at every READY or RESUME, each channel where the bot handled a
//! message in the last week (DMs, staff threads, watched channels, forum posts), and each
//! watched text channel, is read from Discord's message history from the last message handled
//! on, and what was missed goes through the same path as live messages. Delays stay exact:
//! they come from the messages' snowflakes, not from when the bot saw them. Already stored
//! messages are recognised by id and change nothing.

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
        .map(|(c, g, last)| (c, g, Some(last)))
        .collect();
    for guild in store.guilds_with_staff_channel().await? {
        for w in store.discord_setup(&guild).await?.watched {
            if w.kind == crate::store::WatchKind::Text
                && !channels.iter().any(|c| c.0 == w.channel_id)
            {
                channels.push((w.channel_id, Some(guild.clone()), None));
            }
        }
    }
    let mut caught = 0usize;
    for (channel, guild, last) in channels {
        // Without a cursor there is nothing to resume from: start at the present.
        let Some(after) = last.and_then(|l| u64::try_from(l).ok()).filter(|l| *l > 0) else {
            continue;
        };
        caught += read_channel(ctx, bot, &channel, guild.as_deref(), after).await;
    }
    if caught > 0 {
        tracing::info!(
            messages = caught,
            "caught up with messages posted while offline"
        );
    }
    Ok(())
}

/// Reads `channel` from after message `after` to the present, through the live path. Stops
/// at the first message that cannot be handled, so that nothing after it moves the cursor.
/// Returns how many messages were handled.
async fn read_channel(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    channel: &str,
    guild: Option<&str>,
    mut after: u64,
) -> usize {
    let Some(channel_id) = channel.parse::<u64>().ok().filter(|c| *c > 0) else {
        return 0;
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
                return caught;
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
                tracing::error!(message = %msg.id, error = %format!("{e:#}"), "missed message not handled; the next catch-up retries from it");
                return caught;
            }
            caught += 1;
        }
        if !full {
            return caught;
        }
    }
}

/// Reads again the channels where messages could not wait for the database, once it answers.
pub async fn fill_holes(bot: &Arc<Bot>) {
    let holes: Vec<(String, (Option<String>, u64))> = bot
        .lock_holes()
        .iter()
        .map(|(c, h)| (c.clone(), h.clone()))
        .collect();
    if holes.is_empty() {
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
    for (channel, (guild, first)) in holes {
        // Clear first: a failure during the read records the hole again.
        bot.lock_holes().remove(&channel);
        let n = read_channel(
            &ctx,
            bot,
            &channel,
            guild.as_deref(),
            first.saturating_sub(1),
        )
        .await;
        tracing::info!(channel = %channel, messages = n, "read back messages that could not wait for the database");
    }
}
