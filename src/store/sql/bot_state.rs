//! The Discord bot's state's SQL (`BotStateStore`).

use super::{owned_by, Db};
use crate::domain::shards::Shards;
use crate::domain::Millis;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::bot_state::DEFAULT_TICKETS_PER_HOUR;
use crate::store::rows::{SurveyRow, TicketRow, SURVEY_COLUMNS};
use crate::store::{
    BotStateStore, ChannelCursor, DiscordSetup, Result, SlaTimerRow, SurveyJob, SurveyStatus,
    Ticket, TranscriptLine, WatchKind, WatchedChannel,
};
use sqlx::AssertSqlSafe;

#[async_trait::async_trait]
impl BotStateStore for SqlStore<Db> {
    async fn discord_setup(&self, guild_id: &str) -> Result<DiscordSetup> {
        let row: Option<(Option<String>, Option<String>, bool, bool)> = sqlx::query_as(
            "SELECT staff_channel_id, alert_channel_id, show_agent_names, transcripts FROM guild_discord WHERE guild_id = $1",
        )
        .bind(guild_id)
        .fetch_optional(&self.pool)
        .await?;
        let roles: Vec<(String,)> = sqlx::query_as(
            "SELECT role_id FROM guild_agent_roles WHERE guild_id = $1 ORDER BY role_id",
        )
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
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
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
            sqlx::query(
                "INSERT INTO watched_channels (guild_id, channel_id, kind) VALUES ($1, $2, $3)",
            )
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

    async fn ticket_limit(&self, guild_id: &str) -> Result<u32> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT CAST(tickets_per_hour AS BIGINT) FROM guild_discord WHERE guild_id = $1",
        )
        .bind(guild_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or(DEFAULT_TICKETS_PER_HOUR, |(n,)| {
            u32::try_from(n).unwrap_or(DEFAULT_TICKETS_PER_HOUR)
        }))
    }

    async fn set_ticket_limit(&self, guild_id: &str, per_hour: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO guild_discord (guild_id, tickets_per_hour) VALUES ($1, $2) \
             ON CONFLICT (guild_id) DO UPDATE SET tickets_per_hour = excluded.tickets_per_hour",
        )
        .bind(guild_id)
        .bind(i32::try_from(per_hour).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
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

    async fn set_conversation_channel(
        &self,
        guild_id: &str,
        conversation: &str,
        channel_id: &str,
    ) -> Result<()> {
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

    async fn conversations_in_channel(
        &self,
        guild_id: &str,
        channel_id: &str,
    ) -> Result<Vec<String>> {
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

    async fn surveys_in_place(
        &self,
        guild_id: &str,
        conversation: &str,
        status: SurveyStatus,
    ) -> Result<Vec<SurveyJob>> {
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

    async fn due_surveys(
        &self,
        now: Millis,
        limit: i64,
        shards: &Shards,
    ) -> Result<Vec<SurveyJob>> {
        let owned = owned_by("guild_id", shards);
        let rows: Vec<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SURVEY_COLUMNS} FROM surveys WHERE status = 'scheduled' AND due_at_ms <= $1{owned} \
             ORDER BY due_at_ms LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SurveyJob::try_from).collect()
    }

    async fn surveys_to_close(
        &self,
        sent_before: Millis,
        limit: i64,
        shards: &Shards,
    ) -> Result<Vec<SurveyJob>> {
        let owned = owned_by("guild_id", shards);
        let rows: Vec<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SURVEY_COLUMNS} FROM surveys WHERE status = 'sent' AND sent_at_ms <= $1{owned} \
             ORDER BY sent_at_ms LIMIT $2"
        )))
        .bind(sent_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SurveyJob::try_from).collect()
    }

    async fn due_sla_timers(
        &self,
        now: Millis,
        limit: i64,
        shards: &Shards,
    ) -> Result<Vec<SlaTimerRow>> {
        let owned = owned_by("guild_id", shards);
        let rows: Vec<TimerTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TIMER_COLUMNS} FROM sla_timers WHERE status = 'pending' AND due_at_ms <= $1{owned} \
             ORDER BY due_at_ms, guild_id, conversation, kind LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(timer_row).collect())
    }

    async fn sla_timers_in_place(
        &self,
        guild_id: &str,
        conversation: &str,
    ) -> Result<Vec<SlaTimerRow>> {
        let rows: Vec<TimerTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TIMER_COLUMNS} FROM sla_timers WHERE guild_id = $1 AND conversation = $2 \
             ORDER BY due_at_ms, kind"
        )))
        .bind(guild_id)
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(timer_row).collect())
    }

    async fn advance_cursor(
        &self,
        channel_id: &str,
        guild_id: Option<&str>,
        message_id: i64,
        now: Millis,
    ) -> Result<()> {
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
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_message_id FROM channel_cursors WHERE channel_id = $1")
                .bind(channel_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    async fn rewind_cursor(
        &self,
        channel_id: &str,
        guild_id: Option<&str>,
        message_id: i64,
        now: Millis,
    ) -> Result<()> {
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

    async fn recent_cursors(&self, since: Millis, shards: &Shards) -> Result<Vec<ChannelCursor>> {
        let owned = owned_by("guild_id", shards);
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT channel_id, guild_id, last_message_id FROM channel_cursors WHERE updated_at_ms >= $1{owned}",
        )))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(channel_id, guild_id, message_id)| ChannelCursor {
                channel_id,
                guild_id,
                message_id,
            })
            .collect())
    }

    async fn transcript(&self, guild_id: &str, conversation: &str) -> Result<Vec<TranscriptLine>> {
        type Row = (String, String, String, String, i64, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT message_id, guild_id, conversation, author_id, at_ms, content FROM transcripts \
             WHERE guild_id = $1 AND conversation = $2 ORDER BY at_ms, message_id",
        )
        .bind(guild_id)
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(message_id, guild_id, conversation, author_id, at, content)| TranscriptLine {
                    message_id,
                    guild_id,
                    conversation,
                    author_id,
                    at,
                    content,
                },
            )
            .collect())
    }
}

const TIMER_COLUMNS: &str = "guild_id, conversation, kind, subject, due_at_ms, status";
type TimerTuple = (String, String, String, String, i64, String);

fn timer_row((guild_id, conversation, kind, subject, due_at, status): TimerTuple) -> SlaTimerRow {
    SlaTimerRow {
        guild_id,
        conversation,
        kind,
        subject,
        due_at,
        done: status != "pending",
    }
}
