//! `/setup`: a server's settings, shown or changed (Manage Server only).

use crate::discord::access;
use crate::discord::bot::{Context, Error};
use crate::discord::replies::{say, user_error};
use crate::domain::{BadgeStatistic, GuildRules, Locale, SECOND};
use crate::store::{DiscordSetup, WatchKind, WatchedChannel};
use poise::serenity_prelude as serenity;

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

fn watch_kind(c: &serenity::PartialChannel) -> Option<WatchKind> {
    match c.kind {
        serenity::ChannelType::Text | serenity::ChannelType::News => Some(WatchKind::Text),
        serenity::ChannelType::Forum => Some(WatchKind::Forum),
        _ => None,
    }
}

/// Configure reactif for this server (Manage Server). With no option, shows the settings.
#[allow(clippy::too_many_arguments)]
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    check = "access::manage_server"
)]
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
    #[description = "New tickets one customer may open per hour (1 to 100, default 5)"]
    tickets_per_hour: Option<i64>,
) -> Result<(), Error> {
    let guild = super::guild(ctx)?;
    let store = ctx.data().desk.store();
    let mut rules = store.guild_rules(&guild).await?;
    let mut d = store.discord_setup(&guild).await?;
    let channels = ChannelOptions {
        staff_channel,
        agent_role,
        remove_agent_role,
        support_channel,
        unwatch_channel,
        alert_channel,
    };
    let timing = TimingOptions {
        timezone,
        business_hours,
        survey_delay,
        locale,
    };
    let badge = BadgeOptions {
        badge_min_rate,
        badge_max_delay,
        badge_statistic,
    };
    let mut changed = apply_channels(&mut d, channels)?;
    changed.extend(apply_timing(&mut rules, timing)?);
    changed.extend(apply_badge(&mut rules, badge)?);
    changed.extend(apply_privacy(&mut d, show_agent_names, transcripts));
    if !changed.is_empty() {
        store.save_guild_rules(&guild, &rules).await?;
        store.save_discord_setup(&guild, &d).await?;
    }
    if let Some(n) = tickets_per_hour {
        let n = ticket_limit(n)?;
        store.set_ticket_limit(&guild, n).await?;
        changed.push(format!("tickets per customer per hour: {n}"));
    }
    let current = format!(
        "{}\ntickets per customer per hour: {}",
        describe(&rules, &d),
        store.ticket_limit(&guild).await?
    );
    let text = if changed.is_empty() {
        format!("**reactif settings**\n{current}")
    } else {
        format!("**Saved:** {}\n\n{current}", changed.join("; "))
    };
    say(ctx, text).await
}

struct ChannelOptions {
    staff_channel: Option<serenity::PartialChannel>,
    agent_role: Option<serenity::Role>,
    remove_agent_role: Option<serenity::Role>,
    support_channel: Option<serenity::PartialChannel>,
    unwatch_channel: Option<serenity::PartialChannel>,
    alert_channel: Option<serenity::PartialChannel>,
}

/// Channels and roles; returns what changed, in words.
fn apply_channels(d: &mut DiscordSetup, o: ChannelOptions) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(c) = o.staff_channel {
        if watch_kind(&c) != Some(WatchKind::Text) {
            return Err(user_error(
                "staff_channel must be a text channel, e.g. #staff.",
            ));
        }
        d.staff_channel_id = Some(c.id.to_string());
        changed.push(format!("staff channel <#{}>", c.id));
    }
    if let Some(r) = o.agent_role {
        let id = r.id.to_string();
        if !d.agent_roles.contains(&id) {
            d.agent_roles.push(id);
        }
        changed.push(format!("agent role <@&{}> added", r.id));
    }
    if let Some(r) = o.remove_agent_role {
        d.agent_roles.retain(|x| x != &r.id.to_string());
        changed.push(format!("agent role <@&{}> removed", r.id));
    }
    if let Some(c) = o.support_channel {
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
    if let Some(c) = o.unwatch_channel {
        d.watched.retain(|w| w.channel_id != c.id.to_string());
        changed.push(format!("no longer watching <#{}>", c.id));
    }
    if let Some(c) = o.alert_channel {
        d.alert_channel_id = Some(c.id.to_string());
        changed.push(format!("alert channel <#{}>", c.id));
    }
    Ok(changed)
}

struct TimingOptions {
    timezone: Option<String>,
    business_hours: Option<String>,
    survey_delay: Option<i64>,
    locale: Option<LocaleChoice>,
}

