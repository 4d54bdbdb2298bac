//! Guilds as GUILD_CREATE described them: the guild, its channels, members and roles, one
//! member, and its active threads (what a catch-up lists).

use super::{Call, Reply, Route};
use serde_json::{json, Value};

pub(super) const ROUTES: &[Route] = &[
    Route::new("GET", "/guilds/{guild}", guild),
    Route::new("GET", "/guilds/{guild}/channels", channels),
    Route::new("GET", "/guilds/{guild}/members", members),
    Route::new("GET", "/guilds/{guild}/roles", roles),
    Route::new("GET", "/guilds/{guild}/members/{user}", member),
    Route::new("GET", "/guilds/{guild}/threads/active", active_threads),
];

fn known<'c>(call: &'c Call<'_>) -> Option<&'c Value> {
    let id: u64 = call.param("guild").parse().ok()?;
    call.world.guilds.get(&id)
}

fn guild(call: &mut Call<'_>) -> Reply {
    match known(call) {
        Some(g) => Reply::ok(g.clone()),
        None => Reply::not_found("Unknown Guild", 10004),
    }
}

/// A list field of the guild object (`channels`, `members`, `roles`).
fn list(call: &Call<'_>, key: &str) -> Reply {
    match known(call) {
        Some(g) => Reply::ok(g.get(key).cloned().unwrap_or_else(|| json!([]))),
        None => Reply::not_found("Unknown Guild", 10004),
    }
}

fn channels(call: &mut Call<'_>) -> Reply {
    list(call, "channels")
}

fn members(call: &mut Call<'_>) -> Reply {
    list(call, "members")
}

fn roles(call: &mut Call<'_>) -> Reply {
    list(call, "roles")
}

fn member(call: &mut Call<'_>) -> Reply {
    let user = call.param("user");
    let found = known(call).and_then(|g| {
        g["members"]
            .as_array()?
            .iter()
            .find(|m| m["user"]["id"].as_str() == Some(user))
            .cloned()
    });
    match found {
        Some(member) => Reply::ok(member),
        None => Reply::not_found("Unknown Member", 10007),
    }
}

fn active_threads(call: &mut Call<'_>) -> Reply {
    let guild = call.param("guild");
    let threads: Vec<Value> = call
        .world
        .channels
        .values()
        .filter(|c| {
            matches!(c["type"].as_u64(), Some(10..=12))
                && c["guild_id"].as_str() == Some(guild)
                && c["thread_metadata"]["archived"].as_bool() != Some(true)
        })
        .cloned()
        .collect();
    Reply::ok(json!({"threads": threads, "members": [], "has_more": false}))
}
