//! The dashboard's one-time links, made by `/dashboard` in Discord (or `reactif dashboard
//! --demo`) and opened by the dashboard, both through here: one key, kept in the database.

use super::Desk;
use crate::domain::access_link::{self, LinkClaims};
use crate::domain::{Millis, MINUTE};
use crate::store::Result;

/// How long a one-time link can be opened.
pub const LINK_LIFETIME: Millis = 10 * MINUTE;

/// A fresh random value of 32 bytes, in hex (keys, nonces, session tokens, OAuth2 states).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    access_link::hex(&bytes)
}

impl Desk {
    /// The key that signs the dashboard's links (made once per database).
    pub async fn dashboard_key(&self, now: Millis) -> Result<Vec<u8>> {
        let secret = self
            .store()
            .web_secret("link", &random_token(), now)
            .await?;
        Ok(secret.into_bytes())
    }

    /// A one-time link to the dashboard at `base_url` for `user_id`, opening `guild_id`.
    pub async fn dashboard_link(
        &self,
        base_url: &str,
        user_id: &str,
        guild_id: &str,
        now: Millis,
    ) -> Result<String> {
        let key = self.dashboard_key(now).await?;
        let nonce = random_token();
        let token = access_link::sign(
            &key,
            &LinkClaims {
                user_id: user_id.into(),
                guild_id: guild_id.into(),
                expires_ms: now + LINK_LIFETIME,
                nonce: nonce[..32].to_string(),
            },
        );
        Ok(format!(
            "{}/login/link?t={token}",
            base_url.trim_end_matches('/')
        ))
    }
}
