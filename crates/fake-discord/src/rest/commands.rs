//! Application commands, global or of a guild: bulk overwrite (PUT list), create (POST one),
//! list (GET), read, edit, delete.

use super::{Call, Reply, Route};
use crate::ids;
use crate::json::{field_id, merge};
use crate::time::snowflake_at;
use crate::world::World;
use serde_json::{json, Value};

pub(super) const ROUTES: &[Route] = &[
    Route::new("*", "/applications/{app}/commands/**", global),
    Route::new(
        "*",
        "/applications/{app}/guilds/{guild}/commands/**",
        in_guild,
    ),
];

fn global(call: &mut Call<'_>) -> Reply {
    commands(call, None)
}

fn in_guild(call: &mut Call<'_>) -> Reply {
    let guild = call.param("guild").parse().ok();
    commands(call, guild)
}

fn command_json(w: &World, existing: &[Value], cmd: &Value, guild_id: Option<u64>) -> Value {
    let name = cmd.get("name").and_then(Value::as_str).unwrap_or("");
    let id = existing
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|c| field_id(c, "id"))
        .unwrap_or_else(|| snowflake_at(w.now()));
    let get = |k: &str, default: Value| {
        cmd.get(k)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(default)
    };
    json!({
        "id": id.to_string(),
        "type": get("type", json!(1)),
        "application_id": ids::APP.to_string(),
        "guild_id": guild_id.map(|g| g.to_string()),
        "name": name,
        "name_localizations": get("name_localizations", Value::Null),
        "description": get("description", json!("")),
        "description_localizations": get("description_localizations", Value::Null),
        "options": get("options", json!([])),
        "default_member_permissions": get("default_member_permissions", Value::Null),
        "dm_permission": get("dm_permission", json!(true)),
        "nsfw": get("nsfw", json!(false)),
        "integration_types": get("integration_types", json!([0])),
        "contexts": get("contexts", Value::Null),
        "version": snowflake_at(w.now()).to_string(),
    })
}

/// The commands of the guild (`None`: the global ones), changed as the call says.
fn commands(call: &mut Call<'_>, guild_id: Option<u64>) -> Reply {
    let body = call.body();
    let body = &body;
    let method = call.request.method.as_str();
    let rest = call.rest.as_slice();
    let w = &mut *call.world;
    let mut list = match guild_id {
        Some(g) => w.guild_commands.get(&g).cloned().unwrap_or_default(),
        None => w.global_commands.clone(),
    };
    let reply = match (method, rest) {
        ("GET", []) => Reply::ok(json!(list)),
        ("PUT", []) => {
            let new: Vec<Value> = body
                .as_array()
                .map(|cmds| {
                    cmds.iter()
                        .map(|c| command_json(w, &list, c, guild_id))
                        .collect()
                })
                .unwrap_or_default();
            list = new;
            Reply::ok(json!(list))
        }
        ("POST", []) => {
            let cmd = command_json(w, &list, body, guild_id);
            list.retain(|c| c.get("name") != cmd.get("name"));
            list.push(cmd.clone());
            Reply::ok(cmd)
        }
        ("GET", [cid]) => match list.iter().find(|c| c["id"].as_str() == Some(*cid)) {
            Some(c) => Reply::ok(c.clone()),
            None => Reply::not_found("Unknown application command", 10063),
        },
        ("PATCH", [cid]) => match list.iter_mut().find(|c| c["id"].as_str() == Some(*cid)) {
            Some(c) => {
                merge(c, body);
                Reply::ok(c.clone())
            }
            None => Reply::not_found("Unknown application command", 10063),
        },
        ("DELETE", [cid]) => {
            list.retain(|c| c["id"].as_str() != Some(*cid));
            Reply::no_content()
        }
        _ => Reply::ok(json!([])),
    };
    match guild_id {
        Some(g) => {
            w.guild_commands.insert(g, list);
        }
        None => w.global_commands = list,
    }
    reply
}
