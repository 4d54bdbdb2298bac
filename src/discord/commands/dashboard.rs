//! `/dashboard`: a link to the web dashboard for the agent or admin who asks, signed, for them
//! alone, valid 10 minutes and once (`desk::dashboard`). The dashboard checks the same rule
//! again on every page.

use crate::discord::access;
use crate::discord::bot::{Context, Error};
use crate::discord::replies::no_pings;

/// A link to the web dashboard (for you alone, valid 10 minutes, once).
#[poise::command(slash_command, guild_only, check = "access::staff")]
pub async fn dashboard(ctx: Context<'_>) -> Result<(), Error> {
    let guild = super::guild(ctx)?;
    let bot = ctx.data();
    let t = bot.texts(&guild).await;
    let content = match &bot.dashboard_url {
        Some(base) => {
            let link = bot
                .desk
                .dashboard_link(base, &ctx.author().id.to_string(), &guild, bot.now())
                .await?;
            t.dashboard_link.replace("{url}", &link)
        }
        None => t.dashboard_off.to_string(),
    };
    ctx.send(
        poise::CreateReply::default()
            .content(content)
            .ephemeral(true)
            .allowed_mentions(no_pings()),
    )
    .await?;
    Ok(())
}
