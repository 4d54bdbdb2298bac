//! The communication half's SQL (`EngagementStore`): `eng_posts`, `eng_reactions`, `eng_replies`.

use super::{Db, Tx, INSERT_CHUNK};
use crate::domain::engagement::{EngagementEvent, EngagementKind};
use crate::domain::Millis;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::{
    anon_token, EngagementStore, Inserted, PurgePreview, Result, StoreError, ANON_PREFIX,
};
use sqlx::{AssertSqlSafe, QueryBuilder};
use std::collections::HashSet;

const POST_COLUMNS: &str = "id, guild_id, channel_id, author_id, at_ms, themes, audience";
const REACTION_COLUMNS: &str = "id, guild_id, post_id, author_id, emoji, added, at_ms";
const REPLY_COLUMNS: &str = "id, guild_id, post_id, author_id, at_ms";

/// The tables of the three kinds of rows: where an author's id can be.
const TABLES: [&str; 3] = ["eng_posts", "eng_reactions", "eng_replies"];

/// The rollups of a guild (`sql/engagement_rollups.rs`), dropped with its rows.
const ROLLUP_TABLES: [&str; 5] = [
    "eng_post_rollups",
    "eng_day_rollups",
    "eng_dirty_days",
    "eng_block_rollups",
    "eng_dirty_blocks",
];

/// The engagement window of a post's guild, in SQL over `eng_posts p` (the default is
/// ENGAGEMENT.md's 7 days, for a guild that set nothing).
const POST_WINDOW_END: &str = "p.at_ms + COALESCE((SELECT g.engagement_window_ms FROM \
     guild_settings g WHERE g.guild_id = p.guild_id), 604800000)";

