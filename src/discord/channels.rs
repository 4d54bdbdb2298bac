//! What Discord says about a channel: whether it is a thread, and of which channel.

use poise::serenity_prelude as serenity;

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

/// A stored channel id as serenity's type (ids are never 0; a malformed one becomes 1, which
/// Discord answers with a 404).
pub fn channel(id: &str) -> serenity::ChannelId {
    serenity::ChannelId::new(id.parse::<u64>().unwrap_or(1).max(1))
}

/// What the gateway's cache says a guild channel is (no REST call).
pub enum Cached {
    /// A channel that is not a thread.
    Plain,
    /// A thread (a forum post too), with its parent.
    Thread { parent: Option<String> },
}

/// The channel as the cache knows it; `None` when the cache does not know it.
pub fn cached(
    ctx: &serenity::Context,
    guild: serenity::GuildId,
    channel: serenity::ChannelId,
) -> Option<Cached> {
    let guild = ctx.cache.guild(guild)?;
    if let Some(c) = guild.channels.get(&channel) {
        return Some(if is_thread(c.kind) {
            Cached::Thread {
                parent: c.parent_id.map(|p| p.to_string()),
            }
        } else {
            Cached::Plain
        });
    }
    guild
        .threads
        .iter()
        .find(|t| t.id == channel)
        .map(|t| Cached::Thread {
            parent: t.parent_id.map(|p| p.to_string()),
        })
}
