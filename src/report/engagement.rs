//! Renderings of an engagement `Report` (docs/engagement.md): the JSON report (a contract: these
//! names are the contract's), text, CSV and a PNG chart.

pub mod chart;
pub mod csv;
pub mod text;

use crate::domain::engagement::{Figures, PostFigures, Report, ThemeFigures, WindowFigures};
use crate::domain::format_time;
use crate::domain::kpi::{Ratio, Window};
use serde_json::{json, Map, Value};

fn rate(r: Option<Ratio>) -> Value {
    r.map_or(Value::Null, |r| json!(r.value()))
}

fn window(w: &Window) -> Value {
    json!({ "from": format_time(w.from), "to": format_time(w.to), "now": format_time(w.now) })
}

/// The scalar figures, under the contract's names, in its order.
fn scalars(f: &Figures) -> Map<String, Value> {
    let v = json!({
        "posts": f.posts,
        "maturing": f.maturing,
        "reactions": f.reactions,
        "replies": f.replies,
        "engagements": f.engagements(),
        "engaged_users": f.engaged_users,
        "unique_engaged_users": f.unique_engaged_users,
        "audience": f.audience,
        "engagement_rate": rate(f.engagement_rate()),
        "mean_post_engagement_rate": f.mean_post_engagement_rate(),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A theme entry: its name and its scalar figures.
pub fn theme(t: &ThemeFigures) -> Value {
    let mut m = Map::new();
    m.insert("theme".into(), json!(t.theme));
    m.extend(scalars(&t.figures));
    Value::Object(m)
}

/// A top post: `{id, channel_id, at, themes, audience, reactions, replies, engagements,
/// engaged_users, engagement_rate}`.
pub fn post(p: &PostFigures) -> Value {
    json!({
        "id": p.post.id,
        "channel_id": p.post.channel_id,
        "at": format_time(p.post.at),
        "themes": p.post.themes,
        "audience": p.post.audience,
        "reactions": p.reactions,
        "replies": p.replies,
        "engagements": p.engagements(),
        "engaged_users": p.engaged_users(),
        "engagement_rate": rate(p.engagement_rate()),
    })
}

/// One window: `window`, the figures, `themes` and `top_posts`.
pub fn window_figures(w: &WindowFigures) -> Value {
    let mut m = Map::new();
    m.insert("window".into(), window(&w.window));
    m.extend(scalars(&w.figures));
    m.insert("themes".into(), w.themes.iter().map(theme).collect());
    m.insert("top_posts".into(), w.top_posts.iter().map(post).collect());
    Value::Object(m)
}

/// The JSON report: the window's figures, and `previous`, the same for the window just before.
pub fn json(r: &Report) -> Value {
    let mut v = window_figures(&r.current);
    if let Value::Object(m) = &mut v {
        m.insert("previous".into(), window_figures(&r.previous));
    }
    v
}

/// A count of the totals as every view lists them (text, `/engagement`, the dashboard): its
/// JSON name, its label, this window's value and the previous window's.
pub type CountRow = (&'static str, &'static str, u64, u64);
/// A rate of the totals, the same way (`None`: no audience to divide by).
pub type RateRow = (&'static str, &'static str, Option<f64>, Option<f64>);

/// The totals' counts, in the order every view shows them.
pub fn count_rows(f: &Figures, prev: &Figures, t: &crate::i18n::EngagementTexts) -> [CountRow; 7] {
    [
        ("posts", t.posts, f.posts, prev.posts),
        ("reactions", t.reactions, f.reactions, prev.reactions),
        ("replies", t.replies, f.replies, prev.replies),
        (
            "engagements",
            t.engagements,
            f.engagements(),
            prev.engagements(),
        ),
        (
            "engaged_users",
            t.engaged_users,
            f.engaged_users,
            prev.engaged_users,
        ),
        (
            "unique_engaged_users",
            t.unique_engaged_users,
            f.unique_engaged_users,
            prev.unique_engaged_users,
        ),
        ("audience", t.audience, f.audience, prev.audience),
    ]
}

/// The totals' rates, in the order every view shows them.
pub fn rate_rows(f: &Figures, prev: &Figures, t: &crate::i18n::EngagementTexts) -> [RateRow; 2] {
    [
        (
            "engagement_rate",
            t.engagement_rate,
            f.engagement_rate().map(Ratio::value),
            prev.engagement_rate().map(Ratio::value),
        ),
        (
            "mean_post_engagement_rate",
            t.mean_post_engagement_rate,
            f.mean_post_engagement_rate(),
            prev.mean_post_engagement_rate(),
        ),
    ]
}

/// Links to a post, as Discord writes them.
pub fn post_link(p: &PostFigures) -> String {
    format!(
        "https://discord.com/channels/{}/{}/{}",
        p.post.guild_id, p.post.channel_id, p.post.id
    )
}

#[cfg(test)]
mod example_tests;
