//! `/engagement`: the communication figures of docs/engagement.md for this server, for agents,
//! admins and the community role.

use super::stats::{window, Period};
use crate::discord::access;
use crate::discord::bot::{Context, Error};
use crate::discord::live::discord_time;
use crate::discord::render::engagement::{embed, CHART_NAME};
use crate::discord::replies::{no_pings, user_error};
use crate::domain::engagement::Filters;
use crate::i18n;
use poise::serenity_prelude as serenity;

/// Engagement of the community's posts: reactions, replies, audience, per theme, top posts.
#[poise::command(slash_command, guild_only, check = "access::community")]
pub async fn engagement(
    ctx: Context<'_>,
    #[description = "Period ending now (default 7d)"] period: Option<Period>,
    #[description = "Start: a day (2026-11-01) or an RFC 3339 time"] since: Option<String>,
    #[description = "End: a day (2026-11-08) or an RFC 3339 time"] until: Option<String>,
    #[description = "Only the posts with this theme (a forum tag or a hashtag, without #)"]
    theme: Option<String>,
) -> Result<(), Error> {
    let guild = super::guild(ctx)?;
    let bot = ctx.data();
    ctx.defer_ephemeral().await?;
    let rules = bot.rules(&guild).await?;
    // Discord's clock, as /stats: the interaction comes after every post it reports on.
    let now = discord_time(ctx.id());
    let window = window(&rules, now, period, since.as_deref(), until.as_deref())?;
    let t = i18n::engagement_texts(rules.locale);
    let c = i18n::community_texts(rules.locale);
    let theme = theme.map(|s| s.trim().trim_start_matches('#').to_string());
    let filters = Filters {
        guild_id: Some(guild.clone()),
        theme: theme.clone().filter(|s| !s.is_empty()),
    };
    let report = bot.desk.engagement_report(&filters, window).await?;
    if let Some(theme) = &filters.theme {
        if report.current.figures.posts == 0 && report.previous.figures.posts == 0 {
            return Err(user_error(c.unknown_theme.replace("{theme}", theme)));
        }
    }
    let nothing_tracked = bot.tracking(&guild).await?.channels.is_empty();
    let mut reply = poise::CreateReply::default()
        .embed(embed(&report, t, c, nothing_tracked))
        .ephemeral(true)
        .allowed_mentions(no_pings());
    if report.current.figures.posts > 0 {
        let png = crate::report::engagement::chart::render_png(&report, t)?;
        reply = reply.attachment(serenity::CreateAttachment::bytes(png, CHART_NAME));
    }
    ctx.send(reply).await?;
    Ok(())
}
