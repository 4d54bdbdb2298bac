//! What the gateway and the application endpoints say about the bot itself.

use crate::ids;
use crate::payloads::guild::user_json;
use serde_json::{json, Value};

/// The `d` of READY for a new session of `shard` (`[id, count]`) of the bot in `guild_ids`
/// (announced unavailable, as Discord does; their GUILD_CREATEs follow).
pub(crate) fn ready_json(port: u16, guild_ids: &[u64], session_id: &str, shard: [u64; 2]) -> Value {
    let guilds: Vec<Value> = guild_ids
        .iter()
        .map(|g| json!({"id": g.to_string(), "unavailable": true}))
        .collect();
    json!({
        "v": 10,
        "user": user_json(ids::BOT),
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": format!("ws://127.0.0.1:{port}/ws"),
        "application": {"id": ids::APP.to_string(), "flags": 0},
        "shard": shard,
    })
}

/// The bot's application (`GET /oauth2/applications/@me`), owned by Olga.
pub(crate) fn application_json() -> Value {
    json!({
        "id": ids::APP.to_string(),
        "name": "reactif",
        "icon": null,
        "description": "A support desk bot (fake Discord)",
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "owner": user_json(ids::OLGA),
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "team": null,
        "flags": 0,
        "bot": user_json(ids::BOT),
        "approximate_guild_count": 1,
        "redirect_uris": [],
        "interactions_endpoint_url": null,
    })
}
