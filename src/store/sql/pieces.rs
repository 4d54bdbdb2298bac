//! The parts of time ranges summed from the facts: a report's partial days and the pending
//! requests of its windows, and a refresh's whole days.

use super::Db;
use crate::domain::rollup::{Part, Piece};
use crate::domain::Millis;
use crate::store::backend::Dialect;
use crate::store::{PieceScope, Result, StoreError};
use sqlx::{Pool, QueryBuilder};

/// Ranges per round of queries: each range is a few bound values in every query.
const RANGES_PER_ROUND: usize = 200;

/// A time range of a query, numbered by its index in the caller's list.
pub(super) type Numbered = (i64, Millis, Millis);

/// A piece of the query being built.
type Clause<'a> = &'a dyn Fn(&mut QueryBuilder<Db>);

/// `SELECT <slot>, <cols> FROM <table> t <joins>` over numbered time ranges of `t.<time>` in
/// one guild, `<filter>` added to the conditions, grouped by slot and `group`. SQLite joins a
/// VALUES table of the ranges (its planner walks the time index once per range); PostgreSQL
/// gets one `SELECT` per range joined by `UNION ALL`, each planned with its own bounds,
/// because with the VALUES table its planner misjudged the ranges and scanned whole guilds.
#[allow(clippy::too_many_arguments)]
pub(super) fn ranged(
    qb: &mut QueryBuilder<Db>,
    ranges: &[Numbered],
    guild: &str,
    table: &str,
    time: &str,
    cols: Clause,
    joins: Clause,
    filter: Clause,
    group: Option<&str>,
) {
    ranged_with(
        qb,
        ranges,
        guild,
        table,
        time,
        [cols, joins, filter],
        Some(group),
    );
}

/// `ranged`, one result row per row of `t` (no aggregate, no grouping).
pub(super) fn ranged_rows(
    qb: &mut QueryBuilder<Db>,
    ranges: &[(Millis, Millis)],
    guild: &str,
    (table, time): (&str, &str),
    clauses: [Clause; 3],
) {
    let numbered = numbered(ranges);
    ranged_with(qb, &numbered, guild, table, time, clauses, None);
}

/// `ranged`, grouped by range (and `Some(group)`) when `grouping` is given.
fn ranged_with(
    qb: &mut QueryBuilder<Db>,
    ranges: &[Numbered],
    guild: &str,
    table: &str,
    time: &str,
    [cols, joins, filter]: [Clause; 3],
    grouping: Option<Option<&str>>,
) {
    let group = grouping.flatten();
    if Db::RANGES_AS_UNION {
        for (n, (i, from, to)) in ranges.iter().enumerate() {
            if n > 0 {
                qb.push(" UNION ALL ");
            }
            qb.push(format!("SELECT CAST({i} AS BIGINT), "));
            cols(qb);
            qb.push(format!(" FROM {table} t"));
            joins(qb);
            qb.push(" WHERE t.guild_id = ").push_bind(guild.to_string());
            qb.push(format!(" AND t.{time} >= ")).push_bind(*from);
            qb.push(format!(" AND t.{time} < ")).push_bind(*to);
            filter(qb);
            if let Some(g) = group {
                qb.push(format!(" GROUP BY {g}"));
            }
        }
        return;
    }
    qb.push("SELECT d.column1, ");
    cols(qb);
    qb.push(" FROM (VALUES ");
    for (n, (i, from, to)) in ranges.iter().enumerate() {
        if n > 0 {
            qb.push(", ");
        }
        qb.push("(CAST(")
            .push_bind(*i)
            .push(" AS BIGINT), CAST(")
            .push_bind(*from);
        qb.push(" AS BIGINT), CAST(")
            .push_bind(*to)
            .push(" AS BIGINT))");
    }
    qb.push(format!(") AS d JOIN {table} t ON t.guild_id = "))
        .push_bind(guild.to_string());
    qb.push(format!(
        " AND t.{time} >= d.column2 AND t.{time} < d.column3"
    ));
    joins(qb);
    qb.push(" WHERE 1 = 1");
    filter(qb);
    if grouping.is_some() {
        qb.push(" GROUP BY d.column1");
    }
    if let Some(g) = group {
        qb.push(format!(", {g}"));
    }
}

pub(super) fn nothing(_: &mut QueryBuilder<Db>) {}

