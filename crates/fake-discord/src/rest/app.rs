//! Where the gateway is, and the bot's application (what serenity and poise ask at start).

use super::{Call, Reply, Route};
use crate::payloads::app::application_json;
use serde_json::json;

pub(super) const ROUTES: &[Route] = &[
    Route::new("GET", "/gateway", gateway),
    Route::new("GET", "/gateway/bot", gateway_bot),
    Route::new("GET", "/oauth2/applications/@me", application),
    Route::new("GET", "/applications/@me", application),
];

fn gateway(call: &mut Call<'_>) -> Reply {
    Reply::ok(json!({"url": call.shared.gateway_url()}))
}

fn gateway_bot(call: &mut Call<'_>) -> Reply {
    Reply::ok(json!({
        "url": call.shared.gateway_url(),
        "shards": call.shared.config.shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": call.shared.config.max_concurrency,
        },
    }))
}

fn application(_: &mut Call<'_>) -> Reply {
    Reply::ok(application_json())
}
