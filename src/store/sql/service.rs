//! The service levels' reads (`domain::rollup::levels`): the facts a refresh sums into each
//! day's service parts, and what a report reads at its `now` (the requests still unanswered,
//! the conversations not settled).

use super::pieces::ranged_rows;
use super::Db;
use crate::domain::rollup::levels::RequestRow;
use crate::domain::rollup::{FactEnds, ServicePiece};
use crate::domain::{GuildRules, Millis};
use crate::store::{LiveConversation, PieceScope, Result};
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
        ranged_rows(&mut requests, chunk, guild_id, table, [&cols, &none, &none]);
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
        ranged_rows(
            &mut conversations,
            chunk,
            guild_id,
            table,
            [&cols, &joins, &none],
        );
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
    // same way so that both planners use it; the unary `+` keeps SQLite's planner from the
    // index on `opened_ms` instead (measured: 300 ms against a few on a 1M-request guild).
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT c.conv_id, c.opened_ms, c.close_ms, c.auto_close_ms, c.lapses_ms, a.agent_id \
         FROM kpi_conversations c LEFT JOIN kpi_conv_agents a \
         ON a.guild_id = c.guild_id AND a.conv_id = c.conv_id WHERE c.guild_id = ",
    );
    qb.push_bind(guild_id.to_string())
        .push(" AND COALESCE(c.close_ms, c.auto_close_ms, c.lapses_ms) > ")
        .push_bind(now)
        .push(" AND +c.opened_ms >= ")
        .push_bind(from)
        .push(" AND +c.opened_ms < ")
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

/// Requests per quarter hour: an instant's local weekday and hour are those of its quarter
/// hour, since every time zone's offset and changes are whole quarters of an hour.
const SLOT_MS: Millis = 900_000;

/// One quarter hour of requests: (range, slot, requests, first met, missed, unanswered, next
/// met, missed, unanswered, calendar delays within the deadline).
type SlotRow = (i64, i64, i64, i64, i64, i64, i64, i64, i64, Option<String>);
/// One agent's answers: (range, agent, first met, first missed, next met, next missed).
type AgentRow = (i64, String, i64, i64, i64, i64);
/// A conversation: (range, opened, close, auto-close, lapse).
type EndRow = (i64, i64, Option<i64>, Option<i64>, i64);