/// Time zone, business hours, survey delay and language; returns what changed, in words.
fn apply_timing(rules: &mut GuildRules, o: TimingOptions) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(tz) = o.timezone {
        rules.timezone = tz.trim().parse().map_err(|_| {
            user_error(format!("`{tz}` is not an IANA time zone: use a name like Europe/Paris or America/New_York."))
        })?;
        changed.push(format!("time zone {}", rules.timezone.name()));
    }
    if let Some(h) = o.business_hours {
        rules.business_hours = h.parse().map_err(user_error)?;
        changed.push(format!("business hours {}", rules.business_hours));
    }
    if let Some(s) = o.survey_delay {
        if !(0..=86_400).contains(&s) {
            return Err(user_error(
                "survey_delay is in seconds, from 0 to 86400 (e.g. 60).",
            ));
        }
        rules.survey_delay_ms = s * SECOND;
        changed.push(format!("survey delay {s} s"));
    }
    if let Some(l) = o.locale {
        rules.locale = match l {
            LocaleChoice::En => Locale::En,
            LocaleChoice::Fr => Locale::Fr,
        };
        changed.push(format!("locale {}", rules.locale));
    }
    Ok(changed)
}

struct BadgeOptions {
    badge_min_rate: Option<f64>,
    badge_max_delay: Option<i64>,
    badge_statistic: Option<StatisticChoice>,
}

/// The badge's thresholds; returns what changed, in words.
fn apply_badge(rules: &mut GuildRules, o: BadgeOptions) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(p) = o.badge_min_rate {
        if !(p.is_finite() && (0.0..=100.0).contains(&p)) {
            return Err(user_error(
                "badge_min_rate is a percentage from 0 to 100 (e.g. 90).",
            ));
        }
        rules.badge.min_rate_bp = (p * 100.0).round() as u32;
        changed.push(format!("badge minimum rate {p} %"));
    }
    if let Some(s) = o.badge_max_delay {
        if !(1..=7 * 86_400).contains(&s) {
            return Err(user_error(
                "badge_max_delay is in seconds, from 1 to 604800 (e.g. 300).",
            ));
        }
        rules.badge.max_delay_ms = s * SECOND;
        changed.push(format!("badge delay limit {s} s"));
    }
    if let Some(s) = o.badge_statistic {
        rules.badge.statistic = match s {
            StatisticChoice::Mean => BadgeStatistic::Mean,
            StatisticChoice::Median => BadgeStatistic::Median,
        };
        changed.push(format!("badge statistic {}", rules.badge.statistic.name()));
    }
    Ok(changed)
}

/// What customers see of agents, and whether message text is kept; returns what changed.
fn apply_privacy(
    d: &mut DiscordSetup,
    show_agent_names: Option<bool>,
    transcripts: Option<bool>,
) -> Vec<String> {
    let mut changed = Vec::new();
    if let Some(b) = show_agent_names {
        d.show_agent_names = b;
        changed.push(format!("agent names shown to customers: {b}"));
    }
    if let Some(b) = transcripts {
        d.transcripts = b;
        changed.push(format!("transcripts kept: {b}"));
    }
    changed
}

/// The settings as they are now, one a line.
/// The new tickets a customer may open per hour: 1 to 100.
fn ticket_limit(n: i64) -> Result<u32, Error> {
    match u32::try_from(n) {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(user_error(format!(
            "tickets_per_hour must be 1 to 100 (e.g. 5), not {n}"
        ))),
    }
}

fn describe(rules: &GuildRules, d: &DiscordSetup) -> String {
    let channel = |c: &Option<String>| {
        c.as_ref()
            .map(|c| format!("<#{c}>"))
            .unwrap_or_else(|| "not set".into())
    };
    let roles = if d.agent_roles.is_empty() {
        "none".to_string()
    } else {
        d.agent_roles
            .iter()
            .map(|r| format!("<@&{r}>"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let watched = if d.watched.is_empty() {
        "none".to_string()
    } else {
        d.watched
            .iter()
            .map(|w| format!("<#{}> ({})", w.channel_id, w.kind.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "staff channel: {}\nagent roles: {roles}\nwatched: {watched}\nalert channel: {}\ntime zone: {}\nbusiness hours: {}\nsurvey delay: {} s\nlocale: {}\nbadge: rate ≥ {} %, {} delay < {} s\nagent names shown: {}\ntranscripts kept: {}",
        channel(&d.staff_channel_id),
        channel(&d.alert_channel_id),
        rules.timezone.name(),
        rules.business_hours,
        rules.survey_delay_ms / SECOND,
        rules.locale,
        rules.badge.min_rate_bp as f64 / 100.0,
        rules.badge.statistic.name(),
        rules.badge.max_delay_ms / SECOND,
        d.show_agent_names,
        d.transcripts,
    )
}
