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
