//! The report as text for a terminal, and the badge explanations shared with the Discord embed.

use super::{human_delay, human_ms, percent};
use crate::domain::format_time;
use crate::domain::kpi::{BadgeFailure, Figures, LoadAlert, Ratio, Report};
use crate::domain::settings::{format_duration, SlaClock};
use crate::domain::sla::{Attainment, Heatmap, ServiceLevels};
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

/// `target 15m · met 8 · missed 2 · in progress 1 · 80.0 % ▲ +5.0 pts`, or `no target`.
pub fn attainment_line(a: &Attainment, prev: &Attainment, t: &Texts) -> String {
    let counted = a.met + a.missed + a.in_progress;
    let target = match a.target_ms {
        Some(ms) => format!("{} {}", t.sla_target, format_duration(ms)),
        None if counted > 0 => t.sla_target_mixed.to_string(),
        None => return t.sla_off.to_string(),
    };
    format!(
        "{target} · {} {} · {} {} · {} {} · {}   {}",
        t.sla_met,
        a.met,
        t.sla_missed,
        a.missed,
        t.sla_in_progress,
        a.in_progress,
        percent(ratio(a.attainment())),
        trend_points(ratio(a.attainment()), ratio(prev.attainment()))
    )
}

/// The busiest hours of the heatmap, most requests first: `Tue 10:00 (12) · Mon 09:00 (9)`.
pub fn busiest_hours(h: &Heatmap, t: &Texts, n: usize) -> String {
    let mut slots: Vec<(u64, usize, usize)> = h
        .requests
        .iter()
        .enumerate()
        .flat_map(|(d, hours)| hours.iter().enumerate().map(move |(hour, c)| (*c, d, hour)))
        .filter(|(c, _, _)| *c > 0)
        .collect();
    // Most first; ties in week order.
    slots.sort_by(|a, b| b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let shown: Vec<String> = slots
        .iter()
        .take(n)
        .map(|(c, d, hour)| format!("{} {hour:02}:00 ({c})", t.weekdays[*d]))
        .collect();
    if shown.is_empty() {
        return "n/a".into();
    }
    format!("{}   ({})", shown.join(" · "), h.timezone.name())
}

fn service_block(out: &mut String, s: &ServiceLevels, t: &Texts) {
    let clock = match s.clock {
        Some(SlaClock::Calendar) => t.sla_clock_calendar,
        Some(SlaClock::Business) => t.sla_clock_business,
        None => t.sla_clock_mixed,
    };
    let (f, p) = (&s.current, &s.previous);
    let _ = writeln!(out, "{} ({clock}):", t.sla_title);
    for (name, a, prev) in [
        (t.sla_first_response, &f.first_response, &p.first_response),
        (t.sla_next_response, &f.next_response, &p.next_response),
        (t.sla_resolution, &f.resolution, &p.resolution),
    ] {
        let _ = writeln!(out, "  {name:<28} {}", attainment_line(a, prev, t));
    }
    let _ = writeln!(
        out,
        "  {:<28} {} {} ({}) · {} {} · {} {}",
        t.conversations,
        f.resolved,
        t.resolved,
        trend_count(f.resolved, p.resolved, t),
        f.lapsed,
        t.lapsed,
        f.open,
        t.open
    );
    let _ = writeln!(
        out,
        "  {:<28} {}   {}",
        t.resolution_time,
        delay_line(&f.resolution_time, t),
        trend_delay(f.resolution_time.mean, p.resolution_time.mean)
    );
    let _ = writeln!(
        out,
        "  {:<28} {}",
        t.busiest_hours,
        busiest_hours(&s.heatmap, t, 3)
    );
}

/// An agent's attainment of one kind: `80.0 % (4/5)`, or `-` with nothing counted.
fn agent_attainment(a: &Attainment) -> String {
    match a.attainment() {
        Some(r) => format!("{} ({}/{})", percent(Some(r.value())), a.met, r.den),
        None => "-".into(),
    }
}

/// The per-agent table, with each agent's attainment where a response target is set.
fn agents_table(out: &mut String, r: &Report, t: &Texts) {
    if r.agents.is_empty() {
        return;
    }
    // Per-agent attainment where a response target is set somewhere in the report.
    let sla = r.service_levels.as_ref().filter(|s| {
        s.current.first_response.target_ms.is_some()
            || s.current.next_response.target_ms.is_some()
            || !s.agents.is_empty()
    });
    let _ = writeln!(out);
    let _ = writeln!(out, "{}:", t.agents);
    let _ = write!(
        out,
        "  {:<22} {:>8} {:>14} {:>14} {:>8} {:>8} {:>8}",
        t.agent, t.answered, t.mean, t.median, t.surveys, t.rating, "CSAT"
    );
    if sla.is_some() {
        let _ = write!(out, " {:>16} {:>16}", t.agent_sla_first, t.agent_sla_next);
    }
    let _ = writeln!(out);
    for a in &r.agents {
        let _ = write!(
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
        if let Some(s) = sla {
            let own = s.agents.get(&a.agent_id).copied().unwrap_or_default();
            let _ = write!(
                out,
                " {:>16} {:>16}",
                agent_attainment(&own.first_response),
                agent_attainment(&own.next_response)
            );
        }
        let _ = writeln!(out);
    }
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
    if let Some(s) = &r.service_levels {
        let _ = writeln!(out);
        service_block(&mut out, s, t);
    }
    agents_table(&mut out, r, t);
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
