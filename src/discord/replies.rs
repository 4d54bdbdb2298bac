//! Replies to people, and the one place where an error becomes what the user reads: a refusal
//! or a bad value (`UserError`) is shown as it is, ephemerally; anything else is logged and
//! answered with a generic apology. Nothing the bot writes pings anyone.

use super::bot::{Bot, Context, Error};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

/// A refusal or a bad value that the user should read, as an ephemeral reply; everything else
/// is logged and answered with a generic apology.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

pub fn user_error(msg: impl Into<String>) -> Error {
    UserError(msg.into()).into()
}

/// The words for the person who used a command, from their Discord client's language: for the
/// answers given before a guild (and its locale) is known.
pub fn user_texts(ctx: Context<'_>) -> &'static crate::i18n::Texts {
    match ctx.locale() {
        Some(l) if l.starts_with("fr") => &crate::i18n::FR,
        _ => &crate::i18n::EN,
    }
}

pub fn no_pings() -> serenity::CreateAllowedMentions {
    serenity::CreateAllowedMentions::new()
        .everyone(false)
        .all_users(false)
        .all_roles(false)
        .replied_user(false)
}

/// A command's ephemeral answer.
pub async fn say(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    ctx.send(
        poise::CreateReply::default()
            .content(text)
            .ephemeral(true)
            .allowed_mentions(no_pings()),
    )
    .await?;
    Ok(())
}

/// A button's or menu's ephemeral answer.
pub async fn ephemeral(
    ctx: &serenity::Context,
    c: &serenity::ComponentInteraction,
    text: &str,
) -> anyhow::Result<()> {
    c.create_response(
        &ctx.http,
        serenity::CreateInteractionResponse::Message(
            serenity::CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true),
        ),
    )
    .await?;
    Ok(())
}

/// Tells the clicker of a button or form that failed, rather than leave Discord's
/// "interaction failed" (this fails harmlessly if a response was already sent).
pub async fn interaction_failed(ctx: &serenity::Context, interaction: &serenity::Interaction) {
    let sorry = serenity::CreateInteractionResponse::Message(
        serenity::CreateInteractionResponseMessage::new()
            .content("Something went wrong on our side; please try again in a minute. / Un problème de notre côté : réessayez dans une minute.")
            .ephemeral(true),
    );
    let _ = match interaction {
        serenity::Interaction::Component(c) => c.create_response(&ctx.http, sorry).await,
        serenity::Interaction::Modal(m) => m.create_response(&ctx.http, sorry).await,
        _ => Ok(()),
    };
}

/// A command that failed or was refused (by its body or by its access check).
async fn command_failed(ctx: Context<'_>, error: Error) {
    let text = match error.downcast_ref::<UserError>() {
        Some(u) => u.0.clone(),
        None => {
            tracing::error!(command = %ctx.command().name, error = %format!("{error:#}"), "command failed");
            "Something went wrong on our side; it has been logged. Please try again.".to_string()
        }
    };
    let _ = ctx
        .send(poise::CreateReply::default().content(text).ephemeral(true))
        .await;
}

/// Poise's error handler.
pub async fn on_error(error: poise::FrameworkError<'_, Arc<Bot>, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => command_failed(ctx, error).await,
        poise::FrameworkError::CommandCheckFailed {
            error: Some(error),
            ctx,
            ..
        } => command_failed(ctx, error).await,
        poise::FrameworkError::ArgumentParse {
            error, input, ctx, ..
        } => {
            let text = format!(
                "`{}` is not a valid value: {error}",
                input.unwrap_or_default()
            );
            let _ = ctx
                .send(poise::CreateReply::default().content(text).ephemeral(true))
                .await;
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!("error while handling an error: {e}");
            }
        }
    }
}
