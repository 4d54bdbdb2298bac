//! `GET /g/{guild}/satisfaction`: the ratings of the period (surveys sent in it), lowest first,
//! with their comments, each linking to its conversation and its agent: from a low CSAT to the
//! conversation behind it in a click.

use super::layout;
use super::overview::{agent_name, enter, local_time, nav};
use super::period::PeriodQuery;
use super::texts::keep;
use super::{Web, WebError};
use crate::domain::timeline::Timeline;
use crate::domain::GuildRules;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;
use std::collections::HashMap;
use std::sync::Arc;

/// The guild's timeline as of `now`, replayed from its events.
pub async fn timeline(
    web: &Web,
    guild: &str,
    rules: &GuildRules,
    now: i64,
) -> Result<Timeline, WebError> {
    let events = web.desk.store().events_until(Some(guild), now).await?;
    let all: HashMap<String, GuildRules> = HashMap::from([(guild.to_string(), rules.clone())]);
    let defaults = GuildRules::default();
    let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
    Ok(Timeline::build(&events, Some(now), &lookup))
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
        let tl = timeline(&web, &guild, &g.rules, window.now).await?;
        let mut rated: Vec<_> = tl
            .surveys
            .iter()
            .filter(|s| s.guild_id == guild && window.contains(s.sent_at))
            .filter_map(|s| s.rating.map(|r| (r.get(), s)))
            .collect();
        rated.sort_by_key(|(r, s)| (*r, std::cmp::Reverse(s.rated_at)));
        let ids: Vec<String> = rated.iter().filter_map(|(_, s)| s.agent_id.clone()).collect();
        let names = web.members.names(&guild, &ids).await;
        let (t, rt) = (g.t, g.rt);
        let period = q.query_string();
        let body = html! {
            h1 { (t.satisfaction) }
            (nav(&guild, &q, t))
            section {
                @if rated.is_empty() {
                    p.muted { (t.no_ratings) }
                } @else {
                    div.scroll { table.ratings {
                        thead { tr { th.num { (t.rating) } th { (t.comment) } th { (rt.agent) } th { (t.when) } th {} } }
                        tbody {
                            @for (rating, s) in &rated {
                                tr data-rating=(rating) {
                                    td.num { (rating) " / 5" }
                                    td { (s.comment.clone().unwrap_or_else(|| "—".into())) }
                                    td { @if let Some(a) = &s.agent_id {
                                        a href=(format!("/g/{guild}/agents/{a}?{period}")) { (agent_name(&names, a)) }
                                    } }
                                    td { (local_time(&g.rules.timezone, s.rated_at.unwrap_or(s.sent_at))) }
                                    td { a.conversation href=(format!("/g/{guild}/c/{}{}", s.key, keep(q.lang.as_deref()))) { (t.conversation) } }
                                }
                            }
                        }
                    } }
                }
            }
        };
        Ok::<Response, WebError>(layout::app_page(t, t.satisfaction, body))
    }
    .await
    .map_err(|e| e.in_lang(lang))
}
