//! `GET /g/{guild}/c/{key}`: one place's timeline: who wrote when (customer or agent), each
//! request's delay and who answered, the surveys and their ratings; the messages' text only
//! where the guild keeps transcripts (`/setup transcripts:True`), from when it turned them on.

use super::layout;
use super::overview::{agent_name, enter, local_time};
use super::satisfaction::timeline;
use super::texts::keep;
use super::{Web, WebError};
use crate::domain::EventKind;
use crate::report::human_ms;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct LangOnly {
    lang: Option<String>,
}

pub async fn page(
    State(web): State<Arc<Web>>,
    Path((guild, key)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<LangOnly>,
) -> Result<Response, WebError> {
    let g = enter(&web, &headers, &guild, q.lang.as_deref()).await?;
    let lang = g.t.lang;
    async {
        let (t, rt) = (g.t, g.rt);
        let mut events = web.desk.store().place_events(&guild, &key).await?;
        if events.is_empty() {
            return Err(WebError::NotFound);
        }
        let now = web.clock.now();
        events.retain(|e| e.at <= now);
        events.sort_by_key(|e| e.at);
        let tl = timeline(&web, &guild, &g.rules, now).await?;
        let requests: Vec<_> = tl
            .requests
            .iter()
            .filter(|r| tl.conversations[r.conversation].key == key)
            .collect();
        let setup = web.desk.store().discord_setup(&guild).await?;
        let transcript = if setup.transcripts {
            web.desk.store().transcript(&guild, &key).await?
        } else {
            Vec::new()
        };
        let mut ids: Vec<String> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::AgentMessage))
            .map(|e| e.author_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let names = web.members.names(&guild, &ids).await;
        let tz = &g.rules.timezone;
        let body = html! {
            h1 { (t.conversation) " " code { (key) } }
            p { a href=(format!("/g/{guild}{}", keep(q.lang.as_deref()))) { "← " (rt.report_title) } }
            section {
                h2 { (rt.requests) }
                div.scroll { table {
                    thead { tr { th { (t.when) } th { (rt.agent) } th.num { (rt.response_delay) } } }
                    tbody { @for r in &requests {
                        tr data-delay=(r.delay().map(|d| d.to_string()).unwrap_or_default()) {
                            td { (local_time(tz, r.start)) }
                            td { @match &r.answer { Some(a) => (agent_name(&names, &a.agent_id)), None => "—" } }
                            td.num { (human_ms(r.delay())) }
                        }
                    } }
                } }
            }
            section {
                h2 { (t.timeline) }
                ol.timeline { @for e in &events {
                    li {
                        span.muted { (local_time(tz, e.at)) } " · "
                        @match &e.kind {
                            EventKind::CustomerMessage => { (t.customer) " " (e.author_id) }
                            EventKind::AgentMessage => { (rt.agent) " " (agent_name(&names, &e.author_id)) }
                            EventKind::Note => { (t.note) " " (e.author_id) }
                            EventKind::BotMessage => { (t.bot_message) }
                            EventKind::Close => { (t.closed) }
                            EventKind::SurveySent { .. } => { (t.survey_sent) }
                            EventKind::Rating { rating, .. } => { strong { (t.rating) " " (rating.get()) " / 5" } }
                            EventKind::Comment { text, .. } => { (t.comment_quoted.replace("{value}", text)) }
                        }
                        @if let Some(line) = transcript.iter().find(|l| l.message_id == e.id) {
                            blockquote { (line.content) }
                        }
                    }
                } }
                @if !setup.transcripts { p.muted { (t.no_transcript) } }
            }
        };
        Ok::<Response, WebError>(layout::app_page(t, t.conversation, body))
    }
    .await
    .map_err(|e| e.in_lang(lang))
}
