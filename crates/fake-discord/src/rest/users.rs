//! Users, and the DM channel between the bot and a user.

use super::{Call, Reply, Route};
use crate::ids;
use crate::json::field_id;

pub(super) const ROUTES: &[Route] = &[
    Route::new("GET", "/users/@me", me),
    Route::new("GET", "/users/{user}", user),
    Route::new("POST", "/users/@me/channels", open_dm),
];

fn me(call: &mut Call<'_>) -> Reply {
    Reply::ok(call.world.user(ids::BOT))
}

fn user(call: &mut Call<'_>) -> Reply {
    match call.param("user").parse::<u64>() {
        Ok(id) => Reply::ok(call.world.user(id)),
        Err(_) => Reply::not_found("Unknown User", 10013),
    }
}

fn open_dm(call: &mut Call<'_>) -> Reply {
    match field_id(&call.body(), "recipient_id") {
        Some(user) => {
            let channel = call.world.dm_channel_for(user);
            Reply::ok(call.world.channels[&channel].clone())
        }
        None => Reply::bad_request("Invalid Form Body", 50035),
    }
}
