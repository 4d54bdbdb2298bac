//! The rollups' SQL (`RollupStore`): the dirty marks here, the facts in `facts.rs`, the stored
//! days and their delay blocks in `days.rs`, the parts summed from the facts in `pieces.rs`.

use super::{days, facts, pieces, push_in, Db, Tx, INSERT_CHUNK};
use crate::domain::percentile::BlockKey;
use crate::domain::rollup::{Piece, PlaceFacts, ServicePiece};
use crate::domain::{Event, GuildRules, Millis};
use crate::store::backend::{Dialect, SqlStore};
use crate::store::{
    dirty_version, DayRollup, DayUpdate, DirtyDay, DirtyPlace, FactsUpdate, LiveConversation,
    PieceScope, Result, RollupStatus, RollupStore,
};
use sqlx::{AssertSqlSafe, QueryBuilder};
use std::collections::{BTreeSet, HashMap};

#[async_trait::async_trait]
impl RollupStore for SqlStore<Db> {
    async fn dirty_places(
        &self,
        guild_id: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyPlace>> {
        let marks = dirty_from(&self.pool, DIRTY_PLACES, guild_id, after, limit).await?;
        Ok(marks.into_iter().map(place_mark).collect())
    }

    async fn claim_dirty_places(
        &self,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyPlace>> {
        let marks = claim_from(&self.pool, DIRTY_PLACES, after, limit).await?;
        Ok(marks.into_iter().map(place_mark).collect())
    }

    async fn claim_dirty_days(
        &self,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyDay>> {
        let marks = claim_from(&self.pool, DIRTY_DAYS, after, limit).await?;
        Ok(marks.into_iter().map(day_mark).collect())
    }

    async fn events_of_places(
        &self,
        guild_id: &str,
        conversations: &[String],
    ) -> Result<Vec<Event>> {
        facts::events_of_places(&self.pool, guild_id, conversations).await
    }

    async fn place_facts(
        &self,
        guild_id: &str,
        conversations: &[String],
    ) -> Result<HashMap<String, PlaceFacts>> {
        facts::read(&self.pool, guild_id, conversations).await
    }

    async fn write_place_facts(&self, updates: &[FactsUpdate]) -> Result<usize> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let written = facts::write(&mut tx, updates).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn dirty_days(
        &self,
        guild_id: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<DirtyDay>> {
        let marks = dirty_from(&self.pool, DIRTY_DAYS, guild_id, after, limit).await?;
        Ok(marks.into_iter().map(day_mark).collect())
    }

    async fn write_days(&self, updates: &[DayUpdate]) -> Result<usize> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let written = days::write(&mut tx, updates).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn analyze_rollups(&self) -> Result<()> {
        // The simple protocol: VACUUM may not run inside the transaction of a prepared statement.
        sqlx::raw_sql(Db::ANALYZE_ROLLUPS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn analyze_growing(&self) -> Result<()> {
        // One at a time: VACUUM may not run in the implicit transaction of several.
        for sql in Db::ANALYZE_GROWING {
            sqlx::raw_sql(*sql).execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn rollup_status(&self, guild_id: &str) -> Result<RollupStatus> {
        let (irregular,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM kpi_irregular WHERE guild_id = $1")
                .bind(guild_id)
                .fetch_one(&self.pool)
                .await?;
        let (newest_event,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(at_ms) FROM events WHERE guild_id = $1")
                .bind(guild_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(RollupStatus {
            irregular: irregular > 0,
            newest_event,
        })
    }

    async fn kpi_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        deadline: Millis,
        scope: PieceScope<'_>,
    ) -> Result<Vec<Piece>> {
        // A report's reads map the file; the refresh's (PieceScope::All) stay on the
        // main pool, so that the bot's memory while ingesting does not grow with them.
        let pool = match scope {
            PieceScope::All => &self.pool,
            _ => &self.reads,
        };
        pieces::sum(pool, guild_id, ranges, deadline, scope).await
    }

    async fn kpi_pending(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        after: Millis,
        deadline: Millis,
    ) -> Result<Vec<u64>> {
        pieces::pending(&self.reads, guild_id, ranges, after, deadline).await
    }

    async fn stored_days(
        &self,
        guild_id: &str,
        from_day: &str,
        to_day: &str,
        agents: bool,
    ) -> Result<Vec<DayRollup>> {
        days::stored(&self.reads, guild_id, from_day, to_day, agents).await
    }

    async fn service_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        rules: &GuildRules,
    ) -> Result<Vec<ServicePiece>> {
        // On the main pool, as a refresh's pieces (see `kpi_pieces`): a report's partial days
        // are a few small ranges.
        super::service::pieces(&self.pool, guild_id, ranges, rules).await
    }

    async fn report_service_pieces(
        &self,
        guild_id: &str,
        ranges: &[(Millis, Millis)],
        rules: &GuildRules,
        scope: PieceScope<'_>,
    ) -> Result<Vec<ServicePiece>> {
        super::service::report_pieces(&self.reads, guild_id, ranges, rules, scope).await
    }

    async fn unanswered_requests(
        &self,
        guild_id: &str,
        from: Millis,
        before: Millis,
        limit: i64,
    ) -> Result<Vec<(Millis, bool)>> {
        super::service::unanswered(&self.reads, guild_id, from, before, limit).await
    }

    async fn live_conversations(
        &self,
        guild_id: &str,
        range: (Millis, Millis),
        now: Millis,
        agent: Option<&str>,
    ) -> Result<Vec<LiveConversation>> {
        super::service::live(&self.reads, guild_id, range, now, agent).await
    }

    async fn kpi_blocks(
        &self,
        guild_id: &str,
        keys: &[BlockKey],
    ) -> Result<HashMap<BlockKey, Vec<u8>>> {
        days::blocks(&self.reads, guild_id, keys).await
    }
}

/// A table of dirty marks: which places, or days, must be derived again.
pub(super) struct Marks {
    pub table: &'static str,
    /// The column naming what is dirty within a guild.
    pub key: &'static str,
}

pub(super) const DIRTY_PLACES: Marks = Marks {
    table: "kpi_dirty_places",
    key: "conversation",
};
pub(super) const DIRTY_DAYS: Marks = Marks {
    table: "kpi_dirty_days",
    key: "day",
};

/// The facts' tables, keyed by guild and place.
pub(super) const FACT_TABLES: [&str; 6] = [
    "kpi_conversations",
    "kpi_messages",
    "kpi_requests",
    "kpi_conv_agents",
    "kpi_surveys",
    "kpi_irregular",
];

/// Marks places dirty with a fresh version, in the transaction that changed them.
pub(super) async fn mark_places(tx: &mut Tx, places: &BTreeSet<(&str, &str)>) -> Result<()> {
    let list: Vec<(&str, &str)> = places.iter().copied().collect();
    mark(tx, DIRTY_PLACES, &list).await
}

/// Marks (guild, key) pairs dirty in `marks` with one fresh version.
pub(super) async fn mark(tx: &mut Tx, marks: Marks, keys: &[(&str, &str)]) -> Result<()> {
    let version = dirty_version();
    let Marks { table, key } = marks;
    for chunk in keys.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new(format!("INSERT INTO {table} (guild_id, {key}, version) "));
        qb.push_values(chunk, |mut b, (g, k)| {
            b.push_bind(g.to_string())
                .push_bind(k.to_string())
                .push_bind(version);
        });
        qb.push(format!(
            " ON CONFLICT (guild_id, {key}) DO UPDATE SET version = excluded.version, \
             claimed_until_ms = NULL"
        ));
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Drops everything derived for a guild (facts, parts, marks of days), not the events nor
/// the marks of places.
pub(super) async fn forget_rollups(tx: &mut Tx, guild_id: &str) -> Result<()> {
    let days = ["kpi_dirty_days", "kpi_days", "kpi_delay_blocks"];
    for table in FACT_TABLES.into_iter().chain(days) {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE guild_id = $1"
        )))
        .bind(guild_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The current versions of a guild's dirty marks among `names`, locked until the transaction
/// ends.
pub(super) async fn mark_versions(
    tx: &mut Tx,
    marks: Marks,
    guild: &str,
    names: &[String],
) -> Result<HashMap<String, i64>> {
    let Marks { table, key } = marks;
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {key}, version FROM {table} WHERE guild_id = "
    ));
    qb.push_bind(guild.to_string());
    push_in(&mut qb, &format!(" AND {key} IN ("), names);
    qb.push(Db::LOCK_ROWS);
    let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().collect())
}

/// Deletes the rows of a guild's `table` whose `key` is among `names`.
pub(super) async fn delete_keyed(
    tx: &mut Tx,
    table: &str,
    key: &str,
    guild: &str,
    names: &[String],
) -> Result<()> {
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new(format!("DELETE FROM {table} WHERE guild_id = "));
    qb.push_bind(guild.to_string());
    push_in(&mut qb, &format!(" AND {key} IN ("), names);
    qb.build().execute(&mut **tx).await?;
    Ok(())
}

/// The marks (guild, key, version) of a dirty table in key order, from just after `after` on:
/// a row value, so that both backends read its primary key from there.
async fn dirty_from(
    pool: &sqlx::Pool<Db>,
    marks: Marks,
    guild_id: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<(String, String, i64)>> {
    let Marks { table, key } = marks;
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT guild_id, {key}, version FROM {table} WHERE 1 = 1"
    ));
    if let Some(g) = guild_id {
        qb.push(" AND guild_id = ").push_bind(g.to_string());
    }
    if let Some((g, k)) = after {
        qb.push(format!(" AND (guild_id, {key}) > ("))
            .push_bind(g.to_string())
            .push(", ")
            .push_bind(k.to_string())
            .push(")");
    }
    qb.push(format!(" ORDER BY guild_id, {key} LIMIT "))
        .push_bind(limit);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// `dirty_from` over every guild, taking the marks read (`RollupStore::claim_dirty_places`).
/// The marks are locked only while they are taken (`SKIP LOCKED` steps over those another
/// process is taking at that moment); the lease in `claimed_until_ms` keeps them taken until
/// the refresh writes them (and deletes them) or the lease ends. Times are the database's, so
/// that hosts with clocks apart agree on leases.
async fn claim_from(
    pool: &sqlx::Pool<Db>,
    marks: Marks,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<(String, String, i64)>> {
    if !Db::CLAIM_MARKS {
        return dirty_from(pool, marks, None, after, limit).await;
    }
    let Marks { table, key } = marks;
    let now = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
        "UPDATE {table} AS m SET claimed_until_ms = {now} + "
    ));
    qb.push_bind(crate::store::rollups::MARK_LEASE);
    qb.push(format!(
        " FROM (SELECT guild_id, {key} FROM {table} \
         WHERE (claimed_until_ms IS NULL OR claimed_until_ms < {now})"
    ));
    if let Some((g, k)) = after {
        qb.push(format!(" AND (guild_id, {key}) > ("))
            .push_bind(g.to_string())
            .push(", ")
            .push_bind(k.to_string())
            .push(")");
    }
    qb.push(format!(" ORDER BY guild_id, {key} LIMIT "))
        .push_bind(limit)
        .push(format!(
            " FOR UPDATE SKIP LOCKED) AS c WHERE m.guild_id = c.guild_id AND m.{key} = c.{key} \
             RETURNING m.guild_id, m.{key}, m.version"
        ));
    let mut taken: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(pool).await?;
    // RETURNING keeps no order; the refresh reads on from the last key.
    taken.sort();
    Ok(taken)
}

/// A dirty place as `dirty_from` / `claim_from` read it: (guild, place, version).
fn place_mark((guild_id, conversation, version): (String, String, i64)) -> DirtyPlace {
    DirtyPlace {
        guild_id,
        conversation,
        version,
    }
}

/// A dirty day as `dirty_from` / `claim_from` read it: (guild, day, version).
fn day_mark((guild_id, day, version): (String, String, i64)) -> DirtyDay {
    DirtyDay {
        guild_id,
        day,
        version,
    }
}
