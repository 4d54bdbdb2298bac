//! The gateway's events, routed to the features: messages to the relay or the watched
//! channels (`messages`), READY and RESUME to the catch-up, buttons, menus and forms to the
//! surveys or the team menu by their `custom_id`. Every failure is logged with the ids
//! involved; none panics. Only `discord::run` uses this module.

mod messages;

pub use messages::from_history;

use super::bot::{Bot, Error};
use super::custom_id::{parse_component_id, ComponentId};
use super::replies::{ephemeral, interaction_failed};
use super::{catchup, relay, surveys};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

pub async fn dispatch(
    ctx: &serenity::Context,
    event: &serenity::FullEvent,
    bot: &Arc<Bot>,
) -> Result<(), Error> {
    match event {
        serenity::FullEvent::Message { new_message } => {
            messages::on_live_message(ctx, bot, new_message).await
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
        }
        serenity::FullEvent::InteractionCreate { interaction } => {
            on_interaction(ctx, bot, interaction).await
        }
        _ => {}
    }
    Ok(())
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
