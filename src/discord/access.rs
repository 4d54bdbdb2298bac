//! Who is who, and who may do what. Every action checks on every call (not only through
//! Discord's default permissions, which a server admin can change): commands through poise
//! `check`s built on `Caller`, messages and buttons through the same predicates.

use super::bot::{Context, Error};
use super::replies::{user_error, user_texts};
use crate::store::DiscordSetup;
use poise::serenity_prelude as serenity;

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
pub fn is_agent(setup: &DiscordSetup, roles: &[serenity::RoleId]) -> bool {
    roles
        .iter()
        .any(|r| setup.agent_roles.iter().any(|a| a == &r.get().to_string()))
}

/// The member who invoked a command in a server, and what they are there.
pub struct Caller {
    pub guild: String,
    /// Manage Server (or Administrator).
    pub admin: bool,
    /// Has an agent role.
    pub agent: bool,
}

impl Caller {
    /// Agents and admins: who may read the figures and end others' conversations.
    pub fn is_staff(&self) -> bool {
        self.admin || self.agent
    }
}

/// Who invoked the command, read afresh from the interaction and the guild's setup.
pub async fn caller(ctx: Context<'_>) -> Result<Caller, Error> {
    let guild = ctx
        .guild_id()
        .ok_or_else(|| user_error(user_texts(ctx).cmd.use_in_server))?
        .to_string();
    let Some(member) = ctx.author_member().await else {
        let t = ctx.data().texts(&guild).await;
        return Err(user_error(t.cmd.membership_unchecked));
    };
    let admin = member
        .permissions
        .is_some_and(|p| p.manage_guild() || p.administrator());
    let setup = ctx.data().setup(&guild).await?;
    let agent = is_agent(&setup, &member.roles);
    Ok(Caller {
        guild,
        admin,
        agent,
    })
}

/// Poise check: Manage Server. A refusal is an error, so that it is explained to the user.
pub async fn manage_server(ctx: Context<'_>) -> Result<bool, Error> {
    let who = caller(ctx).await?;
    if !who.admin {
        let t = ctx.data().texts(&who.guild).await;
        return Err(user_error(t.not_allowed_setup));
    }
    Ok(true)
}

/// Poise check: an agent role or Manage Server.
pub async fn staff(ctx: Context<'_>) -> Result<bool, Error> {
    let who = caller(ctx).await?;
    if !who.is_staff() {
        let t = ctx.data().texts(&who.guild).await;
        return Err(user_error(t.not_allowed_stats));
    }
    Ok(true)
}

/// Poise check for `/engagement`: an agent role, Manage Server, or the guild's community role
/// (`/setup community_role`).
pub async fn community(ctx: Context<'_>) -> Result<bool, Error> {
    let who = caller(ctx).await?;
    if who.is_staff() {
        return Ok(true);
    }
    let role = ctx.data().tracking(&who.guild).await?.community_role;
    let member = ctx.author_member().await;
    let in_role = role.is_some_and(|r| {
        member
            .as_ref()
            .is_some_and(|m| m.roles.iter().any(|x| x.to_string() == r))
    });
    if !in_role {
        let locale = ctx.data().rules(&who.guild).await?.locale;
        return Err(user_error(crate::i18n::community_texts(locale).not_allowed));
    }
    Ok(true)
}

/// Whether the author of a guild message may speak for Support with it: an agent role, or
/// Manage Server (Administrator, the owner), as `/close` asks, checked at this message. The
/// roles come from the message (the gateway sends them), else the cache, else Discord (a
/// message read back from history carries none); the permissions from the guild's roles. An
/// error means Discord could not say (a passing failure): the caller reads the message later.
pub async fn speaks_for_support(
    ctx: &serenity::Context,
    msg: &serenity::Message,
    setup: &DiscordSetup,
) -> anyhow::Result<bool> {
    let Some(guild_id) = msg.guild_id else {
        return Ok(false);
    };
    let roles = match member_roles(ctx, msg, guild_id).await? {
        Some(roles) => roles,
        // No longer a member: nobody to speak for Support.
        None => return Ok(false),
    };
    if is_agent(setup, &roles) {
        return Ok(true);
    }
    let (owner, everyone_and_roles) = guild_permissions(ctx, guild_id, &roles).await?;
    Ok(owner == msg.author.id
        || everyone_and_roles.manage_guild()
        || everyone_and_roles.administrator())
}

/// The author's roles at the message; `None` when Discord says they are not a member.
async fn member_roles(
    ctx: &serenity::Context,
    msg: &serenity::Message,
    guild_id: serenity::GuildId,
) -> anyhow::Result<Option<Vec<serenity::RoleId>>> {
    if let Some(m) = &msg.member {
        return Ok(Some(m.roles.clone()));
    }
    let cached = ctx
        .cache
        .guild(guild_id)
        .and_then(|g| g.members.get(&msg.author.id).map(|m| m.roles.clone()));
    if cached.is_some() {
        return Ok(cached);
    }
    match guild_id.member(&ctx.http, msg.author.id).await {
        Ok(m) => Ok(Some(m.roles)),
        Err(e) if http_status(&e) == Some(404) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read the author's roles: {e}")),
    }
}

/// The guild's owner, and the permissions of everyone plus `roles` (from the cache, else
/// Discord).
async fn guild_permissions(
    ctx: &serenity::Context,
    guild_id: serenity::GuildId,
    roles: &[serenity::RoleId],
) -> anyhow::Result<(serenity::UserId, serenity::Permissions)> {
    let sum = |all: &std::collections::HashMap<serenity::RoleId, serenity::Role>| {
        let everyone = serenity::RoleId::new(guild_id.get());
        all.iter()
            .filter(|(id, _)| **id == everyone || roles.contains(id))
            .fold(serenity::Permissions::empty(), |p, (_, r)| {
                p | r.permissions
            })
    };
    if let Some(g) = ctx.cache.guild(guild_id) {
        return Ok((g.owner_id, sum(&g.roles)));
    }
    let g = ctx
        .http
        .get_guild(guild_id)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the server's roles: {e}"))?;
    Ok((g.owner_id, sum(&g.roles)))
}

/// The HTTP status of a refused Discord call, if that is what `e` is.
pub fn http_status(e: &serenity::Error) -> Option<u16> {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => {
            Some(r.status_code.as_u16())
        }
        _ => None,
    }
}