/// The ranges, numbered.
pub(super) fn numbered(ranges: &[(Millis, Millis)]) -> Vec<Numbered> {
    ranges
        .iter()
        .enumerate()
        .map(|(i, (a, b))| (i as i64, *a, *b))
        .collect()
}

/// The parts of `scope` over each range `[from, to)`, summed from the facts, one piece per
/// range in order.
pub(super) async fn sum(
    pool: &Pool<Db>,
    guild_id: &str,
    ranges: &[(Millis, Millis)],
    deadline: Millis,
    scope: PieceScope<'_>,
) -> Result<Vec<Piece>> {
    let agent = match scope {
        PieceScope::Agent(a) => Some(a),
        _ => None,
    };
    let mut pieces = Pieces {
        pieces: vec![Piece::default(); ranges.len()],
        agent,
    };
    let query = Query {
        guild: guild_id,
        agent,
        per_agent: scope != PieceScope::GuildOnly,
    };
    for chunk in numbered(ranges).chunks(RANGES_PER_ROUND) {
        // The queries of a chunk are independent: they run at once, each on its own
        // connection, so that a report's partial days use more than one core.
        let mut requests = query.requests(chunk, deadline);
        let mut counts = query.counts(chunk, scope);
        let mut surveys = query.surveys(chunk);
        let (request_rows, count_rows, survey_rows) = tokio::try_join!(
            requests.build_query_as::<RequestRow>().fetch_all(pool),
            futures_util::future::try_join_all(
                counts
                    .iter_mut()
                    .map(|(qb, _)| qb.build_query_as::<CountRow>().fetch_all(pool))
            ),
            surveys.build_query_as::<SurveyRow>().fetch_all(pool),
        )?;
        pieces.add_requests(request_rows)?;
        for (rows, (_, count)) in count_rows.into_iter().zip(&counts) {
            pieces.add_counts(rows, *count)?;
        }
        pieces.add_surveys(survey_rows)?;
    }
    Ok(pieces.pieces)
}

/// Requests, per range and answering agent: (range, agent, requests, answered, delays,
/// business hours delays, first response delays), each list of delays comma-separated.
type RequestRow = (
    i64,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// A count of messages or conversations, per range and agent (none: the guild's).
type CountRow = (i64, Option<String>, i64);
/// Surveys, per range and agent: (range, agent, sent, ratings, sum of ratings, satisfied).
type SurveyRow = (i64, Option<String>, i64, i64, i64, Option<i64>);

/// What a count query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Messages,
    Conversations,
}

/// The queries of one guild's pieces, of every agent or of one.
struct Query<'a> {
    guild: &'a str,
    agent: Option<&'a str>,
    /// Whether rows are grouped by agent too (not for `PieceScope::GuildOnly`: grouping by
    /// agent is most of these queries' cost).
    per_agent: bool,
}

