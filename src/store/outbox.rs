//! The outbox: every action towards Discord, queued in the transaction of the decision that
//! asks for it (`CommitStore::commit`), then delivered until Discord takes it or refuses it
//! for good.

use super::Result;
use crate::domain::shards::Shards;
use crate::domain::Millis;
use async_trait::async_trait;

#[async_trait]
pub trait OutboxStore: Send + Sync {
    // An item belongs to the shard of its guild (`domain::shards`; no guild: shard 0). A
    // process reads, claims and releases only the items of its `shards`: a neighbour's are
    // never sent by it, even when the neighbour is down (its restart sends them).

    /// Pending items of `shards` due at `now` whose previous piece (if any) has gone.
    async fn due_outbox(&self, now: Millis, limit: i64, shards: &Shards)
        -> Result<Vec<OutboxItem>>;
    /// Pending items of `shards` with these keys, in the order given.
    async fn outbox_by_keys(&self, keys: &[String], shards: &Shards) -> Result<Vec<OutboxItem>>;
    /// Takes an item of `shards` for delivery until `lease_until` (false if another sender has
    /// it, it is no longer pending, or it is not of `shards`): two senders never post the same
    /// item at once.
    async fn claim_outbox(
        &self,
        id: i64,
        now: Millis,
        lease_until: Millis,
        shards: &Shards,
    ) -> Result<bool>;
    async fn outbox_retry(&self, id: i64, next_at: Millis, error: &str) -> Result<()>;
    /// Frees the items of `shards` that a previous process of these shards was sending when
    /// it died, so that they are retried at once rather than when the lease runs out. The
    /// leases of other shards' items stay: their processes may be sending them right now.
    async fn release_outbox_leases(&self, shards: &Shards) -> Result<u64>;
    /// Points the pending items of a deleted channel (a ticket thread) to its replacement.
    async fn retarget_outbox(&self, old_channel: &str, new_channel: &str) -> Result<()>;
    /// The pending messages (of one guild, or all), for logs and `/stats`.
    async fn outbox_backlog(&self, guild_id: Option<&str>) -> Result<OutboxBacklog>;
}

/// What is waiting to go to Discord.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Pending items.
    pub pending: u64,
    /// When the oldest pending item was queued.
    pub oldest: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxMethod {
    /// `POST /channels/{channel}/messages`.
    Post,
    /// `PATCH /channels/{channel}/messages/{message}`: an edit of a message we sent.
    Patch(String),
    /// `PATCH /channels/{channel}`: archives a thread (the body says so).
    Archive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    /// Names the action: queuing it twice queues it once, and Discord's nonce derives from it.
    pub dedupe_key: String,
    pub channel_id: String,
    pub method: OutboxMethod,
    /// The JSON body of the request.
    pub body: String,
    /// The key of the piece that must go first.
    pub after_key: Option<String>,
    /// Set on a survey's message: its delivery marks the survey sent.
    pub survey_id: Option<String>,
    /// Where to tell the agents when Discord refuses the message for good.
    pub notify_channel_id: Option<String>,
    pub guild_id: Option<String>,
    pub conversation: Option<String>,
    /// Set on a relay into a ticket thread: a deleted thread is reopened for this customer.
    pub ticket_customer_id: Option<String>,
    pub attempts: i32,
    pub next_at: Millis,
    pub created_at: Millis,
}

impl OutboxItem {
    /// A new message to post in `channel_id`.
    pub fn post(key: String, channel_id: &str, body: serde_json::Value, now: Millis) -> OutboxItem {
        OutboxItem {
            id: 0,
            dedupe_key: key,
            channel_id: channel_id.to_string(),
            method: OutboxMethod::Post,
            body: body.to_string(),
            after_key: None,
            survey_id: None,
            notify_channel_id: None,
            guild_id: None,
            conversation: None,
            ticket_customer_id: None,
            attempts: 0,
            next_at: now,
            created_at: now,
        }
    }

    /// The item belongs to this guild's conversation (for `/stats` and privacy).
    pub fn in_place(mut self, guild_id: &str, conversation: &str) -> OutboxItem {
        self.guild_id = Some(guild_id.to_string());
        self.conversation = Some(conversation.to_string());
        self
    }

    /// A plain text message to post in `channel_id`, pinging no one.
    pub fn post_text(key: String, channel_id: &str, text: &str, now: Millis) -> OutboxItem {
        OutboxItem::post(
            key,
            channel_id,
            serde_json::json!({"content": text, "allowed_mentions": {"parse": []}}),
            now,
        )
    }

    /// Archives the thread `thread_id` (a ticket thread the bot auto-closed).
    pub fn archive_thread(key: String, thread_id: &str, now: Millis) -> OutboxItem {
        OutboxItem {
            method: OutboxMethod::Archive,
            ..OutboxItem::post(key, thread_id, serde_json::json!({"archived": true}), now)
        }
    }

    /// An edit of message `message_id` in `channel_id`.
    pub fn patch(
        key: String,
        channel_id: &str,
        message_id: &str,
        body: serde_json::Value,
        now: Millis,
    ) -> OutboxItem {
        OutboxItem {
            method: OutboxMethod::Patch(message_id.to_string()),
            ..OutboxItem::post(key, channel_id, body, now)
        }
    }
}
