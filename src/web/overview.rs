//! The overview of a guild for a period: every figure of the report against the previous
//! period, the badge and what fails it, the load alert, the service levels when the report
//! carries them, the daily requests, the agents; links to the CSV of the same period.

use super::charts;
use super::figures;
use super::layout;
use super::period::{PeriodQuery, PRESETS};
use super::texts::{self, Lang, WebTexts};
use super::{access, session, Web, WebError};
use crate::domain::delay_charts::DelayCharts;
use crate::domain::kpi::{Report, Scope};
use crate::domain::sla::Attainment;
use crate::i18n::{self, Texts};
use crate::report::text::{badge_failures, load_alert_line, ratio};
use crate::report::{human_ms, percent};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{html, Markup};
use std::sync::Arc;

/// What a guild page needs once the visitor is let in: the guild's rules and their texts.
pub struct GuildPage {
    pub rules: crate::domain::GuildRules,
    pub t: &'static WebTexts,
    pub rt: &'static Texts,
}

/// Checks the session and the /stats rule for `guild`, then picks the language (`?lang=`, or
/// the guild's).
pub async fn enter(
    web: &Web,
    headers: &HeaderMap,
    guild: &str,
    lang: Option<&str>,
) -> Result<GuildPage, WebError> {
    enter_as(web, headers, guild, lang, access::Audience::Staff).await
}

/// `enter` for a page whose audience is not only the staff (the engagement page).
pub async fn enter_as(
    web: &Web,
    headers: &HeaderMap,
    guild: &str,
    lang: Option<&str>,
    audience: access::Audience,
) -> Result<GuildPage, WebError> {
    let guess = texts::choose(lang, headers);
    let session = session::current(web, headers)
        .await
        .map_err(|e| e.in_lang(guess))?;
    access::require(web, guild, &session.user_id, audience)
        .await
        .map_err(|e| e.in_lang(guess))?;
    let rules = web.desk.store().guild_rules(guild).await?;
    let lang = Lang::parse(lang).unwrap_or(Lang::of(rules.locale));
    Ok(GuildPage {
        rules,
        t: texts::pick(Some(lang)),
        rt: i18n::texts(lang.locale()),
    })
}

pub async fn page(
    State(web): State<Arc<Web>>,
    Path(guild): Path<String>,
    headers: HeaderMap,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let g = enter(&web, &headers, &guild, q.lang.as_deref()).await?;
    let lang = g.t.lang;
    async {
        let window = q.window(&g.rules.timezone, web.clock.now())?;
        let scope = Scope {
            guild_id: Some(guild.clone()),
            ..Scope::default()
        };
        let (report, delays) = web.desk.report_with_delay_charts(&scope, window).await?;
        let ids: Vec<String> = report.agents.iter().map(|a| a.agent_id.clone()).collect();
        let names = web.members.names(&guild, &ids).await;
        let body = render(&guild, &q, &report, &delays, &names, g.t, g.rt);
        Ok::<Response, WebError>(layout::app_page(g.t, g.rt.report_title, body))
    }
    .await
    .map_err(|e| e.in_lang(lang))
}

