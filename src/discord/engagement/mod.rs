//! Engagement tracking (docs/engagement.md, "In Discord"): the posts of the tracked channels,
//! the reactions they get and the replies they get, stored as engagement events through the
//! desk (idempotent by id), without any message text.
//!
//! - this file: a message (live or read back) as a post or a reply; a reaction event as
//!   reaction events;
//! - `audience`: who could see a post when it was posted, from the gateway's cache;
//! - `catchup`: what happened to the posts still maturing while the bot was away.
//!
//! Times: posts and replies carry their snowflake's time (Discord's clock); reactions carry none,
//! so a live one is stamped when the bot receives it, and one found by a catch-up with the
//! catch-up's time, as the contract says.

mod audience;
mod catchup;

pub use catchup::run as catch_up;

use super::access::is_human_message;
use super::bot::Bot;
use super::channels::{cached, Cached};
use super::live::discord_time;
use super::state::Stamp;
use crate::domain::engagement::{post_themes, EngagementEvent, EngagementKind};
use crate::domain::{cmp_ids, Millis};
use crate::store::{TrackingSetup, WatchKind};
use poise::serenity_prelude as serenity;
use std::collections::{BTreeMap, BTreeSet};

/// A message of a guild, live or read from history: stored as a post or a reply when it is one
/// (nothing happens otherwise).
pub async fn on_message(
    ctx: &serenity::Context,
    bot: &Bot,
    msg: &serenity::Message,
) -> anyhow::Result<()> {
    let Some(guild_id) = msg.guild_id else {
        return Ok(());
    };
    if msg.author.id == bot.bot_user_id {
        return Ok(());
    }
    let guild = guild_id.to_string();
    let tracking = while_unreachable(bot, || bot.tracking(&guild)).await?;
    if tracking.channels.is_empty() {
        return Ok(());
    }
    if let Some(ev) = message_event(ctx, msg, guild_id, &tracking).await {
        tracing::debug!(id = %ev.id, kind = ev.kind.name(), "engagement event");
        store(bot, &[ev]).await?;
    }
    Ok(())
}

/// What a message is to the engagement figures: a post of a tracked channel (or a tracked
/// forum's post), a reply to one (an inline reply in the channel, or any message in the post's
/// thread), or nothing.
async fn message_event(
    ctx: &serenity::Context,
    msg: &serenity::Message,
    guild_id: serenity::GuildId,
    tracking: &TrackingSetup,
) -> Option<EngagementEvent> {
    let guild = guild_id.to_string();
    let event = |kind| EngagementEvent {
        id: msg.id.to_string(),
        guild_id: guild.clone(),
        author_id: msg.author.id.to_string(),
        at: discord_time(msg.id.get()),
        kind,
    };
    let reply = |post_id: u64| {
        is_human_message(msg).then(|| {
            event(EngagementKind::Reply {
                post_id: post_id.to_string(),
            })
        })
    };
    let channel = msg.channel_id.to_string();
    if let Some(tracked) = tracking.channel(&channel) {
        if tracked.kind == WatchKind::Forum {
            // A forum's own channel holds no messages; its posts are threads.
            return None;
        }
        if let Some(replied) = replied_to(msg) {
            return reply(replied);
        }
        if !is_post(msg) {
            return None;
        }
        let audience = audience::of(ctx, guild_id, msg.channel_id).await;
        return Some(event(EngagementKind::Post {
            channel_id: channel,
            themes: post_themes::<&str>(&[], &msg.content),
            audience,
        }));
    }
    let thread = thread_of(ctx, guild_id, msg.channel_id).await?;
    let tracked = tracking.channel(&thread.parent.to_string())?;
    // A forum post's first message has the thread's id; any other message of a thread of a
    // tracked channel replies to the post the thread belongs to, whose id is the thread's (a
    // thread started from a message has that message's id).
    if tracked.kind == WatchKind::Forum && msg.id.get() == msg.channel_id.get() {
        if !is_post(msg) {
            return None;
        }
        let tags = forum_tag_names(ctx, guild_id, thread.parent, &thread.applied_tags).await;
        let audience = audience::of(ctx, guild_id, thread.parent).await;
        return Some(event(EngagementKind::Post {
            channel_id: channel,
            themes: post_themes(&tags, &msg.content),
            audience,
        }));
    }
    reply(msg.channel_id.get())
}

