//! Answers to interactions: the callback (a message, a deferred message, an update of the
//! component's message, a modal), then the webhook of its token (follow-ups, reading, editing
//! and deleting the original response or a follow-up).

use super::messages::{create_message, edit_message};
use super::{Call, Reply, Route};
use crate::json::field_id;
use crate::time::snowflake_at;
use serde_json::{json, Value};

pub(super) const ROUTES: &[Route] = &[
    Route::new(
        "POST",
        "/interactions/{interaction}/{token}/callback",
        callback,
    ),
    Route::new("POST", "/webhooks/{app}/{token}", follow_up),
    Route::new(
        "*",
        "/webhooks/{app}/{token}/messages/{which}",
        webhook_message,
    ),
];

/// Response types of an interaction callback.
const CHANNEL_MESSAGE: u64 = 4;
const DEFERRED_CHANNEL_MESSAGE: u64 = 5;
const UPDATE_MESSAGE: u64 = 7;
/// Message flag of a deferred response still "thinking".
const LOADING: u64 = 128;

/// The channel of the interaction with this token (a fresh id when unknown).
fn channel_of(call: &Call<'_>, token: &str) -> u64 {
    call.world
        .interactions
        .get(token)
        .map(|i| i.channel_id)
        .unwrap_or_else(|| snowflake_at(call.world.now()))
}

fn callback(call: &mut Call<'_>) -> Reply {
    let token = call.param("token").to_string();
    let body = call.body();
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or_else(|| json!({}));
    match kind {
        // The original response.
        CHANNEL_MESSAGE | DEFERRED_CHANNEL_MESSAGE => {
            let channel = channel_of(call, &token);
            let base = call.shared.base_url();
            let uploads = &call.request.attachments;
            let w = &mut *call.world;
            let mut msg = w.build_message(&base, channel, &data, uploads, true);
            if kind == DEFERRED_CHANNEL_MESSAGE {
                msg["flags"] = json!(msg["flags"].as_u64().unwrap_or(0) | LOADING);
            }
            if let Some(id) = field_id(&msg, "id") {
                w.originals.insert(token, id);
            }
            w.messages.push(msg);
        }
        // Edits the message the component was on.
        UPDATE_MESSAGE => {
            let component_message = call
                .world
                .interactions
                .get(&token)
                .and_then(|i| i.message_id);
            if let Some(id) = component_message {
                let _ = edit_message(call, id, &data);
                call.world.originals.insert(token, id);
            }
        }
        _ => {}
    }
    Reply::no_content()
}

fn follow_up(call: &mut Call<'_>) -> Reply {
    let channel = channel_of(call, call.param("token"));
    Reply::ok(create_message(call, channel, true))
}

/// `{which}` is `@original` (the callback's response) or a follow-up's id.
fn webhook_message(call: &mut Call<'_>) -> Reply {
    let token = call.param("token").to_string();
    let which = call.param("which").to_string();
    let id = if which == "@original" {
        call.world.originals.get(&token).copied()
    } else {
        which.parse().ok()
    };
    match call.method() {
        "GET" => match id.and_then(|m| call.world.message_index(m)) {
            Some(i) => Reply::ok(call.world.messages[i].clone()),
            None => Reply::not_found("Unknown Message", 10008),
        },
        "PATCH" => edit_webhook_message(call, &token, &which, id),
        "DELETE" => {
            if let Some(m) = id {
                call.world.messages.retain(|x| field_id(x, "id") != Some(m));
            }
            Reply::no_content()
        }
        _ => Reply::ok(json!({})),
    }
}

fn edit_webhook_message(call: &mut Call<'_>, token: &str, which: &str, id: Option<u64>) -> Reply {
    let body = call.request.body.clone().unwrap_or_else(|| json!({}));
    if let Some(mut msg) = id.and_then(|m| edit_message(call, m, &body)) {
        // a deferred response stops "thinking" once edited
        if let Some(flags) = msg["flags"].as_u64().filter(|f| f & LOADING != 0) {
            msg["flags"] = json!(flags & !LOADING);
            let w = &mut *call.world;
            if let Some(i) = field_id(&msg, "id").and_then(|m| w.message_index(m)) {
                w.messages[i] = msg.clone();
            }
        }
        return Reply::ok(msg);
    }
    if which != "@original" {
        return Reply::not_found("Unknown Message", 10008);
    }
    // editing an original that was never created (lenient): create it
    let channel = channel_of(call, token);
    let base = call.shared.base_url();
    let w = &mut *call.world;
    let msg = w.build_message(&base, channel, &body, &call.request.attachments, true);
    if let Some(m) = field_id(&msg, "id") {
        w.originals.insert(token.to_string(), m);
    }
    w.messages.push(msg.clone());
    Reply::ok(msg)
}
