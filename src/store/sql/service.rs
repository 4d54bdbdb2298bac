//! What the service levels of a report from the rollups read (`RollupStore::service_facts`):
//! the window's conversations with all their requests.

use super::facts::{conversation_fact, ConversationRow, CONVERSATION_COLUMNS};
use super::{push_in, Db, INSERT_CHUNK};
use crate::domain::rollup::{ConversationFact, RequestFact};
use crate::domain::Millis;
use crate::store::backend::Dialect;
use crate::store::{Result, StoreError};
use sqlx::{Pool, QueryBuilder};
use std::collections::HashMap;

/// The conversations opened in `[from, to)` and those of the requests started in it (opened
/// before), each with its place and all its requests, sorted by conversation id.
pub(super) async fn service_facts(
    pool: &Pool<Db>,
    guild_id: &str,
    from: Millis,
    to: Millis,
) -> Result<Vec<(String, ConversationFact)>> {
    let guild = || guild_id.to_string();
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {CONVERSATION_COLUMNS} FROM kpi_conversations WHERE guild_id = "
    ));
    qb.push_bind(guild())
        .push(" AND opened_ms >= ")
        .push_bind(from)
        .push(" AND opened_ms < ")
        .push_bind(to)
        .push(format!(
            " UNION SELECT {} FROM kpi_conversations c JOIN \
             (SELECT DISTINCT conv_id FROM kpi_requests WHERE guild_id = ",
            columns_of("c")
        ))
        .push_bind(guild())
        .push(" AND start_ms >= ")
        .push_bind(from)
        .push(" AND start_ms < ")
        .push_bind(to)
        .push(") r ON c.conv_id = r.conv_id WHERE c.guild_id = ")
        .push_bind(guild());
    // One snapshot for both reads: a refresh committing between them would leave requests of
    // conversations the first read did not see.
    let mut tx = pool.begin_with(Db::BEGIN_SNAPSHOT).await?;
    let rows: Vec<ConversationRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
    let mut convs: Vec<(String, ConversationFact)> =
        rows.into_iter().map(conversation_fact).collect();
    convs.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let index: HashMap<String, usize> = convs
        .iter()
        .enumerate()
        .map(|(i, (_, c))| (c.id.clone(), i))
        .collect();
    let ids: Vec<String> = convs.iter().map(|(_, c)| c.id.clone()).collect();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT conv_id, start_id, start_ms, answer_ms, agent_id, is_first, business_ms \
             FROM kpi_requests WHERE guild_id = ",
        );
        qb.push_bind(guild());
        push_in(&mut qb, " AND conv_id IN (", chunk);
        type Row = (
            String,
            String,
            i64,
            Option<i64>,
            Option<String>,
            i32,
            Option<i64>,
        );
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&mut *tx).await?;
        for (id, start_id, start, answer_at, agent_id, is_first, business_ms) in rows {
            let i = *index.get(&id).ok_or_else(|| {
                StoreError::Corrupt(format!("request of unknown conversation {id}"))
            })?;
            convs[i].1.requests.push(RequestFact {
                start,
                start_id,
                answer_at,
                agent_id,
                is_first: is_first != 0,
                business_ms,
            });
        }
    }
    tx.commit().await?;
    for (_, c) in &mut convs {
        c.requests.sort();
    }
    Ok(convs)
}

/// The conversation columns, each prefixed with a table's alias.
fn columns_of(alias: &str) -> String {
    CONVERSATION_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
