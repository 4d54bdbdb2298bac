//! Privacy: anonymising places (conversation keys) once they are old enough or when a
//! customer asks to be forgotten, without changing a single figure.

use super::Result;
use crate::domain::Millis;
use async_trait::async_trait;

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Places whose last event is before `before` and that are not anonymised yet.
    async fn places_ended_before(&self, before: Millis) -> Result<Vec<Place>>;
    /// Places where `user_id` wrote as a customer (messages, ratings, comments).
    async fn places_of_customer(&self, user_id: &str) -> Result<Vec<Place>>;
    /// Replaces, in one transaction per place, the conversation key and every author who is not
    /// an agent of that place by random tokens, empties comments, and drops the place's tickets,
    /// survey jobs, transcript and cursors. Times, kinds and agents stay, so every figure stays the same.
    async fn anonymize_place(&self, guild_id: &str, conversation: &str) -> Result<()>;
}

/// A place: one guild's conversation key (a DM channel, a thread, a forum post, or one
/// customer in one support channel).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub guild_id: String,
    /// The place's key (`Event::place`; its column is `conversation`).
    pub conversation: String,
}

/// Prefix of the keys and ids that replace personal data.
pub const ANON_PREFIX: &str = "anon-";

/// A fresh random token: it cannot be traced back to what it replaced.
pub fn anon_token() -> String {
    use rand::Rng;
    format!("{ANON_PREFIX}{:016x}", rand::thread_rng().gen::<u64>())
}
