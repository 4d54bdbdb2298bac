//! `GET /g/{guild}/engagement`: the community's posts of the period (docs/engagement.md), from
//! the same report as `reactif engagement --guild` (`Desk::engagement_report`): the figures
//! against the previous period, the themes, the top posts with their links. The audience is
//! said to be a ceiling of the reach wherever it shows.
//!
//! Who may see it: the rule of `/engagement`: an agent role, Manage Server, or the guild's
//! community role (`/setup community_role`), checked on every request like the other pages.

use super::access::Audience;
use super::layout;
use super::overview::{enter_as, local_time, nav, period_form};
use super::period::PeriodQuery;
use super::texts::WebTexts;
use super::{Web, WebError};
use crate::domain::engagement::{Figures, Filters, PostFigures, Report, ThemeFigures};
use crate::domain::kpi::Ratio;
use crate::i18n::EngagementTexts;
use crate::report::engagement::{post_link, text::rate_percent};
use crate::report::text::{trend_count, trend_points};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{html, Markup};
use std::sync::Arc;

pub async fn page(
    State(web): State<Arc<Web>>,
    Path(guild): Path<String>,
    headers: HeaderMap,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let g = enter_as(
        &web,
        &headers,
        &guild,
        q.lang.as_deref(),
        Audience::StaffOrCommunity,
    )
    .await?;
    let lang = g.t.lang;
    async {
        let window = q.window(&g.rules.timezone, web.clock.now())?;
        let filters = Filters {
            guild_id: Some(guild.clone()),
            theme: None,
        };
        let report = web.desk.engagement_report(&filters, window).await?;
        let et = crate::i18n::engagement_texts(g.t.lang.locale());
        let body = render(&guild, &q, &report, g.t, et, &g.rules.timezone);
        Ok::<Response, WebError>(layout::app_page(g.t, et.title, body))
    }
    .await
    .map_err(|e| e.in_lang(lang))
}

fn rate(r: Option<Ratio>) -> Option<f64> {
    r.map(Ratio::value)
}

/// The figures as rows: JSON name, label, exact value, shown value, previous, trend.
fn rows(
    c: &Figures,
    p: &Figures,
    et: &EngagementTexts,
) -> Vec<(&'static str, String, String, String, String, String)> {
    let t = et.common;
    let counts = crate::report::engagement::count_rows(c, p, et);
    let rates = crate::report::engagement::rate_rows(c, p, et);
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let counts = counts.into_iter().map(|(key, label, a, b)| {
        (
            key,
            label.to_string(),
            a.to_string(),
            a.to_string(),
            b.to_string(),
            trend_count(a, b, t),
        )
    });
    let rates = rates.into_iter().map(|(key, label, a, b)| {
        (
            key,
            label.to_string(),
            opt(a),
            rate_percent(a),
            rate_percent(b),
            trend_points(a, b),
        )
    });
    counts.chain(rates).collect()
}

/// A theme as people read it: `untagged` (the contract's name) in their language.
fn theme_name(theme: &str, et: &EngagementTexts) -> String {
    match theme {
        "untagged" => et.untagged.to_string(),
        t => t.to_string(),
    }
}

fn themes(list: &[ThemeFigures], et: &EngagementTexts) -> Markup {
    let name = |t: &str| theme_name(t, et);
    html! {
        div.scroll { table.themes {
            thead { tr {
                th { (et.theme) } th.num { (et.col_posts) } th.num { (et.col_engagements) }
                th.num { (et.col_users) } th.num { (et.col_audience) } th.num { (et.col_rate) }
                th.num { (et.col_mean_rate) }
            } }
            tbody {
                @for th in list {
                    tr data-theme=(th.theme) {
                        td { (name(&th.theme)) }
                        td.num data-value=(th.figures.posts) { (th.figures.posts) }
                        td.num data-value=(th.figures.engagements()) { (th.figures.engagements()) }
                        td.num { (th.figures.engaged_users) }
                        td.num { (th.figures.audience) }
                        td.num { (rate_percent(rate(th.figures.engagement_rate()))) }
                        td.num { (rate_percent(th.figures.mean_post_engagement_rate())) }
                    }
                }
            }
        } }
    }
}

fn top_posts(
    list: &[PostFigures],
    t: &WebTexts,
    et: &EngagementTexts,
    tz: &chrono_tz::Tz,
) -> Markup {
    html! {
        div.scroll { table.top-posts {
            thead { tr {
                th { "#" } th { (t.when) } th { (et.theme) }
                th.num { (et.col_engagements) } th.num { (et.reactions) } th.num { (et.replies) }
                th.num { (et.col_users) } th.num { (et.col_audience) } th.num { (et.col_rate) }
            } }
            tbody {
                @for (i, p) in list.iter().enumerate() {
                    tr data-post=(p.post.id) {
                        td { a href=(post_link(p)) { (i + 1) } }
                        td { (local_time(tz, p.post.at)) }
                        td { (p.post.themes.iter().map(|t| theme_name(t, et)).collect::<Vec<_>>().join(", ")) }
                        td.num data-value=(p.engagements()) { (p.engagements()) }
                        td.num { (p.reactions) }
                        td.num { (p.replies) }
                        td.num { (p.engaged_users()) }
                        td.num { (p.post.audience) }
                        td.num { (rate_percent(rate(p.engagement_rate()))) }
                    }
                }
            }
        } }
    }
}

fn render(
    guild: &str,
    q: &PeriodQuery,
    r: &Report,
    t: &WebTexts,
    et: &EngagementTexts,
    tz: &chrono_tz::Tz,
) -> Markup {
    let (c, p) = (&r.current, &r.previous);
    html! {
        h1 { (et.title) }
        (nav(guild, q, t))
        (period_form(&format!("/g/{guild}/engagement"), q, r.window, tz, t))
        section {
            p.card.audience-note { (et.audience_note) }
            @if c.figures.posts == 0 {
                p.muted.no-data { (et.no_posts) }
            }
            div.scroll { table.figures {
                thead { tr {
                    th { (t.figure) } th.num { (t.this_period) } th.num { (t.previous_period) } th.num { (t.change) }
                } }
                tbody {
                    @for (key, label, raw, shown, prev, trend) in rows(&c.figures, &p.figures, et) {
                        tr data-figure=(key) {
                            td { (label) }
                            td.num.value data-value=(raw) { (shown) }
                            td.num.muted { (prev) }
                            td.num.flat { (trend) }
                        }
                    }
                }
            } }
        }
        section { h2 { (et.themes) }
            @if c.themes.is_empty() { p.muted { (et.no_posts) } } @else { (themes(&c.themes, et)) }
        }
        section { h2 { (et.top_posts) }
            @if c.top_posts.is_empty() { p.muted { (et.no_posts) } } @else { (top_posts(&c.top_posts, t, et, tz)) }
        }
    }
}
