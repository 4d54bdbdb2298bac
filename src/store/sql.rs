//! What both SQL backends share: the row types, their conversion to domain types, and the
//! queries, written once with `$N` placeholders (which SQLite accepts too) and instantiated per
//! backend by `sql_store_impl!`.

use super::StoreError;
use crate::domain::hours::BusinessHours;
use crate::domain::settings::BadgeRule;
use crate::domain::{Event, EventKind, GuildRules, Rating};

/// Rows per multi-row INSERT: 10 bound values a row stays well under SQLite's parameter limit.
pub(super) const INSERT_CHUNK: usize = 1000;

pub(super) const EVENT_COLUMNS: &str =
    "id, guild_id, conversation, kind, author_id, at_ms, survey_id, rating, answer_message_id, body";

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    pub id: String,
    pub guild_id: String,
    pub conversation: String,
    pub kind: String,
    pub author_id: String,
    pub at_ms: i64,
    pub survey_id: Option<String>,
    pub rating: Option<i32>,
    pub answer_message_id: Option<String>,
    pub body: Option<String>,
}

/// The columns of one event, as bound in an INSERT.
pub(super) struct EventColumns<'a> {
    pub kind: &'static str,
    pub survey_id: Option<&'a str>,
    pub rating: Option<i32>,
    pub answer_message_id: Option<&'a str>,
    pub body: Option<&'a str>,
}

pub(super) fn columns(e: &Event) -> EventColumns<'_> {
    let mut c = EventColumns {
        kind: e.kind.name(),
        survey_id: None,
        rating: None,
        answer_message_id: None,
        body: None,
    };
    match &e.kind {
        EventKind::SurveySent {
            survey_id,
            answer_message_id,
        } => {
            c.survey_id = Some(survey_id);
            c.answer_message_id = Some(answer_message_id);
        }
        EventKind::Rating { survey_id, rating } => {
            c.survey_id = Some(survey_id);
            c.rating = Some(rating.get() as i32);
        }
        EventKind::Comment { survey_id, text } => {
            c.survey_id = Some(survey_id);
            c.body = Some(text);
        }
        _ => {}
    }
    c
}

