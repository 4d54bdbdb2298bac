//! The day and block parts of the engagement rollups in SQL (`eng_day_rollups`,
//! `eng_block_rollups`, and their dirty marks `eng_dirty_days`, `eng_dirty_blocks`): their rows,
//! the query of a report's parts, and writing the parts of marked days or blocks.

use super::Db;
use crate::domain::engagement::rollup::{decode_top, encode_people, encode_top, DayPart, DaySpan};
use crate::domain::engagement::RateSum;
use crate::domain::Millis;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::engagement_rollups::{DayPartsUpdate, DirtyDay, EngDay, StoredDayPart};
use crate::store::{Result, StoreError};
use sqlx::QueryBuilder;

pub(super) const DAY_COLUMNS: &str = "guild_id, zone, day, theme_a, theme_b, start_ms, end_ms, \
     window_ms, first_post, last_post, last_at, posts, reactions, replies, engaged, audience, \
     rate_scaled, rate_posts, top, people";

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[derive(sqlx::FromRow)]
pub(super) struct DayRow {
    guild_id: String,
    zone: String,
    day: String,
    theme_a: String,
    theme_b: String,
    start_ms: i64,
    end_ms: i64,
    window_ms: i64,
    first_post: i64,
    last_post: i64,
    last_at: i64,
    posts: i64,
    reactions: i64,
    replies: i64,
    engaged: i64,
    audience: i64,
    rate_scaled: String,
    rate_posts: i64,
    top: String,
    people: Vec<u8>,
}

/// A day row without its people (`eng_day_counts`).
#[derive(sqlx::FromRow)]
pub(super) struct DayCountRow {
    guild_id: String,
    zone: String,
    day: String,
    theme_a: String,
    theme_b: String,
    start_ms: i64,
    end_ms: i64,
    window_ms: i64,
    first_post: i64,
    last_post: i64,
    last_at: i64,
    posts: i64,
    reactions: i64,
    replies: i64,
    engaged: i64,
    audience: i64,
    rate_scaled: String,
    rate_posts: i64,
    top: String,
}

impl From<DayCountRow> for DayRow {
    fn from(r: DayCountRow) -> DayRow {
        DayRow {
            guild_id: r.guild_id,
            zone: r.zone,
            day: r.day,
            theme_a: r.theme_a,
            theme_b: r.theme_b,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            window_ms: r.window_ms,
            first_post: r.first_post,
            last_post: r.last_post,
            last_at: r.last_at,
            posts: r.posts,
            reactions: r.reactions,
            replies: r.replies,
            engaged: r.engaged,
            audience: r.audience,
            rate_scaled: r.rate_scaled,
            rate_posts: r.rate_posts,
            top: r.top,
            people: Vec::new(),
        }
    }
}

/// The parts of `table` in time zone `zone` of one guild (or all) for days (or blocks)
/// overlapping `[from, to)`: the keys `(t, "")` and `("", "")` without a theme, `(theme, u)`
/// and `(theme, "")` with one.
pub(super) fn parts_query(
    columns: &str,
    table: &str,
    zone: &str,
    guild_id: Option<&str>,
    theme: Option<&str>,
    from: Millis,
    to: Millis,
) -> QueryBuilder<Db> {
    let mut qb = QueryBuilder::new(format!("SELECT {columns} FROM {table} WHERE zone = "));
    qb.push_bind(zone.to_string());
    qb.push(" AND start_ms < ");
    qb.push_bind(to);
    qb.push(" AND end_ms > ");
    qb.push_bind(from);
    if let Some(g) = guild_id {
        qb.push(" AND guild_id = ");
        qb.push_bind(g.to_string());
    }
    match theme {
        Some(t) => {
            qb.push(" AND theme_a = ");
            qb.push_bind(t.to_string());
        }
        None => {
            qb.push(" AND theme_b = ''");
        }
    }
    qb
}

impl TryFrom<DayRow> for StoredDayPart {
    type Error = StoreError;

