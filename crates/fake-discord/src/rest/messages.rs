//! Messages of a channel: history (with `before`/`after`/`limit`), post (with Discord's
//! `enforce_nonce` deduplication), read, edit, delete.

use super::{Call, Reply, Route};
use crate::ids;
use crate::json::field_id;
use crate::payloads::guild::{default_member_roles, member_without_user};
use crate::payloads::message::is_ephemeral;
use crate::time::timestamp_at;
use serde_json::{json, Value};

pub(super) const ROUTES: &[Route] = &[
    Route::new("GET", "/channels/{channel}/messages", history),
    Route::new("POST", "/channels/{channel}/messages", post),
    Route::new("GET", "/channels/{channel}/messages/{message}", get),
    Route::new("PATCH", "/channels/{channel}/messages/{message}", edit),
    Route::new("DELETE", "/channels/{channel}/messages/{message}", delete),
    Route::new(
        "GET",
        "/channels/{channel}/messages/{message}/reactions/{emoji}",
        reactors,
    ),
];

/// The users who reacted with an emoji (`name` or `name:id`, percent-encoded), by id, after
/// `after`, at most `limit` (default 25, at most 100), as Discord pages them.
fn reactors(call: &mut Call<'_>) -> Reply {
    let message = call.id("message");
    if call.world.message_index(message).is_none() {
        return Reply::not_found("Unknown Message", 10008);
    }
    let key = percent_decode(call.param("emoji"));
    let limit = call
        .request
        .query_param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25usize)
        .clamp(1, 100);
    let after = call
        .request
        .query_param("after")
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let users: Vec<Value> = call
        .world
        .reactors(message, &key)
        .into_iter()
        .filter(|u| *u > after)
        .take(limit)
        .map(|u| call.world.user(u))
        .collect();
    Reply::ok(json!(users))
}

/// `%F0%9F%91%8D` → `👍` (serenity percent-encodes unicode emoji in paths).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Newest first, as Discord answers; ephemeral messages are not in a channel's history.
fn history(call: &mut Call<'_>) -> Reply {
    let channel = call.id("channel");
    let query = |name: &str| call.request.query_param(name);
    let limit = query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50usize);
    let before = query("before").and_then(|b| b.parse::<u64>().ok());
    let after = query("after").and_then(|b| b.parse::<u64>().ok());
    let mut history: Vec<Value> = call
        .world
        .messages
        .iter()
        .filter(|msg| field_id(msg, "channel_id") == Some(channel))
        .filter(|msg| !is_ephemeral(msg))
        .filter(|msg| {
            let id = field_id(msg, "id").unwrap_or(0);
            before.is_none_or(|b| id < b) && after.is_none_or(|a| id > a)
        })
        .cloned()
        .collect();
    history.sort_by_key(|msg| std::cmp::Reverse(field_id(msg, "id").unwrap_or(0)));
    history.truncate(limit);
    Reply::ok(json!(history))
}

fn post(call: &mut Call<'_>) -> Reply {
    let channel = call.id("channel");
    Reply::ok(create_message(call, channel, false))
}

fn get(call: &mut Call<'_>) -> Reply {
    let id = call.id("message");
    match call.world.message_index(id) {
        Some(i) => Reply::ok(call.world.messages[i].clone()),
        None => Reply::not_found("Unknown Message", 10008),
    }
}

fn edit(call: &mut Call<'_>) -> Reply {
    let (id, body) = (call.id("message"), call.body());
    match edit_message(call, id, &body) {
        Some(msg) => Reply::ok(msg),
        None => Reply::not_found("Unknown Message", 10008),
    }
}

fn delete(call: &mut Call<'_>) -> Reply {
    let id = call.id("message");
    call.world
        .messages
        .retain(|x| field_id(x, "id") != Some(id));
    Reply::no_content()
}

/// Posts the call's body as a message of the bot in `channel_id` (`webhook`: as an interaction
/// follow-up). Like Discord: with `enforce_nonce`, a nonce already used in the channel returns
/// the message created then instead of a second one. Echoes MESSAGE_CREATE unless ephemeral.
pub(super) fn create_message(call: &mut Call<'_>, channel_id: u64, webhook: bool) -> Value {
    let body = call.body();
    let nonce = body.get("nonce").filter(|n| !n.is_null()).cloned();
    if let Some(n) = &nonce {
        if body.get("enforce_nonce").and_then(Value::as_bool) == Some(true) {
            let cid = channel_id.to_string();
            if let Some(earlier) = call
                .world
                .messages
                .iter()
                .find(|m| m["channel_id"].as_str() == Some(cid.as_str()) && &m["nonce"] == n)
            {
                return earlier.clone();
            }
        }
    }
    let base = call.shared.base_url();
    let w = &mut *call.world;
    let mut msg = w.build_message(&base, channel_id, &body, &call.request.attachments, webhook);
    if let Some(n) = nonce {
        msg["nonce"] = n;
    }
    w.messages.push(msg.clone());
    if let Some(ch) = w.channels.get_mut(&channel_id) {
        ch["last_message_id"] = msg["id"].clone();
    }
    if !is_ephemeral(&msg) {
        let mut event = msg.clone();
        if let Some(gid) = w.guild_of_channel(channel_id) {
            event["guild_id"] = json!(gid.to_string());
            event["member"] = member_without_user(&default_member_roles(ids::BOT));
        }
        call.echo("MESSAGE_CREATE", event);
    }
    msg
}

/// Applies an edit body (and the call's uploads) to a known message; `None` if unknown.
pub(super) fn edit_message(call: &mut Call<'_>, id: u64, body: &Value) -> Option<Value> {
    let base = call.shared.base_url();
    let w = &mut *call.world;
    let i = w.message_index(id)?;
    let mut msg = w.messages[i].clone();
    w.apply_edit(&base, &mut msg, body, &call.request.attachments);
    msg["edited_timestamp"] = json!(timestamp_at(w.now()));
    w.messages[i] = msg.clone();
    Some(msg)
}
