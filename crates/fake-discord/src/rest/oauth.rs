//! OAuth2's authorization code flow, as "Login with Discord" uses it: the browser is sent to
//! `GET /oauth2/authorize` (outside `/api/v10`, as on discord.com), which approves at once for
//! the user a test chose ([`crate::FakeDiscord::set_oauth_user`]) and redirects back with a code;
//! the server trades the code for a token (`POST /oauth2/token`, a form), then reads
//! `GET /users/@me` and `GET /users/@me/guilds` with `Authorization: Bearer <token>`. Codes are
//! single use; a wrong code or a missing client secret is `invalid_grant`.

use super::parse::parse_query;
use super::{Call, Reply, Route};
use serde_json::{json, Value};

pub(super) const ROUTES: &[Route] = &[
    Route::new("GET", "/oauth2/authorize", authorize),
    Route::new("POST", "/oauth2/token", token),
];

/// Tried before `users`: `/users/@me` answers the token's user, not the bot, for a Bearer token.
pub(super) const USER_ROUTES: &[Route] = &[
    Route::new("GET", "/users/@me", bearer_me),
    Route::new("GET", "/users/@me/guilds", my_guilds),
];

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pairs(call: &Call<'_>, from_body: bool) -> Vec<(String, String)> {
    let raw: Vec<(String, String)> = if from_body {
        match call.request.body.as_ref() {
            Some(Value::String(form)) => parse_query(Some(form)),
            _ => Vec::new(),
        }
    } else {
        call.request.query.clone()
    };
    raw.into_iter()
        .map(|(k, v)| (decode(&k), decode(&v)))
        .collect()
}

fn get<'p>(pairs: &'p [(String, String)], key: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn oauth_error(status: u16, error: &str) -> Reply {
    Reply {
        status,
        body: Some(json!({"error": error})),
        location: None,
    }
}

fn authorize(call: &mut Call<'_>) -> Reply {
    let q = pairs(call, false);
    let (Some(redirect), Some("code")) = (get(&q, "redirect_uri"), get(&q, "response_type")) else {
        return oauth_error(400, "invalid_request");
    };
    let Some(user) = call.world.oauth_user else {
        return oauth_error(401, "access_denied");
    };
    let code = format!(
        "code{}",
        call.world.oauth_codes.len() + call.world.oauth_tokens.len() + 1
    );
    call.world.oauth_codes.insert(code.clone(), user);
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let state = get(&q, "state").unwrap_or_default();
    Reply {
        status: 302,
        body: None,
        location: Some(format!("{redirect}{sep}code={code}&state={state}")),
    }
}

fn token(call: &mut Call<'_>) -> Reply {
    let form = pairs(call, true);
    let secret_given = get(&form, "client_secret").is_some_and(|s| !s.is_empty());
    let code = get(&form, "code").unwrap_or_default().to_string();
    if get(&form, "grant_type") != Some("authorization_code") || !secret_given {
        return oauth_error(400, "invalid_grant");
    }
    let Some(user) = call.world.oauth_codes.remove(&code) else {
        return oauth_error(400, "invalid_grant");
    };
    let token = format!("bearer-{user}-{}", call.world.oauth_tokens.len() + 1);
    call.world.oauth_tokens.insert(token.clone(), user);
    Reply::ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 604800,
        "refresh_token": format!("refresh-{token}"),
        "scope": "identify guilds",
    }))
}

/// The user of the request's Bearer token, if it has one the fake gave out.
fn bearer_user(call: &Call<'_>) -> Option<Result<u64, ()>> {
    let auth = call.request.authorization.as_deref()?;
    let token = auth.strip_prefix("Bearer ")?;
    Some(call.world.oauth_tokens.get(token).copied().ok_or(()))
}

fn unauthorized() -> Reply {
    Reply {
        status: 401,
        body: Some(json!({"message": "401: Unauthorized", "code": 0})),
        location: None,
    }
}

fn bearer_me(call: &mut Call<'_>) -> Reply {
    match bearer_user(call) {
        Some(Ok(user)) => Reply::ok(call.world.user(user)),
        Some(Err(())) => unauthorized(),
        // A bot token: the bot itself.
        None => Reply::ok(call.world.user(crate::ids::BOT)),
    }
}

fn my_guilds(call: &mut Call<'_>) -> Reply {
    let user = match bearer_user(call) {
        Some(Ok(user)) => user,
        _ => return unauthorized(),
    };
    let uid = user.to_string();
    let guilds: Vec<Value> = call
        .world
        .guilds
        .values()
        .filter(|g| {
            g["members"]
                .as_array()
                .is_some_and(|ms| ms.iter().any(|m| m["user"]["id"].as_str() == Some(&uid)))
        })
        .map(|g| {
            let permissions = if g["id"].as_str() == Some(&crate::ids::GUILD.to_string()) {
                crate::payloads::guild::default_member_permissions(user)
            } else {
                0
            };
            json!({
                "id": g["id"],
                "name": g["name"],
                "icon": null,
                "owner": g["owner_id"].as_str() == Some(&uid),
                "permissions": permissions.to_string(),
                "features": [],
            })
        })
        .collect();
    Reply::ok(json!(guilds))
}
