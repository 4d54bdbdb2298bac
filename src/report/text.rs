//! The report as text for a terminal, and the badge explanations shared with the Discord embed.

use super::{human_delay, human_ms, percent};
use crate::domain::format_time;
use crate::domain::kpi::{BadgeFailure, Figures, LoadAlert, Ratio, Report};
use crate::domain::stats::DelayStats;
use crate::i18n::Texts;
use std::fmt::Write;

/// `▲ +12 %` style comparison against the previous window, for counts.
pub fn trend_count(cur: u64, prev: u64, t: &Texts) -> String {
    if prev == 0 {
        return if cur == 0 {
            "=".into()
        } else {
            format!("▲ {}", t.trend_new)
        };
    }
    let change = (cur as f64 - prev as f64) / prev as f64 * 100.0;
    arrow(change, format!("{change:+.0} %"))
}

/// Comparison of two fractions in percentage points.
pub fn trend_points(cur: Option<f64>, prev: Option<f64>) -> String {
    match (cur, prev) {
        (Some(c), Some(p)) => {
            let d = (c - p) * 100.0;
            arrow(d, format!("{d:+.1} pts"))
        }
        _ => "".into(),
    }
}

pub fn trend_delay(cur: Option<f64>, prev: Option<f64>) -> String {
    match (cur, prev) {
        (Some(c), Some(p)) if p > 0.0 => {
            let change = (c - p) / p * 100.0;
            arrow(change, format!("{change:+.0} %"))
        }
        _ => "".into(),
    }
}

fn arrow(change: f64, text: String) -> String {
    if change.abs() < 0.05 {
        "=".into()
    } else if change > 0.0 {
        format!("▲ {text}")
    } else {
        format!("▼ {text}")
    }
}

/// "⚠ Load is rising while responsiveness falls: add agents (requests +25 % vs …)".
pub fn load_alert_line(a: &LoadAlert, t: &Texts, against: &str) -> String {
    format!(
        "⚠ {} (requests {:+.0} % vs {against}{}{})",
        t.load_alert,
        a.requests_growth * 100.0,
        a.rate_drop_points
            .map(|p| format!(", response rate {:+.1} pts", -p))
            .unwrap_or_default(),
        a.mean_growth
            .map(|g| format!(", mean delay {:+.0} %", g * 100.0))
            .unwrap_or_default()
    )
}

pub fn ratio(r: Option<Ratio>) -> Option<f64> {
    r.map(Ratio::value)
}

pub fn delay_line(s: &DelayStats, t: &Texts) -> String {
    match s.mean {
        None => "n/a".into(),
        Some(mean) => format!(
            "{} {} · {} {} · p90 {}",
            t.mean,
            human_delay(mean),
            t.median,
            human_ms(s.median),
            human_ms(s.p90)
        ),
    }
}

/// One sentence per failing badge condition, saying by how much it fails.
pub fn badge_failures(failing: &[BadgeFailure], statistic: &str, t: &Texts) -> Vec<String> {
    failing
        .iter()
        .map(|f| match f {
            BadgeFailure::ResponseRate {
                actual,
                required,
                short_by,
            } => t
                .badge_rate_short
                .replace("{actual}", &percent(Some(*actual)))
                .replace("{short}", &format!("{:.1} pts", short_by * 100.0))
                .replace("{required}", &percent(Some(*required))),
            BadgeFailure::Delay {
                actual_ms,
                limit_ms,
                over_by_ms,
            } => t
                .badge_delay_over
                .replace("{statistic}", statistic)
                .replace("{actual}", &human_delay(*actual_ms))
                .replace("{over}", &human_delay(*over_by_ms))
                .replace("{limit}", &human_delay(*limit_ms as f64)),
            BadgeFailure::NoResponseRate => t.badge_no_rate.to_string(),
            BadgeFailure::NoDelay => t.badge_no_delay.to_string(),
        })
        .collect()
}

