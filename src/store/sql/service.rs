//! The service levels' reads (`domain::rollup::levels`): the facts a refresh sums into each
//! day's service parts, and what a report reads at its `now` (the requests still unanswered,
//! the conversations not settled).

use super::pieces::ranged_rows;
use super::Db;
use crate::domain::rollup::levels::RequestRow;
use crate::domain::rollup::{FactEnds, ServicePiece};
use crate::domain::{GuildRules, Millis};
use crate::store::{LiveConversation, Result};
use sqlx::{Pool, QueryBuilder};
use std::collections::BTreeMap;

/// Ranges per round: each is a few bound values in both queries.
const RANGES_PER_ROUND: usize = 200;

/// A request: (range, start, answer, agent, is_first, business-hours part of its delay).
type RequestFactRow = (i64, i64, Option<i64>, Option<String>, i32, Option<i64>);
/// A conversation with one of its agents (none: no agent answered in it): (range, id,
/// opened, close, auto-close, lapse, agent).
type ConversationRow = (
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    Option<String>,
);

/// The service pieces of the guild over each range `[from, to)`, one per range in order:
/// the requests started in it and the conversations opened in it.
pub(super) async fn pieces(
    pool: &Pool<Db>,
    guild_id: &str,
    ranges: &[(Millis, Millis)],
    rules: &GuildRules,
) -> Result<Vec<ServicePiece>> {
    let mut out = vec![ServicePiece::default(); ranges.len()];
    for (round, chunk) in ranges.chunks(RANGES_PER_ROUND).enumerate() {
        let base = round * RANGES_PER_ROUND;
        let mut requests = QueryBuilder::new("");
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push("t.start_ms, t.answer_ms, t.agent_id, t.is_first, t.business_ms");
        };
        let none = |_: &mut QueryBuilder<Db>| {};
        let table = ("kpi_requests", "start_ms");
        ranged_rows(&mut requests, chunk, guild_id, table, &cols, &none);
        let mut conversations = QueryBuilder::new("");
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push("t.conv_id, t.opened_ms, t.close_ms, t.auto_close_ms, t.lapses_ms, a.agent_id");
        };
        let joins = |qb: &mut QueryBuilder<Db>| {
            qb.push(
                " LEFT JOIN kpi_conv_agents a ON a.guild_id = t.guild_id AND a.conv_id = t.conv_id",
            );
        };
        let table = ("kpi_conversations", "opened_ms");
        ranged_rows(&mut conversations, chunk, guild_id, table, &cols, &joins);
        let (request_rows, conversation_rows) = tokio::try_join!(
            requests.build_query_as::<RequestFactRow>().fetch_all(pool),
            conversations
                .build_query_as::<ConversationRow>()
                .fetch_all(pool),
        )?;
        let slot = |i: i64| base + i as usize;
        for (i, start, answer_at, agent, is_first, business) in request_rows {
            let row = RequestRow {
                start,
                answer: answer_at.map(|at| (at, business)),
                is_first: is_first != 0,
            };
            if let Some(p) = out.get_mut(slot(i)) {
                p.add_request(rules, &row, agent.as_deref());
            }
        }
        // One row per (conversation, agent): each conversation once, with all its agents.
        type Conv = (Millis, FactEnds, Vec<String>);
        let mut convs: BTreeMap<(i64, String), Conv> = BTreeMap::new();
        for (i, id, opened, close_at, auto_close_at, lapses_at, agent) in conversation_rows {
            let ends = FactEnds {
                close_at,
                auto_close_at,
                lapses_at,
            };
            let c = convs
                .entry((i, id))
                .or_insert_with(|| (opened, ends, Vec::new()));
            c.2.extend(agent);
        }
        for ((i, _), (opened, ends, agents)) in convs {
            if let Some(p) = out.get_mut(slot(i)) {
                p.add_conversation(rules, opened, &ends, agents.iter().map(String::as_str));
            }
        }
    }
    Ok(out)
}

/// At most `limit` unanswered requests started in `[from, before)`, newest first: (start,
/// is_first).
pub(super) async fn unanswered(
    pool: &Pool<Db>,
    guild_id: &str,
    from: Millis,
    before: Millis,
    limit: i64,
) -> Result<Vec<(Millis, bool)>> {
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT start_ms, is_first FROM kpi_requests WHERE guild_id = $1 AND answer_ms IS NULL \
         AND start_ms >= $2 AND start_ms < $3 ORDER BY start_ms DESC LIMIT $4",
    )
    .bind(guild_id)
    .bind(from)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(t, f)| (t, f != 0)).collect())
}

/// The conversations opened in `[from, to)` that settle after `now` (see
/// `domain::rollup::levels::settles_at`), with their agents; of one agent's only if given.
pub(super) async fn live(
    pool: &Pool<Db>,
    guild_id: &str,
    (from, to): (Millis, Millis),
    now: Millis,
    agent: Option<&str>,
) -> Result<Vec<LiveConversation>> {
    // The condition is the expression of the index `kpi_conversations_settles`, written the
    // same way so that both planners use it.
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT c.conv_id, c.opened_ms, c.close_ms, c.auto_close_ms, c.lapses_ms, a.agent_id \
         FROM kpi_conversations c LEFT JOIN kpi_conv_agents a \
         ON a.guild_id = c.guild_id AND a.conv_id = c.conv_id WHERE c.guild_id = ",
    );
    qb.push_bind(guild_id.to_string())
        .push(" AND COALESCE(c.close_ms, c.auto_close_ms, c.lapses_ms) > ")
        .push_bind(now)
        .push(" AND c.opened_ms >= ")
        .push_bind(from)
        .push(" AND c.opened_ms < ")
        .push_bind(to);
    type Row = (String, i64, Option<i64>, Option<i64>, i64, Option<String>);
    let rows: Vec<Row> = qb.build_query_as().fetch_all(pool).await?;
    let mut convs: BTreeMap<String, LiveConversation> = BTreeMap::new();
    for (id, opened_at, close_at, auto_close_at, lapses_at, a) in rows {
        let c = convs.entry(id).or_insert_with(|| LiveConversation {
            opened_at,
            ends: FactEnds {
                close_at,
                auto_close_at,
                lapses_at,
            },
            agents: Vec::new(),
        });
        c.agents.extend(a);
    }
    Ok(convs
        .into_values()
        .filter(|c| agent.is_none_or(|a| c.agents.iter().any(|x| x == a)))
        .collect())
}
