//! `/sla`: a server's service-level settings (targets, SLA clock, auto-close, warning), shown
//! or changed (Manage Server only). The values are read by `domain::settings`, as
//! `reactif setup` reads them: same parser, same checks, same messages, in the guild's language.

use crate::discord::access;
use crate::discord::bot::{Context, Error};
use crate::discord::replies::{say, user_error};
use crate::domain::settings::SLA_SETTINGS;
use crate::domain::GuildRules;
use crate::i18n::{self, Texts};

#[derive(Debug, poise::ChoiceParameter)]
pub enum ClockChoice {
    #[name = "calendar"]
    Calendar,
    #[name = "business"]
    Business,
}

/// Service-level targets, SLA clock and auto-close (Manage Server). With no option, shows them.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    check = "access::manage_server"
)]
pub async fn sla(
    ctx: Context<'_>,
    #[description = "Target for the first answer: 15m, 4h, 2d… or off"] first_response: Option<
        String,
    >,
    #[description = "Target for every next answer: 15m, 4h, 2d… or off"] next_response: Option<
        String,
    >,
    #[description = "Target from opening to close: 2d… or off"] resolution: Option<String>,
    #[description = "Clock of the targets: calendar, or business hours only"] sla_clock: Option<
        ClockChoice,
    >,
    #[description = "Close after an agent's answer left without reply: 12h… or off"]
    auto_close: Option<String>,
    #[description = "Warn agents before a breach: 20% of the target, 10m, or off"]
    sla_warning: Option<String>,
) -> Result<(), Error> {
    let guild = super::guild(ctx)?;
    let store = ctx.data().desk.store();
    let rules = store.guild_rules(&guild).await?;
    let texts = i18n::texts(rules.locale);
    let clock = sla_clock.map(|c| match c {
        ClockChoice::Calendar => "calendar".to_string(),
        ClockChoice::Business => "business".to_string(),
    });
    // In `SLA_SETTINGS` order.
    let given = [
        first_response,
        next_response,
        resolution,
        clock,
        auto_close,
        sla_warning,
    ];
    let changes: Vec<(&str, &str)> = SLA_SETTINGS
        .iter()
        .zip(&given)
        .filter_map(|((name, _), v)| v.as_deref().map(|v| (*name, v)))
        .collect();
    if changes.is_empty() {
        return say(ctx, describe(&rules, texts)).await;
    }
    let new = rules.with_sla_settings(&changes).map_err(|e| {
        user_error(format!(
            "{} {}",
            e.in_locale(rules.locale),
            texts.sla_nothing_changed
        ))
    })?;
    store.save_guild_rules(&guild, &new).await?;
    let saved: Vec<String> = changes
        .iter()
        .map(|(name, _)| format!("{name} {}", new.sla.get(name).unwrap_or_default()))
        .collect();
    let text = format!(
        "**{}** {}\n\n{}",
        texts.sla_saved,
        saved.join(", "),
        describe(&new, texts)
    );
    say(ctx, text).await
}

/// The settings as they are now, one a line, with how to write them.
fn describe(rules: &GuildRules, texts: &Texts) -> String {
    let mut out = format!("**{}**\n", texts.sla_title);
    for (name, _) in SLA_SETTINGS {
        let value = rules.sla.get(name).unwrap_or_default();
        out.push_str(&format!("{name}: `{value}`\n"));
    }
    out.push_str(texts.sla_settings_help);
    out
}
