//! `/stats`: the guild's support KPIs, for agents and admins.

use crate::discord::access;
use crate::discord::bot::{Bot, Context, Error};
use crate::discord::render::report::{embed, CHART_NAME, HEATMAP_NAME};
use crate::discord::replies::{no_pings, user_error};
use crate::domain::kpi::{Report, Scope, Window};
use crate::domain::{GuildRules, Millis, TimeSpec, MINUTE};
use crate::i18n::{self, Texts};
use poise::serenity_prelude as serenity;

#[derive(Debug, poise::ChoiceParameter)]
pub enum Period {
    #[name = "today"]
    Today,
    #[name = "7d"]
    D7,
    #[name = "30d"]
    D30,
    #[name = "90d"]
    D90,
}

/// A message waiting this long for Discord is shown in `/stats`.
pub const BACKLOG_SHOWN_AFTER: Millis = MINUTE;

/// Support KPIs for this server: load, response rate and delay, satisfaction, badge, alert.
#[poise::command(slash_command, guild_only, check = "access::staff")]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "Period ending now (default 7d)"] period: Option<Period>,
    #[description = "Start: a day (2026-11-01) or an RFC 3339 time"] since: Option<String>,
    #[description = "End: a day (2026-11-08) or an RFC 3339 time"] until: Option<String>,
    #[description = "Only this agent's answers"] agent: Option<serenity::User>,
    #[description = "Only conversations in this channel"] channel: Option<serenity::PartialChannel>,
    #[description = "Also attach a CSV of the requests"] export: Option<bool>,
) -> Result<(), Error> {
    let guild = super::guild(ctx)?;
    let bot = ctx.data();
    // Large histories take longer than Discord's 3 s: acknowledge first.
    ctx.defer_ephemeral().await?;
    let rules = bot.rules(&guild).await?;
    let now = bot.now();
    let window = window(&rules, now, period, since.as_deref(), until.as_deref())?;
    let conversations = match &channel {
        Some(c) => Some(
            bot.desk
                .store()
                .conversations_in_channel(&guild, &c.id.to_string())
                .await?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let scope = Scope {
        guild_id: Some(guild.clone()),
        agent_id: agent.as_ref().map(|a| a.id.to_string()),
        conversations,
    };
    let report = bot.desk.report(&scope, window).await?;
    let texts = i18n::texts(rules.locale);
    let mut reply = report_reply(&report, texts)?;
    if export == Some(true) {
        reply = reply.attachment(export_csv(bot, &guild, &scope, window).await?);
    }
    if let Some(note) = backlog_note(bot, &guild, now, texts).await? {
        reply = reply.content(note);
    }
    ctx.send(reply).await?;
    Ok(())
}

/// The window the options ask for: `since` (or the period, 7 days by default) to `until` (or
/// now), days in the guild's time zone.
fn window(
    rules: &GuildRules,
    now: Millis,
    period: Option<Period>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Window, Error> {
    let spec = |s: &str, what: &str| -> Result<TimeSpec, Error> {
        s.parse::<TimeSpec>()
            .map_err(|e| user_error(format!("{what}: {e}")))
    };
    let to = match until {
        Some(u) => spec(u, "until")?.resolve(&rules.timezone, now, now),
        None => now,
    };
    let from_spec = match (since, period) {
        (Some(s), _) => spec(s, "since")?,
        (None, Some(Period::Today)) => TimeSpec::Today,
        (None, Some(Period::D30)) => TimeSpec::DaysBefore(30),
        (None, Some(Period::D90)) => TimeSpec::DaysBefore(90),
        (None, _) => TimeSpec::DaysBefore(7),
    };
    let from = from_spec.resolve(&rules.timezone, to, now);
    if from >= to {
        return Err(user_error(
            "The period is empty: `since` must be before `until`.",
        ));
    }
    Ok(Window { from, to, now })
}

/// The report as an embed with its chart and its heatmap, privately.
fn report_reply(report: &Report, texts: &Texts) -> Result<poise::CreateReply, Error> {
    let png = crate::report::chart::render_png(report, texts)?;
    let mut reply = poise::CreateReply::default()
        .embed(embed(report, texts))
        .attachment(serenity::CreateAttachment::bytes(png, CHART_NAME))
        .ephemeral(true)
        .allowed_mentions(no_pings());
    // A report has a heatmap whenever it has service levels (both paths give them).
    if report.service_levels.is_some() {
        let heatmap = crate::report::chart::render_heatmap_png(report, texts)?;
        reply = reply.attachment(serenity::CreateAttachment::bytes(heatmap, HEATMAP_NAME));
    }
    Ok(reply)
}

/// The request export of the report's scope and window, as a CSV attachment.
async fn export_csv(
    bot: &Bot,
    guild: &str,
    scope: &Scope,
    window: Window,
) -> Result<serenity::CreateAttachment, Error> {
    let events = bot
        .desk
        .store()
        .events_until(Some(guild), window.now)
        .await?;
    let (all, _) = bot.desk.report_rules(scope).await?;
    let mut csv = String::from(crate::report::csv::EXPORT_HEADER);
    for row in crate::desk::export_rows(&events, &all, scope, window) {
        csv.push_str(&crate::report::csv::export_row(&row));
    }
    Ok(serenity::CreateAttachment::bytes(
        csv.into_bytes(),
        "reactif-requests.csv",
    ))
}

/// Figures are exact, but messages the bot owes Discord (relays, surveys) may be stuck: agents
/// should know.
async fn backlog_note(
    bot: &Bot,
    guild: &str,
    now: Millis,
    texts: &Texts,
) -> Result<Option<String>, Error> {
    let crate::store::OutboxBacklog { pending, oldest } =
        bot.desk.store().outbox_backlog(Some(guild)).await?;
    Ok(oldest
        .filter(|o| now - o >= BACKLOG_SHOWN_AFTER)
        .map(|oldest| {
            texts
                .outbox_backlog
                .replace("{n}", &pending.to_string())
                .replace("{age}", &crate::report::human_ms(Some(now - oldest)))
        }))
}
