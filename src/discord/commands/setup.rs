//! `/setup`: a server's settings, shown or changed (Manage Server only).

use super::setup_engagement::{self, TrackingOptions};
use crate::discord::access;
use crate::discord::bot::{Context, Error};
use crate::discord::replies::{say, user_error};
use crate::domain::{BadgeStatistic, GuildRules, Locale, SECOND};
use crate::i18n::Texts;
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

// Long because poise takes each option as a parameter (one line each); the work is in the
// `apply_*` functions below. (A doc comment here would be the command's description.)
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
    #[description = "Track engagement of the posts in a text, announcement or forum channel"]
    engagement_channel: Option<serenity::PartialChannel>,
    #[description = "Stop tracking engagement in a channel"] remove_engagement_channel: Option<
        serenity::PartialChannel,
    >,
    #[description = "Role whose members may use /engagement"] community_role: Option<
        serenity::Role,
    >,
    #[description = "Clear the community role"] clear_community_role: Option<bool>,
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
    // Messages in the guild's language as it was when the command came (a change of `locale`
    // answers in the old one: the admin typed in it).
    let c = crate::i18n::texts(rules.locale);
    let community = crate::i18n::community_texts(rules.locale);
    let mut tracking = store.tracking_setup(&guild).await?;
    let tracking_options = TrackingOptions {
        engagement_channel,
        remove_engagement_channel,
        community_role,
        clear_community_role,
    };
    let tracking_changed = tracking_options.any();
    let mut changed = setup_engagement::apply(&mut tracking, tracking_options, community)?;
    changed.extend(apply_channels(&mut d, channels, c)?);
    changed.extend(apply_timing(&mut rules, timing, c)?);
    changed.extend(apply_badge(&mut rules, badge, c)?);
    changed.extend(apply_privacy(&mut d, show_agent_names, transcripts, c));
    if !changed.is_empty() {
        store.save_guild_rules(&guild, &rules).await?;
        store.save_discord_setup(&guild, &d).await?;
        ctx.data().known.forget_guild(&guild);
        ctx.data().lost_staff.found(&guild);
    }
    if tracking_changed {
        store.save_tracking_setup(&guild, &tracking).await?;
        ctx.data().known.forget_guild(&guild);
    }
    let mut current = format!(
        "{}\n{}",
        describe(&rules, &d, c),
        setup_engagement::describe(&tracking, community, c.cmd.none, c.cmd.not_set)
    );
    if let Some((channel, status)) = ctx.data().lost_staff.get(&guild) {
        let lost = c
            .cmd
            .lost_staff_channel
            .replace("{status}", &status.to_string())
            .replace("{channel}", &format!("<#{channel}>"));
        current = format!("{lost}\n{current}");
    }
    if let Some(n) = tickets_per_hour {
        let n = ticket_limit(n, c)?;
        store.set_ticket_limit(&guild, n).await?;
        changed.push(said(c.cmd.changed_tickets_per_hour, n.to_string()));
    }
    let current = format!(
        "{current}\n{}",
        said(
            c.cmd.changed_tickets_per_hour,
            store.ticket_limit(&guild).await?.to_string()
        )
    );
    let text = if changed.is_empty() {
        format!("{}\n{current}", c.cmd.settings_title)
    } else {
        format!("{} {}\n\n{current}", c.cmd.saved, changed.join("; "))
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
fn apply_channels(
    d: &mut DiscordSetup,
    o: ChannelOptions,
    c: &Texts,
) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(ch) = o.staff_channel {
        if watch_kind(&ch) != Some(WatchKind::Text) {
            return Err(user_error(c.cmd.staff_channel_not_text));
        }
        d.staff_channel_id = Some(ch.id.to_string());
        changed.push(said(c.cmd.changed_staff_channel, format!("<#{}>", ch.id)));
    }
    if let Some(r) = o.agent_role {
        let id = r.id.to_string();
        if !d.agent_roles.contains(&id) {
            d.agent_roles.push(id);
        }
        changed.push(said(c.cmd.changed_role_added, format!("<@&{}>", r.id)));
    }
    if let Some(r) = o.remove_agent_role {
        d.agent_roles.retain(|x| x != &r.id.to_string());
        changed.push(said(c.cmd.changed_role_removed, format!("<@&{}>", r.id)));
    }
    if let Some(ch) = o.support_channel {
        let kind = watch_kind(&ch).ok_or_else(|| user_error(c.cmd.support_channel_kind))?;
        let id = ch.id.to_string();
        d.watched.retain(|w| w.channel_id != id);
        d.watched.push(WatchedChannel {
            channel_id: id,
            kind,
        });
        changed.push(said(
            c.cmd.changed_watching,
            format!("<#{}> ({})", ch.id, kind_name(kind, c.cmd)),
        ));
    }
    if let Some(ch) = o.unwatch_channel {
        d.watched.retain(|w| w.channel_id != ch.id.to_string());
        changed.push(said(c.cmd.changed_unwatched, format!("<#{}>", ch.id)));
    }
    if let Some(ch) = o.alert_channel {
        d.alert_channel_id = Some(ch.id.to_string());
        changed.push(said(c.cmd.changed_alert_channel, format!("<#{}>", ch.id)));
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
fn apply_timing(rules: &mut GuildRules, o: TimingOptions, c: &Texts) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(tz) = o.timezone {
        rules.timezone = tz
            .trim()
            .parse()
            .map_err(|_| user_error(c.cmd.bad_timezone.replace("{value}", &tz)))?;
        changed.push(said(c.cmd.changed_timezone, rules.timezone.name()));
    }
    if let Some(h) = o.business_hours {
        rules.business_hours = h.parse().map_err(|e: String| {
            user_error(
                c.cmd
                    .bad_business_hours
                    .replace("{value}", &h)
                    .replace("{error}", &e),
            )
        })?;
        changed.push(said(
            c.cmd.changed_business_hours,
            rules.business_hours.to_string(),
        ));
    }
    if let Some(s) = o.survey_delay {
        if !(0..=86_400).contains(&s) {
            return Err(user_error(c.cmd.survey_delay_range));
        }
        rules.survey_delay_ms = s * SECOND;
        changed.push(said(c.cmd.changed_survey_delay, s.to_string()));
    }
    if let Some(l) = o.locale {
        rules.locale = match l {
            LocaleChoice::En => Locale::En,
            LocaleChoice::Fr => Locale::Fr,
        };
        changed.push(said(c.cmd.changed_locale, rules.locale.to_string()));
    }
    Ok(changed)
}

struct BadgeOptions {
    badge_min_rate: Option<f64>,
    badge_max_delay: Option<i64>,
    badge_statistic: Option<StatisticChoice>,
}

/// The badge's thresholds; returns what changed, in words.
fn apply_badge(rules: &mut GuildRules, o: BadgeOptions, c: &Texts) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(p) = o.badge_min_rate {
        if !(p.is_finite() && (0.0..=100.0).contains(&p)) {
            return Err(user_error(c.cmd.badge_min_rate_range));
        }
        rules.badge.min_rate_bp = (p * 100.0).round() as u32;
        changed.push(said(c.cmd.changed_badge_rate, p.to_string()));
    }
    if let Some(s) = o.badge_max_delay {
        if !(1..=7 * 86_400).contains(&s) {
            return Err(user_error(c.cmd.badge_max_delay_range));
        }
        rules.badge.max_delay_ms = s * SECOND;
        changed.push(said(c.cmd.changed_badge_delay, s.to_string()));
    }
    if let Some(s) = o.badge_statistic {
        rules.badge.statistic = match s {
            StatisticChoice::Mean => BadgeStatistic::Mean,
            StatisticChoice::Median => BadgeStatistic::Median,
        };
        changed.push(said(
            c.cmd.changed_badge_statistic,
            c.statistic(rules.badge.statistic),
        ));
    }
    Ok(changed)
}

