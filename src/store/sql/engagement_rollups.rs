//! The engagement rollups' SQL (`EngagementRollupStore`): `eng_dirty_posts`, `eng_dirty_days`,
//! `eng_dirty_blocks`, `eng_rollup_guilds`, `eng_people`, `eng_post_rollups`, `eng_day_rollups`,
//! `eng_block_rollups`.

use super::engagement::{ReactionRow, ReplyRow};
use super::engagement_days::{dirty, parts_query, DayCountRow, DayRow, DAY_COLUMNS};
use super::{push_in, Db, Tx, INSERT_CHUNK};
use crate::domain::engagement::rollup::{encode_people, PostRollup};
use crate::domain::engagement::{EngagementEvent, Post};
use crate::domain::Millis;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::engagement_rollups::{
    DayPartsUpdate, DirtyDay, DirtyPost, EngDay, EngagementRollupStore, PostRollupsUpdate,
    StoredDayPart,
};
use crate::store::{EngagementStore, Result, StoreError};
use sqlx::QueryBuilder;
use std::collections::{HashMap, HashSet};

const POST_ROLLUP_COLUMNS: &str = "post_id, guild_id, channel_id, author_id, at_ms, window_end, \
     themes, audience, reactions, replies, last_at, people";

/// Marks posts dirty (or bumps their mark), inside a write transaction: what
/// `insert_engagement` and the privacy writes call.
pub(super) async fn mark_posts(tx: &mut Tx, post_ids: &[String]) -> Result<()> {
    let mut ids: Vec<&String> = post_ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("INSERT INTO eng_dirty_posts (post_id, version) ");
        qb.push_values(chunk, |mut b, id| {
            b.push_bind((*id).clone()).push_bind(1i64);
        });
        qb.push(" ON CONFLICT (post_id) DO UPDATE SET version = eng_dirty_posts.version + 1");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PostRollupRow {
    post_id: String,
    guild_id: String,
    channel_id: String,
    author_id: String,
    at_ms: i64,
    window_end: i64,
    themes: String,
    audience: i64,
    reactions: i64,
    replies: i64,
    last_at: i64,
    people: Vec<u8>,
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

impl TryFrom<PostRollupRow> for PostRollup {
    type Error = StoreError;

    fn try_from(r: PostRollupRow) -> Result<PostRollup> {
        let themes: Vec<String> = serde_json::from_str(&r.themes).map_err(|e| {
            corrupt(format!(
                "post rollup {} themes {}: {e}",
                r.post_id, r.themes
            ))
        })?;
        let people = crate::domain::engagement::rollup::decode_people(&r.people)
            .map_err(|e| corrupt(format!("post rollup {}: {e}", r.post_id)))?;
        Ok(PostRollup {
            post: Post {
                id: r.post_id,
                guild_id: r.guild_id,
                channel_id: r.channel_id,
                author_id: r.author_id,
                at: r.at_ms,
                themes,
                audience: r.audience.max(0) as u64,
            },
            window_end: r.window_end,
            reactions: r.reactions.max(0) as u64,
            replies: r.replies.max(0) as u64,
            last_at: r.last_at,
            people,
        })
    }
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl EngagementRollupStore for SqlStore<Db> {
    async fn eng_rollup_guilds(&self) -> Result<HashMap<String, (Millis, String)>> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT guild_id, window_ms, zone FROM eng_rollup_guilds")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(g, w, z)| (g, (w, z))).collect())
    }

    async fn eng_set_rollup_guild(
        &self,
        guild_id: &str,
        window_ms: Millis,
        zone: &str,
        rederive: bool,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        sqlx::query(
            "INSERT INTO eng_rollup_guilds (guild_id, window_ms, zone) VALUES ($1, $2, $3) \
             ON CONFLICT (guild_id) DO UPDATE SET window_ms = $2, zone = $3",
        )
        .bind(guild_id)
        .bind(window_ms)
        .bind(zone)
        .execute(&mut *tx)
        .await?;
        if rederive {
            for table in [
                "eng_day_rollups",
                "eng_dirty_days",
                "eng_block_rollups",
                "eng_dirty_blocks",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE guild_id = $1"
                )))
                .bind(guild_id)
                .execute(&mut *tx)
                .await?;
            }
            // Every post of the guild, and every post whose rollup says it was of the guild.
            sqlx::query(
                "INSERT INTO eng_dirty_posts (post_id, version) \
                 SELECT id, 1 FROM eng_posts WHERE guild_id = $1 \
                 UNION SELECT post_id, 1 FROM eng_post_rollups WHERE guild_id = $1 \
                 ON CONFLICT (post_id) DO UPDATE SET version = eng_dirty_posts.version + 1",
            )
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn eng_dirty_posts(&self, limit: i64) -> Result<Vec<DirtyPost>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT post_id, version FROM eng_dirty_posts ORDER BY post_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(post_id, version)| DirtyPost { post_id, version })
            .collect())
    }

    async fn eng_posts_and_interactions(
        &self,
        post_ids: &[String],
    ) -> Result<Vec<EngagementEvent>> {
        let mut out = Vec::new();
        for chunk in post_ids.chunks(INSERT_CHUNK) {
            out.extend(
                self.engagement_by_ids(chunk)
                    .await?
                    .into_iter()
                    .filter(|e| e.kind.post_id().is_none()),
            );
            out.extend(self.eng_interactions_until(chunk, Millis::MAX).await?);
        }
        Ok(out)
    }

    async fn eng_post_rollups_by_id(&self, post_ids: &[String]) -> Result<Vec<PostRollup>> {
        let mut out = Vec::new();
        for chunk in post_ids.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::new(format!(
                "SELECT {POST_ROLLUP_COLUMNS} FROM eng_post_rollups"
            ));
            push_in(&mut qb, " WHERE post_id IN (", chunk);
            let rows: Vec<PostRollupRow> = qb.build_query_as().fetch_all(&self.reads).await?;
            for row in rows {
                out.push(PostRollup::try_from(row)?);
            }
        }
        Ok(out)
    }

    async fn eng_number_people(&self, people: &[String]) -> Result<HashMap<String, u32>> {
        let mut sorted: Vec<&String> = people.iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        // Only the people without a number are inserted: a row that meets the unique index
        // still takes a number from the sequence (both backends), and the gaps it left made
        // every set of people (a bitmap up to the largest number) several times larger.
        let once: Vec<String> = sorted.into_iter().cloned().collect();
        let mut numbers = self.eng_people_numbers(&once).await?;
        let new: Vec<&String> = once.iter().filter(|p| !numbers.contains_key(*p)).collect();
        for chunk in new.chunks(INSERT_CHUNK) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new("INSERT INTO eng_people (person) ");
            qb.push_values(chunk, |mut b, p| {
                b.push_bind((*p).clone());
            });
            qb.push(" ON CONFLICT (person) DO NOTHING");
            qb.build().execute(&self.pool).await?;
        }
        let new: Vec<String> = new.into_iter().cloned().collect();
        numbers.extend(self.eng_people_numbers(&new).await?);
        Ok(numbers)
    }

    async fn eng_people_numbers(&self, people: &[String]) -> Result<HashMap<String, u32>> {
        let mut out = HashMap::new();
        for chunk in people.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::new("SELECT person, idx FROM eng_people");
            push_in(&mut qb, " WHERE person IN (", chunk);
            let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
            for (p, i) in rows {
                let i = u32::try_from(i).map_err(|_| corrupt(format!("person number {i}")))?;
                out.insert(p, i);
            }
        }
        Ok(out)
    }

    async fn eng_people_names(&self, numbers: &[u32]) -> Result<HashMap<u32, String>> {
        let mut out = HashMap::new();
        for chunk in numbers.chunks(INSERT_CHUNK) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("SELECT idx, person FROM eng_people WHERE idx IN (");
            let mut list = qb.separated(", ");
            for n in chunk {
                list.push_bind(*n as i64);
            }
            qb.push(")");
            let rows: Vec<(i64, String)> = qb.build_query_as().fetch_all(&self.reads).await?;
            out.extend(rows.into_iter().map(|(i, p)| (i as u32, p)));
        }
        Ok(out)
    }

    async fn eng_write_post_rollups(&self, update: &PostRollupsUpdate) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        // Only the posts whose mark is still the one read: another refresh may have written a
        // newer rollup meanwhile (the lock waits for it), or an ingest marked the post again.
        let marked: Vec<String> = update.marks.iter().map(|m| m.post_id.clone()).collect();
        let mut current: HashSet<(String, i64)> = HashSet::new();
        for chunk in marked.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::new("SELECT post_id, version FROM eng_dirty_posts");
            push_in(&mut qb, " WHERE post_id IN (", chunk);
            qb.push(Db::LOCK_ROWS);
            let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            current.extend(rows);
        }
        let live: HashSet<&str> = update
            .marks
            .iter()
            .filter(|m| current.contains(&(m.post_id.clone(), m.version)))
            .map(|m| m.post_id.as_str())
            .collect();
        let rollups: Vec<&PostRollup> = update
            .rollups
            .iter()
            .filter(|r| live.contains(r.post.id.as_str()))
            .collect();
        let ids: Vec<String> = rollups
            .iter()
            .map(|r| r.post.id.clone())
            .chain(
                update
                    .removed
                    .iter()
                    .filter(|id| live.contains(id.as_str()))
                    .cloned(),
            )
            .collect();
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::new("DELETE FROM eng_post_rollups");
            push_in(&mut qb, " WHERE post_id IN (", chunk);
            qb.build().execute(&mut *tx).await?;
        }
        let head = format!("INSERT INTO eng_post_rollups ({POST_ROLLUP_COLUMNS}) ");
        super::insert_rows(&mut tx, &head, 500, &rollups, |b, r| {
            b.push_bind(r.post.id.clone())
                .push_bind(r.post.guild_id.clone())
                .push_bind(r.post.channel_id.clone())
                .push_bind(r.post.author_id.clone())
                .push_bind(r.post.at)
                .push_bind(r.window_end)
                .push_bind(serde_json::Value::from(r.post.themes.clone()).to_string())
                .push_bind(as_i64(r.post.audience))
                .push_bind(as_i64(r.reactions))
                .push_bind(as_i64(r.replies))
                .push_bind(r.last_at)
                .push_bind(encode_people(&r.people));
        })
        .await?;
        let mut days: Vec<&EngDay> = update.days.iter().collect();
        days.sort_by(|a, b| (&a.guild_id, &a.zone, &a.day).cmp(&(&b.guild_id, &b.zone, &b.day)));
        days.dedup_by(|a, b| (&a.guild_id, &a.zone, &a.day) == (&b.guild_id, &b.zone, &b.day));
        for chunk in days.chunks(INSERT_CHUNK) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO eng_dirty_days (guild_id, zone, day, start_ms, end_ms, version) ",
            );
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(d.guild_id.clone())
                    .push_bind(d.zone.clone())
                    .push_bind(d.day.clone())
                    .push_bind(d.start_ms)
                    .push_bind(d.end_ms)
                    .push_bind(1i64);
            });
            qb.push(
                " ON CONFLICT (guild_id, zone, day) DO UPDATE SET version = eng_dirty_days.version + 1",
            );
            qb.build().execute(&mut *tx).await?;
        }
        for m in &update.marks {
            sqlx::query("DELETE FROM eng_dirty_posts WHERE post_id = $1 AND version = $2")
                .bind(&m.post_id)
                .bind(m.version)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn eng_dirty_days(&self, limit: i64) -> Result<Vec<DirtyDay>> {
        dirty(self, "eng_dirty_days", limit).await
    }

    async fn eng_post_rollups_between(
        &self,
        guild_id: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<PostRollup>> {
        let rows: Vec<PostRollupRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {POST_ROLLUP_COLUMNS} FROM eng_post_rollups \
             WHERE guild_id = $1 AND at_ms >= $2 AND at_ms < $3"
        )))
        .bind(guild_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.reads)
        .await?;
        rows.into_iter().map(PostRollup::try_from).collect()
    }

    async fn eng_posts_between(
        &self,
        guild_id: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<Post>> {
        let rows: Vec<(String, String, String, String, i64, String, i64)> = sqlx::query_as(
            "SELECT post_id, guild_id, channel_id, author_id, at_ms, themes, audience \
             FROM eng_post_rollups WHERE guild_id = $1 AND at_ms >= $2 AND at_ms < $3",
        )
        .bind(guild_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.reads)
        .await?;
        rows.into_iter()
            .map(
                |(id, guild_id, channel_id, author_id, at, themes, audience)| {
                    let themes = serde_json::from_str(&themes)
                        .map_err(|e| corrupt(format!("post rollup {id} themes {themes}: {e}")))?;
                    Ok(Post {
                        id,
                        guild_id,
                        channel_id,
                        author_id,
                        at,
                        themes,
                        audience: audience.max(0) as u64,
                    })
                },
            )
            .collect()
    }

    async fn eng_write_day_parts(&self, days: &[DayPartsUpdate]) -> Result<()> {
        self.write_parts("eng_day_rollups", "eng_dirty_days", days)
            .await
    }

    async fn eng_dirty_blocks(&self, limit: i64) -> Result<Vec<DirtyDay>> {
        dirty(self, "eng_dirty_blocks", limit).await
    }

    async fn eng_write_block_parts(&self, blocks: &[DayPartsUpdate]) -> Result<()> {
        self.write_parts("eng_block_rollups", "eng_dirty_blocks", blocks)
            .await
    }

    async fn eng_day_parts_of(
        &self,
        guild_id: &str,
        zone: &str,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<StoredDayPart>> {
        let rows: Vec<DayRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DAY_COLUMNS} FROM eng_day_rollups \
             WHERE guild_id = $1 AND zone = $2 AND start_ms >= $3 AND start_ms < $4"
        )))
        .bind(guild_id)
        .bind(zone)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredDayPart::try_from).collect()
    }

    async fn eng_day_parts(
        &self,
        blocks: bool,
        zone: &str,
        guild_id: Option<&str>,
        theme: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<StoredDayPart>> {
        let table = if blocks {
            "eng_block_rollups"
        } else {
            "eng_day_rollups"
        };
        let mut qb = parts_query(DAY_COLUMNS, table, zone, guild_id, theme, from, to);
        let rows: Vec<DayRow> = qb.build_query_as().fetch_all(&self.reads).await?;
        rows.into_iter().map(StoredDayPart::try_from).collect()
    }

    async fn eng_day_counts(
        &self,
        zone: &str,
        guild_id: Option<&str>,
        theme: Option<&str>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<StoredDayPart>> {
        // The same columns but the top posts and people (the bulk of a row).
        let columns = DAY_COLUMNS.replace(", top, people", ", '[]' AS top");
        let mut qb = parts_query(&columns, "eng_day_rollups", zone, guild_id, theme, from, to);
        if theme.is_none() {
            qb.push(" AND theme_a = ''");
        } else {
            qb.push(" AND theme_b = ''");
        }
        let rows: Vec<DayCountRow> = qb.build_query_as().fetch_all(&self.reads).await?;
        rows.into_iter()
            .map(|r| StoredDayPart::try_from(DayRow::from(r)))
            .collect()
    }

    async fn eng_interactions_until(
        &self,
        post_ids: &[String],
        now: Millis,
    ) -> Result<Vec<EngagementEvent>> {
        let mut out = Vec::new();
        for chunk in post_ids.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::new(
                "SELECT id, guild_id, post_id, author_id, emoji, added, at_ms FROM eng_reactions \
                 WHERE at_ms <= ",
            );
            qb.push_bind(now);
            push_in(&mut qb, " AND post_id IN (", chunk);
            let rows: Vec<ReactionRow> = qb.build_query_as().fetch_all(&self.reads).await?;
            out.extend(rows.into_iter().map(EngagementEvent::from));
            let mut qb = QueryBuilder::new(
                "SELECT id, guild_id, post_id, author_id, at_ms FROM eng_replies WHERE at_ms <= ",
            );
            qb.push_bind(now);
            push_in(&mut qb, " AND post_id IN (", chunk);
            let rows: Vec<ReplyRow> = qb.build_query_as().fetch_all(&self.reads).await?;
            out.extend(rows.into_iter().map(EngagementEvent::from));
        }
        Ok(out)
    }
}
