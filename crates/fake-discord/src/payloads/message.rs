//! Messages: where they happen ([`Place`]), what a person posts (MESSAGE_CREATE) and what the
//! bot posted.

use crate::ids;
use crate::payloads::guild::{default_member_roles, member_without_user, user_json};
use crate::time::{snowflake_at, timestamp_at};
use serde_json::{json, Value};

/// Where a message or an interaction happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A DM channel (no guild).
    Dm { channel_id: u64 },
    /// A channel (or thread) of a guild.
    Guild { guild_id: u64, channel_id: u64 },
}

impl Place {
    pub fn dm(channel_id: u64) -> Place {
        Place::Dm { channel_id }
    }
    /// A channel of the default guild ([`ids::GUILD`]).
    pub fn guild(channel_id: u64) -> Place {
        Place::Guild {
            guild_id: ids::GUILD,
            channel_id,
        }
    }
    pub fn channel_id(&self) -> u64 {
        match *self {
            Place::Dm { channel_id } | Place::Guild { channel_id, .. } => channel_id,
        }
    }
    pub fn guild_id(&self) -> Option<u64> {
        match *self {
            Place::Dm { .. } => None,
            Place::Guild { guild_id, .. } => Some(guild_id),
        }
    }
}

pub(crate) fn base_message(
    id: u64,
    channel_id: u64,
    author: Value,
    content: &str,
    at_ms: i64,
) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": content,
        "timestamp": timestamp_at(at_ms),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": [],
        "embeds": [],
        "reactions": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": [],
        "sticker_items": [],
    })
}

/// The `d` of a MESSAGE_CREATE by `author_id`, with id `snowflake_at(at_ms)`. In a guild it
/// carries `guild_id` and `member` (roles from the default guild); in a DM neither (the shapes of
/// `MESSAGE_CREATE-guild.json` / `MESSAGE_CREATE-dm.json`). Mutate the result for attachments,
/// `message_reference`, ...
pub fn message_create(author_id: u64, place: Place, content: &str, at_ms: i64) -> Value {
    let id = snowflake_at(at_ms);
    let mut msg = base_message(id, place.channel_id(), user_json(author_id), content, at_ms);
    if let Some(guild_id) = place.guild_id() {
        msg["guild_id"] = json!(guild_id.to_string());
        msg["member"] = member_without_user(&default_member_roles(author_id));
    }
    msg
}

/// A message the bot posted (as REST returns it), e.g. the message a button was on.
pub fn bot_message(channel_id: u64, content: &str, components: Value, at_ms: i64) -> Value {
    let mut msg = base_message(
        snowflake_at(at_ms),
        channel_id,
        user_json(ids::BOT),
        content,
        at_ms,
    );
    msg["components"] = components;
    msg["application_id"] = json!(ids::APP.to_string());
    msg
}

/// The message has the EPHEMERAL flag (64): only the one it answers sees it.
pub(crate) fn is_ephemeral(msg: &Value) -> bool {
    msg["flags"].as_u64().unwrap_or(0) & 64 != 0
}
