//! Anonymising places (`PrivacyStore`).

use super::rollups::{DIRTY_PLACES, FACT_TABLES};
use super::{Db, Tx};
use crate::domain::Millis;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::{anon_token, Place, PrivacyStore, Result, ANON_PREFIX};
use sqlx::AssertSqlSafe;
use std::collections::HashSet;

#[async_trait::async_trait]
impl PrivacyStore for SqlStore<Db> {
    async fn places_ended_before(&self, before: Millis) -> Result<Vec<Place>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT guild_id, conversation FROM events WHERE conversation NOT LIKE 'anon-%' \
             GROUP BY guild_id, conversation HAVING MAX(at_ms) < $1",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        Ok(places(rows))
    }

    async fn places_of_customer(&self, user_id: &str) -> Result<Vec<Place>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT guild_id, conversation FROM events WHERE author_id = $1 \
             AND kind IN ('customer_message', 'rating', 'comment')",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(places(rows))
    }

    async fn anonymize_place(&self, guild_id: &str, conversation: &str) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let key = anon_token();
        anonymize_events(&mut tx, guild_id, conversation, &key).await?;
        let renamed = std::iter::once(DIRTY_PLACES.table)
            .chain(FACT_TABLES)
            .chain(["conversation_channels"]);
        for table in renamed {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {table} SET conversation = $3 WHERE guild_id = $1 AND conversation = $2"
            )))
            .bind(guild_id)
            .bind(conversation)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        }
        // What the bot still owed the place goes too: its text and ids are personal.
        for table in ["outbox", "tickets", "surveys", "transcripts", "sla_timers"] {
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
}

fn places(rows: Vec<(String, String)>) -> Vec<Place> {
    rows.into_iter()
        .map(|(guild_id, conversation)| Place {
            guild_id,
            conversation,
        })
        .collect()
}

/// Gives the place's events the key `key`, gives each of its authors who is not one of its
/// agents a random token, and empties its comments.
async fn anonymize_events(
    tx: &mut Tx,
    guild_id: &str,
    conversation: &str,
    key: &str,
) -> Result<()> {
    let authors: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT author_id, kind FROM events WHERE guild_id = $1 AND conversation = $2",
    )
    .bind(guild_id)
    .bind(conversation)
    .fetch_all(&mut **tx)
    .await?;
    let agents: HashSet<&str> = authors
        .iter()
        .filter(|(_, k)| k == "agent_message" || k == "note" || k == "survey_sent")
        .map(|(a, _)| a.as_str())
        .collect();
    let people: HashSet<&str> = authors
        .iter()
        .map(|(a, _)| a.as_str())
        .filter(|a| !agents.contains(a) && !a.starts_with(ANON_PREFIX))
        .collect();
    sqlx::query("UPDATE events SET conversation = $3 WHERE guild_id = $1 AND conversation = $2")
        .bind(guild_id)
        .bind(conversation)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    for person in people {
        sqlx::query(
            "UPDATE events SET author_id = $4 WHERE guild_id = $1 AND conversation = $2 AND author_id = $3",
        )
        .bind(guild_id)
        .bind(key)
        .bind(person)
        .bind(anon_token())
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE events SET body = '' WHERE guild_id = $1 AND conversation = $2 AND kind = 'comment'",
    )
    .bind(guild_id)
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
