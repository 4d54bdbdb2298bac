//! The service-level settings of docs/kpi.md ("Service levels (SLA) and resolution"): targets,
//! the SLA clock, auto-close and the warning before a breach, with their parsing and checks.
//!
//! Everything here is pure so that `/setup` and `reactif setup` share one parser and one set of
//! messages: each names the setting and gives an example a person can copy.

use super::settings::Locale;
use super::{Millis, DAY, HOUR, MINUTE, SECOND};
use std::fmt;
use std::str::FromStr;

/// Which clock a service-level target is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlaClock {
    /// Every millisecond counts.
    #[default]
    Calendar,
    /// Only the part inside the guild's business hours counts (as for the business-hours delay).
    Business,
}

impl SlaClock {
    pub fn name(self) -> &'static str {
        match self {
            SlaClock::Calendar => "calendar",
            SlaClock::Business => "business",
        }
    }
}

impl FromStr for SlaClock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "calendar" => Ok(SlaClock::Calendar),
            "business" => Ok(SlaClock::Business),
            other => Err(format!(
                "`{other}` is not an SLA clock: use calendar or business"
            )),
        }
    }
}

/// How long before a breach the bot warns the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaWarning {
    Off,
    /// This percentage of the target (1 to 99) before the deadline.
    Percent(u8),
    /// This long before the deadline, whatever the target.
    Before(Millis),
}

impl Default for SlaWarning {
    /// KPI.md: 20 % of the target.
    fn default() -> Self {
        SlaWarning::Percent(20)
    }
}

impl SlaWarning {
    /// How long before the deadline of `target` the warning comes, if it does. A percentage is
    /// rounded down to the millisecond.
    pub fn before(self, target: Millis) -> Option<Millis> {
        match self {
            SlaWarning::Off => None,
            SlaWarning::Percent(p) => Some(target * p as Millis / 100),
            SlaWarning::Before(d) => Some(d),
        }
    }
}

impl fmt::Display for SlaWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlaWarning::Off => f.write_str("off"),
            SlaWarning::Percent(p) => write!(f, "{p}%"),
            SlaWarning::Before(d) => f.write_str(&format_duration(*d)),
        }
    }
}

/// A guild's service-level settings. Targets and auto-close are durations; `None` is off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlaRules {
    /// For the first request of a conversation.
    pub first_response: Option<Millis>,
    /// For every other request.
    pub next_response: Option<Millis>,
    /// From a conversation's opening to its close.
    pub resolution: Option<Millis>,
    pub clock: SlaClock,
    /// The bot closes a conversation this long (calendar time) after an agent's message that
    /// nobody followed; shorter than `idle`.
    pub auto_close: Option<Millis>,
    pub warning: SlaWarning,
}

/// A setting that was refused: which one, why, and an example to copy. Shown in English
/// (`Display`) or in the guild's language (`in_locale`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem} (e.g. {setting} {example})")]
pub struct SettingError {
    pub setting: &'static str,
    pub problem: Problem,
    pub example: &'static str,
}

impl SettingError {
    pub fn in_locale(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.to_string(),
            Locale::Fr => format!(
                "{} : {} (p. ex. {} {})",
                self.setting,
                self.problem.in_locale(locale),
                self.setting,
                self.example
            ),
        }
    }
}

/// Why a setting was refused; the text quotes what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NoDuration,
    NotDuration(String),
    TooLong(String),
    Zero(String),
    NotClock(String),
    NotPercent(String),
    NotWarning(String),
    UnknownSetting(String),
    /// Auto-close (formatted) not shorter than idle (formatted).
    AutoCloseNotShorter {
        auto: String,
        idle: String,
    },
    /// A fixed warning (formatted) not shorter than a target (its name, formatted).
    WarningNotShorter {
        before: String,
        target: &'static str,
        target_ms: String,
    },
}

const DURATION_HELP_FR: &str =
    "écrivez un nombre et une unité (s, m, h ou d), p. ex. `15m`, `4h`, `2d`, `90s`, ou `off`";