fn required(v: Option<String>, what: &str, id: &str) -> Result<String, StoreError> {
    v.ok_or_else(|| StoreError::Corrupt(format!("event {id} has no {what}")))
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Event, StoreError> {
        let kind = match r.kind.as_str() {
            name if let Some(plain) = EventKind::plain(name) => plain,
            "survey_sent" => EventKind::SurveySent {
                survey_id: required(r.survey_id, "survey_id", &r.id)?,
                answer_message_id: required(r.answer_message_id, "answer_message_id", &r.id)?,
            },
            "rating" => EventKind::Rating {
                survey_id: required(r.survey_id, "survey_id", &r.id)?,
                rating: Rating::parse(r.rating.unwrap_or(0) as i64)
                    .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", r.id)))?,
            },
            "comment" => EventKind::Comment {
                survey_id: required(r.survey_id, "survey_id", &r.id)?,
                text: r.body.unwrap_or_default(),
            },
            other => {
                return Err(StoreError::Corrupt(format!(
                    "event {} has unknown kind {other}",
                    r.id
                )))
            }
        };
        Ok(Event {
            id: r.id,
            guild_id: r.guild_id,
            place: r.conversation,
            author_id: r.author_id,
            at: r.at_ms,
            kind,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RulesRow {
    pub guild_id: String,
    pub timezone: String,
    pub business_hours: String,
    pub idle_ms: i64,
    pub deadline_ms: i64,
    pub survey_delay_ms: i64,
    pub survey_close_ms: i64,
    pub badge_min_rate_bp: i32,
    pub badge_max_delay_ms: i64,
    pub badge_window_ms: i64,
    pub badge_statistic: String,
    pub locale: String,
    pub note_prefix: String,
}

pub(super) const RULES_COLUMNS: &str = "guild_id, timezone, business_hours, idle_ms, deadline_ms, survey_delay_ms, survey_close_ms, badge_min_rate_bp, badge_max_delay_ms, badge_window_ms, badge_statistic, locale, note_prefix";

impl TryFrom<RulesRow> for GuildRules {
    type Error = StoreError;

    fn try_from(r: RulesRow) -> Result<GuildRules, StoreError> {
        let bad = |what: &str, e: String| {
            StoreError::Corrupt(format!("guild {} setting {what}: {e}", r.guild_id))
        };
        Ok(GuildRules {
            idle_ms: r.idle_ms,
            deadline_ms: r.deadline_ms,
            survey_delay_ms: r.survey_delay_ms,
            survey_close_ms: r.survey_close_ms,
            timezone: r
                .timezone
                .parse()
                .map_err(|e: chrono_tz::ParseError| bad("timezone", e.to_string()))?,
            business_hours: r
                .business_hours
                .parse::<BusinessHours>()
                .map_err(|e| bad("business_hours", e))?,
            badge: BadgeRule {
                min_rate_bp: r.badge_min_rate_bp.max(0) as u32,
                max_delay_ms: r.badge_max_delay_ms,
                window_ms: r.badge_window_ms,
                statistic: r
                    .badge_statistic
                    .parse()
                    .map_err(|e| bad("badge_statistic", e))?,
            },
            locale: r.locale.parse().map_err(|e| bad("locale", e))?,
            note_prefix: r.note_prefix,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SurveyRow {
    pub survey_id: String,
    pub guild_id: String,
    pub conversation: String,
    pub customer_id: String,
    pub agent_id: String,
    pub answer_message_id: String,
    pub channel_id: String,
    pub reply_to: Option<String>,
    pub due_at_ms: i64,
    pub status: String,
    pub message_id: Option<String>,
    pub sent_at_ms: Option<i64>,
    pub rating: Option<i32>,
}

pub(super) const SURVEY_COLUMNS: &str = "survey_id, guild_id, conversation, customer_id, agent_id, answer_message_id, channel_id, reply_to, due_at_ms, status, message_id, sent_at_ms, rating";

impl TryFrom<SurveyRow> for super::SurveyJob {
    type Error = StoreError;

    fn try_from(r: SurveyRow) -> Result<Self, StoreError> {
        Ok(super::SurveyJob {
            status: super::SurveyStatus::parse(&r.status).ok_or_else(|| {
                StoreError::Corrupt(format!("survey {} has status {}", r.survey_id, r.status))
            })?,
            survey_id: r.survey_id,
            guild_id: r.guild_id,
            conversation: r.conversation,
            customer_id: r.customer_id,
            agent_id: r.agent_id,
            answer_message_id: r.answer_message_id,
            channel_id: r.channel_id,
            reply_to: r.reply_to,
            due_at: r.due_at_ms,
            message_id: r.message_id,
            sent_at: r.sent_at_ms,
            rating: r.rating,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OutboxRow {
    pub id: i64,
    pub dedupe_key: String,
    pub channel_id: String,
    pub method: String,
    pub target_message_id: Option<String>,
    pub body: String,
    pub after_key: Option<String>,
    pub survey_id: Option<String>,
    pub notify_channel_id: Option<String>,
    pub guild_id: Option<String>,
    pub conversation: Option<String>,
    pub ticket_customer_id: Option<String>,
    pub attempts: i32,
    pub next_at_ms: i64,
    pub created_at_ms: i64,
}

pub(super) const OUTBOX_COLUMNS: &str = "o.id, o.dedupe_key, o.channel_id, o.method, o.target_message_id, o.body, o.after_key, o.survey_id, o.notify_channel_id, o.guild_id, o.conversation, o.ticket_customer_id, o.attempts, o.next_at_ms, o.created_at_ms";

impl From<OutboxRow> for super::OutboxItem {
    fn from(r: OutboxRow) -> Self {
        super::OutboxItem {
            id: r.id,
            dedupe_key: r.dedupe_key,
            channel_id: r.channel_id,
            method: match (r.method.as_str(), r.target_message_id) {
                ("patch", Some(m)) => super::OutboxMethod::Patch(m),
                _ => super::OutboxMethod::Post,
            },
            body: r.body,
            after_key: r.after_key,
            survey_id: r.survey_id,
            notify_channel_id: r.notify_channel_id,
            guild_id: r.guild_id,
            conversation: r.conversation,
            ticket_customer_id: r.ticket_customer_id,
            attempts: r.attempts,
            next_at: r.next_at_ms,
            created_at: r.created_at_ms,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct TicketRow {
    pub guild_id: String,
    pub customer_id: String,
    pub dm_channel_id: String,
    pub thread_id: Option<String>,
    pub conversation: String,
}

impl From<TicketRow> for super::Ticket {
    fn from(r: TicketRow) -> Self {
        super::Ticket {
            guild_id: r.guild_id,
            customer_id: r.customer_id,
            dm_channel_id: r.dm_channel_id,
            thread_id: r.thread_id,
            conversation: r.conversation,
        }
    }
}

/// Implements `Store` for a backend's pool type. The SQL is identical on both backends; only
/// connection setup and migrations differ, and those live in each backend's module.
macro_rules! sql_store_impl {
    ($store:ty, $db:ty) => {
        use crate::domain::{Event, GuildRules, Millis};
        use crate::store::sql::{
            columns, EventRow, RulesRow, SurveyRow, TicketRow, EVENT_COLUMNS, INSERT_CHUNK,
            RULES_COLUMNS, SURVEY_COLUMNS,
        };
        use crate::store::sql::{OutboxRow, OUTBOX_COLUMNS};
        use crate::store::{
            Commit, CommitOutcome, DiscordSetup, Inserted, OutboxItem, OutboxMethod, OutboxOp, Result, Store,
            SurveyJob, SurveyOp, SurveyStatus, Ticket, TranscriptLine, WatchKind, WatchedChannel,
        };
        use crate::domain::rollup::{Block, ConversationFact, Part, Piece, PlaceFacts, RequestFact, SurveyFact};
        use crate::store::{DirtyDay, DirtyPlace, FactsUpdate, RollupStatus};
        use sqlx::{AssertSqlSafe, QueryBuilder};
        use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

        impl $store {
            /// Marks places dirty with a fresh version, in the transaction that changed them.
            async fn mark_places(
                tx: &mut sqlx::Transaction<'static, $db>,
                places: &BTreeSet<(&str, &str)>,
            ) -> Result<()> {
                if places.is_empty() {
                    return Ok(());
                }
                let version = crate::store::dirty_version();
                let list: Vec<&(&str, &str)> = places.iter().collect();
                for chunk in list.chunks(INSERT_CHUNK) {
                    let mut qb: QueryBuilder<$db> =
                        QueryBuilder::new("INSERT INTO kpi_dirty_places (guild_id, conversation, version) ");
                    qb.push_values(chunk, |mut b, (g, c)| {
                        b.push_bind(g.to_string()).push_bind(c.to_string()).push_bind(version);
                    });
                    qb.push(" ON CONFLICT (guild_id, conversation) DO UPDATE SET version = excluded.version");
                    qb.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Drops everything derived for a guild (facts, parts, marks), not the events.
            async fn forget_rollups(tx: &mut sqlx::Transaction<'static, $db>, guild_id: &str) -> Result<()> {
                for table in [
                    "kpi_conversations", "kpi_messages", "kpi_requests", "kpi_conv_agents", "kpi_surveys",
                    "kpi_irregular", "kpi_dirty_days", "kpi_days", "kpi_delay_blocks",
                ] {
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE guild_id = $1")))
                        .bind(guild_id)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// Writes one commit in `tx`; an outcome other than `Committed` means the caller
            /// must undo what this wrote (roll back the transaction or the savepoint).
            async fn apply_commit(
                tx: &mut sqlx::Transaction<'static, $db>,
                c: &Commit,
            ) -> Result<CommitOutcome> {
                let mut marked: BTreeSet<(&str, &str)> = BTreeSet::new();
                for (i, e) in c.events.iter().enumerate() {
                    let k = columns(e);
                    let done = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (id) DO NOTHING"
                    )))
                    .bind(&e.id)
                    .bind(&e.guild_id)
                    .bind(&e.place)
                    .bind(k.kind)
                    .bind(&e.author_id)
                    .bind(e.at)
                    .bind(k.survey_id)
                    .bind(k.rating)
                    .bind(k.answer_message_id)
                    .bind(k.body)
                    .execute(&mut **tx)
                    .await?;
                    if i == 0 && c.require_new && done.rows_affected() == 0 {
                        return Ok(CommitOutcome::Skipped);
                    }
                    if done.rows_affected() > 0 {
                        marked.insert((e.guild_id.as_str(), e.place.as_str()));
                    }
                }
                Self::mark_places(tx, &marked).await?;
                if let Some((guild_id, day)) = &c.alert_day {
                    let done = sqlx::query(
                        "UPDATE guild_discord SET last_alert_day = $2 WHERE guild_id = $1 \
                         AND (last_alert_day IS NULL OR last_alert_day <> $2)",
                    )
                    .bind(guild_id)
                    .bind(day)
                    .execute(&mut **tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Ok(CommitOutcome::Skipped);
                    }
                }
                for op in &c.surveys {
                    match op {
                        SurveyOp::Schedule(j) => {
                            sqlx::query(AssertSqlSafe(format!(
                                "INSERT INTO surveys ({SURVEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                                 ON CONFLICT (survey_id) DO NOTHING"
                            )))
                            .bind(&j.survey_id)
                            .bind(&j.guild_id)
                            .bind(&j.conversation)
                            .bind(&j.customer_id)
                            .bind(&j.agent_id)
                            .bind(&j.answer_message_id)
                            .bind(&j.channel_id)
                            .bind(j.reply_to.as_deref())
                            .bind(j.due_at)
                            .bind(j.status.name())
                            .bind(j.message_id.as_deref())
                            .bind(j.sent_at)
                            .bind(j.rating)
                            .execute(&mut **tx)
                            .await?;
                        }
                        SurveyOp::Postpone { survey_id, due_at } => {
                            sqlx::query(
                                "UPDATE surveys SET due_at_ms = $2 WHERE survey_id = $1 AND status = 'scheduled' AND due_at_ms < $2",
                            )
                            .bind(survey_id)
                            .bind(due_at)
                            .execute(&mut **tx)
                            .await?;
                        }
                        SurveyOp::Status { survey_id, from, status } => {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new("UPDATE surveys SET status = ");
                            qb.push_bind(status.name()).push(" WHERE survey_id = ").push_bind(survey_id.clone());
                            if *status == SurveyStatus::Withdrawn {
                                // Only an unrated survey is withdrawn (docs/kpi.md).
                                qb.push(" AND rating IS NULL");
                            }
                            if !from.is_empty() {
                                qb.push(" AND status IN (");
                                let mut list = qb.separated(", ");
                                for f in from {
                                    list.push_bind(f.name());
                                }
                                qb.push(")");
                            }
                            let done = qb.build().execute(&mut **tx).await?;
                            if !from.is_empty() && done.rows_affected() == 0 {
                                return Ok(CommitOutcome::Conflict);
                            }
                        }
                        SurveyOp::Rating { survey_id, rating } => {
                            let done = sqlx::query("UPDATE surveys SET rating = $2 WHERE survey_id = $1 AND status = 'sent'")
                                .bind(survey_id)
                                .bind(rating)
                                .execute(&mut **tx)
                                .await?;
                            if done.rows_affected() == 0 {
                                return Ok(CommitOutcome::Conflict);
                            }
                        }
                        SurveyOp::StartSending { survey_id } => {
                            let done = sqlx::query(
                                "UPDATE surveys SET status = 'sending' WHERE survey_id = $1 AND status = 'scheduled'",
                            )
                            .bind(survey_id)
                            .execute(&mut **tx)
                            .await?;
                            if done.rows_affected() != 1 {
                                return Ok(CommitOutcome::Skipped);
                            }
                        }
                        SurveyOp::Sent { survey_id, message_id, sent_at } => {
                            let done = sqlx::query(
                                "UPDATE surveys SET status = 'sent', message_id = $2, sent_at_ms = $3 \
                                 WHERE survey_id = $1 AND status = 'sending'",
                            )
                            .bind(survey_id)
                            .bind(message_id)
                            .bind(sent_at)
                            .execute(&mut **tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                return Ok(CommitOutcome::Conflict);
                            }
                        }
                    }
                }
                for op in &c.outbox {
                    match op {
                        OutboxOp::Enqueue(item) => {
                            let (method, target) = match &item.method {
                                OutboxMethod::Post => ("post", None),
                                OutboxMethod::Patch(m) => ("patch", Some(m.as_str())),
                            };
                            sqlx::query(
                                "INSERT INTO outbox (dedupe_key, channel_id, body, status, attempts, next_at_ms, created_at_ms, \
                                 method, target_message_id, after_key, survey_id, notify_channel_id, guild_id, ticket_customer_id, conversation) \
                                 VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                                 ON CONFLICT (dedupe_key) DO NOTHING",
                            )
                            .bind(&item.dedupe_key)
                            .bind(&item.channel_id)
                            .bind(&item.body)
                            .bind(item.attempts)
                            .bind(item.next_at)
                            .bind(item.created_at)
                            .bind(method)
                            .bind(target)
                            .bind(item.after_key.as_deref())
                            .bind(item.survey_id.as_deref())
                            .bind(item.notify_channel_id.as_deref())
                            .bind(item.guild_id.as_deref())
                            .bind(item.ticket_customer_id.as_deref())
                            .bind(item.conversation.as_deref())
                            .execute(&mut **tx)
                            .await?;
                        }
                        OutboxOp::Sent { id, message_id } => {
                            // The body held relayed content: it goes once delivered.
                            sqlx::query(
                                "UPDATE outbox SET status = 'sent', sent_message_id = $2, body = '', \
                                 attempts = attempts + 1, lease_until_ms = NULL WHERE id = $1",
                            )
                            .bind(id)
                            .bind(message_id)
                            .execute(&mut **tx)
                            .await?;
                        }
                        OutboxOp::Failed { id, error } => {
                            sqlx::query(
                                "UPDATE outbox SET status = 'failed', body = '', attempts = attempts + 1, \
                                 last_error = $2, lease_until_ms = NULL WHERE id = $1",
                            )
                            .bind(id)
                            .bind(error)
                            .execute(&mut **tx)
                            .await?;
                        }
                        OutboxOp::CancelSurvey { survey_id } => {
                            sqlx::query(
                                "UPDATE outbox SET status = 'cancelled', body = '' WHERE survey_id = $1 AND status = 'pending'",
                            )
                            .bind(survey_id)
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                }
                for line in &c.transcript {
                    sqlx::query(
                        "INSERT INTO transcripts (message_id, guild_id, conversation, author_id, at_ms, content) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
                    )
                    .bind(&line.message_id)
                    .bind(&line.guild_id)
                    .bind(&line.conversation)
                    .bind(&line.author_id)
                    .bind(line.at)
                    .bind(&line.content)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(CommitOutcome::Committed)
            }

            /// `SELECT <slot>, <cols> FROM <table> t <joins>` over numbered time ranges of
            /// `t.<time>` in one guild, `<filter>` added to the conditions, grouped by slot and
            /// `group`. SQLite joins a VALUES table of the ranges (its planner walks the time
            /// index once per range); PostgreSQL gets one `SELECT` per range joined by
            /// `UNION ALL`, each planned with its own bounds, because with the VALUES table
            /// its planner misjudged the ranges and scanned whole guilds.
            #[allow(clippy::too_many_arguments)]
            fn ranged(
                qb: &mut QueryBuilder<$db>,
                ranges: &[(i64, Millis, Millis)],
                guild: &str,
                table: &str,
                time: &str,
                cols: &dyn Fn(&mut QueryBuilder<$db>),
                joins: &dyn Fn(&mut QueryBuilder<$db>),
                filter: &dyn Fn(&mut QueryBuilder<$db>),
                group: Option<&str>,
            ) {
                if Self::RANGES_AS_UNION {
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
                    qb.push("(CAST(").push_bind(*i).push(" AS BIGINT), CAST(").push_bind(*from);
                    qb.push(" AS BIGINT), CAST(").push_bind(*to).push(" AS BIGINT))");
                }
                qb.push(format!(") AS d JOIN {table} t ON t.guild_id = ")).push_bind(guild.to_string());
                qb.push(format!(" AND t.{time} >= d.column2 AND t.{time} < d.column3"));
                joins(qb);
                qb.push(" WHERE 1 = 1");
                filter(qb);
                qb.push(" GROUP BY d.column1");
                if let Some(g) = group {
                    qb.push(format!(", {g}"));
                }
            }

            /// The current versions of a guild's dirty marks (`key` among `names`), locked until
            /// the transaction ends.
            async fn mark_versions(
                tx: &mut sqlx::Transaction<'static, $db>,
                table: &str,
                key: &str,
                guild: &str,
                names: &[String],
            ) -> Result<HashMap<String, i64>> {
                let mut qb: QueryBuilder<$db> =
                    QueryBuilder::new(format!("SELECT {key}, version FROM {table} WHERE guild_id = "));
                qb.push_bind(guild.to_string());
                Self::push_in(&mut qb, &format!(" AND {key} IN ("), names);
                qb.push(Self::LOCK_ROWS);
                Ok(qb.build_query_as::<(String, i64)>().fetch_all(&mut **tx).await?.into_iter().collect())
            }

            /// The marks of a dirty table (keyed by guild and `key`) in key order, from just
            /// after `after` on: a row value, so that both backends read its primary key from
            /// there.
            async fn dirty_from(
                pool: &sqlx::Pool<$db>,
                table: &str,
                key: &str,
                guild_id: Option<&str>,
                after: Option<(&str, &str)>,
                limit: i64,
            ) -> Result<Vec<(String, String, i64)>> {
                let mut qb: QueryBuilder<$db> =
                    QueryBuilder::new(format!("SELECT guild_id, {key}, version FROM {table} WHERE 1 = 1"));
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
                qb.push(format!(" ORDER BY guild_id, {key} LIMIT ")).push_bind(limit);
                Ok(qb.build_query_as().fetch_all(pool).await?)
            }

            /// Appends `prefix` and a bound list of `items`, then `)`.
            fn push_in(qb: &mut QueryBuilder<$db>, prefix: &str, items: &[String]) {
                qb.push(prefix);
                let mut list = qb.separated(", ");
                for item in items {
                    list.push_bind(item.clone());
                }
                qb.push(")");
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> Result<()> {
                Self::MIGRATOR.run(&self.pool).await?;
                Ok(())
            }

            async fn insert_events(&self, events: &[Event]) -> Result<Vec<Inserted>> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let mut new_ids: HashSet<String> = HashSet::new();
                let insert = |chunk: &[Event]| {
                    let mut qb: QueryBuilder<$db> = QueryBuilder::new(format!(
                        "INSERT INTO events ({EVENT_COLUMNS}) "
                    ));
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
                };
                for chunk in events.chunks(INSERT_CHUNK) {
                    // When every event is new (live traffic, a first import) the count of rows
                    // written says so, and the ids need not come back. Otherwise (a catch-up or
                    // an import that overlaps what is stored) the chunk is written again,
                    // returning the ids it stored.
                    let distinct: HashSet<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
                    sqlx::query("SAVEPOINT new_events").execute(&mut *tx).await?;
                    let written = insert(chunk).build().execute(&mut *tx).await?.rows_affected();
                    if written as usize == distinct.len() {
                        sqlx::query("RELEASE SAVEPOINT new_events").execute(&mut *tx).await?;
                        new_ids.extend(distinct.into_iter().map(str::to_string));
                        continue;
                    }
                    sqlx::query("ROLLBACK TO SAVEPOINT new_events").execute(&mut *tx).await?;
                    sqlx::query("RELEASE SAVEPOINT new_events").execute(&mut *tx).await?;
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
                Self::mark_places(&mut tx, &places).await?;
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
                    let mut qb: QueryBuilder<$db> = QueryBuilder::new(format!(
                        "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ("
                    ));
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
                    None => sqlx::query_as("SELECT COUNT(*) FROM events")
                        .fetch_one(&self.pool)
                        .await?,
                };
                Ok(n.max(0) as u64)
            }

            async fn delete_guild_events(&self, guild_id: &str) -> Result<u64> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let done = sqlx::query("DELETE FROM events WHERE guild_id = $1")
                    .bind(guild_id)
                    .execute(&mut *tx)
                    .await?;
                Self::forget_rollups(&mut tx, guild_id).await?;
                sqlx::query("DELETE FROM kpi_dirty_places WHERE guild_id = $1")
                    .bind(guild_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            async fn guild_rules(&self, guild_id: &str) -> Result<GuildRules> {
                let row: Option<RulesRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {RULES_COLUMNS} FROM guild_settings WHERE guild_id = $1"
                )))
                .bind(guild_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(GuildRules::try_from)
                    .unwrap_or_else(|| Ok(GuildRules::default()))
            }

            async fn all_guild_rules(&self) -> Result<HashMap<String, GuildRules>> {
                let rows: Vec<RulesRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {RULES_COLUMNS} FROM guild_settings"
                )))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        let id = r.guild_id.clone();
                        GuildRules::try_from(r).map(|g| (id, g))
                    })
                    .collect()
            }

            async fn save_guild_rules(&self, guild_id: &str, r: &GuildRules) -> Result<()> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let old: Option<RulesRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {RULES_COLUMNS} FROM guild_settings WHERE guild_id = $1"
                )))
                .bind(guild_id)
                .fetch_optional(&mut *tx)
                .await?;
                let old = old.map(GuildRules::try_from).transpose()?.unwrap_or_default();
                if crate::domain::rollup::rules_affect_rollups(&old, r) {
                    // Facts and parts were derived under the old rules: derive them again.
                    Self::forget_rollups(&mut tx, guild_id).await?;
                    sqlx::query(
                        "INSERT INTO kpi_dirty_places (guild_id, conversation, version) \
                         SELECT DISTINCT guild_id, conversation, $2 FROM events WHERE guild_id = $1 \
                         ON CONFLICT (guild_id, conversation) DO UPDATE SET version = excluded.version",
                    )
                    .bind(guild_id)
                    .bind(crate::store::dirty_version())
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO guild_settings ({RULES_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, \
                     business_hours = excluded.business_hours, idle_ms = excluded.idle_ms, \
                     deadline_ms = excluded.deadline_ms, survey_delay_ms = excluded.survey_delay_ms, \
                     survey_close_ms = excluded.survey_close_ms, \
                     badge_min_rate_bp = excluded.badge_min_rate_bp, \
                     badge_max_delay_ms = excluded.badge_max_delay_ms, \
                     badge_window_ms = excluded.badge_window_ms, \
                     badge_statistic = excluded.badge_statistic, locale = excluded.locale, \
                     note_prefix = excluded.note_prefix"
                )))
                .bind(guild_id)
                .bind(r.timezone.name())
                .bind(r.business_hours.to_string())
                .bind(r.idle_ms)
                .bind(r.deadline_ms)
                .bind(r.survey_delay_ms)
                .bind(r.survey_close_ms)
                .bind(r.badge.min_rate_bp as i32)
                .bind(r.badge.max_delay_ms)
                .bind(r.badge.window_ms)
                .bind(r.badge.statistic.name())
                .bind(r.locale.code())
                .bind(r.note_prefix.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn discord_setup(&self, guild_id: &str) -> Result<DiscordSetup> {
                let row: Option<(Option<String>, Option<String>, bool, bool)> = sqlx::query_as(
                    "SELECT staff_channel_id, alert_channel_id, show_agent_names, transcripts FROM guild_discord WHERE guild_id = $1",
                )
                .bind(guild_id)
                .fetch_optional(&self.pool)
                .await?;
                let roles: Vec<(String,)> =
                    sqlx::query_as("SELECT role_id FROM guild_agent_roles WHERE guild_id = $1 ORDER BY role_id")
                        .bind(guild_id)
                        .fetch_all(&self.pool)
                        .await?;
                let watched: Vec<(String, String)> = sqlx::query_as(
                    "SELECT channel_id, kind FROM watched_channels WHERE guild_id = $1 ORDER BY channel_id",
                )
                .bind(guild_id)
                .fetch_all(&self.pool)
                .await?;
                let (staff, alert, names, transcripts) = row.unwrap_or((None, None, false, false));
                Ok(DiscordSetup {
                    staff_channel_id: staff,
                    alert_channel_id: alert,
                    show_agent_names: names,
                    transcripts,
                    agent_roles: roles.into_iter().map(|(r,)| r).collect(),
                    watched: watched
                        .into_iter()
                        .filter_map(|(channel_id, kind)| {
                            WatchKind::parse(&kind).map(|kind| WatchedChannel { channel_id, kind })
                        })
                        .collect(),
                })
            }

            async fn save_discord_setup(&self, guild_id: &str, setup: &DiscordSetup) -> Result<()> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                sqlx::query(
                    "INSERT INTO guild_discord (guild_id, staff_channel_id, alert_channel_id, show_agent_names, transcripts) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id) DO UPDATE SET \
                     staff_channel_id = excluded.staff_channel_id, alert_channel_id = excluded.alert_channel_id, \
                     show_agent_names = excluded.show_agent_names, transcripts = excluded.transcripts",
                )
                .bind(guild_id)
                .bind(setup.staff_channel_id.as_deref())
                .bind(setup.alert_channel_id.as_deref())
                .bind(setup.show_agent_names)
                .bind(setup.transcripts)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM guild_agent_roles WHERE guild_id = $1")
                    .bind(guild_id)
                    .execute(&mut *tx)
                    .await?;
                for role in &setup.agent_roles {
                    sqlx::query("INSERT INTO guild_agent_roles (guild_id, role_id) VALUES ($1, $2)")
                        .bind(guild_id)
                        .bind(role)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("DELETE FROM watched_channels WHERE guild_id = $1")
                    .bind(guild_id)
                    .execute(&mut *tx)
                    .await?;
                for w in &setup.watched {
                    sqlx::query("INSERT INTO watched_channels (guild_id, channel_id, kind) VALUES ($1, $2, $3)")
                        .bind(guild_id)
                        .bind(&w.channel_id)
                        .bind(w.kind.name())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn guilds_with_staff_channel(&self) -> Result<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT guild_id FROM guild_discord WHERE staff_channel_id IS NOT NULL ORDER BY guild_id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(g,)| g).collect())
            }

            async fn ticket(&self, guild_id: &str, customer_id: &str) -> Result<Option<Ticket>> {
                let row: Option<TicketRow> = sqlx::query_as(
                    "SELECT guild_id, customer_id, dm_channel_id, thread_id, conversation FROM tickets \
                     WHERE guild_id = $1 AND customer_id = $2",
                )
                .bind(guild_id)
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Ticket::from))
            }

            async fn ticket_by_thread(&self, thread_id: &str) -> Result<Option<Ticket>> {
                let row: Option<TicketRow> = sqlx::query_as(
                    "SELECT guild_id, customer_id, dm_channel_id, thread_id, conversation FROM tickets \
                     WHERE thread_id = $1",
                )
                .bind(thread_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Ticket::from))
            }

            async fn save_ticket(&self, t: &Ticket) -> Result<()> {
                sqlx::query(
                    "INSERT INTO tickets (guild_id, customer_id, dm_channel_id, thread_id, conversation) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, customer_id) DO UPDATE SET \
                     dm_channel_id = excluded.dm_channel_id, thread_id = excluded.thread_id, \
                     conversation = excluded.conversation",
                )
                .bind(&t.guild_id)
                .bind(&t.customer_id)
                .bind(&t.dm_channel_id)
                .bind(t.thread_id.as_deref())
                .bind(&t.conversation)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn dm_choice(&self, customer_id: &str) -> Result<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT guild_id FROM dm_choices WHERE customer_id = $1")
                        .bind(customer_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(g,)| g))
            }

            async fn set_dm_choice(&self, customer_id: &str, guild_id: &str) -> Result<()> {
                sqlx::query(
                    "INSERT INTO dm_choices (customer_id, guild_id) VALUES ($1, $2) \
                     ON CONFLICT (customer_id) DO UPDATE SET guild_id = excluded.guild_id",
                )
                .bind(customer_id)
                .bind(guild_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn forget_dm_choice(&self, customer_id: &str) -> Result<()> {
                sqlx::query("DELETE FROM dm_choices WHERE customer_id = $1")
                    .bind(customer_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_conversation_channel(&self, guild_id: &str, conversation: &str, channel_id: &str) -> Result<()> {
                sqlx::query(
                    "INSERT INTO conversation_channels (guild_id, conversation, channel_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (guild_id, conversation) DO NOTHING",
                )
                .bind(guild_id)
                .bind(conversation)
                .bind(channel_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn conversations_in_channel(&self, guild_id: &str, channel_id: &str) -> Result<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT conversation FROM conversation_channels WHERE guild_id = $1 AND channel_id = $2",
                )
                .bind(guild_id)
                .bind(channel_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(c,)| c).collect())
            }

            async fn survey(&self, survey_id: &str) -> Result<Option<SurveyJob>> {
                let row: Option<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {SURVEY_COLUMNS} FROM surveys WHERE survey_id = $1"
                )))
                .bind(survey_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(SurveyJob::try_from).transpose()
            }

            async fn surveys_in_place(&self, guild_id: &str, conversation: &str, status: SurveyStatus) -> Result<Vec<SurveyJob>> {
                let rows: Vec<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {SURVEY_COLUMNS} FROM surveys WHERE guild_id = $1 AND conversation = $2 AND status = $3"
                )))
                .bind(guild_id)
                .bind(conversation)
                .bind(status.name())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(SurveyJob::try_from).collect()
            }

            async fn due_surveys(&self, now: Millis, limit: i64) -> Result<Vec<SurveyJob>> {
                let rows: Vec<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {SURVEY_COLUMNS} FROM surveys WHERE status = 'scheduled' AND due_at_ms <= $1 \
                     ORDER BY due_at_ms LIMIT $2"
                )))
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(SurveyJob::try_from).collect()
            }

            async fn surveys_to_close(&self, sent_before: Millis, limit: i64) -> Result<Vec<SurveyJob>> {
                let rows: Vec<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {SURVEY_COLUMNS} FROM surveys WHERE status = 'sent' AND sent_at_ms <= $1 \
                     ORDER BY sent_at_ms LIMIT $2"
                )))
                .bind(sent_before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(SurveyJob::try_from).collect()
            }

            async fn advance_cursor(&self, channel_id: &str, guild_id: Option<&str>, message_id: i64, now: Millis) -> Result<()> {
                sqlx::query(
                    "INSERT INTO channel_cursors (channel_id, guild_id, last_message_id, updated_at_ms) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id) DO UPDATE SET \
                     last_message_id = CASE WHEN excluded.last_message_id > channel_cursors.last_message_id \
                     THEN excluded.last_message_id ELSE channel_cursors.last_message_id END, \
                     updated_at_ms = excluded.updated_at_ms",
                )
                .bind(channel_id)
                .bind(guild_id)
                .bind(message_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn cursor(&self, channel_id: &str) -> Result<Option<i64>> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "SELECT last_message_id FROM channel_cursors WHERE channel_id = $1",
                )
                .bind(channel_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(id,)| id))
            }

            async fn rewind_cursor(&self, channel_id: &str, guild_id: Option<&str>, message_id: i64, now: Millis) -> Result<()> {
                sqlx::query(
                    "INSERT INTO channel_cursors (channel_id, guild_id, last_message_id, updated_at_ms) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id) DO UPDATE SET \
                     last_message_id = CASE WHEN excluded.last_message_id < channel_cursors.last_message_id \
                     THEN excluded.last_message_id ELSE channel_cursors.last_message_id END, \
                     updated_at_ms = excluded.updated_at_ms",
                )
                .bind(channel_id)
                .bind(guild_id)
                .bind(message_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn recent_cursors(&self, since: Millis) -> Result<Vec<(String, Option<String>, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT channel_id, guild_id, last_message_id FROM channel_cursors WHERE updated_at_ms >= $1",
                )
                .bind(since)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn commit(&self, c: &Commit) -> Result<CommitOutcome> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let outcome = Self::apply_commit(&mut tx, c).await?;
                if outcome.committed() {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok(outcome)
            }

            async fn commit_group(&self, commits: &[Commit]) -> Result<Vec<CommitOutcome>> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let mut outcomes = Vec::with_capacity(commits.len());
                for c in commits {
                    // One savepoint each: a commit skipped or in conflict leaves the others.
                    sqlx::query("SAVEPOINT one_commit").execute(&mut *tx).await?;
                    let outcome = Self::apply_commit(&mut tx, c).await?;
                    if !outcome.committed() {
                        sqlx::query("ROLLBACK TO SAVEPOINT one_commit").execute(&mut *tx).await?;
                    }
                    sqlx::query("RELEASE SAVEPOINT one_commit").execute(&mut *tx).await?;
                    outcomes.push(outcome);
                }
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn due_outbox(&self, now: Millis, limit: i64) -> Result<Vec<OutboxItem>> {
                let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE status = 'pending' AND next_at_ms <= $1 \
                     AND (lease_until_ms IS NULL OR lease_until_ms < $1) \
                     AND (after_key IS NULL OR NOT EXISTS \
                       (SELECT 1 FROM outbox p WHERE p.dedupe_key = o.after_key AND p.status = 'pending')) \
                     ORDER BY id LIMIT $2"
                )))
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(OutboxItem::from).collect())
            }

            async fn outbox_by_keys(&self, keys: &[String]) -> Result<Vec<OutboxItem>> {
                let mut items = Vec::new();
                for key in keys {
                    let row: Option<OutboxRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE dedupe_key = $1 AND status = 'pending'"
                    )))
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                    items.extend(row.map(OutboxItem::from));
                }
                Ok(items)
            }

            async fn claim_outbox(&self, id: i64, now: Millis, lease_until: Millis) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE outbox SET lease_until_ms = $3 WHERE id = $1 AND status = 'pending' AND next_at_ms <= $2 \
                     AND (lease_until_ms IS NULL OR lease_until_ms < $2)",
                )
                .bind(id)
                .bind(now)
                .bind(lease_until)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn outbox_retry(&self, id: i64, next_at: Millis, error: &str) -> Result<()> {
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_at_ms = $2, last_error = $3, lease_until_ms = NULL WHERE id = $1")
                    .bind(id)
                    .bind(next_at)
                    .bind(error)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn release_outbox_leases(&self) -> Result<u64> {
                let done = sqlx::query("UPDATE outbox SET lease_until_ms = NULL WHERE lease_until_ms IS NOT NULL AND status = 'pending'")
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn retarget_outbox(&self, old_channel: &str, new_channel: &str) -> Result<()> {
                sqlx::query("UPDATE outbox SET channel_id = $2 WHERE channel_id = $1 AND status = 'pending'")
                    .bind(old_channel)
                    .bind(new_channel)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn outbox_backlog(&self, guild_id: Option<&str>) -> Result<(u64, Option<Millis>)> {
                let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
                    "SELECT COUNT(*), MIN(created_at_ms) FROM outbox WHERE status = 'pending' \
                     AND ($1 IS NULL OR guild_id = $1)",
                )
                .bind(guild_id)
                .fetch_one(&self.pool)
                .await?;
                Ok((n.max(0) as u64, oldest))
            }

            async fn transcript(&self, guild_id: &str, conversation: &str) -> Result<Vec<TranscriptLine>> {
                let rows: Vec<(String, String, String, String, i64, String)> = sqlx::query_as(
                    "SELECT message_id, guild_id, conversation, author_id, at_ms, content FROM transcripts \
                     WHERE guild_id = $1 AND conversation = $2 ORDER BY at_ms, message_id",
                )
                .bind(guild_id)
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(message_id, guild_id, conversation, author_id, at, content)| TranscriptLine {
                        message_id,
                        guild_id,
                        conversation,
                        author_id,
                        at,
                        content,
                    })
                    .collect())
            }

            async fn places_ended_before(&self, before: Millis) -> Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT guild_id, conversation FROM events WHERE conversation NOT LIKE 'anon-%' \
                     GROUP BY guild_id, conversation HAVING MAX(at_ms) < $1",
                )
                .bind(before)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn places_of_customer(&self, user_id: &str) -> Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT DISTINCT guild_id, conversation FROM events WHERE author_id = $1 \
                     AND kind IN ('customer_message', 'rating', 'comment')",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn anonymize_place(&self, guild_id: &str, conversation: &str) -> Result<()> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let authors: Vec<(String, String)> = sqlx::query_as(
                    "SELECT DISTINCT author_id, kind FROM events WHERE guild_id = $1 AND conversation = $2",
                )
                .bind(guild_id)
                .bind(conversation)
                .fetch_all(&mut *tx)
                .await?;
                let agents: HashSet<&str> = authors
                    .iter()
                    .filter(|(_, k)| k == "agent_message" || k == "note" || k == "survey_sent")
                    .map(|(a, _)| a.as_str())
                    .collect();
                let people: HashSet<&str> = authors
                    .iter()
                    .map(|(a, _)| a.as_str())
                    .filter(|a| !agents.contains(a) && !a.starts_with(crate::store::ANON_PREFIX))
                    .collect();
                let key = crate::store::anon_token();
                sqlx::query("UPDATE events SET conversation = $3 WHERE guild_id = $1 AND conversation = $2")
                    .bind(guild_id)
                    .bind(conversation)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                for person in people {
                    sqlx::query("UPDATE events SET author_id = $4 WHERE guild_id = $1 AND conversation = $2 AND author_id = $3")
                        .bind(guild_id)
                        .bind(&key)
                        .bind(person)
                        .bind(crate::store::anon_token())
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("UPDATE events SET body = '' WHERE guild_id = $1 AND conversation = $2 AND kind = 'comment'")
                    .bind(guild_id)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                for table in ["kpi_dirty_places", "kpi_conversations", "kpi_messages", "kpi_requests", "kpi_conv_agents", "kpi_surveys", "kpi_irregular"] {
                    sqlx::query(AssertSqlSafe(format!(
                        "UPDATE {table} SET conversation = $3 WHERE guild_id = $1 AND conversation = $2"
                    )))
                    .bind(guild_id)
                    .bind(conversation)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE conversation_channels SET conversation = $3 WHERE guild_id = $1 AND conversation = $2")
                    .bind(guild_id)
                    .bind(conversation)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                // What the bot still owed the place goes too: its text and ids are personal.
                sqlx::query("DELETE FROM outbox WHERE guild_id = $1 AND conversation = $2")
                    .bind(guild_id)
                    .bind(conversation)
                    .execute(&mut *tx)
                    .await?;
                for table in ["tickets", "surveys", "transcripts"] {
                    sqlx::query(AssertSqlSafe(format!(
                        "DELETE FROM {table} WHERE guild_id = $1 AND conversation = $2"
                    )))
                    .bind(guild_id)
                    .bind(conversation)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(dm) = conversation.strip_prefix("dm-") {
                    sqlx::query("DELETE FROM channel_cursors WHERE channel_id = $1")
                        .bind(dm)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn dirty_places(
                &self,
                guild_id: Option<&str>,
                after: Option<(&str, &str)>,
                limit: i64,
            ) -> Result<Vec<DirtyPlace>> {
                let rows: Vec<(String, String, i64)> =
                    Self::dirty_from(&self.pool, "kpi_dirty_places", "conversation", guild_id, after, limit).await?;
                Ok(rows
                    .into_iter()
                    .map(|(guild_id, conversation, version)| DirtyPlace { guild_id, conversation, version })
                    .collect())
            }

            async fn events_of_places(&self, guild_id: &str, conversations: &[String]) -> Result<Vec<Event>> {
                // A refresh reads every event again: as one JSON array per chunk of places, so
                // that each event is not a row of its own to hand from the database's thread.
                type Columns = (String, String, String, String, i64, Option<String>, Option<i32>, Option<String>, Option<String>);
                let mut out = Vec::new();
                for chunk in conversations.chunks(INSERT_CHUNK) {
                    let (open, close) = Self::JSON_ROWS;
                    let mut qb: QueryBuilder<$db> = QueryBuilder::new(format!(
                        "SELECT {open}id, conversation, kind, author_id, at_ms, survey_id, rating, \
                         answer_message_id, body{close} FROM events WHERE guild_id = "
                    ));
                    qb.push_bind(guild_id.to_string());
                    Self::push_in(&mut qb, " AND conversation IN (", chunk);
                    let (json,): (Option<String>,) = qb.build_query_as().fetch_one(&self.pool).await?;
                    let rows: Vec<Columns> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
                        .map_err(|e| crate::store::StoreError::Corrupt(format!("events of guild {guild_id}: {e}")))?;
                    for (id, conversation, kind, author_id, at_ms, survey_id, rating, answer_message_id, body) in rows {
                        out.push(Event::try_from(EventRow {
                            id,
                            guild_id: guild_id.to_string(),
                            conversation,
                            kind,
                            author_id,
                            at_ms,
                            survey_id,
                            rating,
                            answer_message_id,
                            body,
                        })?);
                    }
                }
                Ok(out)
            }

            async fn place_facts(&self, guild_id: &str, conversations: &[String]) -> Result<HashMap<String, PlaceFacts>> {
                let mut convs: HashMap<String, BTreeMap<String, ConversationFact>> = HashMap::new();
                let mut surveys: HashMap<String, Vec<SurveyFact>> = HashMap::new();
                for chunk in conversations.chunks(INSERT_CHUNK) {
                    let query = |columns: &str, table: &str| {
                        let mut qb: QueryBuilder<$db> =
                            QueryBuilder::new(format!("SELECT {columns} FROM {table} WHERE guild_id = "));
                        qb.push_bind(guild_id.to_string());
                        Self::push_in(&mut qb, " AND conversation IN (", chunk);
                        qb
                    };
                    let mut qb = query("conversation, conv_id, opened_ms", "kpi_conversations");
                    let rows: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                    for (conversation, id, opened_at) in rows {
                        convs.entry(conversation).or_default().insert(
                            id.clone(),
                            ConversationFact { id, opened_at, messages: Vec::new(), requests: Vec::new(), agents: Default::default() },
                        );
                    }
                    let missing = |what: &str, id: &str| {
                        crate::store::StoreError::Corrupt(format!("{what} of unknown conversation {id}"))
                    };
                    let mut qb = query("conversation, conv_id, at_ms", "kpi_messages");
                    let rows: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                    for (conversation, id, at) in rows {
                        convs.get_mut(&conversation).and_then(|c| c.get_mut(&id))
                            .ok_or_else(|| missing("message", &id))?.messages.push(at);
                    }
                    let mut qb = query(
                        "conversation, conv_id, start_id, start_ms, answer_ms, agent_id, is_first, business_ms",
                        "kpi_requests",
                    );
                    type Row = (String, String, String, i64, Option<i64>, Option<String>, i32, Option<i64>);
                    let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.pool).await?;
                    for (conversation, id, start_id, start, answer_at, agent_id, is_first, business_ms) in rows {
                        convs.get_mut(&conversation).and_then(|c| c.get_mut(&id))
                            .ok_or_else(|| missing("request", &id))?
                            .requests.push(RequestFact { start, start_id, answer_at, agent_id, is_first: is_first != 0, business_ms });
                    }
                    let mut qb = query("conversation, conv_id, agent_id", "kpi_conv_agents");
                    let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&self.pool).await?;
                    for (conversation, id, agent) in rows {
                        convs.get_mut(&conversation).and_then(|c| c.get_mut(&id))
                            .ok_or_else(|| missing("agent", &id))?.agents.insert(agent);
                    }
                    let mut qb = query("conversation, survey_id, sent_ms, agent_id, rating", "kpi_surveys");
                    let rows: Vec<(String, String, i64, Option<String>, Option<i32>)> =
                        qb.build_query_as().fetch_all(&self.pool).await?;
                    for (conversation, survey_id, sent_at, agent_id, rating) in rows {
                        surveys.entry(conversation).or_default().push(SurveyFact {
                            survey_id, sent_at, agent_id, rating: rating.map(|r| r as u8),
                        });
                    }
                }
                let mut out: HashMap<String, PlaceFacts> = HashMap::new();
                for (conversation, list) in convs {
                    let mut conversations: Vec<ConversationFact> = list.into_values().collect();
                    for c in &mut conversations {
                        c.messages.sort_unstable();
                        c.requests.sort();
                    }
                    out.entry(conversation).or_default().conversations = conversations;
                }
                for (conversation, mut list) in surveys {
                    list.sort_by(|a, b| a.survey_id.cmp(&b.survey_id));
                    out.entry(conversation).or_default().surveys = list;
                }
                Ok(out)
            }

            async fn write_place_facts(&self, updates: &[FactsUpdate]) -> Result<usize> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let mut by_guild: BTreeMap<&str, Vec<&FactsUpdate>> = BTreeMap::new();
                for u in updates {
                    by_guild.entry(u.place.guild_id.as_str()).or_default().push(u);
                }
                let mut written = 0;
                let mut irregular: BTreeSet<(&str, &str)> = BTreeSet::new();
                let mut days: BTreeSet<(&str, &str)> = BTreeSet::new();
                for (guild, list) in by_guild {
                    for chunk in list.chunks(INSERT_CHUNK) {
                        let names: Vec<String> = chunk.iter().map(|u| u.place.conversation.clone()).collect();
                        // Only places still at the version read: a newer mark means newer events.
                        let current = Self::mark_versions(&mut tx, "kpi_dirty_places", "conversation", guild, &names).await?;
                        let fresh: Vec<&FactsUpdate> = chunk
                            .iter()
                            .copied()
                            .filter(|u| current.get(&u.place.conversation) == Some(&u.place.version))
                            .collect();
                        if fresh.is_empty() {
                            continue;
                        }
                        written += fresh.len();
                        let names: Vec<String> = fresh.iter().map(|u| u.place.conversation.clone()).collect();
                        for table in ["kpi_dirty_places", "kpi_conversations", "kpi_messages", "kpi_requests", "kpi_conv_agents", "kpi_surveys", "kpi_irregular"] {
                            let mut qb: QueryBuilder<$db> =
                                QueryBuilder::new(format!("DELETE FROM {table} WHERE guild_id = "));
                            qb.push_bind(guild.to_string());
                            Self::push_in(&mut qb, " AND conversation IN (", &names);
                            qb.build().execute(&mut *tx).await?;
                        }
                        for u in &fresh {
                            if !u.regular {
                                irregular.insert((guild, u.place.conversation.as_str()));
                            }
                            days.extend(u.days.iter().map(|d| (guild, d.as_str())));
                        }
                        let convs: Vec<(&str, &ConversationFact)> = fresh
                            .iter()
                            .flat_map(|u| u.facts.conversations.iter().map(|c| (u.place.conversation.as_str(), c)))
                            .collect();
                        for part in convs.chunks(INSERT_CHUNK) {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                                "INSERT INTO kpi_conversations (guild_id, conversation, conv_id, opened_ms) ",
                            );
                            qb.push_values(part, |mut b, (place, c)| {
                                b.push_bind(guild.to_string()).push_bind(place.to_string())
                                    .push_bind(c.id.clone()).push_bind(c.opened_at);
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        let messages: Vec<(&str, &str, i64)> = convs
                            .iter()
                            .flat_map(|(place, c)| c.messages.iter().map(move |at| (*place, c.id.as_str(), *at)))
                            .collect();
                        for part in messages.chunks(INSERT_CHUNK) {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                                "INSERT INTO kpi_messages (guild_id, conversation, conv_id, at_ms) ",
                            );
                            qb.push_values(part, |mut b, (place, id, at)| {
                                b.push_bind(guild.to_string()).push_bind(place.to_string())
                                    .push_bind(id.to_string()).push_bind(*at);
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        let requests: Vec<(&str, &str, &RequestFact)> = convs
                            .iter()
                            .flat_map(|(place, c)| c.requests.iter().map(move |r| (*place, c.id.as_str(), r)))
                            .collect();
                        for part in requests.chunks(INSERT_CHUNK) {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                                "INSERT INTO kpi_requests (guild_id, conversation, conv_id, start_id, start_ms, \
                                 answer_ms, agent_id, is_first, business_ms) ",
                            );
                            qb.push_values(part, |mut b, (place, id, r)| {
                                b.push_bind(guild.to_string()).push_bind(place.to_string())
                                    .push_bind(id.to_string()).push_bind(r.start_id.clone())
                                    .push_bind(r.start).push_bind(r.answer_at)
                                    .push_bind(r.agent_id.clone()).push_bind(r.is_first as i32)
                                    .push_bind(r.business_ms);
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        let agents: Vec<(&str, &str, &str)> = convs
                            .iter()
                            .flat_map(|(place, c)| c.agents.iter().map(move |a| (*place, c.id.as_str(), a.as_str())))
                            .collect();
                        for part in agents.chunks(INSERT_CHUNK) {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                                "INSERT INTO kpi_conv_agents (guild_id, conversation, conv_id, agent_id) ",
                            );
                            qb.push_values(part, |mut b, (place, id, agent)| {
                                b.push_bind(guild.to_string()).push_bind(place.to_string())
                                    .push_bind(id.to_string()).push_bind(agent.to_string());
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        let surveys: Vec<(&str, &SurveyFact)> = fresh
                            .iter()
                            .flat_map(|u| u.facts.surveys.iter().map(|s| (u.place.conversation.as_str(), s)))
                            .collect();
                        for part in surveys.chunks(INSERT_CHUNK) {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                                "INSERT INTO kpi_surveys (guild_id, conversation, survey_id, sent_ms, agent_id, rating) ",
                            );
                            qb.push_values(part, |mut b, (place, s)| {
                                b.push_bind(guild.to_string()).push_bind(place.to_string())
                                    .push_bind(s.survey_id.clone()).push_bind(s.sent_at)
                                    .push_bind(s.agent_id.clone()).push_bind(s.rating.map(i32::from));
                            });
                            qb.push(" ON CONFLICT (guild_id, survey_id) DO NOTHING RETURNING survey_id");
                            let stored: HashSet<String> = qb
                                .build_query_as::<(String,)>()
                                .fetch_all(&mut *tx)
                                .await?
                                .into_iter()
                                .map(|(id,)| id)
                                .collect();
                            // The same survey id sent in two places: the guild's replay keeps
                            // only the first, which a place alone cannot know.
                            for (place, s) in part {
                                if !stored.contains(&s.survey_id) {
                                    irregular.insert((guild, place));
                                }
                            }
                        }
                    }
                }
                for (guild, place) in irregular {
                    sqlx::query(
                        "INSERT INTO kpi_irregular (guild_id, conversation) VALUES ($1, $2) \
                         ON CONFLICT (guild_id, conversation) DO NOTHING",
                    )
                    .bind(guild)
                    .bind(place)
                    .execute(&mut *tx)
                    .await?;
                }
                let version = crate::store::dirty_version();
                let days: Vec<(&str, &str)> = days.into_iter().collect();
                for part in days.chunks(INSERT_CHUNK) {
                    let mut qb: QueryBuilder<$db> =
                        QueryBuilder::new("INSERT INTO kpi_dirty_days (guild_id, day, version) ");
                    qb.push_values(part, |mut b, (guild, day)| {
                        b.push_bind(guild.to_string()).push_bind(day.to_string()).push_bind(version);
                    });
                    qb.push(" ON CONFLICT (guild_id, day) DO UPDATE SET version = excluded.version");
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(written)
            }

            async fn dirty_days(
                &self,
                guild_id: Option<&str>,
                after: Option<(&str, &str)>,
                limit: i64,
            ) -> Result<Vec<DirtyDay>> {
                let rows: Vec<(String, String, i64)> =
                    Self::dirty_from(&self.pool, "kpi_dirty_days", "day", guild_id, after, limit).await?;
                Ok(rows.into_iter().map(|(guild_id, day, version)| DirtyDay { guild_id, day, version }).collect())
            }

            async fn kpi_pieces(&self, guild_id: &str, ranges: &[(Millis, Millis)], deadline: Millis, scope: crate::store::PieceScope<'_>) -> Result<Vec<Piece>> {
                let agent = match scope {
                    crate::store::PieceScope::Agent(a) => Some(a),
                    _ => None,
                };
                // A report's reads map the file; the refresh's (PieceScope::All) stay on the
                // main pool, so that the bot's memory while ingesting does not grow with them.
                let pool = match scope {
                    crate::store::PieceScope::All => &self.pool,
                    _ => self.reads(),
                };
                let mut pieces = vec![Piece::default(); ranges.len()];
                let (open, close) = Self::CONCAT;
                let parse = |text: Option<String>| -> Result<Vec<Millis>> {
                    text.unwrap_or_default()
                        .split(',')
                        .filter(|v| !v.is_empty())
                        .map(|v| v.parse::<Millis>().map_err(|e| crate::store::StoreError::Corrupt(format!("delay `{v}`: {e}"))))
                        .collect()
                };
                let slot = |i: i64| -> Result<usize> {
                    usize::try_from(i).ok().filter(|&i| i < ranges.len())
                        .ok_or_else(|| crate::store::StoreError::Corrupt(format!("range {i}")))
                };
                let indexed: Vec<(i64, Millis, Millis)> =
                    ranges.iter().enumerate().map(|(i, (a, b))| (i as i64, *a, *b)).collect();
                let only_agent = |qb: &mut QueryBuilder<$db>| {
                    if let Some(a) = agent {
                        qb.push(" AND t.agent_id = ").push_bind(a.to_string());
                    }
                };
                for chunk in indexed.chunks(200) {
                    // The queries of a chunk are independent: they run at once, each on its own
                    // connection, so that a report's partial days use more than one core.
                    // Requests, per range and answering agent. Every range is an index range scan.
                    let mut requests: QueryBuilder<$db> = QueryBuilder::new("");
                    let cols = |qb: &mut QueryBuilder<$db>| {
                        let within = |qb: &mut QueryBuilder<$db>| {
                            qb.push("t.answer_ms - t.start_ms <= ");
                            qb.push_bind(deadline);
                        };
                        qb.push("t.agent_id, COUNT(*), SUM(CASE WHEN ");
                        within(qb);
                        qb.push(" THEN 1 ELSE 0 END), ");
                        qb.push(open).push("CASE WHEN ");
                        within(qb);
                        qb.push(" THEN t.answer_ms - t.start_ms END").push(close).push(", ");
                        qb.push(open).push("CASE WHEN ");
                        within(qb);
                        qb.push(" THEN t.business_ms END").push(close).push(", ");
                        qb.push(open).push("CASE WHEN t.is_first = 1 AND ");
                        within(qb);
                        qb.push(" THEN t.answer_ms - t.start_ms END").push(close);
                    };
                    Self::ranged(&mut requests, chunk, guild_id, "kpi_requests", "start_ms", &cols, &|_| {}, &only_agent, Some("t.agent_id"));
                    // Messages and conversations: the guild's (no agent), and per agent those of
                    // the conversations in which the agent answered.
                    let mut counts: Vec<QueryBuilder<$db>> = Vec::new();
                    let mut counts_of_messages: Vec<bool> = Vec::new();
                    for (table, time, is_messages) in [("kpi_messages", "at_ms", true), ("kpi_conversations", "opened_ms", false)] {
                        if agent.is_none() {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new("");
                            Self::ranged(&mut qb, chunk, guild_id, table, time, &|qb| { qb.push("CAST(NULL AS TEXT), COUNT(*)"); }, &|_| {}, &|_| {}, None);
                            counts.push(qb);
                            counts_of_messages.push(is_messages);
                        }
                        if agent.is_none() && scope == crate::store::PieceScope::Guild {
                            continue;
                        }
                        let mut qb: QueryBuilder<$db> = QueryBuilder::new("");
                        match agent {
                            None => {
                                let joins = |qb: &mut QueryBuilder<$db>| {
                                    qb.push(" JOIN kpi_conv_agents a ON a.guild_id = t.guild_id AND a.conv_id = t.conv_id");
                                };
                                Self::ranged(&mut qb, chunk, guild_id, table, time, &|qb| { qb.push("a.agent_id, COUNT(*)"); }, &joins, &|_| {}, Some("a.agent_id"));
                            }
                            Some(a) => {
                                // The agent's conversations (their whole history) as a set
                                // probed in memory, built once per query.
                                let agent_convs = |qb: &mut QueryBuilder<$db>| {
                                    qb.push(" IN (SELECT conv_id FROM kpi_conv_agents WHERE guild_id = ")
                                        .push_bind(guild_id.to_string()).push(" AND agent_id = ").push_bind(a.to_string()).push(")");
                                };
                                if Self::RANGES_AS_UNION {
                                    // Around the ranges' union, not in each of its branches:
                                    // PostgreSQL would build the set once per range.
                                    qb.push("SELECT x.slot, CAST(").push_bind(a.to_string()).push(" AS TEXT), COUNT(*) FROM (");
                                    Self::ranged(&mut qb, chunk, guild_id, table, time, &|qb| { qb.push("t.conv_id"); }, &|_| {}, &|_| {}, None);
                                    qb.push(") AS x (slot, conv_id) WHERE x.conv_id");
                                    agent_convs(&mut qb);
                                    qb.push(" GROUP BY x.slot");
                                } else {
                                    // SQLite joins the ranges to the table: the set is built once.
                                    let cols = |qb: &mut QueryBuilder<$db>| {
                                        qb.push("CAST(").push_bind(a.to_string()).push(" AS TEXT), COUNT(*)");
                                    };
                                    let filter = |qb: &mut QueryBuilder<$db>| {
                                        qb.push(" AND t.conv_id");
                                        agent_convs(qb);
                                    };
                                    Self::ranged(&mut qb, chunk, guild_id, table, time, &cols, &|_| {}, &filter, None);
                                }
                            }
                        }
                        counts.push(qb);
                        counts_of_messages.push(is_messages);
                    }
                    let mut surveys: QueryBuilder<$db> = QueryBuilder::new("");
                    let cols = |qb: &mut QueryBuilder<$db>| {
                        qb.push("t.agent_id, COUNT(*), COUNT(t.rating), COALESCE(SUM(t.rating), 0), \
                                 SUM(CASE WHEN t.rating >= 4 THEN 1 ELSE 0 END)");
                    };
                    Self::ranged(&mut surveys, chunk, guild_id, "kpi_surveys", "sent_ms", &cols, &|_| {}, &only_agent, Some("t.agent_id"));
                    type RequestRow = (i64, Option<String>, i64, Option<i64>, Option<String>, Option<String>, Option<String>);
                    type SurveyRow = (i64, Option<String>, i64, i64, i64, Option<i64>);
                    let (request_rows, count_rows, survey_rows) = tokio::try_join!(
                        requests.build_query_as::<RequestRow>().fetch_all(pool),
                        futures_util::future::try_join_all(
                            counts.iter_mut().map(|qb| qb.build_query_as::<(i64, Option<String>, i64)>().fetch_all(pool))
                        ),
                        surveys.build_query_as::<SurveyRow>().fetch_all(pool),
                    )?;
                    for (i, who, requests, answered, delays, business, first) in request_rows {
                        let piece = &mut pieces[slot(i)?];
                        let part = Part {
                            requests: requests as u64,
                            answered: answered.unwrap_or(0) as u64,
                            delays: parse(delays)?,
                            business_delays: parse(business)?,
                            first_delays: parse(first)?,
                            ..Part::default()
                        };
                        if agent.is_none() {
                            piece.guild.merge(&part);
                        }
                        if let Some(who) = who {
                            piece.agents.entry(who).or_default().merge(&part);
                        }
                    }
                    for (rows, is_messages) in count_rows.into_iter().zip(counts_of_messages) {
                        for (i, who, n) in rows {
                            let piece = &mut pieces[slot(i)?];
                            let p = match who {
                                None => &mut piece.guild,
                                Some(who) => piece.agents.entry(who).or_default(),
                            };
                            if is_messages { p.messages = n as u64 } else { p.conversations = n as u64 }
                        }
                    }
                    for (i, who, sent, ratings, sum, satisfied) in survey_rows {
                        let piece = &mut pieces[slot(i)?];
                        let part = Part {
                            surveys_sent: sent as u64,
                            ratings: ratings as u64,
                            rating_sum: sum as u64,
                            satisfied: satisfied.unwrap_or(0) as u64,
                            ..Part::default()
                        };
                        if agent.is_none() {
                            piece.guild.merge(&part);
                        }
                        if let Some(who) = who {
                            piece.agents.entry(who).or_default().merge(&part);
                        }
                    }
                }
                Ok(pieces)
            }

            async fn kpi_pending(&self, guild_id: &str, ranges: &[(Millis, Millis)], after: Millis, deadline: Millis) -> Result<Vec<u64>> {
                let mut out = vec![0; ranges.len()];
                let indexed: Vec<(i64, Millis, Millis)> =
                    ranges.iter().enumerate().map(|(i, (a, b))| (i as i64, *a, *b)).collect();
                for chunk in indexed.chunks(200) {
                    let mut qb: QueryBuilder<$db> = QueryBuilder::new("");
                    let filter = |qb: &mut QueryBuilder<$db>| {
                        qb.push(" AND t.start_ms > ").push_bind(after);
                        qb.push(" AND (t.answer_ms IS NULL OR t.answer_ms - t.start_ms > ").push_bind(deadline).push(")");
                    };
                    Self::ranged(&mut qb, chunk, guild_id, "kpi_requests", "start_ms", &|qb| { qb.push("COUNT(*)"); }, &|_| {}, &filter, None);
                    for (i, n) in qb.build_query_as::<(i64, i64)>().fetch_all(self.reads()).await? {
                        if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                            *slot = n as u64;
                        }
                    }
                }
                Ok(out)
            }

            async fn write_days(&self, days: &[(DirtyDay, Piece, Vec<Block>)]) -> Result<usize> {
                let mut tx = self.pool.begin_with(Self::BEGIN_WRITE).await?;
                let mut by_guild: BTreeMap<&str, Vec<&(DirtyDay, Piece, Vec<Block>)>> = BTreeMap::new();
                for d in days {
                    by_guild.entry(d.0.guild_id.as_str()).or_default().push(d);
                }
                let mut written = 0;
                for (guild, list) in by_guild {
                    for chunk in list.chunks(INSERT_CHUNK) {
                        let names: Vec<String> = chunk.iter().map(|d| d.0.day.clone()).collect();
                        // Only days still at the version read: a newer mark means newer facts.
                        let current = Self::mark_versions(&mut tx, "kpi_dirty_days", "day", guild, &names).await?;
                        let fresh: Vec<&(DirtyDay, Piece, Vec<Block>)> = chunk
                            .iter()
                            .copied()
                            .filter(|d| current.get(&d.0.day) == Some(&d.0.version))
                            .collect();
                        if fresh.is_empty() {
                            continue;
                        }
                        written += fresh.len();
                        let names: Vec<String> = fresh.iter().map(|d| d.0.day.clone()).collect();
                        for table in ["kpi_dirty_days", "kpi_days", "kpi_delay_blocks"] {
                            let mut qb: QueryBuilder<$db> =
                                QueryBuilder::new(format!("DELETE FROM {table} WHERE guild_id = "));
                            qb.push_bind(guild.to_string());
                            Self::push_in(&mut qb, " AND day IN (", &names);
                            qb.build().execute(&mut *tx).await?;
                        }
                        // An empty day has no row: a missing row is a day with nothing in it.
                        let rows: Vec<&&(DirtyDay, Piece, Vec<Block>)> =
                            fresh.iter().filter(|d| d.1 != Piece::default()).collect();
                        for part in rows.chunks(100) {
                            let mut qb: QueryBuilder<$db> =
                                QueryBuilder::new("INSERT INTO kpi_days (guild_id, day, data, agents) ");
                            qb.push_values(part, |mut b, d| {
                                b.push_bind(guild.to_string()).push_bind(d.0.day.clone())
                                    .push_bind(d.1.guild.encode()).push_bind(d.1.encode_agents());
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        let blocks: Vec<(&str, &Block)> = fresh
                            .iter()
                            .flat_map(|d| d.2.iter().map(move |b| (d.0.day.as_str(), b)))
                            .collect();
                        for part in blocks.chunks(INSERT_CHUNK) {
                            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                                "INSERT INTO kpi_delay_blocks (guild_id, day, kind, first_bucket, data) ",
                            );
                            qb.push_values(part, |mut b, (day, block)| {
                                b.push_bind(guild.to_string()).push_bind(day.to_string())
                                    .push_bind(block.kind.code() as i64).push_bind(block.first as i64)
                                    .push_bind(block.data.clone());
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                    }
                }
                tx.commit().await?;
                Ok(written)
            }

            async fn kpi_blocks(&self, guild_id: &str, keys: &[(String, i64, i64)]) -> Result<Vec<((String, i64, i64), Vec<u8>)>> {
                // The keys go as one JSON bind, so that the statement's text is the same for
                // any number of them: prepared once per connection, not parsed and planned
                // again with a thousand placeholders at each report.
                let json = serde_json::Value::Array(
                    keys.iter()
                        .map(|(day, kind, first)| serde_json::json!({"d": day, "k": kind, "f": first}))
                        .collect(),
                )
                .to_string();
                let rows: Vec<(String, i64, i64, Vec<u8>)> = sqlx::query_as(Self::BLOCKS_BY_KEYS)
                    .bind(guild_id)
                    .bind(json)
                    .fetch_all(self.reads())
                    .await?;
                Ok(rows.into_iter().map(|(day, kind, first, data)| ((day, kind, first), data)).collect())
            }

            async fn stored_days(&self, guild_id: &str, from_day: &str, to_day: &str, agents: bool) -> Result<Vec<(String, Part, Vec<u8>)>> {
                // NULL decodes as an absent blob whatever the backend calls its type.
                let sql = if agents {
                    "SELECT day, data, agents FROM kpi_days WHERE guild_id = $1 AND day >= $2 AND day <= $3"
                } else {
                    "SELECT day, data, NULL FROM kpi_days WHERE guild_id = $1 AND day >= $2 AND day <= $3"
                };
                let rows: Vec<(String, Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(sql)
                .bind(guild_id).bind(from_day).bind(to_day)
                .fetch_all(self.reads())
                .await?;
                rows.into_iter()
                    .map(|(day, data, agents)| {
                        let part = Part::decode(&data)
                            .ok_or_else(|| crate::store::StoreError::Corrupt(format!("rollup of {guild_id} on {day}")))?;
                        Ok((day, part, agents.unwrap_or_default()))
                    })
                    .collect()
            }

            async fn analyze_rollups(&self) -> Result<()> {
                // The simple protocol: VACUUM may not run inside the transaction of a prepared statement.
                sqlx::raw_sql(Self::ANALYZE_ROLLUPS).execute(&self.pool).await?;
                Ok(())
            }

            async fn analyze_growing(&self) -> Result<()> {
                // One at a time: VACUUM may not run in the implicit transaction of several.
                for sql in Self::ANALYZE_GROWING {
                    sqlx::raw_sql(*sql).execute(&self.pool).await?;
                }
                Ok(())
            }

            async fn rollup_status(&self, guild_id: &str) -> Result<RollupStatus> {
                let (irregular,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM kpi_irregular WHERE guild_id = $1")
                    .bind(guild_id)
                    .fetch_one(&self.pool)
                    .await?;
                let (newest_event,): (Option<i64>,) = sqlx::query_as("SELECT MAX(at_ms) FROM events WHERE guild_id = $1")
                    .bind(guild_id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(RollupStatus { irregular: irregular > 0, newest_event })
            }

            async fn close(&self) {
                self.pool.close().await;
                self.reads().close().await;
            }
        }
    };
}

pub(super) use sql_store_impl;