/// A time in the guild's time zone, to the minute.
pub fn local_time(tz: &chrono_tz::Tz, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Agents' names by id, as far as Discord tells them (`Members::names`).
pub type Names = std::collections::HashMap<String, String>;

/// An agent's name, with the id on hover; the id alone when the name is unknown (the agent
/// left the server, or Discord did not answer).
pub fn agent_name(names: &Names, id: &str) -> Markup {
    html! {
        @match names.get(id) {
            Some(name) => span.agent-name title=(id) data-agent-id=(id) { (name) },
            None => span.agent-id data-agent-id=(id) { (id) },
        }
    }
}

/// Links between a guild's pages, keeping the period.
pub fn nav(guild: &str, q: &PeriodQuery, t: &WebTexts) -> Markup {
    let period = q.query_string();
    html! {
        nav.pages {
            a href=(format!("/g/{guild}?{period}")) { (t.overview) } " · "
            a href=(format!("/g/{guild}/satisfaction?{period}")) { (t.satisfaction) } " · "
            a href=(format!("/g/{guild}?{period}#requests-chart")) { (t.charts) } " · "
            a href=(format!("/g/{guild}/engagement?{period}")) { (t.engagement) } " · "
            a href=(format!("/g/{guild}/requests.csv?{period}")) download { (t.csv) }
        }
    }
}

fn render(
    guild: &str,
    q: &PeriodQuery,
    r: &Report,
    delays: &DelayCharts,
    names: &Names,
    t: &WebTexts,
    rt: &Texts,
) -> Markup {
    let rows = figures::rows(r, rt, t);
    html! {
        h1 { (rt.report_title) }
        (nav(guild, q, t))
        (period_form(&format!("/g/{guild}"), q, r.window, &r.timezone, t))
        section { (badge(r, rt)) (alert(r, rt)) }
        section {
            (figures::table(&rows, [t.figure, t.this_period, t.previous_period, t.change]))
            p { a href=(format!("/g/{guild}/requests.csv?{}", q.query_string())) download { (t.download_csv) } }
        }
        @if let Some(s) = &r.service_levels {
            section { h2 { (rt.sla_title) } (service(s, rt)) }
        }
        section { h2 { (rt.agents) } (agents(guild, q, r, names, t, rt)) }
        (charts::sections(r, delays, t, rt))
    }
}

/// The period's presets and dates, for the page at `base` (`/g/GUILD` or one of its pages).
pub fn period_form(
    base: &str,
    q: &PeriodQuery,
    window: crate::domain::kpi::Window,
    tz: &chrono_tz::Tz,
    t: &WebTexts,
) -> Markup {
    let lang = q
        .lang()
        .map(|l| format!("&lang={}", l.code()))
        .unwrap_or_default();
    html! {
        section {
            p.presets {
                (t.period) " "
                @for p in PRESETS {
                    a.preset.on[q.preset() == Some(p)] href=(format!("{base}?period={p}{lang}")) { (t.preset(p)) }
                    " "
                }
            }
            form.period method="get" action=(base) {
                label { (t.from) input type="date" name="from" value=(q.from.clone().unwrap_or_default()) required; }
                label { (t.to) input type="date" name="to" value=(q.to.clone().unwrap_or_default()); }
                @if let Some(l) = q.lang() { input type="hidden" name="lang" value=(l.code()); }
                button type="submit" { (t.show) }
            }
            p.muted.window { (period_line(window, tz)) }
        }
    }
}

/// The period as the guild's people read it: its two ends in the guild's time zone, to the
/// minute, and that zone's name (the same in every language).
pub fn period_line(window: crate::domain::kpi::Window, tz: &chrono_tz::Tz) -> String {
    format!(
        "{} – {} ({})",
        local_time(tz, window.from),
        local_time(tz, window.to),
        tz.name()
    )
}

fn badge(r: &Report, rt: &Texts) -> Markup {
    let b = &r.badge;
    html! {
        @if b.awarded {
            p { span.badge.ok { "★ " (rt.badge_awarded) } }
        } @else {
            p { span.badge.no { "☆ " (rt.badge_not_awarded) } }
            ul.failing {
                @for line in badge_failures(&b.failing, rt.statistic(b.statistic), rt) { li { (line) } }
            }
        }
    }
}

fn alert(r: &Report, rt: &Texts) -> Markup {
    html! {
        @match &r.load_alert {
            Some(a) => p.card.alert data-load-alert="true" { (load_alert_line(a, rt, rt.previous)) },
            None => p.muted data-load-alert="false" { (rt.no_load_alert) },
        }
    }
}

fn service(s: &crate::domain::sla::ServiceLevels, rt: &Texts) -> Markup {
    let line = |name: &str, label: &str, a: &Attainment, p: &Attainment| {
        html! {
            tr data-figure=(format!("sla.{name}.attainment")) {
                td { (label) }
                td.num.value data-value=(ratio(a.attainment()).map(|v| v.to_string()).unwrap_or_default()) {
                    (percent(ratio(a.attainment())))
                }
                td.num { (a.met) " / " (a.missed) }
                td.num.muted data-previous=(ratio(p.attainment()).map(|v| v.to_string()).unwrap_or_default()) {
                    (percent(ratio(p.attainment())))
                }
            }
        }
    };
    html! {
        div.scroll { table {
            thead { tr { th {} th.num { "%" } th.num { (rt.sla_met) " / " (rt.sla_missed) } th.num { (rt.previous) } } }
            tbody {
                (line("first_response", rt.sla_first_response, &s.current.first_response, &s.previous.first_response))
                (line("next_response", rt.sla_next_response, &s.current.next_response, &s.previous.next_response))
                (line("resolution", rt.sla_resolution, &s.current.resolution, &s.previous.resolution))
            }
        } }
    }
}

fn agents(
    guild: &str,
    q: &PeriodQuery,
    r: &Report,
    names: &Names,
    t: &WebTexts,
    rt: &Texts,
) -> Markup {
    let mut list: Vec<&crate::domain::kpi::AgentFigures> = r.agents.iter().collect();
    // Lowest first for satisfaction and ratings (who needs help), slowest first for delays.
    match q.sort.as_deref() {
        Some("csat") => list.sort_by(|a, b| {
            let key =
                |x: &crate::domain::kpi::AgentFigures| ratio(x.csat()).unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
        Some("rating") => list.sort_by(|a, b| {
            let key =
                |x: &crate::domain::kpi::AgentFigures| x.average_rating().unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
        Some("delay") => list.sort_by_key(|a| std::cmp::Reverse(a.response_delay.median)),
        _ => {}
    }
    let period = q.query_string();
    // The column the rows are in the order of says so, to screen readers too; without a sort
    // they are in the report's order, most answers first.
    let active = q
        .sort
        .as_deref()
        .filter(|k| ["csat", "rating", "delay"].contains(k))
        .unwrap_or("answered");
    let head = |key: &str, label: &str| {
        let (order, arrow) = match key {
            "csat" | "rating" => ("ascending", " ↑"),
            _ => ("descending", " ↓"),
        };
        let on = key == active;
        html! {
            th.num aria-sort=[on.then_some(order)] {
                a href=(format!("/g/{guild}?{period}&sort={key}")) { (label) @if on { (arrow) } }
            }
        }
    };
    html! {
        @if list.is_empty() {
            p.muted { (t.no_agents) }
        } @else {
            div.scroll { table.agents {
                thead { tr {
                    th { (rt.agent) } (head("answered", &super::figures::capitalized(rt.answered))) (head("delay", t.median_delay))
                    (head("rating", rt.average_rating)) (head("csat", rt.csat))
                } }
                tbody {
                    @for a in &list {
                        tr data-agent=(a.agent_id) {
                            td { a href=(format!("/g/{guild}/agents/{}?{period}", a.agent_id)) { (agent_name(names, &a.agent_id)) } }
                            td.num { (a.answered) }
                            td.num { (human_ms(a.response_delay.median)) }
                            td.num { (a.average_rating().map(|v| format!("{v:.2}")).unwrap_or_else(|| crate::report::NOT_AVAILABLE.into())) }
                            td.num { (percent(ratio(a.csat()))) }
                        }
                    }
                }
            } }
        }
    }
}
