//! The engagement report as text: totals against the previous window, the themes, the top posts
//! with their links, and what the audience is (and is not).

use super::post_link;
use crate::domain::engagement::{Figures, PostFigures, Report, ThemeFigures};
use crate::domain::format_time;
use crate::domain::kpi::Ratio;
use crate::i18n::EngagementTexts;
use crate::report::text::{trend_count, trend_points};
use chrono_tz::Tz;
use std::fmt::Write;

/// A rate for people: one decimal, two below 1 % (community rates are often small).
pub fn rate_percent(v: Option<f64>) -> String {
    match v {
        None => crate::report::NOT_AVAILABLE.into(),
        Some(x) if x != 0.0 && x.abs() < 0.01 => format!("{:.2} %", x * 100.0),
        Some(x) => format!("{:.1} %", x * 100.0),
    }
}

fn value(r: Option<Ratio>) -> Option<f64> {
    r.map(Ratio::value)
}

/// At most `n` characters, with an ellipsis when cut: theme names can be long.
pub(super) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn local_time(ms: i64, tz: &Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| format_time(ms))
}

fn totals(out: &mut String, f: &Figures, prev: &Figures, t: &EngagementTexts) {
    let c = t.common;
    let counts = super::count_rows(f, prev, t);
    for (i, (_, label, cur, before)) in counts.into_iter().enumerate() {
        let _ = write!(
            out,
            "  {label:<40} {cur:>10}   {}",
            trend_count(cur, before, c)
        );
        if i == 0 && f.maturing > 0 {
            let _ = write!(
                out,
                "   ({})",
                t.maturing.replace("{n}", &f.maturing.to_string())
            );
        }
        out.push('\n');
    }
    let rates = super::rate_rows(f, prev, t);
    for (_, label, cur, before) in rates {
        let _ = writeln!(
            out,
            "  {label:<40} {:>10}   {}",
            rate_percent(cur),
            trend_points(cur, before)
        );
    }
}

fn theme_table(
    out: &mut String,
    themes: &[ThemeFigures],
    prev: &[ThemeFigures],
    t: &EngagementTexts,
) {
    let _ = writeln!(out, "{}:", t.themes);
    let _ = writeln!(
        out,
        "  {:<24} {:>12} {:>12} {:>9} {:>10} {:>10} {:>11}   {}",
        t.theme,
        t.col_posts,
        t.col_engagements,
        t.col_users,
        t.col_audience,
        t.col_rate,
        t.col_mean_rate,
        t.col_trend
    );
    for th in themes {
        let f = &th.figures;
        let before = prev
            .iter()
            .find(|p| p.theme == th.theme)
            .map_or(0, |p| p.figures.engagements());
        let _ = writeln!(
            out,
            "  {:<24} {:>12} {:>12} {:>9} {:>10} {:>10} {:>11}   {}",
            clip(t.theme_name(&th.theme), 24),
            f.posts,
            f.engagements(),
            f.unique_engaged_users,
            f.audience,
            rate_percent(value(f.engagement_rate())),
            rate_percent(f.mean_post_engagement_rate()),
            trend_count(f.engagements(), before, t.common)
        );
    }
}

fn top_post(out: &mut String, rank: usize, p: &PostFigures, tz: &Tz, t: &EngagementTexts) {
    let line = t
        .top_post_line
        .replace("{engagements}", &p.engagements().to_string())
        .replace("{reactions}", &p.reactions.to_string())
        .replace("{replies}", &p.replies.to_string())
        .replace("{users}", &p.engaged_users().to_string())
        .replace("{audience}", &p.post.audience.to_string())
        .replace("{rate}", &rate_percent(value(p.engagement_rate())));
    let _ = writeln!(
        out,
        "  {rank}. {} · {} · {line}",
        local_time(p.post.at, tz),
        p.post
            .themes
            .iter()
            .map(|th| t.theme_name(th))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "     {}", post_link(p));
}

/// The whole report as text, in the words of `t`.
pub fn render(r: &Report, t: &EngagementTexts) -> String {
    let c = t.common;
    let mut out = String::new();
    let _ = writeln!(out, "{}", t.title);
    let _ = writeln!(
        out,
        "{}: {} → {} ({} {}, {})",
        c.window,
        format_time(r.window.from),
        format_time(r.window.to),
        c.now,
        format_time(r.window.now),
        r.timezone.name()
    );
    if let Some(g) = &r.filters.guild_id {
        let _ = writeln!(out, "{}: {g}", t.guild);
    }
    if let Some(theme) = &r.filters.theme {
        let _ = writeln!(out, "{}: {}", t.theme, t.theme_name(theme));
    }
    let _ = writeln!(out);
    let cur = &r.current;
    totals(&mut out, &cur.figures, &r.previous.figures, t);
    let _ = writeln!(out);
    let _ = writeln!(out, "ⓘ {}", t.audience_note);
    if cur.figures.posts == 0 {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", t.no_posts);
        return out;
    }
    let _ = writeln!(out);
    theme_table(&mut out, &cur.themes, &r.previous.themes, t);
    let _ = writeln!(out);
    let _ = writeln!(out, "{}:", t.top_posts);
    for (i, p) in cur.top_posts.iter().enumerate() {
        top_post(&mut out, i + 1, p, &r.timezone, t);
    }
    out
}
