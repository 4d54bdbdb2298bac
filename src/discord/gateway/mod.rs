//! The gateway's events, routed to the features: messages to the relay or the watched
//! channels (`messages`), READY and RESUME to the catch-up, buttons, menus and forms to the
//! surveys or the team menu by their `custom_id`. Every failure is logged with the ids
//! involved; none panics. Only `discord::run` uses this module.

mod messages;

pub use messages::from_history;

use super::bot::{Bot, Error};
use super::custom_id::{parse_component_id, ComponentId};
use super::replies::{ephemeral, interaction_failed};
use super::{catchup, engagement, relay, surveys};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

pub async fn dispatch(
    ctx: &serenity::Context,
    event: &serenity::FullEvent,
    bot: &Arc<Bot>,
) -> Result<(), Error> {
    match event {
        serenity::FullEvent::Message { new_message } => {
            on_engagement(bot, engagement::on_message(ctx, bot, new_message)).await;
            messages::on_live_message(ctx, bot, new_message).await
        }
        serenity::FullEvent::ReactionAdd { add_reaction } => {
            on_engagement(bot, engagement::on_reaction(ctx, bot, add_reaction, true)).await
        }
        serenity::FullEvent::ReactionRemove { removed_reaction } => {
            on_engagement(
                bot,
                engagement::on_reaction(ctx, bot, removed_reaction, false),
            )
            .await
        }
        serenity::FullEvent::ReactionRemoveAll {
            channel_id,
            removed_from_message_id,
        } => {
            // Serenity's event names no guild: the engagement feature finds the channel's.
            let cleared = engagement::on_reactions_cleared(
                ctx,
                bot,
                None,
                *channel_id,
                *removed_from_message_id,
                None,
            );
            on_engagement(bot, cleared).await
        }
        serenity::FullEvent::ReactionRemoveEmoji { removed_reactions } => {
            let r = removed_reactions;
            let cleared = engagement::on_reactions_cleared(
                ctx,
                bot,
                r.guild_id,
                r.channel_id,
                r.message_id,
                Some(&r.emoji),
            );
            on_engagement(bot, cleared).await
        }
        serenity::FullEvent::Ready { .. } | serenity::FullEvent::Resume { .. } => {
            let kind = match event {
                serenity::FullEvent::Ready { .. } => "ready",
                _ => "resume",
            };
            crate::observe::gateway_session(kind, ctx.shard_id.0);
            bot.holes.set_context(ctx);
            // What was said while we were away is in the channels' history.
            tokio::spawn(catchup::run(ctx.clone(), Arc::clone(bot), from_history));
            let guilds = match event {
                serenity::FullEvent::Ready { data_about_bot } => {
                    data_about_bot.guilds.iter().map(|g| g.id).collect()
                }
                _ => Vec::new(),
            };
            tokio::spawn(engagement::catch_up(ctx.clone(), Arc::clone(bot), guilds));
        }
        serenity::FullEvent::InteractionCreate { interaction } => {
            on_interaction(ctx, bot, interaction).await
        }
        _ => {}
    }
    Ok(())
}

/// An engagement event (a post, a reply, a reaction), handled as one piece of work (shutdown
/// waits for it). A failure is logged: the next catch-up reads the post back from Discord.
async fn on_engagement(
    bot: &Arc<Bot>,
    handled: impl std::future::Future<Output = anyhow::Result<()>>,
) {
    let Some(_work) = bot.lifecycle.start_work() else {
        return;
    };
    if let Err(e) = handled.await {
        crate::observe::database_error(&e);
        tracing::error!(error = %format!("{e:#}"), "engagement event not stored; the next catch-up reads it back");
    }
}

/// A click or a form (slash commands go to poise's framework, not here).
async fn on_interaction(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    interaction: &serenity::Interaction,
) {
    let Some(_work) = bot.lifecycle.start_work() else {
        return;
    };
    let result = match interaction {
        serenity::Interaction::Component(c) => on_component(ctx, bot, c).await,
        serenity::Interaction::Modal(m) => surveys::on_modal(ctx, bot, m).await,
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::error!(interaction = %interaction.id(), error = %format!("{e:#}"), "interaction not handled");
        interaction_failed(ctx, interaction).await;
    }
}

async fn on_component(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    c: &serenity::ComponentInteraction,
) -> anyhow::Result<()> {
    match parse_component_id(&c.data.custom_id) {
        Some(ComponentId::Team { message_id }) => {
            relay::on_team_choice(ctx, bot, c, message_id).await
        }
        Some(ComponentId::Rate { survey_id, rating }) => {
            surveys::on_rate(ctx, bot, c, &survey_id, rating).await
        }
        Some(ComponentId::Comment { survey_id }) => {
            surveys::on_comment_button(ctx, bot, c, &survey_id).await
        }
        None => {
            tracing::warn!(custom_id = %c.data.custom_id, user = %c.user.id, "unknown component");
            ephemeral(
                ctx,
                c,
                "This button is not recognised (it may come from an older message).",
            )
            .await
        }
    }
}

/// The gateway events serenity 0.12.5 cannot parse but reactif needs, from its raw events.
///
/// MESSAGE_REACTION_REMOVE_EMOJI: serenity reads it as a `Reaction`, which requires `burst` and
/// `type`, fields Discord sends with the other reaction events but not with this one; so it
/// arrives as an unknown event, and is read here (the parsed form, should it come, goes through
/// `dispatch`).
pub struct RawEvents {
    pub bot: Arc<Bot>,
}

#[serenity::async_trait]
impl serenity::RawEventHandler for RawEvents {
    async fn raw_event(&self, ctx: serenity::Context, ev: serenity::Event) {
        let serenity::Event::Unknown(u) = ev else {
            return;
        };
        if u.kind != "MESSAGE_REACTION_REMOVE_EMOJI" {
            return;
        }
        let id = |key: &str| {
            u.value
                .get(key)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        let emoji = serde_json::from_value::<serenity::ReactionType>(u.value["emoji"].clone());
        let (Some(channel), Some(message), Ok(emoji)) = (id("channel_id"), id("message_id"), emoji)
        else {
            tracing::warn!(event = %u.value, "MESSAGE_REACTION_REMOVE_EMOJI not understood");
            return;
        };
        let cleared = engagement::on_reactions_cleared(
            &ctx,
            &self.bot,
            id("guild_id").map(serenity::GuildId::new),
            serenity::ChannelId::new(channel),
            serenity::MessageId::new(message),
            Some(&emoji),
        );
        on_engagement(&self.bot, cleared).await;
    }
}
