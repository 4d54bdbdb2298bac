//! The SQL of every concern, one file each, written once and compiled once per backend:
//! `sqlite.rs` and `postgres.rs` each mount this folder with `Db` naming their sqlx database
//! (see `store`'s documentation). Where the backends differ, the code asks `Db`'s `Dialect`.

use super::Db;
use crate::domain::shards::Shards;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::{Result, Store};
use sqlx::query_builder::Separated;
use sqlx::QueryBuilder;

mod bot_state;
mod commit;
mod days;
mod engagement;
mod engagement_days;
mod engagement_rollups;
mod events;
mod facts;
mod outbox;
mod pieces;
mod privacy;
mod rollups;
mod rules;
mod service;
mod tracking;
mod web;

/// Rows per multi-row INSERT: 10 bound values a row stays well under SQLite's parameter limit.
const INSERT_CHUNK: usize = 1000;

/// A transaction on `Db`.
type Tx = sqlx::Transaction<'static, Db>;

#[async_trait::async_trait]
impl Store for SqlStore<Db> {
    fn backend(&self) -> &'static str {
        Db::BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        Db::MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
        self.reads.close().await;
    }
}

/// A condition (` AND ...`, or nothing when `shards` is every shard) keeping the rows whose
/// guild, in `column`, belongs to `shards` (`domain::shards::shard_of`; a DM's row to shard
/// 0). The numbers are `u32`s written in the SQL, so they bind nothing.
fn owned_by(column: &str, shards: &Shards) -> String {
    if shards.is_whole() {
        return String::new();
    }
    format!(
        " AND {} BETWEEN {} AND {}",
        Db::shard_of(column, shards.count),
        shards.first,
        shards.last
    )
}

/// Appends `prefix` and a bound list of `items`, then `)`.
fn push_in(qb: &mut QueryBuilder<Db>, prefix: &str, items: &[String]) {
    qb.push(prefix);
    let mut list = qb.separated(", ");
    for item in items {
        list.push_bind(item.clone());
    }
    qb.push(")");
}

/// Inserts `rows` into a table, `per_statement` rows a statement: `head` names the table and
/// its columns, `bind` binds one row's values.
async fn insert_rows<T>(
    tx: &mut Tx,
    head: &str,
    per_statement: usize,
    rows: &[T],
    mut bind: impl FnMut(&mut Separated<'_, Db, &'static str>, &T),
) -> Result<()> {
    for part in rows.chunks(per_statement) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(head);
        qb.push_values(part, |mut b, row| bind(&mut b, row));
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}
