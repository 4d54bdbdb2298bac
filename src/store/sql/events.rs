//! The events' SQL (`EventStore`).

use super::rollups::{forget_rollups, mark_places};
use super::{Db, INSERT_CHUNK};
use crate::domain::{Event, Millis};
use crate::store::backend::{Dialect, SqlStore};
use crate::store::rows::{columns, EventRow, EVENT_COLUMNS};
use crate::store::{EventStore, Inserted, Result};
use sqlx::{AssertSqlSafe, QueryBuilder};
use std::collections::{BTreeSet, HashSet};

#[async_trait::async_trait]
impl EventStore for SqlStore<Db> {
    async fn insert_events(&self, events: &[Event]) -> Result<Vec<Inserted>> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let mut new_ids: HashSet<String> = HashSet::new();
        for chunk in events.chunks(INSERT_CHUNK) {
            // When every event is new (live traffic, a first import) the count of rows
            // written says so, and the ids need not come back. Otherwise (a catch-up or
            // an import that overlaps what is stored) the chunk is written again,
            // returning the ids it stored.
            let distinct: HashSet<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
            sqlx::query("SAVEPOINT new_events")
                .execute(&mut *tx)
                .await?;
            let written = insert(chunk)
                .build()
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if written as usize == distinct.len() {
                sqlx::query("RELEASE SAVEPOINT new_events")
                    .execute(&mut *tx)
                    .await?;
                new_ids.extend(distinct.into_iter().map(str::to_string));
                continue;
            }
            sqlx::query("ROLLBACK TO SAVEPOINT new_events")
                .execute(&mut *tx)
                .await?;
            sqlx::query("RELEASE SAVEPOINT new_events")
                .execute(&mut *tx)
                .await?;
            let mut qb = insert(chunk);
            qb.push(" RETURNING id");
            let ids: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            new_ids.extend(ids.into_iter().map(|(id,)| id));
        }
        let places: BTreeSet<(&str, &str)> = events
            .iter()
            .filter(|e| new_ids.contains(&e.id))
            .map(|e| (e.guild_id.as_str(), e.place.as_str()))
            .collect();
        mark_places(&mut tx, &places).await?;
        tx.commit().await?;
        // The first occurrence of an id in the batch is the one stored.
        let mut seen = HashSet::new();
        Ok(events
            .iter()
            .map(|e| {
                if new_ids.contains(&e.id) && seen.insert(e.id.as_str()) {
                    Inserted::New
                } else {
                    Inserted::Duplicate
                }
            })
            .collect())
    }

    async fn events_by_ids(&self, ids: &[String]) -> Result<Vec<Event>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE id IN ("));
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.clone());
            }
            qb.push(")");
            let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&self.pool).await?;
            for row in rows {
                out.push(Event::try_from(row)?);
            }
        }
        Ok(out)
    }

    async fn place_events(&self, guild_id: &str, conversation: &str) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE guild_id = $1 AND conversation = $2"
        )))
        .bind(guild_id)
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Event::try_from).collect()
    }

    async fn place_events_since(
        &self,
        guild_id: &str,
        conversation: &str,
        since: Millis,
    ) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE guild_id = $1 AND conversation = $2 AND at_ms >= $3"
        )))
        .bind(guild_id)
        .bind(conversation)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Event::try_from).collect()
    }

    async fn places_with_customer_messages(
        &self,
        guild_id: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT conversation FROM events WHERE guild_id = $1 \
             AND at_ms >= $2 AND at_ms < $3 AND kind = 'customer_message'",
        )
        .bind(guild_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    async fn guild_has_events(&self, guild_id: &str) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT guild_id FROM events WHERE guild_id = $1 LIMIT 1")
                .bind(guild_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    async fn events_until(&self, guild_id: Option<&str>, now: Millis) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = match guild_id {
            Some(g) => {
                sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE guild_id = $1 AND at_ms <= $2"
                )))
                .bind(g)
                .bind(now)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE at_ms <= $1"
                )))
                .bind(now)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(Event::try_from).collect()
    }

    async fn count_events(&self, guild_id: Option<&str>) -> Result<u64> {
        let (n,): (i64,) = match guild_id {
            Some(g) => {
                sqlx::query_as("SELECT COUNT(*) FROM events WHERE guild_id = $1")
                    .bind(g)
                    .fetch_one(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT COUNT(*) FROM events")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(n.max(0) as u64)
    }

    async fn delete_guild_events(&self, guild_id: &str) -> Result<u64> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let done = sqlx::query("DELETE FROM events WHERE guild_id = $1")
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        forget_rollups(&mut tx, guild_id).await?;
        sqlx::query("DELETE FROM kpi_dirty_places WHERE guild_id = $1")
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

/// A multi-row INSERT of `chunk` that skips the ids already stored.
fn insert(chunk: &[Event]) -> QueryBuilder<Db> {
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new(format!("INSERT INTO events ({EVENT_COLUMNS}) "));
    qb.push_values(chunk, |mut b, e| {
        let c = columns(e);
        b.push_bind(e.id.clone())
            .push_bind(e.guild_id.clone())
            .push_bind(e.place.clone())
            .push_bind(c.kind)
            .push_bind(e.author_id.clone())
            .push_bind(e.at)
            .push_bind(c.survey_id.map(str::to_string))
            .push_bind(c.rating)
            .push_bind(c.answer_message_id.map(str::to_string))
            .push_bind(c.body.map(str::to_string));
    });
    qb.push(" ON CONFLICT (id) DO NOTHING");
    qb
}