#[derive(sqlx::FromRow)]
struct PostRow {
    id: String,
    guild_id: String,
    channel_id: String,
    author_id: String,
    at_ms: i64,
    themes: String,
    audience: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ReactionRow {
    id: String,
    guild_id: String,
    post_id: String,
    author_id: String,
    emoji: String,
    added: i32,
    at_ms: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ReplyRow {
    id: String,
    guild_id: String,
    post_id: String,
    author_id: String,
    at_ms: i64,
}

impl TryFrom<PostRow> for EngagementEvent {
    type Error = StoreError;

    fn try_from(r: PostRow) -> Result<EngagementEvent> {
        let themes: Vec<String> = serde_json::from_str(&r.themes).map_err(|e| {
            StoreError::Corrupt(format!("post {} has themes {}: {e}", r.id, r.themes))
        })?;
        Ok(EngagementEvent {
            id: r.id,
            guild_id: r.guild_id,
            author_id: r.author_id,
            at: r.at_ms,
            kind: EngagementKind::Post {
                channel_id: r.channel_id,
                themes,
                audience: r.audience.max(0) as u64,
            },
        })
    }
}

impl From<ReactionRow> for EngagementEvent {
    fn from(r: ReactionRow) -> EngagementEvent {
        let kind = if r.added != 0 {
            EngagementKind::ReactionAdd {
                post_id: r.post_id,
                emoji: r.emoji,
            }
        } else {
            EngagementKind::ReactionRemove {
                post_id: r.post_id,
                emoji: r.emoji,
            }
        };
        EngagementEvent {
            id: r.id,
            guild_id: r.guild_id,
            author_id: r.author_id,
            at: r.at_ms,
            kind,
        }
    }
}

impl From<ReplyRow> for EngagementEvent {
    fn from(r: ReplyRow) -> EngagementEvent {
        EngagementEvent {
            id: r.id,
            guild_id: r.guild_id,
            author_id: r.author_id,
            at: r.at_ms,
            kind: EngagementKind::Reply { post_id: r.post_id },
        }
    }
}

/// Which table an event's row goes to.
fn table_of(e: &EngagementEvent) -> usize {
    match e.kind {
        EngagementKind::Post { .. } => 0,
        EngagementKind::ReactionAdd { .. } | EngagementKind::ReactionRemove { .. } => 1,
        EngagementKind::Reply { .. } => 2,
    }
}

/// A multi-row INSERT of `chunk` (all of one table) that skips the ids already stored and
/// returns those it stored.
fn insert(table: usize, chunk: &[&EngagementEvent]) -> QueryBuilder<Db> {
    let columns = [POST_COLUMNS, REACTION_COLUMNS, REPLY_COLUMNS][table];
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new(format!("INSERT INTO {} ({columns}) ", TABLES[table]));
    qb.push_values(chunk, |mut b, e| {
        b.push_bind(e.id.clone()).push_bind(e.guild_id.clone());
        match &e.kind {
            EngagementKind::Post {
                channel_id,
                themes,
                audience,
            } => {
                b.push_bind(channel_id.clone())
                    .push_bind(e.author_id.clone())
                    .push_bind(e.at)
                    .push_bind(serde_json::Value::from(themes.clone()).to_string())
                    .push_bind(i64::try_from(*audience).unwrap_or(i64::MAX));
            }
            EngagementKind::ReactionAdd { post_id, emoji }
            | EngagementKind::ReactionRemove { post_id, emoji } => {
                let added = matches!(e.kind, EngagementKind::ReactionAdd { .. });
                b.push_bind(post_id.clone())
                    .push_bind(e.author_id.clone())
                    .push_bind(emoji.clone())
                    .push_bind(added as i32)
                    .push_bind(e.at);
            }
            EngagementKind::Reply { post_id } => {
                b.push_bind(post_id.clone())
                    .push_bind(e.author_id.clone())
                    .push_bind(e.at);
            }
        }
    });
    qb.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
    qb
}

/// A post stored again with an earlier time becomes that copy; whether it did.
async fn keep_earliest_post(tx: &mut Tx, e: &EngagementEvent) -> Result<bool> {
    let EngagementKind::Post {
        channel_id,
        themes,
        audience,
    } = &e.kind
    else {
        return Ok(false);
    };
    let changed = sqlx::query(
        "UPDATE eng_posts SET guild_id = $2, channel_id = $3, author_id = $4, at_ms = $5, \
         themes = $6, audience = $7 WHERE id = $1 AND at_ms > $5",
    )
    .bind(&e.id)
    .bind(&e.guild_id)
    .bind(channel_id)
    .bind(&e.author_id)
    .bind(e.at)
    .bind(serde_json::Value::from(themes.clone()).to_string())
    .bind(i64::try_from(*audience).unwrap_or(i64::MAX))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// The rows of table number `table` (in `TABLES`) that a purge before `$1` covers, over that
/// table's alias `x`: the posts whose engagement window ended by then with their reactions and
/// replies, and the reactions and replies before then on no stored post.
fn covered(table: usize) -> String {
    if table == 0 {
        return format!("x.id IN (SELECT p.id FROM eng_posts p WHERE {POST_WINDOW_END} <= $1)");
    }
    format!(
        "(x.post_id IN (SELECT p.id FROM eng_posts p WHERE {POST_WINDOW_END} <= $1) \
         OR (x.at_ms < $1 AND NOT EXISTS (SELECT 1 FROM eng_posts q WHERE q.id = x.post_id)))"
    )
}

/// `select` with `AND guild_id = $N` (on `column`) when a guild is given, bound.
fn push_guild(qb: &mut QueryBuilder<Db>, column: &str, guild_id: Option<&str>) {
    if let Some(g) = guild_id {
        qb.push(format!(" AND {column} = "));
        qb.push_bind(g.to_string());
    }
}

#[async_trait::async_trait]
impl EngagementStore for SqlStore<Db> {
    async fn insert_engagement(&self, events: &[EngagementEvent]) -> Result<Vec<Inserted>> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let mut new_ids: [HashSet<String>; 3] = Default::default();
        for (table, new) in new_ids.iter_mut().enumerate() {
            let rows: Vec<&EngagementEvent> =
                events.iter().filter(|e| table_of(e) == table).collect();
            for chunk in rows.chunks(INSERT_CHUNK) {
                let ids: Vec<(String,)> = insert(table, chunk)
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await?;
                new.extend(ids.into_iter().map(|(id,)| id));
            }
        }
        // The first occurrence of an id in the batch is the one stored.
        let mut seen: [HashSet<&str>; 3] = Default::default();
        let mut out = Vec::with_capacity(events.len());
        // The posts whose rollups this changes (a reaction's post may not be stored yet: its
        // mark waits for it).
        let mut dirty: Vec<String> = Vec::new();
        for e in events {
            let t = table_of(e);
            if new_ids[t].contains(&e.id) && seen[t].insert(e.id.as_str()) {
                dirty.push(e.kind.post_id().unwrap_or(&e.id).to_string());
                out.push(Inserted::New);
            } else {
                if t == 0 && keep_earliest_post(&mut tx, e).await? {
                    dirty.push(e.id.clone());
                }
                out.push(Inserted::Duplicate);
            }
        }
        super::engagement_rollups::mark_posts(&mut tx, &dirty).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn engagement_by_ids(&self, ids: &[String]) -> Result<Vec<EngagementEvent>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::new(format!("SELECT {POST_COLUMNS} FROM eng_posts"));
            super::push_in(&mut qb, " WHERE id IN (", chunk);
            for row in qb.build_query_as::<PostRow>().fetch_all(&self.pool).await? {
                out.push(EngagementEvent::try_from(row)?);
            }
            let mut qb = QueryBuilder::new(format!("SELECT {REACTION_COLUMNS} FROM eng_reactions"));
            super::push_in(&mut qb, " WHERE id IN (", chunk);
            let rows: Vec<ReactionRow> = qb.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(EngagementEvent::from));
            let mut qb = QueryBuilder::new(format!("SELECT {REPLY_COLUMNS} FROM eng_replies"));
            super::push_in(&mut qb, " WHERE id IN (", chunk);
            let rows: Vec<ReplyRow> = qb.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(EngagementEvent::from));
        }
        Ok(out)
    }

    async fn engagement_events(
        &self,
        guild_id: Option<&str>,
        from: Millis,
        to: Millis,
        now: Millis,
    ) -> Result<Vec<EngagementEvent>> {
        // The posts' condition, for the posts and for the rows that join them.
        let posts = |qb: &mut QueryBuilder<Db>| {
            qb.push(" p.at_ms >= ");
            qb.push_bind(from);
            qb.push(" AND p.at_ms < ");
            qb.push_bind(to);
            qb.push(" AND p.at_ms <= ");
            qb.push_bind(now);
            push_guild(qb, "p.guild_id", guild_id);
        };
        let mut qb = QueryBuilder::new(format!("SELECT {POST_COLUMNS} FROM eng_posts p WHERE"));
        posts(&mut qb);
        let rows: Vec<PostRow> = qb.build_query_as().fetch_all(&self.reads).await?;
        let mut out = rows
            .into_iter()
            .map(EngagementEvent::try_from)
            .collect::<Result<Vec<_>>>()?;
        let mut qb = QueryBuilder::new(
            "SELECT r.id, r.guild_id, r.post_id, r.author_id, r.emoji, r.added, r.at_ms \
             FROM eng_reactions r JOIN eng_posts p ON p.id = r.post_id WHERE r.at_ms <= ",
        );
        qb.push_bind(now);
        qb.push(" AND");
        posts(&mut qb);
        let rows: Vec<ReactionRow> = qb.build_query_as().fetch_all(&self.reads).await?;
        out.extend(rows.into_iter().map(EngagementEvent::from));
        let mut qb = QueryBuilder::new(
            "SELECT r.id, r.guild_id, r.post_id, r.author_id, r.at_ms \
             FROM eng_replies r JOIN eng_posts p ON p.id = r.post_id WHERE r.at_ms <= ",
        );
        qb.push_bind(now);
        qb.push(" AND");
        posts(&mut qb);
        let rows: Vec<ReplyRow> = qb.build_query_as().fetch_all(&self.reads).await?;
        out.extend(rows.into_iter().map(EngagementEvent::from));
        Ok(out)
    }

    async fn count_posts(&self, guild_id: Option<&str>) -> Result<u64> {
        let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM eng_posts WHERE 1 = 1");
        push_guild(&mut qb, "guild_id", guild_id);
        let (n,): (i64,) = qb.build_query_as().fetch_one(&self.pool).await?;
        Ok(n.max(0) as u64)
    }

    async fn delete_guild_engagement(&self, guild_id: &str) -> Result<u64> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let mut n = 0;
        for table in TABLES {
            n += sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE guild_id = $1"
            )))
            .bind(guild_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        // Its rollups go with it (what is derived from the rows is not counted).
        for table in ROLLUP_TABLES {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE guild_id = $1"
            )))
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn forget_engagement_user(&self, user_id: &str) -> Result<u64> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let token = anon_token();
        let mut n = 0;
        for table in TABLES {
            n += sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET author_id = $2 WHERE author_id = $1"
            )))
            .bind(user_id)
            .bind(&token)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        // The same person under the token: the rollups' numbers stand for them still, so no
        // figure needs deriving again.
        for sql in [
            "UPDATE eng_people SET person = $2 WHERE person = $1",
            "UPDATE eng_post_rollups SET author_id = $2 WHERE author_id = $1",
        ] {
            sqlx::query(sql)
                .bind(user_id)
                .bind(&token)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn purge_engagement_preview(&self, before: Millis) -> Result<PurgePreview> {
        let mut counts = [0u64; 3];
        for (t, table) in TABLES.iter().enumerate() {
            let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} x WHERE {} AND x.author_id NOT LIKE '{ANON_PREFIX}%'",
                covered(t)
            )))
            .bind(before)
            .fetch_one(&self.pool)
            .await?;
            counts[t] = n.max(0) as u64;
        }
        let union = (0..3)
            .map(|t| {
                format!(
                    "SELECT x.author_id FROM {} x WHERE {} AND x.author_id NOT LIKE '{ANON_PREFIX}%'",
                    TABLES[t],
                    covered(t)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ");
        let (people,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM ({union}) people"
        )))
        .bind(before)
        .fetch_one(&self.pool)
        .await?;
        Ok(PurgePreview {
            people: people.max(0) as u64,
            posts: counts[0],
            reactions: counts[1],
            replies: counts[2],
        })
    }

    async fn purge_engagement_before(&self, before: Millis) -> Result<u64> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let mut people: Vec<String> = Vec::new();
        for (t, table) in TABLES.iter().enumerate() {
            let rows: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT DISTINCT x.author_id FROM {table} x WHERE {} AND x.author_id NOT LIKE '{ANON_PREFIX}%'",
                covered(t)
            )))
            .bind(before)
            .fetch_all(&mut *tx)
            .await?;
            people.extend(rows.into_iter().map(|(a,)| a));
        }
        people.sort_unstable();
        people.dedup();
        // The purged posts' people change (one token each, apart from their later rows): their
        // rollups are derived again, and their days.
        let covered_posts = format!("SELECT p.id FROM eng_posts p WHERE {POST_WINDOW_END} <= $1");
        let posts: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(covered_posts))
            .bind(before)
            .fetch_all(&mut *tx)
            .await?;
        let posts: Vec<String> = posts.into_iter().map(|(p,)| p).collect();
        super::engagement_rollups::mark_posts(&mut tx, &posts).await?;
        for person in &people {
            let token = anon_token();
            for (t, table) in TABLES.iter().enumerate() {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {table} SET author_id = $3 WHERE author_id = $2 AND id IN \
                     (SELECT x.id FROM {table} x WHERE {})",
                    covered(t)
                )))
                .bind(before)
                .bind(person)
                .bind(&token)
                .execute(&mut *tx)
                .await?;
            }
            // Numbered people with no row left lose their number: their id is kept nowhere.
            sqlx::query(
                "DELETE FROM eng_people WHERE person = $1 \
                 AND NOT EXISTS (SELECT 1 FROM eng_reactions WHERE author_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM eng_replies WHERE author_id = $1)",
            )
            .bind(person)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE eng_post_rollups SET author_id = $2 WHERE author_id = $1 AND post_id IN (SELECT id FROM eng_posts WHERE author_id = $2)")
                .bind(person)
                .bind(&token)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(people.len() as u64)
    }
}