impl Problem {
    pub fn in_locale(&self, locale: Locale) -> String {
        let names = || {
            SLA_SETTINGS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (locale, self) {
            (Locale::En, p) => p.to_string(),
            (Locale::Fr, Problem::NoDuration) => format!("aucune durée donnée ; {DURATION_HELP_FR}"),
            (Locale::Fr, Problem::NotDuration(t)) => {
                format!("`{t}` n'est pas une durée ; {DURATION_HELP_FR}")
            }
            (Locale::Fr, Problem::TooLong(t)) => format!("`{t}` dépasse 365 jours"),
            (Locale::Fr, Problem::Zero(t)) => {
                format!("`{t}` vaut zéro : écrivez `off` pour désactiver")
            }
            (Locale::Fr, Problem::NotClock(t)) => {
                format!("`{t}` n'est pas une horloge de SLA : écrivez calendar ou business")
            }
            (Locale::Fr, Problem::NotPercent(t)) => {
                format!("`{t}` n'est pas un pourcentage de 1% à 99% de l'objectif")
            }
            (Locale::Fr, Problem::NotWarning(t)) => format!(
                "`{t}` n'est ni un pourcentage de l'objectif (p. ex. `20%`), ni une durée (p. ex. `10m`), ni `off`"
            ),
            (Locale::Fr, Problem::UnknownSetting(t)) => format!(
                "`{t}` n'est pas un réglage de niveau de service : utilisez l'un de {}",
                names()
            ),
            (Locale::Fr, Problem::AutoCloseNotShorter { auto, idle }) => format!(
                "{auto} n'est pas plus court que le délai d'inactivité ({idle}) : la conversation aurait expiré avant"
            ),
            (Locale::Fr, Problem::WarningNotShorter { before, target, target_ms }) => format!(
                "{before} n'est pas plus court que l'objectif {target} ({target_ms}) : l'avertissement viendrait avant la demande ; écrivez un pourcentage comme 20% ou une durée plus courte"
            ),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoDuration => write!(f, "no duration given; {DURATION_HELP}"),
            Problem::NotDuration(t) => write!(f, "`{t}` is not a duration; {DURATION_HELP}"),
            Problem::TooLong(t) => write!(f, "`{t}` is longer than 365 days"),
            Problem::Zero(t) => write!(f, "`{t}` is zero: use `off` to turn it off"),
            Problem::NotClock(t) => {
                write!(f, "`{t}` is not an SLA clock: use calendar or business")
            }
            Problem::NotPercent(t) => {
                write!(f, "`{t}` is not a percentage from 1% to 99% of the target")
            }
            Problem::NotWarning(t) => write!(
                f,
                "`{t}` is neither a percentage of the target (e.g. `20%`) nor a duration (e.g. `10m`) nor `off`"
            ),
            Problem::UnknownSetting(t) => {
                let names: Vec<&str> = SLA_SETTINGS.iter().map(|(n, _)| *n).collect();
                write!(
                    f,
                    "`{t}` is not a service-level setting: use one of {}",
                    names.join(", ")
                )
            }
            Problem::AutoCloseNotShorter { auto, idle } => write!(
                f,
                "{auto} is not shorter than idle ({idle}): the conversation would have lapsed first"
            ),
            Problem::WarningNotShorter {
                before,
                target,
                target_ms,
            } => write!(
                f,
                "{before} is not shorter than the {target} target ({target_ms}): the warning would come before the request; use a percentage like 20% or a shorter time"
            ),
        }
    }
}

/// The settings' names as `/setup` and `reactif setup` know them, and an example of each.
pub const SLA_SETTINGS: [(&str, &str); 6] = [
    ("first_response", "15m"),
    ("next_response", "1h"),
    ("resolution", "2d"),
    ("sla_clock", "business"),
    ("auto_close", "12h"),
    ("sla_warning", "20%"),
];

/// Targets and auto-close longer than this are surely a typo (and would overflow nothing).
const LONGEST: Millis = 365 * DAY;

const DURATION_HELP: &str =
    "write a number and a unit (s, m, h or d), e.g. `15m`, `4h`, `2d`, `90s`, or `off`";

/// A duration as people write it: `90s`, `15m`, `4h`, `2d`, or parts like `1h30m`.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    duration(text).map_err(|p| p.to_string())
}

fn duration(text: &str) -> Result<Millis, Problem> {
    let compact: String = text
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(Problem::NoDuration);
    }
    let typed = || text.trim().to_string();
    let mut total: Millis = 0;
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let unit_len = rest[digits..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .count();
        if digits == 0 || unit_len == 0 {
            return Err(Problem::NotDuration(typed()));
        }
        let n: Millis = rest[..digits]
            .parse()
            .map_err(|_| Problem::NotDuration(typed()))?;
        let unit = match &rest[digits..digits + unit_len] {
            "s" | "sec" => SECOND,
            "m" | "min" => MINUTE,
            "h" => HOUR,
            "d" | "j" => DAY,
            _ => return Err(Problem::NotDuration(typed())),
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .filter(|v| *v <= LONGEST)
            .ok_or_else(|| Problem::TooLong(typed()))?;
        rest = &rest[digits + unit_len..];
    }
    if total == 0 {
        return Err(Problem::Zero(typed()));
    }
    Ok(total)
}

/// `off`, or a duration (`parse_duration`).
fn parse_optional_duration(text: &str) -> Result<Option<Millis>, Problem> {
    match text.trim().to_ascii_lowercase().as_str() {
        "off" | "none" => Ok(None),
        _ => duration(text).map(Some),
    }
}

