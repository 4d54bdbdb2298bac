//! `GET /g/{guild}/requests.csv`: one row per request of the period, as `reactif export` and
//! `/stats export:True` write it.

use super::overview::enter;
use super::period::PeriodQuery;
use super::{Web, WebError};
use crate::domain::kpi::Scope;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn download(
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
        let events = web
            .desk
            .store()
            .events_until(Some(&guild), window.now)
            .await?;
        let (all, _) = web.desk.report_rules(&scope).await?;
        let mut csv = String::from(crate::report::csv::EXPORT_HEADER);
        for row in crate::desk::export_rows(&events, &all, &scope, window) {
            csv.push_str(&crate::report::csv::export_row(&row));
        }
        let name = format!(
            "attachment; filename=\"reactif-{guild}-{}.csv\"",
            crate::domain::kpi::local_day(&g.rules.timezone, window.from)
        );
        Ok::<Response, WebError>(
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (header::CONTENT_DISPOSITION, name),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                ],
                csv,
            )
                .into_response(),
        )
    }
    .await
    .map_err(|e| e.in_lang(lang))
}
