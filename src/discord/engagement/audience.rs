//! The audience of a post (docs/engagement.md): the human members of the guild who can view
//! its channel when it is posted, from the roles, members and permission overwrites in the
//! gateway's cache; the guild's member count where the cache cannot tell.

use poise::serenity_prelude as serenity;

/// The audience of a post made now in `channel` (for a forum post, the forum).
///
/// The cache can tell when it holds every member of the guild (it does with the
/// GUILD_MEMBERS intent for guilds Discord sends whole; a large guild's GUILD_CREATE holds only
/// some): then it is the members who are not bots and whose permissions in the channel
/// (roles, then the channel's overwrites; the owner and administrators see everything) include
/// VIEW_CHANNEL. Otherwise, or when the channel is not in the cache, the guild's member count
/// (bots included: Discord's count does not tell them apart), from the cache or else Discord.
pub async fn of(
    ctx: &serenity::Context,
    guild_id: serenity::GuildId,
    channel: serenity::ChannelId,
) -> u64 {
    if let Some(known) = from_cache(ctx, guild_id, channel) {
        return known;
    }
    match guild_id.to_partial_guild_with_counts(&ctx.http).await {
        Ok(g) => g.approximate_member_count.unwrap_or(0),
        Err(e) => {
            tracing::warn!(guild = %guild_id, error = %e, "cannot count the server's members: the post's audience is stored as 0");
            0
        }
    }
}

fn from_cache(
    ctx: &serenity::Context,
    guild_id: serenity::GuildId,
    channel: serenity::ChannelId,
) -> Option<u64> {
    let guild = ctx.cache.guild(guild_id)?;
    let count = guild.member_count;
    let Some(channel) = guild.channels.get(&channel) else {
        return Some(count);
    };
    if (guild.members.len() as u64) < count {
        return Some(count);
    }
    let viewers = guild
        .members
        .values()
        .filter(|m| !m.user.bot)
        .filter(|m| guild.user_permissions_in(channel, m).view_channel())
        .count();
    Some(viewers as u64)
}