/// A post is an ordinary message (people's, other bots', webhooks'), not a system notice (a
/// pin, a join, a thread's creation).
fn is_post(msg: &serenity::Message) -> bool {
    !msg.author.system && msg.kind == serenity::MessageType::Regular
}

/// The message an inline reply answers.
fn replied_to(msg: &serenity::Message) -> Option<u64> {
    if msg.kind != serenity::MessageType::InlineReply {
        return None;
    }
    msg.message_reference
        .as_ref()
        .and_then(|r| r.message_id)
        .map(|m| m.get())
}

/// A thread: its parent channel and its forum tags.
struct Thread {
    parent: serenity::ChannelId,
    applied_tags: Vec<serenity::ForumTagId>,
}

fn is_thread_kind(kind: serenity::ChannelType) -> bool {
    matches!(
        kind,
        serenity::ChannelType::PublicThread
            | serenity::ChannelType::PrivateThread
            | serenity::ChannelType::NewsThread
    )
}

/// The thread `channel` is, from the cache or else Discord; `None` for a channel that is not a
/// thread (told by the cache without a call, for the guild's ordinary channels).
async fn thread_of(
    ctx: &serenity::Context,
    guild_id: serenity::GuildId,
    channel: serenity::ChannelId,
) -> Option<Thread> {
    let of = |c: &serenity::GuildChannel| {
        is_thread_kind(c.kind).then_some(())?;
        Some(Thread {
            parent: c.parent_id?,
            applied_tags: c.applied_tags.clone(),
        })
    };
    if let Some(Cached::Plain) = cached(ctx, guild_id, channel) {
        return None;
    }
    let from_cache = ctx
        .cache
        .guild(guild_id)
        .and_then(|g| g.threads.iter().find(|t| t.id == channel).and_then(of));
    if from_cache.is_some() {
        return from_cache;
    }
    match channel.to_channel(&ctx.http).await {
        Ok(serenity::Channel::Guild(c)) => of(&c),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(channel = %channel, error = %e, "cannot look up channel");
            None
        }
    }
}

/// The names of a forum post's tags, as the forum shows them.
async fn forum_tag_names(
    ctx: &serenity::Context,
    guild_id: serenity::GuildId,
    forum: serenity::ChannelId,
    applied: &[serenity::ForumTagId],
) -> Vec<String> {
    if applied.is_empty() {
        return Vec::new();
    }
    let names = |c: &serenity::GuildChannel| -> Vec<String> {
        applied
            .iter()
            .filter_map(|id| c.available_tags.iter().find(|t| t.id == *id))
            .map(|t| t.name.clone())
            .collect()
    };
    let cached = ctx
        .cache
        .guild(guild_id)
        .and_then(|g| g.channels.get(&forum).map(names));
    if let Some(found) = cached {
        return found;
    }
    match forum.to_channel(&ctx.http).await {
        Ok(serenity::Channel::Guild(c)) => names(&c),
        _ => Vec::new(),
    }
}

/// Whether a reaction on `message` in `channel` is on a post of a tracked channel: a message
/// of a tracked text or announcement channel, or a tracked forum's post (its first message,
/// which has the thread's id).
async fn on_a_post(
    ctx: &serenity::Context,
    tracking: &TrackingSetup,
    guild_id: serenity::GuildId,
    channel: serenity::ChannelId,
    message: serenity::MessageId,
) -> bool {
    match tracking.channel(&channel.to_string()) {
        Some(t) => t.kind == WatchKind::Text,
        None if message.get() == channel.get() => thread_of(ctx, guild_id, channel)
            .await
            .and_then(|t| tracking.channel(&t.parent.to_string()).cloned())
            .is_some_and(|t| t.kind == WatchKind::Forum),
        None => false,
    }
}