/// A duration the way `parse_duration` reads it back: `15m`, `1h30m`, `2d`.
pub fn format_duration(ms: Millis) -> String {
    if ms <= 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, name) in [
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
        (1, "ms"),
    ] {
        if rest >= unit {
            out.push_str(&format!("{}{name}", rest / unit));
            rest %= unit;
        }
    }
    out
}

fn format_optional(ms: Option<Millis>) -> String {
    ms.map_or_else(|| "off".into(), format_duration)
}

fn example_of(setting: &str) -> &'static str {
    SLA_SETTINGS
        .iter()
        .find(|(name, _)| *name == setting)
        .map_or("15m", |(_, example)| example)
}

fn refused(setting: &'static str, problem: Problem) -> SettingError {
    SettingError {
        setting,
        problem,
        example: example_of(setting),
    }
}

impl SlaRules {
    /// Changes one setting from text as a person typed it. The settings are checked together
    /// by `check`, once every change is made.
    pub fn set(&mut self, setting: &str, value: &str) -> Result<(), SettingError> {
        let Some(&(name, _)) = SLA_SETTINGS.iter().find(|(n, _)| *n == setting) else {
            return Err(SettingError {
                setting: "sla",
                problem: Problem::UnknownSetting(setting.to_string()),
                example: "first_response 15m",
            });
        };
        let duration = |v: &str| parse_optional_duration(v).map_err(|p| refused(name, p));
        match name {
            "first_response" => self.first_response = duration(value)?,
            "next_response" => self.next_response = duration(value)?,
            "resolution" => self.resolution = duration(value)?,
            "auto_close" => self.auto_close = duration(value)?,
            "sla_clock" => {
                self.clock = value
                    .parse()
                    .map_err(|_| refused(name, Problem::NotClock(value.trim().to_string())))?
            }
            _ => self.warning = parse_warning(value).map_err(|p| refused(name, p))?,
        }
        Ok(())
    }

    /// One setting's value as `set` reads it back.
    pub fn get(&self, setting: &str) -> Option<String> {
        Some(match setting {
            "first_response" => format_optional(self.first_response),
            "next_response" => format_optional(self.next_response),
            "resolution" => format_optional(self.resolution),
            "sla_clock" => self.clock.name().to_string(),
            "auto_close" => format_optional(self.auto_close),
            "sla_warning" => self.warning.to_string(),
            _ => return None,
        })
    }

    /// Checks the settings together and against the guild's `idle`: auto-close must come
    /// before the conversation lapses, and a fixed warning before the start of every target.
    pub fn check(&self, idle_ms: Millis) -> Result<(), SettingError> {
        if let Some(auto) = self.auto_close.filter(|a| *a >= idle_ms) {
            return Err(refused(
                "auto_close",
                Problem::AutoCloseNotShorter {
                    auto: format_duration(auto),
                    idle: format_duration(idle_ms),
                },
            ));
        }
        if let SlaWarning::Before(before) = self.warning {
            for (name, target) in [
                ("first_response", self.first_response),
                ("next_response", self.next_response),
                ("resolution", self.resolution),
            ] {
                if let Some(target) = target.filter(|t| before >= *t) {
                    return Err(refused(
                        "sla_warning",
                        Problem::WarningNotShorter {
                            before: format_duration(before),
                            target: name,
                            target_ms: format_duration(target),
                        },
                    ));
                }
            }
        }
        Ok(())
    }
}