    fn try_from(r: DayRow) -> Result<StoredDayPart> {
        let scaled: u128 = r
            .rate_scaled
            .parse()
            .map_err(|e| corrupt(format!("day {} rate {}: {e}", r.day, r.rate_scaled)))?;
        let top = decode_top(&r.top).map_err(corrupt)?;
        let n = |v: i64| v.max(0) as u64;
        Ok(StoredDayPart {
            span: DaySpan {
                first_post: r.first_post,
                last_post: r.last_post,
                last_at: r.last_at,
            },
            window_ms: r.window_ms,
            part: DayPart {
                theme_a: r.theme_a,
                theme_b: r.theme_b,
                posts: n(r.posts),
                reactions: n(r.reactions),
                replies: n(r.replies),
                engaged_users: n(r.engaged),
                audience: n(r.audience),
                rate: RateSum {
                    scaled,
                    posts: n(r.rate_posts),
                },
                top,
                people: Vec::new(),
            },
            people: r.people,
            day: EngDay {
                guild_id: r.guild_id,
                zone: r.zone,
                day: r.day,
                start_ms: r.start_ms,
                end_ms: r.end_ms,
            },
        })
    }
}

impl SqlStore<Db> {
    /// Replaces the parts of days (or blocks) in `rollups` whose mark in `dirty` is still at
    /// the version read; a day's block is marked dirty in the same transaction.
    pub(super) async fn write_parts(
        &self,
        rollups: &str,
        dirty: &str,
        days: &[DayPartsUpdate],
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for d in days {
            let (day, version) = (&d.mark.day, d.mark.version);
            let current: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT version FROM {dirty} \
                 WHERE guild_id = $1 AND zone = $2 AND day = $3 AND version = $4{}",
                Db::LOCK_ROWS
            )))
            .bind(&day.guild_id)
            .bind(&day.zone)
            .bind(&day.day)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
            if current.is_none() {
                // Marked again since it was read: the next round derives it again.
                continue;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {rollups} WHERE guild_id = $1 AND zone = $2 AND day = $3"
            )))
            .bind(&day.guild_id)
            .bind(&day.zone)
            .bind(&day.day)
            .execute(&mut *tx)
            .await?;
            if let Some((span, parts)) = &d.parts {
                let head = format!("INSERT INTO {rollups} ({DAY_COLUMNS}) ");
                super::insert_rows(&mut tx, &head, 200, parts, |b, p| {
                    b.push_bind(day.guild_id.clone())
                        .push_bind(day.zone.clone())
                        .push_bind(day.day.clone())
                        .push_bind(p.theme_a.clone())
                        .push_bind(p.theme_b.clone())
                        .push_bind(day.start_ms)
                        .push_bind(day.end_ms)
                        .push_bind(d.window_ms)
                        .push_bind(span.first_post)
                        .push_bind(span.last_post)
                        .push_bind(span.last_at)
                        .push_bind(as_i64(p.posts))
                        .push_bind(as_i64(p.reactions))
                        .push_bind(as_i64(p.replies))
                        .push_bind(as_i64(p.engaged_users))
                        .push_bind(as_i64(p.audience))
                        .push_bind(p.rate.scaled.to_string())
                        .push_bind(as_i64(p.rate.posts))
                        .push_bind(encode_top(&p.top))
                        .push_bind(encode_people(&p.people));
                })
                .await?;
            }
            if let Some(b) = &d.block {
                sqlx::query(
                    "INSERT INTO eng_dirty_blocks (guild_id, zone, day, start_ms, end_ms, version) \
                     VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (guild_id, zone, day) \
                     DO UPDATE SET version = eng_dirty_blocks.version + 1",
                )
                .bind(&b.guild_id)
                .bind(&b.zone)
                .bind(&b.day)
                .bind(b.start_ms)
                .bind(b.end_ms)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {dirty} \
                 WHERE guild_id = $1 AND zone = $2 AND day = $3 AND version = $4"
            )))
            .bind(&day.guild_id)
            .bind(&day.zone)
            .bind(&day.day)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Up to `limit` marks of `table` (`eng_dirty_days` or `eng_dirty_blocks`).
pub(super) async fn dirty(store: &SqlStore<Db>, table: &str, limit: i64) -> Result<Vec<DirtyDay>> {
    let rows: Vec<(String, String, String, i64, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT guild_id, zone, day, start_ms, end_ms, version FROM {table} \
             ORDER BY guild_id, zone, day LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&store.pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(guild_id, zone, day, start_ms, end_ms, version)| DirtyDay {
                day: EngDay {
                    guild_id,
                    zone,
                    day,
                    start_ms,
                    end_ms,
                },
                version,
            },
        )
        .collect())
}
