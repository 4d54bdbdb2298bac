//! `/forget-me`: a customer erases their personal data.

use crate::discord::bot::{Context, Error};
use crate::discord::replies::say;

/// Erase your personal data from this bot's records (in a DM with the bot).
#[poise::command(slash_command, rename = "forget-me", dm_only)]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    let bot = ctx.data();
    let n = bot
        .desk
        .forget_customer(&ctx.author().id.to_string())
        .await?;
    say(
        ctx,
        format!(
            "Done: {n} conversation(s) no longer carry your id, nor do your reactions and replies to the community's posts, and your comments are deleted. Anonymous counts stay for the team's statistics. / C'est fait : vos identifiants (conversations, réactions et réponses aux publications) et vos commentaires sont effacés."
        ),
    )
    .await
}
