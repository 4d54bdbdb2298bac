//! The rows both SQL backends read, their columns, and their conversion to the store's and
//! the domain's types.

use super::StoreError;
use crate::domain::hours::BusinessHours;
use crate::domain::settings::{BadgeRule, SlaRules, SlaWarning};
use crate::domain::{Event, EventKind, GuildRules, Rating};

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
    pub sla_first_response_ms: Option<i64>,
    pub sla_next_response_ms: Option<i64>,
    pub sla_resolution_ms: Option<i64>,
    pub sla_clock: String,
    pub auto_close_ms: Option<i64>,
    pub sla_warning_percent: Option<i32>,
    pub sla_warning_ms: Option<i64>,
    pub engagement_window_ms: i64,
}

pub(super) const RULES_COLUMNS: &str = "guild_id, timezone, business_hours, idle_ms, deadline_ms, survey_delay_ms, survey_close_ms, badge_min_rate_bp, badge_max_delay_ms, badge_window_ms, badge_statistic, locale, note_prefix, sla_first_response_ms, sla_next_response_ms, sla_resolution_ms, sla_clock, auto_close_ms, sla_warning_percent, sla_warning_ms, engagement_window_ms";

/// The warning before a breach as stored: a percentage, or a time before the deadline, or
/// neither (off).
pub(super) fn warning_columns(w: SlaWarning) -> (Option<i32>, Option<i64>) {
    match w {
        SlaWarning::Off => (None, None),
        SlaWarning::Percent(p) => (Some(p as i32), None),
        SlaWarning::Before(ms) => (None, Some(ms)),
    }
}

fn warning_of(percent: Option<i32>, before: Option<i64>) -> Result<SlaWarning, String> {
    match (percent, before) {
        (Some(p), _) => u8::try_from(p)
            .ok()
            .filter(|p| (1..=99).contains(p))
            .map(SlaWarning::Percent)
            .ok_or_else(|| format!("{p}% is not from 1% to 99%")),
        (None, Some(ms)) => Ok(SlaWarning::Before(ms)),
        (None, None) => Ok(SlaWarning::Off),
    }
}

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
            engagement_window_ms: r.engagement_window_ms,
            sla: SlaRules {
                first_response: r.sla_first_response_ms,
                next_response: r.sla_next_response_ms,
                resolution: r.sla_resolution_ms,
                clock: r.sla_clock.parse().map_err(|e| bad("sla_clock", e))?,
                auto_close: r.auto_close_ms,
                warning: warning_of(r.sla_warning_percent, r.sla_warning_ms)
                    .map_err(|e| bad("sla_warning", e))?,
            },
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
                ("archive", _) => super::OutboxMethod::Archive,
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
