//! `/stats`: the guild's support KPIs, for agents and admins.

use crate::desk::{EXPORT_MAX_ROWS, PLACES_REPORT_MAX_EVENTS};
use crate::discord::access;
use crate::discord::bot::{database_unreachable, Bot, Context, Error};
use crate::discord::live::discord_time;
use crate::discord::render::report::{embed, CHART_NAME, HEATMAP_NAME};
use crate::discord::replies::{no_pings, user_error};
use crate::domain::kpi::{Report, Scope, Window};
use crate::domain::{bounds, GuildRules, Millis, TimeSpec, MINUTE};
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
    // Discord's clock, not the host's: the interaction came after every message it reports
    // on, so a host clock a few seconds off neither hides the latest ones nor sends the report
    // down the slow path (a `now` before the guild's newest event is replayed).
    let now = discord_time(ctx.id());
    let window = window(&rules, now, period, since.as_deref(), until.as_deref())?;
    let texts = i18n::texts(rules.locale);
    let limits = i18n::limit_texts(rules.locale);
    // An export or a channel reads places one by one: one such report per guild at a time.
    let heavy = export == Some(true) || channel.is_some();
    let _slot = match heavy {
        true => match bot.heavy.try_start(&guild) {
            Some(slot) => Some(slot),
            None => return Err(user_error(limits.stats_busy)),
        },
        false => None,
    };
    let (scope, report) = match scoped_report(bot, &guild, &rules, window, agent, channel).await {
        Ok(done) => done,
        // The database cannot write (the report's rollups need it): say what waits for it.
        // Any other failure stays an error, even while messages wait.
        Err(e) => match store_note(bot, bot.now(), texts) {
            Some(note) if database_unreachable(&e) => {
                return crate::discord::replies::say(ctx, note).await
            }
            _ => return Err(e),
        },
    };
    let mut reply = report_reply(&report, texts)?;
    let mut notes = Vec::new();
    if export == Some(true) {
        let (csv, capped) = export_csv(bot, &guild, &scope, window).await?;
        reply = reply.attachment(csv);
        if capped {
            notes.push(
                limits
                    .export_capped
                    .replace("{limit}", &EXPORT_MAX_ROWS.to_string()),
            );
        }
    }
    // The outbox runs on the host's clock: its waits are measured on it.
    if let Some(note) = backlog_note(bot, &guild, bot.now(), texts).await? {
        notes.push(note);
    }
    notes.extend(store_note(bot, bot.now(), texts));
    if !notes.is_empty() {
        reply = reply.content(notes.join("\n"));
    }
    ctx.send(reply).await?;
    Ok(())
}

/// The report over the options' agent and channel; a channel's reads its places only.
async fn scoped_report(
    bot: &Bot,
    guild: &str,
    rules: &GuildRules,
    window: Window,
    agent: Option<serenity::User>,
    channel: Option<serenity::PartialChannel>,
) -> Result<(Scope, Report), Error> {
    let conversations = match &channel {
        Some(c) => Some(
            bot.desk
                .store()
                .conversations_in_channel(guild, &c.id.to_string())
                .await?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let scope = Scope {
        guild_id: Some(guild.to_string()),
        agent_id: agent.as_ref().map(|a| a.id.to_string()),
        conversations,
    };
    let report = match &scope.conversations {
        Some(_) => bot
            .desk
            .places_report(guild, &scope, window, PLACES_REPORT_MAX_EVENTS)
            .await?
            .ok_or_else(|| {
                let t = i18n::limit_texts(rules.locale);
                user_error(
                    t.channel_too_large
                        .replace("{n}", &PLACES_REPORT_MAX_EVENTS.to_string()),
                )
            })?,
        None => bot.desk.report(&scope, window).await?,
    };
    Ok((scope, report))
}

/// The window the options ask for: `since` (or the period, 7 days by default) to `until` (or
/// now), days in the guild's time zone (`/engagement` asks the same way).
pub(super) fn window(
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
                    .replace("{value}", s)
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
    let bounded = |what: &str, at: Millis| {
        bounds::check_time(what, at, now).map_err(|e| user_error(e.to_string()))
    };
    bounded("until", to)?;
    bounded("since", from)?;
    if from >= to {
        return Err(user_error(t.cmd.empty_period));
    }
    bounds::check_window(from, to).map_err(|e| user_error(e.to_string()))?;
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
    if report.service_levels.is_some() {
        let heatmap = crate::report::chart::render_heatmap_png(report, texts)?;
        reply = reply.attachment(serenity::CreateAttachment::bytes(heatmap, HEATMAP_NAME));
    }
    Ok(reply)
}

/// The request export of the report's scope and window, as a CSV attachment, read one place
/// at a time and cut at `EXPORT_MAX_ROWS` rows (true when cut).
async fn export_csv(
    bot: &Bot,
    guild: &str,
    scope: &Scope,
    window: Window,
) -> Result<(serenity::CreateAttachment, bool), Error> {
    let export = bot
        .desk
        .export_bounded(guild, scope, window, EXPORT_MAX_ROWS)
        .await?;
    let mut csv = String::from(crate::report::csv::EXPORT_HEADER);
    for row in &export.rows {
        csv.push_str(&crate::report::csv::export_row(row));
    }
    Ok((
        serenity::CreateAttachment::bytes(csv.into_bytes(), "reactif-requests.csv"),
        export.capped,
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
