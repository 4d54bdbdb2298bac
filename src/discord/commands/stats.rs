//! `/stats`: the guild's support KPIs, for agents and admins.

use crate::discord::access;
use crate::discord::bot::{Bot, Context, Error};
use crate::discord::render::report::{embed, CHART_NAME};
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
    let texts = i18n::texts(rules.locale);
    let report = match bot.desk.report(&scope, window).await {
        Ok(report) => report,
        // The database cannot write (the report's rollups need it): say what waits for it.
        Err(e) => match store_note(bot, now, texts) {
            Some(note) if e.is_transient() => {
                return crate::discord::replies::say(ctx, note).await;
            }
            _ => return Err(e.into()),
        },
    };
    let mut reply = report_reply(&report, texts)?;
    if export == Some(true) {
        reply = reply.attachment(export_csv(bot, &guild, &scope, window).await?);
    }
    let notes: Vec<String> = backlog_note(bot, &guild, now, texts)
        .await?
        .into_iter()
        .chain(store_note(bot, now, texts))
        .collect();
    if !notes.is_empty() {
        reply = reply.content(notes.join("\n"));
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
    let t = crate::i18n::texts(rules.locale);
    let spec = |s: &str, what: &str| -> Result<TimeSpec, Error> {
        s.parse::<TimeSpec>().map_err(|e| {
            user_error(
                t.cmd
                    .bad_time
                    .replace("{what}", what)
                    .replace("{error}", &e.to_string()),
            )
        })
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
        return Err(user_error(t.cmd.empty_period));
    }
    Ok(Window { from, to, now })
}

/// The report as an embed with its chart, privately.
fn report_reply(report: &Report, texts: &Texts) -> Result<poise::CreateReply, Error> {
    let png = crate::report::chart::render_png(report, texts)?;
    Ok(poise::CreateReply::default()
        .embed(embed(report, texts))
        .attachment(serenity::CreateAttachment::bytes(png, CHART_NAME))
        .ephemeral(true)
        .allowed_mentions(no_pings()))
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

/// Messages waiting for the database (it cannot write: away, full, read-only): the figures
/// miss them until then.
fn store_note(bot: &Bot, now: Millis, texts: &Texts) -> Option<String> {
    let (n, since, _) = bot.store_waits.now()?;
    Some(
        texts
            .store_backlog
            .replace("{n}", &n.to_string())
            .replace("{age}", &crate::report::human_ms(Some(now - since))),
    )
}