/// How an emoji is stored: the character(s) of a unicode emoji, `name:id` for a custom one
/// (the same each time, and the form Discord's REST paths take).
pub fn emoji_key(e: &serenity::ReactionType) -> String {
    match e {
        serenity::ReactionType::Unicode(s) => s.clone(),
        serenity::ReactionType::Custom { id, name, .. } => {
            format!("{}:{id}", name.as_deref().unwrap_or_default())
        }
        // `ReactionType` is non-exhaustive.
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

/// A reaction event of `who`, stamped by `stamp`.
fn reaction_event(
    stamp: Stamp,
    guild: &str,
    post: &str,
    who: &str,
    emoji: &str,
    added: bool,
) -> EngagementEvent {
    let what = format!("{post}|{who}|{emoji}|{added}");
    let (post_id, emoji) = (post.to_string(), emoji.to_string());
    EngagementEvent {
        id: stamp.id(&what),
        guild_id: guild.to_string(),
        author_id: who.to_string(),
        at: stamp.at,
        kind: match added {
            true => EngagementKind::ReactionAdd { post_id, emoji },
            false => EngagementKind::ReactionRemove { post_id, emoji },
        },
    }
}

/// Whether `user` is a bot, as far as the cache or the reaction's member says: bots' reactions
/// are not engagement (docs/engagement.md, "In Discord").
fn is_bot(ctx: &serenity::Context, bot: &Bot, r: &serenity::Reaction) -> bool {
    let Some(user) = r.user_id else {
        return true;
    };
    user == bot.bot_user_id
        || r.member.as_ref().is_some_and(|m| m.user.bot)
        || ctx.cache.user(user).is_some_and(|u| u.bot)
}

/// MESSAGE_REACTION_ADD (`added`) or MESSAGE_REACTION_REMOVE on a post of a tracked channel.
pub async fn on_reaction(
    ctx: &serenity::Context,
    bot: &Bot,
    r: &serenity::Reaction,
    added: bool,
) -> anyhow::Result<()> {
    let (Some(guild_id), Some(user)) = (r.guild_id, r.user_id) else {
        return Ok(());
    };
    if is_bot(ctx, bot, r) {
        return Ok(());
    }
    let stamp = bot.reaction_ids.stamp(bot.now());
    // Until it is stored (or given up), a catch-up leaves the post to this event.
    let _in_flight = bot.live_reactions.begin(r.message_id.get());
    let guild = guild_id.to_string();
    let tracking = while_unreachable(bot, || bot.tracking(&guild)).await?;
    if tracking.channels.is_empty()
        || !on_a_post(ctx, &tracking, guild_id, r.channel_id, r.message_id).await
    {
        return Ok(());
    }
    let ev = reaction_event(
        stamp,
        &guild,
        &r.message_id.to_string(),
        &user.to_string(),
        &emoji_key(&r.emoji),
        added,
    );
    store(bot, &[ev]).await?;
    Ok(())
}

/// MESSAGE_REACTION_REMOVE_ALL (`emoji` none) or MESSAGE_REACTION_REMOVE_EMOJI: a removal for
/// every reaction the store holds as present on the post (with that emoji).
pub async fn on_reactions_cleared(
    ctx: &serenity::Context,
    bot: &Bot,
    guild_id: Option<serenity::GuildId>,
    channel: serenity::ChannelId,
    message: serenity::MessageId,
    emoji: Option<&serenity::ReactionType>,
) -> anyhow::Result<()> {
    let Some(guild_id) = guild_id.or_else(|| guild_of(ctx, channel)) else {
        return Ok(());
    };
    let stamp = bot.reaction_ids.stamp(bot.now());
    let _in_flight = bot.live_reactions.begin(message.get());
    let guild = guild_id.to_string();
    let tracking = while_unreachable(bot, || bot.tracking(&guild)).await?;
    if tracking.channels.is_empty() || !on_a_post(ctx, &tracking, guild_id, channel, message).await
    {
        return Ok(());
    }
    let post = message.to_string();
    let only = emoji.map(emoji_key);
    let events = while_unreachable(bot, || post_events(bot, &guild, message.get())).await?;
    let removals: Vec<EngagementEvent> = present_reactions(&events, &post)
        .into_iter()
        .filter(|(_, e)| only.as_ref().is_none_or(|o| o == e))
        .map(|(who, e)| reaction_event(stamp, &guild, &post, &who, &e, false))
        .collect();
    if !removals.is_empty() {
        store(bot, &removals).await?;
    }
    Ok(())
}

/// Stores live engagement events, waiting for the database while it is away.
async fn store(bot: &Bot, events: &[EngagementEvent]) -> anyhow::Result<()> {
    while_unreachable(bot, || async {
        bot.desk.ingest_engagement(events).await?;
        Ok(())
    })
    .await
}

/// Runs `f` again and again with backoff (0.25 s doubling to 15 s) while the database cannot
/// take it (down, locked, full), as a support message waits (`gateway::messages`): a live
/// post or reaction is not dropped for an outage. Its stamp was taken before, so its time and
/// its order with the other reactions stay those of its arrival. A stopping bot gives up: the
/// next catch-up reads the post and its reactions back from Discord.
async fn while_unreachable<T, F, Fut>(bot: &Bot, f: F) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut wait = std::time::Duration::from_millis(250);
    loop {
        let e = match f().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(outage) = super::bot::database_outage(&e) else {
            return Err(e);
        };
        if bot.stopping() {
            return Err(e);
        }
        crate::observe::database_error(&e);
        tracing::warn!(error = %format!("{e:#}"), retry_in_ms = wait.as_millis() as u64, cause = outage.describe(), "an engagement event waits for the database");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(15));
    }
}

