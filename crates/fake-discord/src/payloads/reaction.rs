//! Reactions: the gateway's MESSAGE_REACTION_ADD, _REMOVE, _REMOVE_ALL and _REMOVE_EMOJI, in the
//! shapes serenity 0.12.5 parses. Dispatching one also changes the message's reactions in the
//! fake's world (`World::learn_dispatch`), so that REST (the message's `reactions`, and
//! `GET /channels/{c}/messages/{m}/reactions/{emoji}`) agrees, even while the bot is away.

use crate::payloads::guild::{default_member_roles, member_json};
use crate::payloads::message::Place;
use serde_json::{json, Value};

/// A unicode emoji as Discord writes it in reaction events (`{"id": null, "name": "👍"}`).
pub fn unicode_emoji(name: &str) -> Value {
    json!({"id": null, "name": name})
}

/// A guild's custom emoji (`{"id": "…", "name": "party"}`).
pub fn custom_emoji(id: u64, name: &str) -> Value {
    json!({"id": id.to_string(), "name": name, "animated": false})
}

/// What identifies an emoji among a message's reactions: its name for unicode, `name:id` for a
/// custom one (the form of REST paths).
pub(crate) fn emoji_key(emoji: &Value) -> String {
    let name = emoji["name"].as_str().unwrap_or_default();
    match emoji.get("id").and_then(crate::json::id_of) {
        Some(id) => format!("{name}:{id}"),
        None => name.to_string(),
    }
}

fn base(user_id: Option<u64>, place: Place, message_id: u64, emoji: Value) -> Value {
    let mut d = json!({
        "channel_id": place.channel_id().to_string(),
        "message_id": message_id.to_string(),
        "emoji": emoji,
        "burst": false,
        "type": 0,
    });
    if let Some(user) = user_id {
        d["user_id"] = json!(user.to_string());
    }
    if let Some(g) = place.guild_id() {
        d["guild_id"] = json!(g.to_string());
    }
    d
}

/// The `d` of a MESSAGE_REACTION_ADD: `user_id` put `emoji` on the message (with `member`,
/// roles of the default guild, as Discord sends in a guild).
pub fn reaction_add(user_id: u64, place: Place, message_id: u64, emoji: Value) -> Value {
    let mut d = base(Some(user_id), place, message_id, emoji);
    if place.guild_id().is_some() {
        d["member"] = member_json(user_id, &default_member_roles(user_id));
    }
    d["burst_colors"] = json!([]);
    d
}

/// The `d` of a MESSAGE_REACTION_REMOVE (no `member`, as Discord).
pub fn reaction_remove(user_id: u64, place: Place, message_id: u64, emoji: Value) -> Value {
    base(Some(user_id), place, message_id, emoji)
}

/// The `d` of a MESSAGE_REACTION_REMOVE_ALL: every reaction of the message is gone.
pub fn reaction_remove_all(place: Place, message_id: u64) -> Value {
    let mut d = json!({
        "channel_id": place.channel_id().to_string(),
        "message_id": message_id.to_string(),
    });
    if let Some(g) = place.guild_id() {
        d["guild_id"] = json!(g.to_string());
    }
    d
}

/// The `d` of a MESSAGE_REACTION_REMOVE_EMOJI: every reaction with `emoji` is gone. As Discord
/// sends it, without `burst` and `type`: serenity 0.12.5 cannot parse it as a `Reaction` and
/// hands it over as an unknown (raw) event.
pub fn reaction_remove_emoji(place: Place, message_id: u64, emoji: Value) -> Value {
    let mut d = reaction_remove_all(place, message_id);
    d["emoji"] = emoji;
    d
}