impl Query<'_> {
    /// Keeps one agent's rows, when the pieces are that agent's.
    fn only_agent(&self, qb: &mut QueryBuilder<Db>) {
        if let Some(a) = self.agent {
            qb.push(" AND t.agent_id = ").push_bind(a.to_string());
        }
    }

    /// The agent column of a query grouped by agent, and its grouping (none: the guild's).
    fn agent_column(&self) -> (&'static str, Option<&'static str>) {
        match self.per_agent {
            true => ("t.agent_id", Some("t.agent_id")),
            false => ("CAST(NULL AS TEXT)", None),
        }
    }

    /// Requests, per range and answering agent. Every range is an index range scan.
    fn requests(&self, chunk: &[Numbered], deadline: Millis) -> QueryBuilder<Db> {
        let (open, close) = Db::CONCAT;
        let (agent_column, group) = self.agent_column();
        let cols = |qb: &mut QueryBuilder<Db>| {
            let within = |qb: &mut QueryBuilder<Db>| {
                qb.push("t.answer_ms - t.start_ms <= ");
                qb.push_bind(deadline);
            };
            qb.push(agent_column).push(", COUNT(*), SUM(CASE WHEN ");
            within(qb);
            qb.push(" THEN 1 ELSE 0 END), ");
            qb.push(open).push("CASE WHEN ");
            within(qb);
            qb.push(" THEN t.answer_ms - t.start_ms END")
                .push(close)
                .push(", ");
            qb.push(open).push("CASE WHEN ");
            within(qb);
            qb.push(" THEN t.business_ms END").push(close).push(", ");
            qb.push(open).push("CASE WHEN t.is_first = 1 AND ");
            within(qb);
            qb.push(" THEN t.answer_ms - t.start_ms END").push(close);
        };
        let mut qb = QueryBuilder::new("");
        let only_agent = |qb: &mut QueryBuilder<Db>| self.only_agent(qb);
        let (table, time) = ("kpi_requests", "start_ms");
        ranged(
            &mut qb,
            chunk,
            self.guild,
            table,
            time,
            &cols,
            &nothing,
            &only_agent,
            group,
        );
        qb
    }

    /// Messages and conversations: the guild's (no agent), and per agent those of the
    /// conversations in which the agent answered.
    fn counts(&self, chunk: &[Numbered], scope: PieceScope) -> Vec<(QueryBuilder<Db>, Count)> {
        let mut out = Vec::new();
        let tables = [
            ("kpi_messages", "at_ms", Count::Messages),
            ("kpi_conversations", "opened_ms", Count::Conversations),
        ];
        for (table, time, count) in tables {
            if self.agent.is_none() {
                let mut qb = QueryBuilder::new("");
                let cols = |qb: &mut QueryBuilder<Db>| {
                    qb.push("CAST(NULL AS TEXT), COUNT(*)");
                };
                ranged(
                    &mut qb, chunk, self.guild, table, time, &cols, &nothing, &nothing, None,
                );
                out.push((qb, count));
            }
            if self.agent.is_none() && matches!(scope, PieceScope::Guild | PieceScope::GuildOnly) {
                continue;
            }
            out.push((self.agent_counts(chunk, table, time), count));
        }
        out
    }

    /// A table's rows per range and agent, of the conversations in which the agent answered.
    fn agent_counts(&self, chunk: &[Numbered], table: &str, time: &str) -> QueryBuilder<Db> {
        let mut qb = QueryBuilder::new("");
        let guild = self.guild;
        let Some(a) = self.agent else {
            let cols = |qb: &mut QueryBuilder<Db>| {
                qb.push("a.agent_id, COUNT(*)");
            };
            let joins = |qb: &mut QueryBuilder<Db>| {
                qb.push(
                    " JOIN kpi_conv_agents a ON a.guild_id = t.guild_id AND a.conv_id = t.conv_id",
                );
            };
            let group = Some("a.agent_id");
            ranged(
                &mut qb, chunk, guild, table, time, &cols, &joins, &nothing, group,
            );
            return qb;
        };
        // The agent's conversations (their whole history) as a set probed in memory, built
        // once per query.
        let agent_convs = |qb: &mut QueryBuilder<Db>| {
            qb.push(" IN (SELECT conv_id FROM kpi_conv_agents WHERE guild_id = ")
                .push_bind(guild.to_string())
                .push(" AND agent_id = ")
                .push_bind(a.to_string())
                .push(")");
        };
        if Db::RANGES_AS_UNION {
            // Around the ranges' union, not in each of its branches: PostgreSQL would build
            // the set once per range.
            qb.push("SELECT x.slot, CAST(")
                .push_bind(a.to_string())
                .push(" AS TEXT), COUNT(*) FROM (");
            let cols = |qb: &mut QueryBuilder<Db>| {
                qb.push("t.conv_id");
            };
            ranged(
                &mut qb, chunk, guild, table, time, &cols, &nothing, &nothing, None,
            );
            qb.push(") AS x (slot, conv_id) WHERE x.conv_id");
            agent_convs(&mut qb);
            qb.push(" GROUP BY x.slot");
        } else {
            // SQLite joins the ranges to the table: the set is built once.
            let cols = |qb: &mut QueryBuilder<Db>| {
                qb.push("CAST(")
                    .push_bind(a.to_string())
                    .push(" AS TEXT), COUNT(*)");
            };
            let filter = |qb: &mut QueryBuilder<Db>| {
                qb.push(" AND t.conv_id");
                agent_convs(qb);
            };
            ranged(
                &mut qb, chunk, guild, table, time, &cols, &nothing, &filter, None,
            );
        }
        qb
    }

    /// Surveys sent, per range and agent.
    fn surveys(&self, chunk: &[Numbered]) -> QueryBuilder<Db> {
        let mut qb = QueryBuilder::new("");
        let (agent_column, group) = self.agent_column();
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push(agent_column).push(
                ", COUNT(*), COUNT(t.rating), COALESCE(SUM(t.rating), 0), \
                 SUM(CASE WHEN t.rating >= 4 THEN 1 ELSE 0 END)",
            );
        };
        let only_agent = |qb: &mut QueryBuilder<Db>| self.only_agent(qb);
        let (table, time) = ("kpi_surveys", "sent_ms");
        ranged(
            &mut qb,
            chunk,
            self.guild,
            table,
            time,
            &cols,
            &nothing,
            &only_agent,
            group,
        );
        qb
    }
}

