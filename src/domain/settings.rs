//! Per-guild rules. Defaults are KPI.md's; a guild changes them with `/setup`.
//!
//! The service-level settings are parsed and checked here, purely, so that `/setup` and
//! `reactif setup` give the same answers to the same input.

use super::hours::BusinessHours;
pub use super::sla_rules::{
    format_duration, parse_duration, Problem, SettingError, SlaClock, SlaRules, SlaWarning,
    SLA_SETTINGS,
};
use super::{Millis, DAY, MINUTE, SECOND};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeStatistic {
    Mean,
    Median,
}

impl BadgeStatistic {
    pub fn name(self) -> &'static str {
        match self {
            BadgeStatistic::Mean => "mean",
            BadgeStatistic::Median => "median",
        }
    }
}

impl FromStr for BadgeStatistic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mean" => Ok(BadgeStatistic::Mean),
            "median" => Ok(BadgeStatistic::Median),
            other => Err(format!("`{other}` is not a statistic: use mean or median")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    Fr,
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }
}

impl FromStr for Locale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.split(['-', '_']).next().unwrap_or("") {
            "en" => Ok(Locale::En),
            "fr" => Ok(Locale::Fr),
            _ => Err(format!("`{s}` is not a supported locale: use en or fr")),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The "Very responsive" badge: awarded when the response rate is at least `min_rate_bp` basis
/// points (9000 = 90 %) and the chosen delay statistic is under `max_delay_ms`, over `window_ms`.
/// Basis points keep the threshold comparison in exact integer arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeRule {
    pub min_rate_bp: u32,
    pub max_delay_ms: Millis,
    pub window_ms: Millis,
    pub statistic: BadgeStatistic,
}

impl Default for BadgeRule {
    fn default() -> Self {
        BadgeRule {
            min_rate_bp: 9_000,
            max_delay_ms: 5 * MINUTE,
            window_ms: 7 * DAY,
            statistic: BadgeStatistic::Mean,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GuildRules {
    /// A message this long (or longer) after the conversation's last customer or agent message
    /// ends the conversation.
    pub idle_ms: Millis,
    /// A request answered later than this is not "answered".
    pub deadline_ms: Millis,
    /// How long the answering agent must be silent before the survey goes out.
    pub survey_delay_ms: Millis,
    /// A survey accepts clicks until this long after it was sent, inclusive.
    pub survey_close_ms: Millis,
    pub timezone: Tz,
    pub business_hours: BusinessHours,
    pub badge: BadgeRule,
    pub locale: Locale,
    /// Agent messages starting with this are internal notes.
    pub note_prefix: String,
    /// Service-level targets, the SLA clock and auto-close (docs/kpi.md), all off by default.
    pub sla: SlaRules,

    // Communication figures (docs/engagement.md).
    /// A post's reactions and replies count inside `[post.at, post.at + engagement_window_ms)`.
    pub engagement_window_ms: Millis,
}

impl Default for GuildRules {
    fn default() -> Self {
        GuildRules {
            idle_ms: DAY,
            deadline_ms: DAY,
            survey_delay_ms: 60 * SECOND,
            survey_close_ms: DAY,
            timezone: Tz::UTC,
            business_hours: BusinessHours::always(),
            badge: BadgeRule::default(),
            locale: Locale::En,
            note_prefix: ";".to_string(),
            sla: SlaRules::default(),

            // Communication figures (docs/engagement.md).
            engagement_window_ms: 7 * DAY,
        }
    }
}

impl GuildRules {
    /// These rules with service-level settings changed from text, `(setting, value)` as a
    /// person typed them, then checked together: what `/setup` and `reactif setup` apply.
    /// On a refusal nothing changes.
    pub fn with_sla_settings(&self, changes: &[(&str, &str)]) -> Result<GuildRules, SettingError> {
        let mut sla = self.sla.clone();
        for (setting, value) in changes {
            sla.set(setting, value)?;
        }
        sla.check(self.idle_ms)?;
        Ok(GuildRules {
            sla,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_settings_change_together_or_not_at_all() {
        let rules = GuildRules::default();
        let changed = rules
            .with_sla_settings(&[("first_response", "15m"), ("auto_close", "12h")])
            .unwrap();
        assert_eq!(changed.sla.first_response, Some(15 * MINUTE));
        assert_eq!(changed.sla.auto_close, Some(12 * super::super::HOUR));
        // The second change is refused (auto-close not shorter than the 24 h idle): the first
        // is not applied either.
        let e = rules
            .with_sla_settings(&[("first_response", "15m"), ("auto_close", "1d")])
            .unwrap_err();
        assert_eq!(e.setting, "auto_close");
        assert_eq!(rules.sla, SlaRules::default());
    }
}
