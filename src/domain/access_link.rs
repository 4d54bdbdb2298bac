//! The dashboard's one-time links (`/dashboard` in Discord): who they let in, to which guild,
//! until when, signed with HMAC-SHA256 so that nobody can make or change one. Single use is
//! the store's part (a link's nonce is recorded when it is used); time and randomness are
//! passed in.

use super::Millis;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// What a link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub user_id: String,
    pub guild_id: String,
    pub expires_ms: Millis,
    /// Random, unique per link: what the store records once the link is used.
    pub nonce: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not a dashboard link, or it was changed")]
    Invalid,
    #[error("this link has expired: ask /dashboard in Discord for a new one")]
    Expired,
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn mac(key: &[u8], payload: &str) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(payload.as_bytes());
    mac
}

/// The link's token: `user.guild.expiry.nonce.signature`, all URL-safe.
pub fn sign(key: &[u8], c: &LinkClaims) -> String {
    let payload = format!("{}.{}.{}.{}", c.user_id, c.guild_id, c.expires_ms, c.nonce);
    let sig = hex(&mac(key, &payload).finalize().into_bytes());
    format!("{payload}.{sig}")
}

/// The claims of a token signed with `key` that has not expired at `now`.
pub fn verify(key: &[u8], token: &str, now: Millis) -> Result<LinkClaims, LinkError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [user, guild, expires, nonce, sig] = parts[..] else {
        return Err(LinkError::Invalid);
    };
    if ![user, guild, nonce].iter().all(|p| is_id(p)) {
        return Err(LinkError::Invalid);
    }
    let expires_ms: Millis = expires.parse().map_err(|_| LinkError::Invalid)?;
    let sig = unhex(sig).ok_or(LinkError::Invalid)?;
    let payload = format!("{user}.{guild}.{expires_ms}.{nonce}");
    // `verify_slice` compares in constant time.
    mac(key, &payload)
        .verify_slice(&sig)
        .map_err(|_| LinkError::Invalid)?;
    if now >= expires_ms {
        return Err(LinkError::Expired);
    }
    Ok(LinkClaims {
        user_id: user.into(),
        guild_id: guild.into(),
        expires_ms,
        nonce: nonce.into(),
    })
}

/// SHA-256 of a secret token, in hex: what is stored of a session cookie.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            user_id: "1191169010696323095".into(),
            guild_id: "1191168956170371082".into(),
            expires_ms: 1_000_000,
            nonce: "a1b2c3".into(),
        }
    }

    #[test]
    fn a_signed_link_lets_in_who_it_names_until_it_expires() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"key", &token, 999_999), Ok(claims()));
        assert_eq!(verify(b"key", &token, 1_000_000), Err(LinkError::Expired));
    }

    #[test]
    fn a_changed_link_or_another_key_is_refused() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"other", &token, 0), Err(LinkError::Invalid));
        let other_guild = token.replace("1191168956170371082", "1191168956170371083");
        assert_eq!(verify(b"key", &other_guild, 0), Err(LinkError::Invalid));
        let later = token.replace(".1000000.", ".9000000.");
        assert_eq!(verify(b"key", &later, 0), Err(LinkError::Invalid));
        assert_eq!(verify(b"key", "garbage", 0), Err(LinkError::Invalid));
        assert_eq!(verify(b"key", "a.b.1.c.zz", 0), Err(LinkError::Invalid));
    }
}
