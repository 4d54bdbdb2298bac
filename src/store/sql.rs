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
            "customer_message" => EventKind::CustomerMessage,
            "agent_message" => EventKind::AgentMessage,
            "note" => EventKind::Note,
            "bot_message" => EventKind::BotMessage,
            "close" => EventKind::Close,
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
            conversation: r.conversation,
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

/// Implements `Store` for a backend's pool type. The SQL is identical on both backends; only
/// connection setup and migrations differ, and those live in each backend's module.
macro_rules! sql_store_impl {
    ($store:ty, $db:ty) => {
        use crate::domain::{Event, GuildRules, Millis};
        use crate::store::sql::{columns, EventRow, RulesRow, EVENT_COLUMNS, INSERT_CHUNK, RULES_COLUMNS};
        use crate::store::{Inserted, Result, Store};
        use sqlx::{AssertSqlSafe, QueryBuilder};
        use std::collections::{HashMap, HashSet};

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
                let mut tx = self.pool.begin().await?;
                let mut new_ids: HashSet<String> = HashSet::new();
                for chunk in events.chunks(INSERT_CHUNK) {
                    let mut qb: QueryBuilder<$db> = QueryBuilder::new(format!(
                        "INSERT INTO events ({EVENT_COLUMNS}) "
                    ));
                    qb.push_values(chunk, |mut b, e| {
                        let c = columns(e);
                        b.push_bind(e.id.clone())
                            .push_bind(e.guild_id.clone())
                            .push_bind(e.conversation.clone())
                            .push_bind(c.kind)
                            .push_bind(e.author_id.clone())
                            .push_bind(e.at)
                            .push_bind(c.survey_id.map(str::to_string))
                            .push_bind(c.rating)
                            .push_bind(c.answer_message_id.map(str::to_string))
                            .push_bind(c.body.map(str::to_string));
                    });
                    qb.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                    let ids: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    new_ids.extend(ids.into_iter().map(|(id,)| id));
                }
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
                let done = sqlx::query("DELETE FROM events WHERE guild_id = $1")
                    .bind(guild_id)
                    .execute(&self.pool)
                    .await?;
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
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }
    };
}

pub(super) use sql_store_impl;