/// The pieces being summed, one per range.
struct Pieces<'a> {
    pieces: Vec<Piece>,
    /// The agent whose pieces these are (no guild part then), if any.
    agent: Option<&'a str>,
}

impl Pieces<'_> {
    /// The piece of range `i`.
    fn slot(&mut self, i: i64) -> Result<&mut Piece> {
        let n = self.pieces.len();
        usize::try_from(i)
            .ok()
            .filter(|&i| i < n)
            .map(|i| &mut self.pieces[i])
            .ok_or_else(|| StoreError::Corrupt(format!("range {i}")))
    }

    /// Adds `part` to range `i`'s guild part (unless the pieces are one agent's) and to
    /// `who`'s.
    fn add(&mut self, i: i64, who: Option<String>, part: &Part) -> Result<()> {
        let for_guild = self.agent.is_none();
        let piece = self.slot(i)?;
        if for_guild {
            piece.guild.merge(part);
        }
        if let Some(who) = who {
            piece.agents.entry(who).or_default().merge(part);
        }
        Ok(())
    }

    fn add_requests(&mut self, rows: Vec<RequestRow>) -> Result<()> {
        for (i, who, requests, answered, delays, business, first) in rows {
            let part = Part {
                requests: requests as u64,
                answered: answered.unwrap_or(0) as u64,
                delays: parse_delays(delays)?,
                business_delays: parse_delays(business)?,
                first_delays: parse_delays(first)?,
                ..Part::default()
            };
            self.add(i, who, &part)?;
        }
        Ok(())
    }

    fn add_counts(&mut self, rows: Vec<CountRow>, count: Count) -> Result<()> {
        for (i, who, n) in rows {
            let piece = self.slot(i)?;
            let p = match who {
                None => &mut piece.guild,
                Some(who) => piece.agents.entry(who).or_default(),
            };
            match count {
                Count::Messages => p.messages = n as u64,
                Count::Conversations => p.conversations = n as u64,
            }
        }
        Ok(())
    }

    fn add_surveys(&mut self, rows: Vec<SurveyRow>) -> Result<()> {
        for (i, who, sent, ratings, sum, satisfied) in rows {
            let part = Part {
                surveys_sent: sent as u64,
                ratings: ratings as u64,
                rating_sum: sum as u64,
                satisfied: satisfied.unwrap_or(0) as u64,
                ..Part::default()
            };
            self.add(i, who, &part)?;
        }
        Ok(())
    }
}

/// A comma-separated list of delays (`Dialect::CONCAT`'s).
pub(super) fn parse_delays(text: Option<String>) -> Result<Vec<Millis>> {
    text.unwrap_or_default()
        .split(',')
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<Millis>()
                .map_err(|e| StoreError::Corrupt(format!("delay `{v}`: {e}")))
        })
        .collect()
}

/// Per range `[from, to)`, the requests started after `after` that are not answered within
/// `deadline`.
pub(super) async fn pending(
    pool: &Pool<Db>,
    guild_id: &str,
    ranges: &[(Millis, Millis)],
    after: Millis,
    deadline: Millis,
) -> Result<Vec<u64>> {
    let mut out = vec![0; ranges.len()];
    for chunk in numbered(ranges).chunks(RANGES_PER_ROUND) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("");
        let cols = |qb: &mut QueryBuilder<Db>| {
            qb.push("COUNT(*)");
        };
        let filter = |qb: &mut QueryBuilder<Db>| {
            qb.push(" AND t.start_ms > ").push_bind(after);
            qb.push(" AND (t.answer_ms IS NULL OR t.answer_ms - t.start_ms > ")
                .push_bind(deadline)
                .push(")");
        };
        let (table, time) = ("kpi_requests", "start_ms");
        ranged(
            &mut qb, chunk, guild_id, table, time, &cols, &nothing, &filter, None,
        );
        for (i, n) in qb.build_query_as::<(i64, i64)>().fetch_all(pool).await? {
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                *slot = n as u64;
            }
        }
    }
    Ok(out)
}