/// The service pieces of a report's partial days, summed in SQL to a few rows per range (a
/// row per request costs the driver microseconds each: 9,000 rows were 50 to 140 ms). For the
/// guild (`PieceScope::Guild` or `All`): the guild's whole part, and each agent's counters only
/// (what the agents' table shows); `GuildOnly`: the guild's part alone; for one agent: that
/// agent's whole part.
pub(super) async fn report_pieces(
    pool: &Pool<Db>,
    guild_id: &str,
    ranges: &[(Millis, Millis)],
    rules: &GuildRules,
    scope: PieceScope<'_>,
) -> Result<Vec<ServicePiece>> {
    let agent = match scope {
        PieceScope::Agent(a) => Some(a),
        _ => None,
    };
    let per_agent = matches!(scope, PieceScope::Guild | PieceScope::All);
    use super::pieces::{nothing, numbered, parse_delays, ranged};
    use crate::domain::rollup::levels::heat_cell;
    use crate::domain::settings::SlaClock;
    use crate::store::backend::Dialect;
    let mut out = vec![ServicePiece::default(); ranges.len()];
    let sla = match rules.sla.clock {
        SlaClock::Calendar => "(t.answer_ms - t.start_ms)",
        SlaClock::Business => "t.business_ms",
    };
    // SUM(CASE WHEN <kind> AND <status> THEN 1 ELSE 0 END), 0 without the kind's target.
    let count = |qb: &mut QueryBuilder<Db>, first: bool, status: &str| {
        let target = match first {
            true => rules.sla.first_response,
            false => rules.sla.next_response,
        };
        let Some(target) = target else {
            qb.push("CAST(0 AS BIGINT)");
            return;
        };
        qb.push(format!(
            "SUM(CASE WHEN t.is_first = {} AND ",
            i32::from(first)
        ));
        match status {
            "met" => qb
                .push(format!("t.answer_ms IS NOT NULL AND {sla} <= "))
                .push_bind(target),
            "missed" => qb
                .push(format!("t.answer_ms IS NOT NULL AND {sla} > "))
                .push_bind(target),
            _ => qb.push("t.answer_ms IS NULL"),
        };
        qb.push(" THEN 1 ELSE 0 END)");
    };
    let only_agent = |qb: &mut QueryBuilder<Db>| {
        if let Some(a) = agent {
            qb.push(" AND t.agent_id = ").push_bind(a.to_string());
        }
    };
    for (round, chunk) in ranges.chunks(RANGES_PER_ROUND).enumerate() {
        let base = round * RANGES_PER_ROUND;
        let numbered = numbered(chunk);
        let mut slots = QueryBuilder::new("");
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push(format!("t.start_ms / {SLOT_MS}, COUNT(*)"));
            for first in [true, false] {
                for status in ["met", "missed", "unanswered"] {
                    qb.push(", ");
                    count(qb, first, status);
                }
            }
            let (open, close) = Db::CONCAT;
            qb.push(", ").push(open);
            qb.push("CASE WHEN t.answer_ms - t.start_ms <= ")
                .push_bind(rules.deadline_ms)
                .push(" THEN t.answer_ms - t.start_ms END")
                .push(close);
        };
        let group = format!("t.start_ms / {SLOT_MS}");
        let table = ("kpi_requests", "start_ms");
        ranged(
            &mut slots,
            &numbered,
            guild_id,
            table.0,
            table.1,
            &cols,
            &nothing,
            &only_agent,
            Some(&group),
        );
        let mut agents = QueryBuilder::new("");
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push("t.agent_id");
            for first in [true, false] {
                for status in ["met", "missed"] {
                    qb.push(", ");
                    count(qb, first, status);
                }
            }
        };
        let answered = |qb: &mut QueryBuilder<Db>| {
            qb.push(" AND t.agent_id IS NOT NULL");
        };
        ranged(
            &mut agents,
            &numbered,
            guild_id,
            table.0,
            table.1,
            &cols,
            &nothing,
            &answered,
            Some("t.agent_id"),
        );
        let mut ends = QueryBuilder::new("");
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push("t.opened_ms, t.close_ms, t.auto_close_ms, t.lapses_ms");
        };
        let in_agents = |qb: &mut QueryBuilder<Db>| {
            if let Some(a) = agent {
                qb.push(
                    " AND EXISTS (SELECT 1 FROM kpi_conv_agents a WHERE a.guild_id = t.guild_id \
                     AND a.conv_id = t.conv_id AND a.agent_id = ",
                )
                .push_bind(a.to_string())
                .push(")");
            }
        };
        let table = ("kpi_conversations", "opened_ms");
        ranged_rows(
            &mut ends,
            chunk,
            guild_id,
            table,
            [&cols, &nothing, &in_agents],
        );
        let (slot_rows, agent_rows, end_rows) = tokio::try_join!(
            slots.build_query_as::<SlotRow>().fetch_all(pool),
            async {
                match per_agent {
                    false => Ok(Vec::new()),
                    true => agents.build_query_as::<AgentRow>().fetch_all(pool).await,
                }
            },
            ends.build_query_as::<EndRow>().fetch_all(pool),
        )?;
        let slot = |i: i64| base + i as usize;
        for (i, at, n, fm, fx, fu, nm, nx, nu, delays) in slot_rows {
            let Some(piece) = out.get_mut(slot(i)) else {
                continue;
            };
            let p = match agent {
                Some(a) => piece.agents.entry(a.to_string()).or_default(),
                None => &mut piece.guild,
            };
            let u = |v: i64| v as u64;
            p.first.met += u(fm);
            p.first.missed += u(fx);
            p.first.unanswered += u(fu);
            p.next.met += u(nm);
            p.next.missed += u(nx);
            p.next.unanswered += u(nu);
            if let Some((cell, hour)) = heat_cell(rules, at * SLOT_MS) {
                *p.heat.entry(cell).or_default() += u(n);
                let list = parse_delays(delays)?;
                if !list.is_empty() {
                    p.heat_delays.entry(hour).or_default().extend(list);
                }
            }
        }
        for (i, id, fm, fx, nm, nx) in agent_rows {
            let Some(piece) = out.get_mut(slot(i)) else {
                continue;
            };
            let p = piece.agents.entry(id).or_default();
            p.first.met += fm as u64;
            p.first.missed += fx as u64;
            p.next.met += nm as u64;
            p.next.missed += nx as u64;
        }
        for (i, opened, close_at, auto_close_at, lapses_at) in end_rows {
            let Some(piece) = out.get_mut(slot(i)) else {
                continue;
            };
            let ends = FactEnds {
                close_at,
                auto_close_at,
                lapses_at,
            };
            let p = match agent {
                Some(a) => piece.agents.entry(a.to_string()).or_default(),
                None => &mut piece.guild,
            };
            p.add_conversation(rules, opened, &ends);
        }
    }
    Ok(out)
}
