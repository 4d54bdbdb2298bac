//! The engagement catch-up, at every READY and RESUME: for each guild that tracks channels,
//! what happened to its posts still inside their engagement window while the bot was away.
//!
//! 1. New posts and replies: the tracked text and announcement channels are read from the
//!    start of the window, and the active threads of tracked channels opened inside it (forum
//!    posts, threads started from posts) from their first message. They go through the live
//!    path (`on_message`); stored ids change nothing.
//! 2. Reactions: each stored post still maturing is read back from Discord with the users of
//!    each of its emoji. A reaction on Discord that the store does not hold as present gets a
//!    `reaction_add`, and one the store holds as present but Discord no longer shows gets a
//!    `reaction_remove`, both at the catch-up's time (reactions carry no time of their own).
//!    A second catch-up finds both sides agreeing and writes nothing.

use super::{emoji_key, on_message, post_events, present_reactions, reaction_event};
use crate::discord::bot::Bot;
use crate::domain::engagement::EngagementKind;
use crate::domain::snowflake_at;
use crate::store::TrackingSetup;
use poise::serenity_prelude as serenity;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const PAGE: u8 = 100;
/// Pages of history read per channel at most (10 000 messages): a busy channel's older
/// replies beyond are not caught up (docs/engagement.md, "In Discord", limits).
const MAX_PAGES: usize = 100;

/// Runs the catch-up. At READY it first waits (a few seconds at most) for the guilds' channels
/// and members to be in the cache: audiences and threads are read from it.
pub async fn run(ctx: serenity::Context, bot: Arc<Bot>, ready_guilds: Vec<serenity::GuildId>) {
    let Some(_work) = bot.lifecycle.start_work() else {
        return;
    };
    for _ in 0..100 {
        if ready_guilds.iter().all(|g| ctx.cache.guild(*g).is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let guilds = match bot.desk.store().guilds_tracking().await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e, "engagement catch-up: cannot list the tracking guilds");
            return;
        }
    };
    // Each shard's READY or RESUME catches up with the guilds of that shard only: another
    // process owns the others (docs/operations.md, several processes).
    let shard = bot.shards.only(ctx.shard_id.0);
    for guild in guilds.into_iter().filter(|g| shard.owns_guild(Some(g))) {
        if bot.stopping() {
            return;
        }
        if let Err(e) = guild_catch_up(&ctx, &bot, &guild).await {
            tracing::warn!(guild = %guild, error = %format!("{e:#}"), "engagement catch-up failed");
        }
    }
}

async fn guild_catch_up(ctx: &serenity::Context, bot: &Bot, guild: &str) -> anyhow::Result<()> {
    let Some(guild_id) = guild
        .parse::<u64>()
        .ok()
        .filter(|g| *g > 0)
        .map(serenity::GuildId::new)
    else {
        return Ok(());
    };
    let store = bot.desk.store();
    let tracking = store.tracking_setup(guild).await?;
    let since = bot.now() - bot.rules(guild).await?.engagement_window_ms;
    let first = snowflake_at(since.max(crate::domain::DISCORD_EPOCH_MS));
    for c in &tracking.channels {
        if c.kind == crate::store::WatchKind::Text {
            read_history(ctx, bot, guild_id, &c.channel_id, first).await;
        }
    }
    for thread in threads_opened_since(ctx, guild_id, &tracking, first).await {
        read_history(ctx, bot, guild_id, &thread, thread_first(&thread)).await;
    }
    let now = bot.now();
    let events = store
        .engagement_events(Some(guild), since, now + 1, now)
        .await?;
    let mut reconciled = 0;
    for e in &events {
        if bot.stopping() {
            break;
        }
        if let EngagementKind::Post { channel_id, .. } = &e.kind {
            reconciled += reconcile(ctx, bot, guild, channel_id, &e.id).await;
        }
    }
    if reconciled > 0 {
        tracing::info!(
            guild,
            reactions = reconciled,
            "engagement catch-up: reactions added or removed while away recorded"
        );
    }
    Ok(())
}

/// A thread is read from just before its first message (a forum post's has the thread's id).
fn thread_first(thread: &str) -> u64 {
    thread.parse::<u64>().unwrap_or(1).saturating_sub(1)
}

/// The active threads of the tracked channels opened since `first` (a snowflake).
async fn threads_opened_since(
    ctx: &serenity::Context,
    guild_id: serenity::GuildId,
    tracking: &TrackingSetup,
    first: u64,
) -> Vec<String> {
    match guild_id.get_active_threads(&ctx.http).await {
        Ok(active) => active
            .threads
            .into_iter()
            .filter(|t| t.id.get() >= first)
            .filter(|t| {
                t.parent_id
                    .is_some_and(|p| tracking.channel(&p.to_string()).is_some())
            })
            .map(|t| t.id.to_string())
            .collect(),
        Err(e) => {
            tracing::warn!(guild = %guild_id, error = %e, "engagement catch-up: cannot list active threads; forum posts opened while away are not read");
            Vec::new()
        }
    }
}