fn parse_warning(text: &str) -> Result<SlaWarning, Problem> {
    let t = text.trim();
    if let Some(number) = t.strip_suffix('%') {
        return match number.trim().parse::<u8>() {
            Ok(p) if (1..=99).contains(&p) => Ok(SlaWarning::Percent(p)),
            _ => Err(Problem::NotPercent(t.to_string())),
        };
    }
    parse_optional_duration(t)
        .map(|d| d.map_or(SlaWarning::Off, SlaWarning::Before))
        .map_err(|_| Problem::NotWarning(t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("15m"), Ok(15 * MINUTE));
        assert_eq!(parse_duration("4h"), Ok(4 * HOUR));
        assert_eq!(parse_duration("2d"), Ok(2 * DAY));
        assert_eq!(parse_duration("90s"), Ok(90 * SECOND));
        assert_eq!(parse_duration(" 1h 30M "), Ok(90 * MINUTE));
        assert_eq!(parse_duration("365d"), Ok(365 * DAY));
        for bad in [
            "",
            "15",
            "m",
            "15x",
            "1.5h",
            "-2h",
            "0m",
            "366d",
            "99999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn durations_format_back_to_what_parses() {
        for ms in [
            90 * SECOND,
            15 * MINUTE,
            4 * HOUR,
            2 * DAY,
            DAY + 90 * MINUTE,
        ] {
            assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
        assert_eq!(format_duration(90 * SECOND), "1m30s");
        assert_eq!(format_duration(2 * DAY), "2d");
    }

    #[test]
    fn every_setting_is_off_by_default_and_set_by_name() {
        let mut r = SlaRules::default();
        assert_eq!(r.get("first_response").as_deref(), Some("off"));
        assert_eq!(r.get("sla_clock").as_deref(), Some("calendar"));
        assert_eq!(r.get("sla_warning").as_deref(), Some("20%"));
        for (name, example) in SLA_SETTINGS {
            r.set(name, example).unwrap();
            assert_eq!(r.get(name).as_deref(), Some(example), "{name}");
        }
        assert_eq!(r.first_response, Some(15 * MINUTE));
        assert_eq!(r.clock, SlaClock::Business);
        r.set("auto_close", "off").unwrap();
        assert_eq!(r.auto_close, None);
        r.set("sla_warning", "10m").unwrap();
        assert_eq!(r.warning, SlaWarning::Before(10 * MINUTE));
    }

    #[test]
    fn a_refusal_names_the_setting_and_gives_an_example() {
        let mut r = SlaRules::default();
        let e = r.set("first_response", "soon").unwrap_err();
        assert_eq!(e.setting, "first_response");
        let text = e.to_string();
        assert!(
            text.starts_with("first_response: `soon` is not a duration"),
            "{text}"
        );
        assert!(text.contains("e.g. first_response 15m"), "{text}");
        let e = r.set("sla_clock", "lunar").unwrap_err();
        assert!(e.to_string().contains("use calendar or business"), "{e}");
        let e = r.set("sla_warning", "120%").unwrap_err();
        assert!(e.to_string().contains("1% to 99%"), "{e}");
        let e = r.set("response", "1h").unwrap_err();
        assert!(
            e.to_string().contains("first_response, next_response"),
            "{e}"
        );
    }

    #[test]
    fn a_refusal_reads_in_french_too() {
        let mut r = SlaRules::default();
        let e = r.set("first_response", "bientôt").unwrap_err();
        assert_eq!(
            e.in_locale(Locale::Fr),
            format!("first_response : `bientôt` n'est pas une durée ; {DURATION_HELP_FR} (p. ex. first_response 15m)")
        );
        assert_eq!(e.in_locale(Locale::En), e.to_string());
        r.set("auto_close", "2d").unwrap();
        let e = r.check(DAY).unwrap_err();
        assert!(
            e.in_locale(Locale::Fr)
                .starts_with("auto_close : 2d n'est pas plus court que le délai d'inactivité (1d)"),
            "{}",
            e.in_locale(Locale::Fr)
        );
        // Every problem has its French text, none left in English.
        for p in [
            Problem::NoDuration,
            Problem::NotDuration("x".into()),
            Problem::TooLong("x".into()),
            Problem::Zero("x".into()),
            Problem::NotClock("x".into()),
            Problem::NotPercent("x".into()),
            Problem::NotWarning("x".into()),
            Problem::UnknownSetting("x".into()),
        ] {
            assert_ne!(p.in_locale(Locale::Fr), p.to_string(), "{p:?}");
        }
    }

    #[test]
    fn auto_close_must_be_shorter_than_idle() {
        let mut r = SlaRules::default();
        r.set("auto_close", "24h").unwrap();
        let e = r.check(DAY).unwrap_err();
        assert_eq!(e.setting, "auto_close");
        assert!(e.to_string().contains("not shorter than idle (1d)"), "{e}");
        r.set("auto_close", "23h59m").unwrap();
        assert_eq!(r.check(DAY), Ok(()));
    }

    #[test]
    fn a_fixed_warning_must_be_shorter_than_every_target() {
        let mut r = SlaRules::default();
        r.set("sla_warning", "15m").unwrap();
        assert_eq!(r.check(DAY), Ok(()), "no target: nothing to warn about");
        r.set("next_response", "15m").unwrap();
        let e = r.check(DAY).unwrap_err();
        assert_eq!(e.setting, "sla_warning");
        assert!(e.to_string().contains("next_response target (15m)"), "{e}");
        r.set("sla_warning", "20%").unwrap();
        assert_eq!(r.check(DAY), Ok(()));
    }

    #[test]
    fn the_default_warning_is_a_fifth_of_the_target() {
        assert_eq!(SlaWarning::default().before(15 * MINUTE), Some(3 * MINUTE));
        assert_eq!(SlaWarning::Before(MINUTE).before(HOUR), Some(MINUTE));
        assert_eq!(SlaWarning::Off.before(HOUR), None);
    }
}
