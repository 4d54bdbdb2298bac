//! Privacy: anonymising places (conversation keys) once they are old enough, and forgetting one
//! person when they ask, without changing a single figure, theirs or anyone else's.

use super::Result;
use crate::domain::Millis;
use async_trait::async_trait;

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Places whose last event is before `before` and that are not anonymised yet.
    async fn places_ended_before(&self, before: Millis) -> Result<Vec<Place>>;
    /// Places where `user_id` wrote as a customer (messages, ratings, comments), found through
    /// the author index (no table scan).
    async fn places_of_customer(&self, user_id: &str) -> Result<Vec<Place>>;
    /// Replaces, in one transaction per place, the conversation key and every author who is not
    /// an agent of that place by random tokens, empties comments, and drops the place's tickets,
    /// survey jobs, transcript and cursors. Times, kinds and agents stay, so every figure stays the same.
    async fn anonymize_place(&self, guild_id: &str, conversation: &str) -> Result<()>;
    /// Forgets `user_id` in one place, in one transaction (see `Forgotten`). Their customer
    /// rows there get one random token (so the place's figures stay the same) and their
    /// comments and transcript lines go. When the place is theirs, its key is replaced too and
    /// what the bot kept for it (tickets, survey jobs, transcript, outbox, cursor) is dropped;
    /// when it is someone else's (their "+1" in another customer's forum post), nothing else of
    /// it changes: its key, its surveys, its outbox and the other people's rows stay.
    async fn forget_customer_in_place(&self, place: &Place, user_id: &str) -> Result<Forgotten>;
    /// Forgets what is kept of `user_id` outside the places: their tickets, their team choice,
    /// any transcript line or survey job still in their name.
    async fn forget_customer_elsewhere(&self, user_id: &str) -> Result<()>;
}

/// What forgetting a person did to one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgotten {
    /// The place was theirs (only they wrote there as a customer, or its key names them): its
    /// key is replaced and what the bot kept for it is dropped.
    TheirPlace,
    /// Someone else's place: only their own rows there were anonymised.
    TheirRows,
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

/// The event kinds a customer writes.
pub const CUSTOMER_KINDS: &str = "('customer_message', 'rating', 'comment')";

/// The places where `$1` wrote as a customer: the index `events_author` covers it (one index
/// range, no table read), which `tests/store_contract.rs` checks with each backend's planner.
pub const PLACES_OF_CUSTOMER_SQL: &str = "SELECT DISTINCT guild_id, conversation FROM events \
     WHERE author_id = $1 AND kind IN ('customer_message', 'rating', 'comment')";

/// Whether a place is `user_id`'s own, given the other customers who wrote there: a key that
/// names them (one customer in a support channel, `channel:user`), or nobody else wrote there
/// as a customer (their DM, their forum post).
pub fn is_own_place(conversation: &str, user_id: &str, other_customers: usize) -> bool {
    let names_them = conversation
        .rsplit_once(':')
        .is_some_and(|(_, who)| who == user_id);
    names_them || other_customers == 0
}

#[cfg(test)]
mod tests {
    use super::is_own_place;

    #[test]
    fn a_place_is_ones_own_when_it_names_them_or_nobody_else_wrote_there() {
        assert!(is_own_place("dm-77", "5", 0));
        assert!(is_own_place("123:5", "5", 2));
        assert!(!is_own_place("123:6", "5", 1));
        assert!(!is_own_place("9001", "5", 1));
        assert!(is_own_place("9001", "5", 0));
        assert!(!is_own_place("123:55", "5", 1));
    }
}
