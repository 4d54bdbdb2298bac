//! What the dashboard keeps (`src/web`): the key that signs its one-time links, its sessions,
//! the links already used and the OAuth2 states in flight.

use super::Result;
use crate::domain::Millis;
use async_trait::async_trait;

#[async_trait]
pub trait WebStore: Send + Sync {
    /// The secret named `name`, created from `fresh` the first time (the first writer wins, so
    /// every process on the database signs with the same key).
    async fn web_secret(&self, name: &str, fresh: &str, now: Millis) -> Result<String>;
    async fn create_session(&self, session: &WebSession) -> Result<()>;
    /// The session whose token hashes to `token_hash`, if it is neither expired nor revoked.
    async fn live_session(&self, token_hash: &str, now: Millis) -> Result<Option<WebSession>>;
    /// Revokes one session; true if it was live.
    async fn revoke_session(&self, token_hash: &str, now: Millis) -> Result<bool>;
    /// Revokes every live session of a user (logout everywhere); returns how many.
    async fn revoke_user_sessions(&self, user_id: &str, now: Millis) -> Result<u64>;
    /// Records a one-time link's nonce as used; false if it already was (a reused link).
    /// Nonces of links expired before `now` are forgotten (they are refused by their date).
    async fn use_link(&self, nonce: &str, expires_ms: Millis, now: Millis) -> Result<bool>;
    async fn save_oauth_state(&self, state: &str, expires_ms: Millis) -> Result<()>;
    /// Takes an OAuth2 state back: true once, if it was handed out and has not expired.
    async fn take_oauth_state(&self, state: &str, now: Millis) -> Result<bool>;
}

/// A browser logged in to the dashboard as a Discord user. What the user may see is decided on
/// each request, not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub token_hash: String,
    pub user_id: String,
    pub home_guild: Option<String>,
    pub created_ms: Millis,
    pub expires_ms: Millis,
}
