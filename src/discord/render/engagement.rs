//! The engagement report (docs/engagement.md) as a Discord embed: the totals against the
//! previous window, the themes, the top posts with their links, the chart, and what the
//! audience is (and is not). The same words and helpers as the text report.

use crate::domain::engagement::{Figures, PostFigures, Report, ThemeFigures};
use crate::domain::kpi::Ratio;
use crate::i18n::{CommunityTexts, EngagementTexts};
use crate::report::engagement::post_link;
use crate::report::engagement::text::rate_percent;
use crate::report::text::{trend_count, trend_points};
use poise::serenity_prelude as serenity;
use std::fmt::Write;

pub const CHART_NAME: &str = "reactif-engagement.png";

/// Discord's limit on an embed field's value.
const FIELD_MAX: usize = 1024;
/// Themes listed at most (the chart shows the 10 most engaged).
const THEMES_SHOWN: usize = 10;

fn value(r: Option<Ratio>) -> Option<f64> {
    r.map(Ratio::value)
}

/// The whole report; `nothing_tracked` adds the line that says how to start.
pub fn embed(
    r: &Report,
    t: &EngagementTexts,
    c: &CommunityTexts,
    nothing_tracked: bool,
) -> serenity::CreateEmbed {
    let mut description = format!(
        "{} <t:{}:f> → <t:{}:f> ({})",
        t.common.window,
        r.window.from / 1000,
        r.window.to / 1000,
        r.timezone.name()
    );
    if let Some(theme) = &r.filters.theme {
        let _ = write!(description, "\n{}: {}", t.theme, t.theme_name(theme));
    }
    let _ = write!(
        description,
        "\n\n{}",
        totals(&r.current.figures, &r.previous.figures, t, c)
    );
    let _ = write!(description, "\n\nⓘ {}", t.audience_note);
    if nothing_tracked {
        let _ = write!(description, "\n\n{}", c.nothing_tracked);
    }
    let mut e = serenity::CreateEmbed::new()
        .title(t.title)
        .description(description)
        .colour(0x8E_44_AD_u32);
    if r.current.figures.posts == 0 {
        return e.field("—", t.no_posts, false);
    }
    e = e.field(
        c.themes,
        clip(themes(&r.current.themes, &r.previous.themes, t)),
        false,
    );
    e = e.field(c.top_posts, clip(top_posts(&r.current.top_posts, t)), false);
    e.image(format!("attachment://{CHART_NAME}"))
}

/// The totals, one a line, each with its change against the previous window.
fn totals(f: &Figures, prev: &Figures, t: &EngagementTexts, c: &CommunityTexts) -> String {
    let mut out = String::new();
    let counts = crate::report::engagement::count_rows(f, prev, t);
    for (i, (_, label, cur, before)) in counts.into_iter().enumerate() {
        let _ = write!(
            out,
            "**{label}**: {cur} ({} {before}: {})",
            c.previous,
            trend_count(cur, before, t.common)
        );
        if i == 0 && f.maturing > 0 {
            let _ = write!(
                out,
                " · {}",
                t.maturing.replace("{n}", &f.maturing.to_string())
            );
        }
        out.push('\n');
    }
    let rates = crate::report::engagement::rate_rows(f, prev, t);
    for (_, label, cur, before) in rates {
        let _ = writeln!(
            out,
            "**{label}**: {} ({} {}: {})",
            rate_percent(cur),
            c.previous,
            rate_percent(before),
            trend_points(cur, before)
        );
    }
    out.trim_end().to_string()
}

/// The themes as a small table (a code block keeps the columns).
fn themes(themes: &[ThemeFigures], prev: &[ThemeFigures], t: &EngagementTexts) -> String {
    let mut out = String::from("```\n");
    let _ = writeln!(
        out,
        "{:<16} {:>5} {:>6} {:>8} {:>7}  {}",
        t.theme, t.col_posts, t.col_engagements, t.col_audience, t.col_rate, t.col_trend
    );
    for th in themes.iter().take(THEMES_SHOWN) {
        let f = &th.figures;
        let before = prev
            .iter()
            .find(|p| p.theme == th.theme)
            .map_or(0, |p| p.figures.engagements());
        let _ = writeln!(
            out,
            "{:<16} {:>5} {:>6} {:>8} {:>7}  {}",
            short(t.theme_name(&th.theme), 16),
            f.posts,
            f.engagements(),
            f.audience,
            rate_percent(value(f.engagement_rate())),
            trend_count(f.engagements(), before, t.common)
        );
    }
    out.push_str("```");
    out
}

/// The top posts, each with its figures and its link.
fn top_posts(posts: &[PostFigures], t: &EngagementTexts) -> String {
    let mut out = String::new();
    for (i, p) in posts.iter().enumerate() {
        let line = t
            .top_post_line
            .replace("{engagements}", &p.engagements().to_string())
            .replace("{reactions}", &p.reactions.to_string())
            .replace("{replies}", &p.replies.to_string())
            .replace("{users}", &p.engaged_users().to_string())
            .replace("{audience}", &p.post.audience.to_string())
            .replace("{rate}", &rate_percent(value(p.engagement_rate())));
        let themes: Vec<&str> = p.post.themes.iter().map(|th| t.theme_name(th)).collect();
        let _ = writeln!(
            out,
            "{}. <t:{}:f> · {} · {line}\n{}",
            i + 1,
            p.post.at / 1000,
            themes.join(", "),
            post_link(p)
        );
    }
    out
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

/// Within a field's limit (a code block keeps its closing fence).
fn clip(s: String) -> String {
    if s.chars().count() <= FIELD_MAX {
        return s;
    }
    let fenced = s.ends_with("```");
    let keep = FIELD_MAX - if fenced { 5 } else { 1 };
    let mut out: String = s.chars().take(keep).collect();
    out.push('…');
    if fenced {
        out.push_str("\n```");
    }
    out
}