/// The guild of a channel or thread, from the cache.
fn guild_of(ctx: &serenity::Context, channel: serenity::ChannelId) -> Option<serenity::GuildId> {
    ctx.cache.guilds().into_iter().find(|g| {
        ctx.cache.guild(*g).is_some_and(|guild| {
            guild.channels.contains_key(&channel) || guild.threads.iter().any(|t| t.id == channel)
        })
    })
}

/// Every stored event about the post `id` (the post, if stored, and its reactions and replies).
async fn post_events(bot: &Bot, guild: &str, id: u64) -> anyhow::Result<Vec<EngagementEvent>> {
    let at = discord_time(id);
    let events = bot
        .desk
        .store()
        .engagement_events(Some(guild), at, at + 1, Millis::MAX / 4)
        .await?;
    let id = id.to_string();
    Ok(events
        .into_iter()
        .filter(|e| e.id == id || e.kind.post_id() == Some(id.as_str()))
        .collect())
}

/// The `(user, emoji)` reactions that the stored events leave on `post`: those whose last event
/// (in time, then id as numbers) is an add.
pub fn present_reactions(events: &[EngagementEvent], post: &str) -> BTreeSet<(String, String)> {
    let mut last: BTreeMap<(String, String), (Millis, &str, bool)> = BTreeMap::new();
    for e in events {
        let (p, emoji, added) = match &e.kind {
            EngagementKind::ReactionAdd { post_id, emoji } => (post_id, emoji, true),
            EngagementKind::ReactionRemove { post_id, emoji } => (post_id, emoji, false),
            _ => continue,
        };
        if p != post {
            continue;
        }
        let key = (e.author_id.clone(), emoji.clone());
        let later = |(at, id, _): &(Millis, &str, bool)| {
            e.at > *at || (e.at == *at && cmp_ids(&e.id, id) == std::cmp::Ordering::Greater)
        };
        match last.get(&key) {
            Some(seen) if !later(seen) => {}
            _ => {
                last.insert(key, (e.at, e.id.as_str(), added));
            }
        }
    }
    last.into_iter()
        .filter(|(_, (_, _, added))| *added)
        .map(|(k, _)| k)
        .collect()
}

#[cfg(test)]
mod tests;
