//! Slash commands. Each checks who may use it on every call (not only through Discord's
//! default permissions, which a server admin can change), then calls the desk and replies.

use super::handler::is_agent;
use super::outbox::commit_and_send;
use super::relay::no_pings;
use super::{event, user_error, Bot, Context, Error};
use crate::cli::TimeSpec;
use crate::domain::kpi::{Scope, Window};
use crate::domain::{BadgeStatistic, EventKind, Locale, SECOND};
use crate::i18n;
use crate::store::{Commit, OutboxItem, OutboxOp, WatchKind, WatchedChannel};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

pub fn all() -> Vec<poise::Command<Arc<Bot>, Error>> {
    vec![setup(), stats(), close(), forget_me()]
}

struct Caller {
    guild: String,
    admin: bool,
    agent: bool,
}

async fn caller(ctx: Context<'_>) -> Result<Caller, Error> {
    let guild = ctx
        .guild_id()
        .ok_or_else(|| user_error("Use this command in a server."))?
        .to_string();
    let member = ctx
        .author_member()
        .await
        .ok_or_else(|| user_error("Your membership of this server could not be checked."))?;
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

async fn say(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    ctx.send(
        poise::CreateReply::default()
            .content(text)
            .ephemeral(true)
            .allowed_mentions(no_pings()),
    )
    .await?;
    Ok(())
}

#[derive(Debug, poise::ChoiceParameter)]
pub enum LocaleChoice {
    #[name = "en"]
    En,
    #[name = "fr"]
    Fr,
}

#[derive(Debug, poise::ChoiceParameter)]
pub enum StatisticChoice {
    #[name = "mean"]
    Mean,
    #[name = "median"]
    Median,
}

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

fn watch_kind(c: &serenity::PartialChannel) -> Option<WatchKind> {
    match c.kind {
        serenity::ChannelType::Text | serenity::ChannelType::News => Some(WatchKind::Text),
        serenity::ChannelType::Forum => Some(WatchKind::Forum),
        _ => None,
    }
}

/// Configure reactif for this server (Manage Server). With no option, shows the settings.
#[allow(clippy::too_many_arguments)]
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn setup(
    ctx: Context<'_>,
    #[description = "Text channel where ticket threads open"] staff_channel: Option<
        serenity::PartialChannel,
    >,
    #[description = "Add a role whose members are agents"] agent_role: Option<serenity::Role>,
    #[description = "Remove an agent role"] remove_agent_role: Option<serenity::Role>,
    #[description = "Watch a text or forum channel for support requests"] support_channel: Option<
        serenity::PartialChannel,
    >,
    #[description = "Stop watching a channel"] unwatch_channel: Option<serenity::PartialChannel>,
    #[description = "Channel for the daily load alert"] alert_channel: Option<
        serenity::PartialChannel,
    >,
    #[description = "IANA time zone, e.g. Europe/Paris"] timezone: Option<String>,
    #[description = "e.g. mon-fri 09:00-18:00, or always"] business_hours: Option<String>,
    #[description = "Seconds of agent silence before the survey (default 60)"] survey_delay: Option<
        i64,
    >,
    #[description = "Language of the bot's messages"] locale: Option<LocaleChoice>,
    #[description = "Badge: minimum response rate in % (default 90)"] badge_min_rate: Option<f64>,
    #[description = "Badge: response delay limit in seconds (default 300)"] badge_max_delay: Option<
        i64,
    >,
    #[description = "Badge: which delay statistic (default mean)"] badge_statistic: Option<
        StatisticChoice,
    >,
    #[description = "Show agents' names to customers (default: anonymous)"]
    show_agent_names: Option<bool>,
    #[description = "Keep the text of messages, for `reactif transcript` (default: off)"]
    transcripts: Option<bool>,
) -> Result<(), Error> {
    let who = caller(ctx).await?;
    let bot = ctx.data();
    let t = bot.texts(&who.guild).await;
    if !who.admin {
        return Err(user_error(t.not_allowed_setup));
    }
    let store = bot.desk.store();
    let mut rules = store.guild_rules(&who.guild).await?;
    let mut d = store.discord_setup(&who.guild).await?;
    let mut changed = Vec::new();
    if let Some(c) = staff_channel {
        if watch_kind(&c) != Some(WatchKind::Text) {
            return Err(user_error(
                "staff_channel must be a text channel, e.g. #staff.",
            ));
        }
        d.staff_channel_id = Some(c.id.to_string());
        changed.push(format!("staff channel <#{}>", c.id));
    }
    if let Some(r) = agent_role {
        let id = r.id.to_string();
        if !d.agent_roles.contains(&id) {
            d.agent_roles.push(id);
        }
        changed.push(format!("agent role <@&{}> added", r.id));
    }
    if let Some(r) = remove_agent_role {
        d.agent_roles.retain(|x| x != &r.id.to_string());
        changed.push(format!("agent role <@&{}> removed", r.id));
    }
    if let Some(c) = support_channel {
        let kind = watch_kind(&c).ok_or_else(|| {
            user_error("support_channel must be a text or forum channel, e.g. #support.")
        })?;
        let id = c.id.to_string();
        d.watched.retain(|w| w.channel_id != id);
        d.watched.push(WatchedChannel {
            channel_id: id,
            kind,
        });
        changed.push(format!("watching <#{}> ({})", c.id, kind.name()));
    }
    if let Some(c) = unwatch_channel {
        d.watched.retain(|w| w.channel_id != c.id.to_string());
        changed.push(format!("no longer watching <#{}>", c.id));
    }
    if let Some(c) = alert_channel {
        d.alert_channel_id = Some(c.id.to_string());
        changed.push(format!("alert channel <#{}>", c.id));
    }
    if let Some(tz) = timezone {
        rules.timezone = tz.trim().parse().map_err(|_| {
            user_error(format!("`{tz}` is not an IANA time zone: use a name like Europe/Paris or America/New_York."))
        })?;
        changed.push(format!("time zone {}", rules.timezone.name()));
    }
    if let Some(h) = business_hours {
        rules.business_hours = h.parse().map_err(user_error)?;
        changed.push(format!("business hours {}", rules.business_hours));
    }
    if let Some(s) = survey_delay {
        if !(0..=86_400).contains(&s) {
            return Err(user_error(
                "survey_delay is in seconds, from 0 to 86400 (e.g. 60).",
            ));
        }
        rules.survey_delay_ms = s * SECOND;
        changed.push(format!("survey delay {s} s"));
    }
    if let Some(l) = locale {
        rules.locale = match l {
            LocaleChoice::En => Locale::En,
            LocaleChoice::Fr => Locale::Fr,
        };
        changed.push(format!("locale {}", rules.locale));
    }
    if let Some(p) = badge_min_rate {
        if !(p.is_finite() && (0.0..=100.0).contains(&p)) {
            return Err(user_error(
                "badge_min_rate is a percentage from 0 to 100 (e.g. 90).",
            ));
        }
        rules.badge.min_rate_bp = (p * 100.0).round() as u32;
        changed.push(format!("badge minimum rate {p} %"));
    }
    if let Some(s) = badge_max_delay {
        if !(1..=7 * 86_400).contains(&s) {
            return Err(user_error(
                "badge_max_delay is in seconds, from 1 to 604800 (e.g. 300).",
            ));
        }
        rules.badge.max_delay_ms = s * SECOND;
        changed.push(format!("badge delay limit {s} s"));
    }
    if let Some(s) = badge_statistic {
        rules.badge.statistic = match s {
            StatisticChoice::Mean => BadgeStatistic::Mean,
            StatisticChoice::Median => BadgeStatistic::Median,
        };
        changed.push(format!("badge statistic {}", rules.badge.statistic.name()));
    }
    if let Some(b) = show_agent_names {
        d.show_agent_names = b;
        changed.push(format!("agent names shown to customers: {b}"));
    }
    if let Some(b) = transcripts {
        d.transcripts = b;
        changed.push(format!("transcripts kept: {b}"));
    }
    if !changed.is_empty() {
        store.save_guild_rules(&who.guild, &rules).await?;
        store.save_discord_setup(&who.guild, &d).await?;
    }
    let current = format!(
        "staff channel: {}\nagent roles: {}\nwatched: {}\nalert channel: {}\ntime zone: {}\nbusiness hours: {}\nsurvey delay: {} s\nlocale: {}\nbadge: rate ≥ {} %, {} delay < {} s\nagent names shown: {}\ntranscripts kept: {}",
        d.staff_channel_id.as_ref().map(|c| format!("<#{c}>")).unwrap_or_else(|| "not set".into()),
        if d.agent_roles.is_empty() { "none".to_string() } else { d.agent_roles.iter().map(|r| format!("<@&{r}>")).collect::<Vec<_>>().join(", ") },
        if d.watched.is_empty() { "none".to_string() } else { d.watched.iter().map(|w| format!("<#{}> ({})", w.channel_id, w.kind.name())).collect::<Vec<_>>().join(", ") },
        d.alert_channel_id.as_ref().map(|c| format!("<#{c}>")).unwrap_or_else(|| "not set".into()),
        rules.timezone.name(),
        rules.business_hours,
        rules.survey_delay_ms / SECOND,
        rules.locale,
        rules.badge.min_rate_bp as f64 / 100.0,
        rules.badge.statistic.name(),
        rules.badge.max_delay_ms / SECOND,
        d.show_agent_names,
        d.transcripts,
    );
    let text = if changed.is_empty() {
        format!("**reactif settings**\n{current}")
    } else {
        format!("**Saved:** {}\n\n{current}", changed.join("; "))
    };
    say(ctx, text).await
}

/// A message waiting this long for Discord is shown in `/stats`.
pub const BACKLOG_SHOWN_AFTER: crate::domain::Millis = crate::domain::MINUTE;

/// Support KPIs for this server: load, response rate and delay, satisfaction, badge, alert.
#[poise::command(slash_command, guild_only)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "Period ending now (default 7d)"] period: Option<Period>,
    #[description = "Start: a day (2026-11-01) or an RFC 3339 time"] since: Option<String>,
    #[description = "End: a day (2026-11-08) or an RFC 3339 time"] until: Option<String>,
    #[description = "Only this agent's answers"] agent: Option<serenity::User>,
    #[description = "Only conversations in this channel"] channel: Option<serenity::PartialChannel>,
    #[description = "Also attach a CSV of the requests"] export: Option<bool>,
) -> Result<(), Error> {
    let who = caller(ctx).await?;
    let bot = ctx.data();
    let t = bot.texts(&who.guild).await;
    if !(who.admin || who.agent) {
        return Err(user_error(t.not_allowed_stats));
    }
    // Large histories take longer than Discord's 3 s: acknowledge first.
    ctx.defer_ephemeral().await?;
    let rules = bot.rules(&who.guild).await?;
    let now = bot.now();
    let spec = |s: &str, what: &str| -> Result<TimeSpec, Error> {
        s.parse::<TimeSpec>()
            .map_err(|e| user_error(format!("{what}: {e}")))
    };
    let to = match &until {
        Some(u) => spec(u, "until")?.resolve(&rules.timezone, now, now),
        None => now,
    };
    let from_spec = match (&since, period) {
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
    let conversations = match &channel {
        Some(c) => Some(
            bot.desk
                .store()
                .conversations_in_channel(&who.guild, &c.id.to_string())
                .await?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let scope = Scope {
        guild_id: Some(who.guild.clone()),
        agent_id: agent.as_ref().map(|a| a.id.to_string()),
        conversations,
    };
    let window = Window { from, to, now };
    let report = bot.desk.report(&scope, window).await?;
    let texts = i18n::texts(rules.locale);
    let png = crate::report::chart::render_png(&report, texts)?;
    let mut reply = poise::CreateReply::default()
        .embed(super::render::embed(&report, texts))
        .attachment(serenity::CreateAttachment::bytes(
            png,
            super::render::CHART_NAME,
        ))
        .ephemeral(true)
        .allowed_mentions(no_pings());
    if export == Some(true) {
        let events = bot.desk.store().events_until(Some(&who.guild), now).await?;
        let (all, _) = bot.desk.report_rules(&scope).await?;
        let mut csv = String::from(crate::report::csv::EXPORT_HEADER);
        for row in crate::desk::export_rows(&events, &all, &scope, window) {
            csv.push_str(&crate::report::csv::export_row(&row));
        }
        reply = reply.attachment(serenity::CreateAttachment::bytes(
            csv.into_bytes(),
            "reactif-requests.csv",
        ));
    }
    // Figures are exact, but messages the bot owes Discord (relays, surveys) may be stuck:
    // agents should know.
    let crate::store::OutboxBacklog { pending, oldest } =
        bot.desk.store().outbox_backlog(Some(&who.guild)).await?;
    if let Some(oldest) = oldest.filter(|o| now - o >= BACKLOG_SHOWN_AFTER) {
        reply = reply.content(
            texts
                .outbox_backlog
                .replace("{n}", &pending.to_string())
                .replace("{age}", &crate::report::human_ms(Some(now - oldest))),
        );
    }
    ctx.send(reply).await?;
    Ok(())
}

/// End this conversation (ticket thread, forum post, support channel, or your DM ticket).
#[poise::command(slash_command)]
pub async fn close(
    ctx: Context<'_>,
    #[description = "In a watched text channel: whose conversation"] customer: Option<
        serenity::User,
    >,
) -> Result<(), Error> {
    let bot = ctx.data();
    let store = bot.desk.store();
    let user = ctx.author().id;
    let here = ctx.channel_id();
    let close_event = |guild: &str, conversation: &str| {
        event(ctx.id(), guild, conversation, user.get(), EventKind::Close)
    };
    let Some(guild_id) = ctx.guild_id() else {
        // A customer closing their own DM ticket(s).
        let mut closed = 0;
        for g in store.guilds_with_staff_channel().await? {
            let Some(ticket) = store.ticket(&g, &user.to_string()).await? else {
                continue;
            };
            if ticket.dm_channel_id != here.to_string() {
                continue;
            }
            let ev = close_event(&g, &ticket.conversation);
            let t = bot.texts(&g).await;
            let notice = ticket.thread_id.as_ref().map(|thread| {
                OutboxOp::enqueue(
                    OutboxItem::post_text(
                        format!("closed:{}", ev.id),
                        thread,
                        &format!("{} (customer)", t.ticket_closed_staff),
                        bot.now(),
                    )
                    .in_place(&g, &ticket.conversation),
                )
            });
            let commit = Commit {
                events: vec![ev],
                require_new: true,
                outbox: notice.into_iter().collect(),
                ..Commit::default()
            };
            if commit_and_send(bot, ctx.http(), commit).await?.committed() {
                closed += 1;
            }
        }
        let text = if closed > 0 {
            i18n::EN.ticket_closed_customer
        } else {
            "You have no open conversation here."
        };
        return say(ctx, text).await;
    };
    let who = caller(ctx).await?;
    let t = bot.texts(&who.guild).await;
    let staff = who.admin || who.agent;
    if let Some(ticket) = store.ticket_by_thread(&here.to_string()).await? {
        if !staff {
            return Err(user_error("Only agents can close a ticket."));
        }
        let ev = close_event(&who.guild, &ticket.conversation);
        let customer_t = i18n::texts(bot.rules(&ticket.guild_id).await?.locale);
        let notice = OutboxItem::post_text(
            format!("closed:{}", ev.id),
            &ticket.dm_channel_id,
            customer_t.ticket_closed_customer,
            bot.now(),
        )
        .in_place(&ticket.guild_id, &ticket.conversation);
        let commit = Commit {
            events: vec![ev],
            require_new: true,
            outbox: vec![OutboxOp::enqueue(notice)],
            ..Commit::default()
        };
        commit_and_send(bot, ctx.http(), commit).await?;
        ctx.send(poise::CreateReply::default().content(t.ticket_closed_staff))
            .await?;
        return Ok(());
    }
    let setup = bot.setup(&who.guild).await?;
    let here_id = here.to_string();
    let conversation = if setup
        .watched
        .iter()
        .any(|w| w.channel_id == here_id && w.kind == WatchKind::Text)
    {
        let Some(c) = customer else {
            return Err(user_error(
                "In a support channel, say whose conversation ends: /close customer:@someone",
            ));
        };
        if !staff {
            return Err(user_error("Only agents can close someone's conversation."));
        }
        format!("{here_id}:{}", c.id)
    } else {
        let thread = super::watch::thread_info(ctx.serenity_context(), here).await;
        let watched = thread.as_ref().and_then(|th| {
            setup
                .watched
                .iter()
                .find(|w| Some(&w.channel_id) == th.parent_id.as_ref())
                .map(|w| (w.kind, th))
        });
        let Some((kind, th)) = watched else {
            return Err(user_error(
                "Use /close in a ticket thread, a watched forum post or a watched support channel.",
            ));
        };
        let owner = th.owner_id.unwrap_or_default();
        if !(staff || owner == user.get()) {
            return Err(user_error(
                "Only agents or the author of this post can close it.",
            ));
        }
        match kind {
            WatchKind::Forum => here_id.clone(),
            WatchKind::Text => format!("{}:{owner}", th.parent_id.clone().unwrap_or_default()),
        }
    };
    let _ = guild_id;
    bot.desk
        .ingest_live(&close_event(&who.guild, &conversation))
        .await?;
    ctx.send(poise::CreateReply::default().content(t.ticket_closed_staff))
        .await?;
    Ok(())
}

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
            "Done: {n} conversation(s) no longer carry your id, and your comments are deleted. Anonymous counts stay for the team's statistics. / C'est fait : vos identifiants et commentaires sont effacés."
        ),
    )
    .await
}