fn figures_block(out: &mut String, f: &Figures, prev: &Figures, t: &Texts, hours: bool) {
    let _ = writeln!(
        out,
        "  {:<28} {:>8}   {}",
        t.messages_received,
        f.messages_received,
        trend_count(f.messages_received, prev.messages_received, t)
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>8}   {}",
        t.conversations,
        f.conversations,
        trend_count(f.conversations, prev.conversations, t)
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>8}   {}  ({} {}, {} {}, {} {})",
        t.requests,
        f.requests,
        trend_count(f.requests, prev.requests, t),
        f.answered,
        t.answered,
        f.unanswered,
        t.unanswered,
        f.pending,
        t.pending
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>8}   {}",
        t.response_rate,
        percent(ratio(f.response_rate())),
        trend_points(ratio(f.response_rate()), ratio(prev.response_rate()))
    );
    let _ = writeln!(
        out,
        "  {:<28} {}   {}",
        t.response_delay,
        delay_line(&f.response_delay, t),
        trend_delay(f.response_delay.mean, prev.response_delay.mean)
    );
    if hours {
        let _ = writeln!(
            out,
            "  {:<28} {}",
            t.business_hours_delay,
            delay_line(&f.business_hours_delay, t)
        );
    }
    let _ = writeln!(
        out,
        "  {:<28} {}",
        t.first_response,
        delay_line(&f.first_response, t)
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>8}   ({}: {})",
        t.surveys_sent,
        f.surveys_sent,
        t.survey_response_rate,
        percent(ratio(f.survey_response_rate()))
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>8}",
        t.average_rating,
        f.average_rating()
            .map(|a| format!("{a:.2} / 5"))
            .unwrap_or_else(|| "n/a".into())
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>8}   {}",
        t.csat,
        percent(ratio(f.csat())),
        trend_points(ratio(f.csat()), ratio(prev.csat()))
    );
}

pub fn render(r: &Report, t: &Texts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", t.report_title);
    let _ = writeln!(
        out,
        "{}: {} → {} ({} {}, {})",
        t.window,
        format_time(r.window.from),
        format_time(r.window.to),
        t.now,
        format_time(r.window.now),
        r.timezone.name()
    );
    if let Some(g) = &r.scope.guild_id {
        let _ = writeln!(out, "Guild: {g}");
    }
    if let Some(a) = &r.scope.agent_id {
        let _ = writeln!(out, "{}: {a}", t.agent);
    }
    let _ = writeln!(out);
    figures_block(&mut out, &r.current, &r.previous, t, r.business_hours_set);
    let _ = writeln!(out);
    let b = &r.badge;
    if b.awarded {
        let _ = writeln!(
            out,
            "★ {} ({} {}, {} {})",
            t.badge_awarded,
            t.response_rate,
            percent(ratio(b.response_rate)),
            b.statistic.name(),
            b.delay_ms.map(human_delay).unwrap_or_default()
        );
    } else {
        let _ = writeln!(out, "☆ {}:", t.badge_not_awarded);
        for line in badge_failures(&b.failing, b.statistic.name(), t) {
            let _ = writeln!(out, "    - {line}");
        }
    }
    match &r.load_alert {
        Some(a) => {
            let _ = writeln!(out, "{}", load_alert_line(a, t, "the previous window"));
        }
        None => {
            let _ = writeln!(out, "✓ {}", t.no_load_alert);
        }
    }
    if !r.agents.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}:", t.agents);
        let _ = writeln!(
            out,
            "  {:<22} {:>8} {:>14} {:>14} {:>8} {:>8} {:>8}",
            t.agent, t.answered, t.mean, t.median, "surveys", "rating", "CSAT"
        );
        for a in &r.agents {
            let _ = writeln!(
                out,
                "  {:<22} {:>8} {:>14} {:>14} {:>8} {:>8} {:>8}",
                a.agent_id,
                a.answered,
                a.response_delay
                    .mean
                    .map(human_delay)
                    .unwrap_or_else(|| "n/a".into()),
                human_ms(a.response_delay.median),
                a.surveys_sent,
                a.average_rating()
                    .map(|x| format!("{x:.2}"))
                    .unwrap_or_else(|| "n/a".into()),
                percent(ratio(a.csat()))
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_and_the_window_line_speak_the_report_language() {
        assert_eq!(trend_count(3, 0, &crate::i18n::FR), "▲ nouveau");
        assert_eq!(trend_count(3, 0, &crate::i18n::EN), "▲ new");
        assert_eq!(trend_count(0, 0, &crate::i18n::FR), "=");
        let window = crate::domain::kpi::Window::last_days(1_762_000_000_000, 7);
        let r = crate::domain::kpi::report(
            &crate::domain::timeline::Timeline::build(&[], None, &|_| {
                static RULES: std::sync::OnceLock<crate::domain::GuildRules> =
                    std::sync::OnceLock::new();
                RULES.get_or_init(Default::default)
            }),
            &crate::domain::kpi::Rules {
                lookup: &|_| {
                    static RULES: std::sync::OnceLock<crate::domain::GuildRules> =
                        std::sync::OnceLock::new();
                    RULES.get_or_init(Default::default)
                },
                report: &Default::default(),
            },
            &Default::default(),
            window,
        );
        let fr = render(&r, &crate::i18n::FR);
        assert!(fr.contains("(maintenant 2025-11-01"), "{fr}");
        assert!(!fr.contains("(now "), "{fr}");
    }
}