/// What customers see of agents, and whether message text is kept; returns what changed.
fn apply_privacy(
    d: &mut DiscordSetup,
    show_agent_names: Option<bool>,
    transcripts: Option<bool>,
    c: &Texts,
) -> Vec<String> {
    let mut changed = Vec::new();
    if let Some(b) = show_agent_names {
        d.show_agent_names = b;
        changed.push(said(c.cmd.changed_agent_names, c.cmd.yes_no(b)));
    }
    if let Some(b) = transcripts {
        d.transcripts = b;
        changed.push(said(c.cmd.changed_transcripts, c.cmd.yes_no(b)));
    }
    changed
}

/// The settings as they are now, one a line.
/// The new tickets a customer may open per hour: 1 to 100.
fn ticket_limit(n: i64, c: &Texts) -> Result<u32, Error> {
    match u32::try_from(n) {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(user_error(said(
            c.cmd.tickets_per_hour_range,
            n.to_string(),
        ))),
    }
}

fn describe(rules: &GuildRules, d: &DiscordSetup, c: &Texts) -> String {
    let channel = |id: &Option<String>| {
        id.as_ref()
            .map(|id| format!("<#{id}>"))
            .unwrap_or_else(|| c.cmd.not_set.into())
    };
    let listed = |items: Vec<String>| {
        if items.is_empty() {
            c.cmd.none.to_string()
        } else {
            items.join(", ")
        }
    };
    let roles = listed(d.agent_roles.iter().map(|r| format!("<@&{r}>")).collect());
    let watched = listed(
        d.watched
            .iter()
            .map(|w| format!("<#{}> ({})", w.channel_id, kind_name(w.kind, c.cmd)))
            .collect(),
    );
    c.cmd
        .describe
        .replace("{staff}", &channel(&d.staff_channel_id))
        .replace("{roles}", &roles)
        .replace("{watched}", &watched)
        .replace("{alert}", &channel(&d.alert_channel_id))
        .replace("{timezone}", rules.timezone.name())
        .replace("{hours}", &rules.business_hours.to_string())
        .replace(
            "{survey_delay}",
            &(rules.survey_delay_ms / SECOND).to_string(),
        )
        .replace("{locale}", &rules.locale.to_string())
        .replace(
            "{rate}",
            &(rules.badge.min_rate_bp as f64 / 100.0).to_string(),
        )
        .replace("{statistic}", c.statistic(rules.badge.statistic))
        .replace("{delay}", &(rules.badge.max_delay_ms / SECOND).to_string())
        .replace("{names}", c.cmd.yes_no(d.show_agent_names))
        .replace("{transcripts}", c.cmd.yes_no(d.transcripts))
}

/// One change, in words: `template` with its `{value}`.
fn said(template: &str, value: impl AsRef<str>) -> String {
    template.replace("{value}", value.as_ref())
}

fn kind_name(kind: WatchKind, c: &crate::i18n::CommandTexts) -> &'static str {
    match kind {
        WatchKind::Text => c.kind_text,
        WatchKind::Forum => c.kind_forum,
    }
}
