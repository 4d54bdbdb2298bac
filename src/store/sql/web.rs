//! The dashboard's keys, sessions, used links and OAuth2 states (`WebStore`).

use super::Db;
use crate::domain::Millis;
use crate::store::backend::SqlStore;
use crate::store::{Result, WebSession, WebStore};

#[derive(sqlx::FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: String,
    home_guild: Option<String>,
    created_ms: i64,
    expires_ms: i64,
}

#[async_trait::async_trait]
impl WebStore for SqlStore<Db> {
    async fn web_secret(&self, name: &str, fresh: &str, now: Millis) -> Result<String> {
        sqlx::query(
            "INSERT INTO dashboard_keys (name, secret, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let (secret,): (String,) =
            sqlx::query_as("SELECT secret FROM dashboard_keys WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
        Ok(secret)
    }

    async fn create_session(&self, s: &WebSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO dashboard_sessions (token_hash, user_id, home_guild, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(&s.user_id)
        .bind(&s.home_guild)
        .bind(s.created_ms)
        .bind(s.expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live_session(&self, token_hash: &str, now: Millis) -> Result<Option<WebSession>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT token_hash, user_id, home_guild, created_ms, expires_ms FROM dashboard_sessions \
             WHERE token_hash = $1 AND expires_ms > $2 AND revoked_ms IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| WebSession {
            token_hash: r.token_hash,
            user_id: r.user_id,
            home_guild: r.home_guild,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
        }))
    }

    async fn revoke_session(&self, token_hash: &str, now: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE dashboard_sessions SET revoked_ms = $2 \
             WHERE token_hash = $1 AND revoked_ms IS NULL AND expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user_sessions(&self, user_id: &str, now: Millis) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE dashboard_sessions SET revoked_ms = $2 \
             WHERE user_id = $1 AND revoked_ms IS NULL AND expires_ms > $2",
        )
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        // Expired sessions are of no use to anyone: they go.
        sqlx::query("DELETE FROM dashboard_sessions WHERE expires_ms <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn use_link(&self, nonce: &str, expires_ms: Millis, now: Millis) -> Result<bool> {
        sqlx::query("DELETE FROM dashboard_links_used WHERE expires_ms < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let done = sqlx::query(
            "INSERT INTO dashboard_links_used (nonce, used_ms, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (nonce) DO NOTHING",
        )
        .bind(nonce)
        .bind(now)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn save_oauth_state(&self, state: &str, expires_ms: Millis) -> Result<()> {
        sqlx::query("INSERT INTO dashboard_oauth_states (state, expires_ms) VALUES ($1, $2)")
            .bind(state)
            .bind(expires_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_oauth_state(&self, state: &str, now: Millis) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM dashboard_oauth_states WHERE state = $1 AND expires_ms > $2")
                .bind(state)
                .bind(now)
                .execute(&self.pool)
                .await?;
        sqlx::query("DELETE FROM dashboard_oauth_states WHERE expires_ms <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
