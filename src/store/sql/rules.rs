//! The guild rules' SQL (`RulesStore`).

use super::rollups::forget_rollups;
use super::{Db, Tx};
use crate::domain::GuildRules;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::rows::{warning_columns, RulesRow, RULES_COLUMNS};
use crate::store::{dirty_version, Result, RulesStore};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

#[async_trait::async_trait]
impl RulesStore for SqlStore<Db> {
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
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let old: Option<RulesRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RULES_COLUMNS} FROM guild_settings WHERE guild_id = $1"
        )))
        .bind(guild_id)
        .fetch_optional(&mut *tx)
        .await?;
        let old = old
            .map(GuildRules::try_from)
            .transpose()?
            .unwrap_or_default();
        if crate::domain::rollup::rules_affect_rollups(&old, r) {
            rederive_guild(&mut tx, guild_id).await?;
        }
        let warning = warning_columns(r.sla.warning);
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO guild_settings ({RULES_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT (guild_id) DO UPDATE SET timezone = excluded.timezone, \
             business_hours = excluded.business_hours, idle_ms = excluded.idle_ms, \
             deadline_ms = excluded.deadline_ms, survey_delay_ms = excluded.survey_delay_ms, \
             survey_close_ms = excluded.survey_close_ms, \
             badge_min_rate_bp = excluded.badge_min_rate_bp, \
             badge_max_delay_ms = excluded.badge_max_delay_ms, \
             badge_window_ms = excluded.badge_window_ms, \
             badge_statistic = excluded.badge_statistic, locale = excluded.locale, \
             note_prefix = excluded.note_prefix, \
             sla_first_response_ms = excluded.sla_first_response_ms, \
             sla_next_response_ms = excluded.sla_next_response_ms, \
             sla_resolution_ms = excluded.sla_resolution_ms, sla_clock = excluded.sla_clock, \
             auto_close_ms = excluded.auto_close_ms, \
             sla_warning_percent = excluded.sla_warning_percent, \
             sla_warning_ms = excluded.sla_warning_ms, \
             engagement_window_ms = excluded.engagement_window_ms"
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
        .bind(r.sla.first_response)
        .bind(r.sla.next_response)
        .bind(r.sla.resolution)
        .bind(r.sla.clock.name())
        .bind(r.sla.auto_close)
        .bind(warning.0)
        .bind(warning.1)
        .bind(r.engagement_window_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Facts and parts were derived under the old rules: drops them and marks every place of the
/// guild dirty, so that the next refresh derives them again.
async fn rederive_guild(tx: &mut Tx, guild_id: &str) -> Result<()> {
    forget_rollups(tx, guild_id).await?;
    sqlx::query(
        "INSERT INTO kpi_dirty_places (guild_id, conversation, version) \
         SELECT DISTINCT guild_id, conversation, $2 FROM events WHERE guild_id = $1 \
         ON CONFLICT (guild_id, conversation) DO UPDATE SET version = excluded.version, \
         claimed_until_ms = NULL",
    )
    .bind(guild_id)
    .bind(dirty_version())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
