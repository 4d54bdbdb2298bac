//! Anonymising places (`PrivacyStore`).

use super::rollups::{DIRTY_PLACES, FACT_TABLES};
use super::{Db, Tx};
use crate::domain::Millis;
use crate::store::backend::{Dialect, SqlStore};
use crate::store::privacy::{is_own_place, CUSTOMER_KINDS, PLACES_OF_CUSTOMER_SQL};
use crate::store::{anon_token, Forgotten, Place, PrivacyStore, Result, ANON_PREFIX};
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
        let rows: Vec<(String, String)> = sqlx::query_as(PLACES_OF_CUSTOMER_SQL)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(places(rows))
    }

    async fn forget_customer_in_place(&self, place: &Place, user_id: &str) -> Result<Forgotten> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let (guild_id, conversation) = (place.guild_id.as_str(), place.conversation.as_str());
        let (others,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT COUNT(DISTINCT author_id) FROM events WHERE guild_id = $1 \
             AND conversation = $2 AND author_id <> $3 AND kind IN {CUSTOMER_KINDS}"
        )))
        .bind(guild_id)
        .bind(conversation)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let own = is_own_place(conversation, user_id, others.max(0) as usize);
        let token = anon_token();
        forget_rows(&mut tx, place, user_id, &token).await?;
        if own {
            rename_place(&mut tx, guild_id, conversation, &anon_token()).await?;
        } else {
            // The place goes on for the others; only what names this person changes.
            sqlx::query(
                "UPDATE surveys SET customer_id = $4 \
                 WHERE guild_id = $1 AND conversation = $2 AND customer_id = $3",
            )
            .bind(guild_id)
            .bind(conversation)
            .bind(user_id)
            .bind(&token)
            .execute(&mut *tx)
            .await?;
            let marked = std::collections::BTreeSet::from([(guild_id, conversation)]);
            super::rollups::mark_places(&mut tx, &marked).await?;
        }
        tx.commit().await?;
        Ok(if own {
            Forgotten::TheirPlace
        } else {
            Forgotten::TheirRows
        })
    }

    async fn forget_customer_elsewhere(&self, user_id: &str) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for sql in [
            "DELETE FROM tickets WHERE customer_id = $1",
            "DELETE FROM dm_choices WHERE customer_id = $1",
            "DELETE FROM transcripts WHERE author_id = $1",
            "DELETE FROM surveys WHERE customer_id = $1",
            "DELETE FROM outbox WHERE ticket_customer_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn anonymize_place(&self, guild_id: &str, conversation: &str) -> Result<()> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let key = anon_token();
        anonymize_events(&mut tx, guild_id, conversation).await?;
        rename_place(&mut tx, guild_id, conversation, &key).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Gives the place (its events already moved or not) the key `key` everywhere it is named,
/// and drops what the bot still owed it: its text and ids are personal.
async fn rename_place(tx: &mut Tx, guild_id: &str, conversation: &str, key: &str) -> Result<()> {
    let renamed = ["events", DIRTY_PLACES.table]
        .into_iter()
        .chain(FACT_TABLES)
        .chain(["conversation_channels"]);
    for table in renamed {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET conversation = $3 WHERE guild_id = $1 AND conversation = $2"
        )))
        .bind(guild_id)
        .bind(conversation)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    }
    for table in ["outbox", "tickets", "surveys", "transcripts", "sla_timers"] {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE guild_id = $1 AND conversation = $2"
        )))
        .bind(guild_id)
        .bind(conversation)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(dm) = conversation.strip_prefix("dm-") {
        sqlx::query("DELETE FROM channel_cursors WHERE channel_id = $1")
            .bind(dm)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Gives `user_id`'s customer rows in the place the token `token` (one token for all of them,
/// so that the replay sees one person as before), empties their comments and drops their
/// transcript lines. Their rows as an agent stay: agents are staff.
async fn forget_rows(tx: &mut Tx, place: &Place, user_id: &str, token: &str) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE events SET author_id = $4, body = CASE WHEN kind = 'comment' THEN '' ELSE body END \
         WHERE guild_id = $1 AND conversation = $2 AND author_id = $3 AND kind IN {CUSTOMER_KINDS}"
    )))
    .bind(&place.guild_id)
    .bind(&place.conversation)
    .bind(user_id)
    .bind(token)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM transcripts WHERE guild_id = $1 AND conversation = $2 AND author_id = $3",
    )
    .bind(&place.guild_id)
    .bind(&place.conversation)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn places(rows: Vec<(String, String)>) -> Vec<Place> {
    rows.into_iter()
        .map(|(guild_id, conversation)| Place {
            guild_id,
            conversation,
        })
        .collect()
}

/// Gives each of the place's authors who is not one of its agents a random token, forgets the
/// team choice of those no longer known by their id anywhere, and empties its comments.
async fn anonymize_events(tx: &mut Tx, guild_id: &str, conversation: &str) -> Result<()> {
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
    for person in people {
        sqlx::query(
            "UPDATE events SET author_id = $4 WHERE guild_id = $1 AND conversation = $2 AND author_id = $3",
        )
        .bind(guild_id)
        .bind(conversation)
        .bind(person)
        .bind(anon_token())
        .execute(&mut **tx)
        .await?;
        // A team choice is kept only for a customer still known by their id (the author
        // index answers this at once).
        sqlx::query(
            "DELETE FROM dm_choices WHERE customer_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM events WHERE author_id = $1)",
        )
        .bind(person)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE events SET body = '' WHERE guild_id = $1 AND conversation = $2 AND kind = 'comment'",
    )
    .bind(guild_id)
    .bind(conversation)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
