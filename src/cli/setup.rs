//! `reactif setup`: a guild's service-level settings (and the time zone and business hours they
//! run on), printed and changed from the command line with the parser and the messages of
//! `/sla` (`domain::settings`), so that an operator (or a test importing a history) sets exactly
//! what a server's admin would.

use crate::desk::Desk;
use crate::domain::settings::SLA_SETTINGS;
use anyhow::bail;
use clap::Args;

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Durations: a number and a unit (s, m, h, d), e.g. 15m, 4h, 2d, 1h30m, \
                        or off. With no option, prints the guild's settings. \
                        Example: reactif setup --guild 123 --first-response 15m --sla-clock business"
)]
pub struct SetupArgs {
    /// The guild (server) id.
    #[arg(long)]
    pub guild: String,
    /// IANA time zone of the guild's days, business hours and heatmap, e.g. Europe/Paris.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Business hours, e.g. "mon-fri 09:00-18:00", or always.
    #[arg(long = "business-hours", value_name = "HOURS")]
    pub business_hours: Option<String>,
    /// Target for the first request of a conversation: a duration (15m) or off.
    #[arg(long = "first-response", value_name = "DURATION")]
    pub first_response: Option<String>,
    /// Target for every other request: a duration (4h) or off.
    #[arg(long = "next-response", value_name = "DURATION")]
    pub next_response: Option<String>,
    /// Target from a conversation's opening to its close: a duration (2d) or off.
    #[arg(long, value_name = "DURATION")]
    pub resolution: Option<String>,
    /// The clock the targets run on: calendar or business (business hours only).
    #[arg(long = "sla-clock", value_name = "CLOCK")]
    pub sla_clock: Option<String>,
    /// Close a conversation this long after an agent's message the customer did not follow,
    /// shorter than idle (24 h by default): a duration (12h) or off.
    #[arg(long = "auto-close", value_name = "DURATION")]
    pub auto_close: Option<String>,
    /// How long before a breach agents are warned: a percentage of the target (20%), a
    /// duration (10m) or off.
    #[arg(long = "sla-warning", value_name = "WHEN")]
    pub sla_warning: Option<String>,
}

impl SetupArgs {
    /// The settings given, by their names in `SLA_SETTINGS`.
    fn changes(&self) -> Vec<(&'static str, &str)> {
        let given = [
            &self.first_response,
            &self.next_response,
            &self.resolution,
            &self.sla_clock,
            &self.auto_close,
            &self.sla_warning,
        ];
        SLA_SETTINGS
            .iter()
            .zip(given)
            .filter_map(|((name, _), v)| v.as_deref().map(|v| (*name, v)))
            .collect()
    }
}

/// Applies the changes given (all or none), then prints the guild's settings.
pub async fn setup(desk: &Desk, args: &SetupArgs) -> anyhow::Result<String> {
    let store = desk.store();
    let mut rules = store.guild_rules(&args.guild).await?;
    let mut saved: Vec<String> = Vec::new();
    // The time zone and hours first: the service levels are checked with them.
    if let Some(tz) = &args.timezone {
        rules.timezone = tz.trim().parse().map_err(|_| {
            anyhow::anyhow!("timezone: `{tz}` is not an IANA time zone: use a name like Europe/Paris or America/New_York; nothing was changed")
        })?;
        saved.push(format!("timezone {}", rules.timezone.name()));
    }
    if let Some(h) = &args.business_hours {
        rules.business_hours = h
            .parse()
            .map_err(|e| anyhow::anyhow!("business_hours: {e}; nothing was changed"))?;
        saved.push(format!("business_hours {}", rules.business_hours));
    }
    let changes = args.changes();
    rules = match rules.with_sla_settings(&changes) {
        Ok(new) => new,
        Err(e) => bail!("{e}; nothing was changed"),
    };
    saved.extend(
        changes
            .iter()
            .map(|(name, _)| format!("{name} {}", rules.sla.get(name).unwrap_or_default())),
    );
    let mut out = String::new();
    if !saved.is_empty() {
        store.save_guild_rules(&args.guild, &rules).await?;
        out.push_str(&format!("Saved: {}\n", saved.join(", ")));
    }
    let rules = store.guild_rules(&args.guild).await?;
    out.push_str(&format!("Settings of guild {}:\n", args.guild));
    out.push_str(&format!("  {:<15} {}\n", "timezone", rules.timezone.name()));
    out.push_str(&format!(
        "  {:<15} {}\n",
        "business_hours", rules.business_hours
    ));
    for (name, _) in SLA_SETTINGS {
        let value = rules.sla.get(name).unwrap_or_default();
        out.push_str(&format!("  {name:<15} {value}\n"));
    }
    Ok(out)
}
