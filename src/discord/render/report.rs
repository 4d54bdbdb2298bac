//! The report as a Discord embed, with the same words and helpers as the text report.

use crate::domain::format_time;
use crate::domain::kpi::Report;
use crate::domain::sla::ServiceLevels;
use crate::domain::SlaClock;
use crate::i18n::Texts;
use crate::report::text::{
    attainment_line, badge_failures, delay_line, ratio, trend_count, trend_delay, trend_points,
};
use crate::report::{human_delay, human_ms, percent};
use poise::serenity_prelude as serenity;

pub const CHART_NAME: &str = "reactif-stats.png";
/// The second picture: requests by weekday and hour, with the median delay by hour.
pub const HEATMAP_NAME: &str = "reactif-heatmap.png";

/// The whole report: volume, delays, satisfaction, badge, alert, agents, and the chart.
pub fn embed(r: &Report, t: &Texts) -> serenity::CreateEmbed {
    let e = serenity::CreateEmbed::new()
        .title(t.report_title)
        .description(format!(
            "{} {} → {} ({})",
            t.window,
            format_time(r.window.from),
            format_time(r.window.to),
            r.timezone.name()
        ))
        .colour(colour(r));
    let e = volume_fields(e, r, t);
    let e = delay_fields(e, r, t);
    let e = satisfaction_fields(e, r, t);
    let e = match &r.service_levels {
        Some(s) => service_fields(e, s, t),
        None => e,
    };
    let alert = if r.load_alert.is_some() {
        t.load_alert
    } else {
        t.no_load_alert
    };
    let e = e
        .field("Badge", badge(r, t), false)
        .field("⚠", alert, false);
    agents_field(e, r, t).image(format!("attachment://{CHART_NAME}"))
}

/// Orange under a load alert, green with the badge, blue otherwise.
fn colour(r: &Report) -> u32 {
    if r.load_alert.is_some() {
        0xE8_6A_00
    } else if r.badge.awarded {
        0x34_A8_53
    } else {
        0x42_85_F4
    }
}

/// Messages, conversations, requests and the response rate, each with its trend.
fn volume_fields(e: serenity::CreateEmbed, r: &Report, t: &Texts) -> serenity::CreateEmbed {
    let (c, p) = (&r.current, &r.previous);
    e.field(
        t.messages_received,
        format!(
            "{} {}",
            c.messages_received,
            trend_count(c.messages_received, p.messages_received, t)
        ),
        true,
    )
    .field(
        t.conversations,
        format!(
            "{} {}",
            c.conversations,
            trend_count(c.conversations, p.conversations, t)
        ),
        true,
    )
    .field(
        t.requests,
        format!(
            "{} {}\n{} {} · {} {} · {} {}",
            c.requests,
            trend_count(c.requests, p.requests, t),
            c.answered,
            t.answered,
            c.unanswered,
            t.unanswered,
            c.pending,
            t.pending
        ),
        true,
    )
    .field(
        t.response_rate,
        format!(
            "{} {}",
            percent(ratio(c.response_rate())),
            trend_points(ratio(c.response_rate()), ratio(p.response_rate()))
        ),
        true,
    )
}

/// The response delay (with its trend), in business hours when the guild has them, and the
/// first response.
fn delay_fields(e: serenity::CreateEmbed, r: &Report, t: &Texts) -> serenity::CreateEmbed {
    let (c, p) = (&r.current, &r.previous);
    let mut e = e.field(
        t.response_delay,
        format!(
            "{} {}",
            delay_line(&c.response_delay, t),
            trend_delay(c.response_delay.mean, p.response_delay.mean)
        ),
        false,
    );
    if r.business_hours_set {
        e = e.field(
            t.business_hours_delay,
            delay_line(&c.business_hours_delay, t),
            false,
        );
    }
    e.field(t.first_response, delay_line(&c.first_response, t), false)
}

/// The service levels: each target's attainment (with its trend), how the window's
/// conversations stand, and the resolution time (with its trend).
fn service_fields(e: serenity::CreateEmbed, s: &ServiceLevels, t: &Texts) -> serenity::CreateEmbed {
    let clock = match s.clock {
        Some(SlaClock::Calendar) => t.sla_clock_calendar,
        Some(SlaClock::Business) => t.sla_clock_business,
        None => t.sla_clock_mixed,
    };
    let (f, p) = (&s.current, &s.previous);
    let targets: Vec<String> = [
        (t.sla_first_response, &f.first_response, &p.first_response),
        (t.sla_next_response, &f.next_response, &p.next_response),
        (t.sla_resolution, &f.resolution, &p.resolution),
    ]
    .iter()
    .map(|(name, a, prev)| format!("**{name}**: {}", attainment_line(a, prev, t)))
    .collect();
    let mut lines = targets;
    lines.push(format!(
        "**{}**: {} {} {} · {} {} · {} {}",
        t.conversations,
        f.resolved,
        t.resolved,
        trend_count(f.resolved, p.resolved, t),
        f.lapsed,
        t.lapsed,
        f.open,
        t.open
    ));
    lines.push(format!(
        "**{}**: {} {}",
        t.resolution_time,
        delay_line(&f.resolution_time, t),
        trend_delay(f.resolution_time.mean, p.resolution_time.mean)
    ));
    e.field(
        format!("{} ({clock})", t.sla_title),
        lines.join("\n"),
        false,
    )
}

/// Surveys sent (and how many were answered), the average rating and the CSAT.
fn satisfaction_fields(e: serenity::CreateEmbed, r: &Report, t: &Texts) -> serenity::CreateEmbed {
    let (c, p) = (&r.current, &r.previous);
    e.field(
        t.surveys_sent,
        format!(
            "{} ({})",
            c.surveys_sent,
            percent(ratio(c.survey_response_rate()))
        ),
        true,
    )
    .field(
        t.average_rating,
        c.average_rating()
            .map(|a| format!("{a:.2} / 5"))
            .unwrap_or_else(|| "n/a".into()),
        true,
    )
    .field(
        t.csat,
        format!(
            "{} {}",
            percent(ratio(c.csat())),
            trend_points(ratio(c.csat()), ratio(p.csat()))
        ),
        true,
    )
}

/// The badge, with what it misses when it is not awarded.
fn badge(r: &Report, t: &Texts) -> String {
    if r.badge.awarded {
        return format!(
            "★ {} ({}, {})",
            t.badge_awarded,
            percent(ratio(r.badge.response_rate)),
            r.badge.delay_ms.map(human_delay).unwrap_or_default()
        );
    }
    let mut s = format!("☆ {}", t.badge_not_awarded);
    for line in badge_failures(&r.badge.failing, r.badge.statistic.name(), t) {
        s.push_str(&format!("\n• {line}"));
    }
    s
}

/// The five first agents, when the report has any.
fn agents_field(e: serenity::CreateEmbed, r: &Report, t: &Texts) -> serenity::CreateEmbed {
    if r.agents.is_empty() {
        return e;
    }
    let lines: Vec<String> = r
        .agents
        .iter()
        .take(5)
        .map(|a| {
            format!(
                "<@{}> · {} {} · {} {} · CSAT {}",
                a.agent_id,
                a.answered,
                t.answered,
                t.median,
                human_ms(a.response_delay.median),
                percent(ratio(a.csat()))
            )
        })
        .collect();
    e.field(t.agents, lines.join("\n"), false)
}
