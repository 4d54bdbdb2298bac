//! Channels and threads: read, edit (archive, lock), delete; start a thread from a message or
//! in a channel (a forum post with its first message).

use super::{Call, Reply, Route};
use crate::ids;
use crate::json::merge;
use crate::payloads::guild::thread_json;
use crate::time::snowflake_at;
use serde_json::{json, Value};

pub(super) const ROUTES: &[Route] = &[
    Route::new("GET", "/channels/{channel}", get),
    Route::new("PATCH", "/channels/{channel}", edit),
    Route::new("DELETE", "/channels/{channel}", delete),
    Route::new(
        "POST",
        "/channels/{channel}/messages/{message}/threads",
        thread_from_message,
    ),
    Route::new("POST", "/channels/{channel}/threads", thread_in_channel),
];

fn get(call: &mut Call<'_>) -> Reply {
    let id = call.id("channel");
    match call.world.channels.get(&id) {
        Some(c) => Reply::ok(c.clone()),
        None => Reply::not_found("Unknown Channel", 10003),
    }
}

fn edit(call: &mut Call<'_>) -> Reply {
    let mut patch = call.body();
    let id = call.id("channel");
    let Some(channel) = call.world.channels.get_mut(&id) else {
        return Reply::not_found("Unknown Channel", 10003);
    };
    // thread archive/lock fields live in thread_metadata
    for k in ["archived", "locked", "auto_archive_duration"] {
        if let Some(v) = patch.as_object_mut().and_then(|p| p.remove(k)) {
            channel["thread_metadata"][k] = v;
        }
    }
    merge(channel, &patch);
    let updated = channel.clone();
    let is_thread = matches!(updated["type"].as_u64(), Some(10..=12));
    let event = if is_thread {
        "THREAD_UPDATE"
    } else {
        "CHANNEL_UPDATE"
    };
    call.echo(event, updated.clone());
    Reply::ok(updated)
}

fn delete(call: &mut Call<'_>) -> Reply {
    let id = call.id("channel");
    match call.world.channels.remove(&id) {
        Some(c) => Reply::ok(c),
        None => Reply::not_found("Unknown Channel", 10003),
    }
}

/// A thread started from a message takes the message's id.
fn thread_from_message(call: &mut Call<'_>) -> Reply {
    let (parent, thread) = (call.id("channel"), call.id("message"));
    Reply::ok(create_thread(call, parent, thread))
}

fn thread_in_channel(call: &mut Call<'_>) -> Reply {
    let thread_id = snowflake_at(call.world.now());
    let parent = call.id("channel");
    let mut thread = create_thread(call, parent, thread_id);
    // forum post: the starter message has the thread's id
    if let Some(message) = call.request.body.as_ref().and_then(|b| b.get("message")) {
        if message.is_object() {
            let base = call.shared.base_url();
            let uploads = &call.request.attachments;
            let mut msg = call
                .world
                .build_message(&base, thread_id, message, uploads, false);
            msg["id"] = json!(thread_id.to_string());
            call.world.messages.push(msg.clone());
            thread["message"] = msg;
        }
    }
    Reply::ok(thread)
}

fn create_thread(call: &mut Call<'_>, parent_id: u64, thread_id: u64) -> Value {
    let body = call.body();
    let w = &mut *call.world;
    let guild_id = w.guild_of_channel(parent_id).unwrap_or(ids::GUILD);
    let name = body.get("name").and_then(Value::as_str).unwrap_or("thread");
    let mut thread = thread_json(guild_id, parent_id, thread_id, name, ids::BOT);
    if let Some(kind) = body.get("type").filter(|t| t.is_u64()) {
        thread["type"] = kind.clone();
    }
    if let Some(d) = body.get("auto_archive_duration").filter(|t| t.is_u64()) {
        thread["thread_metadata"]["auto_archive_duration"] = d.clone();
    }
    if let Some(tags) = body.get("applied_tags").filter(|t| t.is_array()) {
        thread["applied_tags"] = tags.clone();
    }
    w.learn_channel(&thread);
    let mut event = thread.clone();
    event["newly_created"] = json!(true);
    call.echo("THREAD_CREATE", event);
    thread
}
