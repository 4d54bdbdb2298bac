//! `GET /g/{guild}/agents/{agent}`: one agent's figures for the period (the report over their
//! answers, as `/stats agent:`), against the previous period.

use super::charts;
use super::figures;
use super::layout;
use super::overview::{agent_name, enter, nav};
use super::period::PeriodQuery;
use super::{Web, WebError};
use crate::domain::kpi::Scope;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;
use std::sync::Arc;

pub async fn page(
    State(web): State<Arc<Web>>,
    Path((guild, agent)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let g = enter(&web, &headers, &guild, q.lang.as_deref()).await?;
    let lang = g.t.lang;
    async {
        if agent.is_empty() || !agent.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WebError::NotFound);
        }
        let window = q.window(&g.rules.timezone, web.clock.now())?;
        let scope = Scope {
            guild_id: Some(guild.clone()),
            agent_id: Some(agent.clone()),
            conversations: None,
        };
        let (report, delays) = web.desk.report_with_delay_charts(&scope, window).await?;
        let names = web.members.names(&guild, std::slice::from_ref(&agent)).await;
        let (t, rt) = (g.t, g.rt);
        let rows = figures::rows(&report, rt, t);
        let body = html! {
            h1 { (rt.agent) " " (agent_name(&names, &agent)) }
            (nav(&guild, &q, t))
            section { (figures::table(&rows, [t.figure, t.this_period, t.previous_period, t.change])) }
            (charts::sections(&report, &delays, t, rt))
        };
        Ok::<Response, WebError>(layout::app_page(t, rt.agent, body))
    }
    .await
    .map_err(|e| e.in_lang(lang))
}