/// Reads `channel` after message `after`, oldest first, through the live path.
async fn read_history(
    ctx: &serenity::Context,
    bot: &Bot,
    guild_id: serenity::GuildId,
    channel: &str,
    mut after: u64,
) {
    let Some(channel_id) = channel
        .parse::<u64>()
        .ok()
        .filter(|c| *c > 0)
        .map(serenity::ChannelId::new)
    else {
        return;
    };
    for _ in 0..MAX_PAGES {
        let page = match channel_id
            .messages(
                &ctx.http,
                serenity::GetMessages::new()
                    .after(serenity::MessageId::new(after.max(1)))
                    .limit(PAGE),
            )
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(channel, error = %e, "engagement catch-up: cannot read the channel's history");
                return;
            }
        };
        let full = page.len() >= PAGE as usize;
        let mut page = page;
        page.sort_by_key(|m| m.id);
        for mut msg in page {
            after = after.max(msg.id.get());
            // History messages do not say which guild they belong to.
            msg.guild_id = Some(guild_id);
            if let Err(e) = on_message(ctx, bot, &msg).await {
                tracing::warn!(message = %msg.id, error = %format!("{e:#}"), "engagement catch-up: message not stored");
            }
        }
        if !full {
            return;
        }
    }
    tracing::warn!(
        channel,
        "engagement catch-up: the channel's history is longer than the catch-up reads"
    );
}

/// Brings the stored reactions of one post in line with what Discord shows now; returns how
/// many events it recorded.
async fn reconcile(
    ctx: &serenity::Context,
    bot: &Bot,
    guild: &str,
    channel: &str,
    post: &str,
) -> usize {
    let (Ok(channel_id), Ok(post_id)) = (channel.parse::<u64>(), post.parse::<u64>()) else {
        return 0;
    };
    if channel_id == 0 || post_id == 0 {
        return 0;
    }
    // Stamped before Discord is read: a live event learnt after that reading sorts after what
    // this writes, so the catch-up never undoes it.
    let stamp = bot.reaction_ids.stamp(bot.now());
    let shown = match on_discord(ctx, bot, channel_id, post_id).await {
        Ok(Some(shown)) => shown,
        // Deleted: what it had stays as it was stored.
        Ok(None) => return 0,
        Err(e) => {
            tracing::warn!(post, error = %e, "engagement catch-up: cannot read the post's reactions");
            return 0;
        }
    };
    let stored = match post_events(bot, guild, post_id).await {
        Ok(events) => present_reactions(&events, post),
        Err(e) => {
            tracing::warn!(post, error = %format!("{e:#}"), "engagement catch-up: cannot read the post's stored reactions");
            return 0;
        }
    };
    // A live event about the post still waits to be stored (the database was away, say): what
    // Discord shows includes it, the store not yet, and writing the difference would record
    // it twice. The live events settle the post; a later catch-up finds nothing to do.
    if bot.live_reactions.busy(post_id) {
        tracing::debug!(
            post,
            "engagement catch-up: live reactions in flight, post left to them"
        );
        return 0;
    }
    let mut events = Vec::new();
    for (who, emoji) in shown.difference(&stored) {
        events.push(reaction_event(stamp, guild, post, who, emoji, true));
    }
    for (who, emoji) in stored.difference(&shown) {
        events.push(reaction_event(stamp, guild, post, who, emoji, false));
    }
    if events.is_empty() {
        return 0;
    }
    match bot.desk.ingest_engagement(&events).await {
        Ok(s) => s.new as usize,
        Err(e) => {
            tracing::warn!(post, error = %e, "engagement catch-up: reactions not stored");
            0
        }
    }
}

/// The `(user, emoji)` reactions Discord shows on a message (bots left out), every page of
/// every emoji; `None` when the message is gone.
async fn on_discord(
    ctx: &serenity::Context,
    bot: &Bot,
    channel: u64,
    message: u64,
) -> Result<Option<BTreeSet<(String, String)>>, serenity::Error> {
    let (channel, message) = (
        serenity::ChannelId::new(channel),
        serenity::MessageId::new(message),
    );
    let msg = match ctx.http.get_message(channel, message).await {
        Ok(m) => m,
        Err(e) if crate::discord::access::http_status(&e) == Some(404) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut shown = BTreeSet::new();
    for r in &msg.reactions {
        let emoji = emoji_key(&r.reaction_type);
        let mut after: Option<u64> = None;
        loop {
            let users = ctx
                .http
                .get_reaction_users(channel, message, &r.reaction_type, PAGE, after)
                .await?;
            let full = users.len() >= PAGE as usize;
            for u in &users {
                after = Some(after.unwrap_or(0).max(u.id.get()));
                if !u.bot && u.id != bot.bot_user_id {
                    shown.insert((u.id.to_string(), emoji.clone()));
                }
            }
            if !full {
                break;
            }
        }
    }
    Ok(Some(shown))
}
