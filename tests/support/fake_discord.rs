//! A fake Discord (REST + gateway websocket) on 127.0.0.1 for testing the real serenity 0.12.5 /
//! poise 0.7.1 bot end to end.
//!
//! ```ignore
//! let fake = FakeDiscord::start().await;
//! // point the bot at fake.base_url() (serenity `HttpBuilder::proxy`, see below) and start it
//! assert!(fake.wait_identified(Duration::from_secs(10)).await);
//! fake.dispatch("MESSAGE_CREATE", message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "hi", now_ms())).await;
//! let sent = fake
//!     .wait_for_request(|r| r.is("POST", "/channels/*/messages"), Duration::from_secs(5))
//!     .await
//!     .expect("the bot answered");
//! assert!(sent.custom_ids().iter().any(|id| id.starts_with("survey:")));
//! ```
//!
//! # What was learned making serenity 0.12.5 and poise 0.7.1 talk to it (the non-obvious parts)
//!
//! * **Pointing serenity here.** `HttpBuilder::new(token).proxy(base_url).ratelimiter_disabled(true)`
//!   with `.client(reqwest::Client::builder().no_proxy().build()?)`. `proxy` only rewrites the
//!   `https://discord.com` prefix of each route URL to `base_url`, so paths arrive as
//!   `/api/v10/...`. The rate limiter builds requests with `proxy = None`
//!   (`http/ratelimiting.rs`): with it on, every call goes to the real discord.com. `.no_proxy()`
//!   keeps an `HTTP(S)_PROXY` of the environment from swallowing 127.0.0.1 calls.
//! * **Calls made at start:** `GET /gateway` (`Client::builder(..).await`, not `/gateway/bot`;
//!   if it fails serenity only WARNs and falls back to `wss://gateway.discord.gg`), then poise's
//!   `Framework::init` calls `GET /oauth2/applications/@me` (owners; only a WARN if it fails).
//!   After READY, poise runs `setup`; `register_globally` is `PUT /applications/{app}/commands`
//!   and must answer an array of full command objects (`id`, `application_id`, `version`, ...).
//!   The application id used there comes from READY's `application.id`.
//! * **Gateway URL.** Serenity connects to the `url` of `GET /gateway` plus `?v=10` (so
//!   `ws://127.0.0.1:PORT/ws?v=10`); plain `ws://` works, text frames are plain JSON even though
//!   IDENTIFY says `compress: true` (binary frames would be zlib-inflated). Serenity 0.12.5 never
//!   uses READY's `resume_gateway_url`: it always reconnects (and RESUMEs) to the same URL.
//! * **READY** must have `v`, `user`, `guilds` (unavailable stubs), `session_id`,
//!   `resume_gateway_url` and `application{id,flags}` (checked shape from `discord-payloads/`). The
//!   cache fills guilds from the GUILD_CREATEs that follow, so `ctx.cache.guild(..)` and the
//!   member/role lookups only work for guilds sent here (`FakeConfig::guilds`).
//! * **poise holds every event until `setup` has returned** (`framework.user_data().await` in
//!   `raw_dispatch_event`): a slow or failing setup makes all later events look ignored.
//! * **Dropped events.** A dispatch serenity cannot deserialize is logged at WARN
//!   ("Err deserializing text" / "Unhandled error") and dropped; keep `RUST_LOG=serenity=warn` on.
//!   Ids must be non-zero (serenity's ids are `NonZeroU64`): one `"0"` id makes the whole event
//!   unparsable. Discord sends ids as strings; serenity also takes numbers.
//! * **Interaction callbacks** (`POST /interactions/{id}/{token}/callback`) are expected to answer
//!   204 (serenity warns, but accepts, any other 2xx). Poise's ephemeral reply is a callback of
//!   type 4 with `data.flags = 64`; edits/follow-ups go to `/webhooks/{app}/{token}/...`.
//! * **Component interactions need `message`** (serenity's `ComponentInteraction.message` is not
//!   optional): [`button_click`] builds one when none is given.
//! * **Multipart**: with files serenity sends `multipart/form-data` with parts `files[N]` and a
//!   `payload_json` text part (axum's body limit of 2 MB is lifted here for big charts).
//! * **Query strings** are written by serenity as `?&limit=50`: the empty pair is skipped.
//! * **Errors are not retried** with the rate limiter disabled: an injected 500/429 reaches the
//!   bot as `serenity::Error::Http(UnsuccessfulRequest)` at once (with the limiter on, serenity
//!   would sleep `retry_after` and retry, but it would also bypass the proxy).
//! * **Reconnects** (all checked in the scratch tests): op 7 RECONNECT, a socket dropped without
//!   close frame, or a close frame such as 4000 make serenity RESUME (op 6) on a new socket to the
//!   same URL; it ignores that socket's HELLO and sends RESUME first. The fake then replays the
//!   dispatches the session missed and sends RESUMED. op 9 with `d:false` (or a RESUME of an
//!   unknown session, or close 4006/4009) makes serenity restart the shard and IDENTIFY again
//!   through its shard queuer, which waits until 5 s after the previous IDENTIFY
//!   (`WAIT_BETWEEN_BOOTS_IN_SECONDS`): give such waits 10-20 s. Close 4004 (and 4013/4014)
//!   stops the client with an error.
//! * **Heartbeats**: serenity sends the first one a full `heartbeat_interval` after IDENTIFY (no
//!   jitter), so with the default 45 s none happens in a short test. When a heartbeat is still
//!   unacknowledged at the next one, serenity restarts the shard (new socket and IDENTIFY after
//!   the 5 s wait), it does not resume.
//! * **reqwest version**: serenity 0.12.5 asks for `reqwest >= 0.11.22`, which cargo resolves to
//!   0.12.x; `HttpBuilder::client` wants *that* `reqwest::Client`. A crate that depends on
//!   `reqwest = "0.11"` gets "expected `reqwest::async_impl::client::Client`, found
//!   `reqwest::Client`": depend on `reqwest = "0.12"` (or pin serenity's copy with
//!   `cargo update -p reqwest@0.12.28 --precise 0.11.27`). This module itself does not use reqwest.
//! * `serde_json::json!` with more than ~60 keys hits the default macro recursion limit of the
//!   including crate (a module cannot raise it): big payloads here are built in two parts.
//! * Event handlers run concurrently (each event is spawned): wait for conditions with timeouts
//!   ([`FakeDiscord::wait_for_request`]), never assume an order of handler effects.
//!
//! # Paths
//!
//! [`RecordedRequest::path`] is the path **without** the `/api/v10` prefix
//! (`/channels/123/messages`); anything outside `/api/v10` is recorded with its full path.
//! Patterns for [`RecordedRequest::is`] / [`FakeDiscord::respond_with`] use `*` for exactly one
//! segment: `"/channels/*/messages"`, `"/interactions/*/*/callback"`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Ids of the default world, the ones of `discord-payloads/*.json`.
pub mod ids {
    /// The bot user and its application (same id).
    pub const BOT: u64 = 1191168914227331073;
    pub const APP: u64 = BOT;
    pub const GUILD: u64 = 1191168956170371082;
    /// Guild owner.
    pub const OLGA: u64 = 1191168998113411092;
    /// Customers.
    pub const CARLA: u64 = 1191169002307715093;
    pub const CODY: u64 = 1191169006502019094;
    /// Has the "Support Agent" role.
    pub const ALEX: u64 = 1191169010696323095;
    /// Has the "Admin" role (Manage Server).
    pub const ADA: u64 = 1191169014890627096;
    /// A member without roles.
    pub const OTTO: u64 = 1191169019084931097;
    pub const EVERYONE_ROLE: u64 = GUILD;
    pub const AGENT_ROLE: u64 = 1191169040056451102;
    pub const ADMIN_ROLE: u64 = 1191169044250755103;
    pub const BOT_ROLE: u64 = 1191169048445059104;
    pub const STAFF: u64 = 1191169081999491112;
    pub const SUPPORT: u64 = 1191169086193795113;
    /// A forum channel (type 15).
    pub const HELP_FORUM: u64 = 1191169090388099114;
    pub const ALERTS: u64 = 1191169094582403115;
    /// Carla's DM channel with the bot (what `POST /users/@me/channels` answers for her).
    pub const CARLA_DM: u64 = 1191169174274179134;
}

// ---------------------------------------------------------------------------------------------
// Snowflakes and time
// ---------------------------------------------------------------------------------------------

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
pub const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
static SNOWFLAKE_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh snowflake whose time is `ms` (Unix milliseconds): `(ms - epoch) << 22` plus a
/// process-wide counter in the low 22 bits, so two ids of the same millisecond differ.
pub fn snowflake_at(ms: i64) -> u64 {
    let since_epoch = u64::try_from(ms - DISCORD_EPOCH_MS).expect("time after 2015");
    (since_epoch << 22) | (SNOWFLAKE_COUNTER.fetch_add(1, Ordering::Relaxed) & 0x3F_FFFF)
}

/// The Unix milliseconds encoded in a snowflake.
pub fn snowflake_ms(id: u64) -> i64 {
    i64::try_from(id >> 22).expect("42 bits") + DISCORD_EPOCH_MS
}

/// The real current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Discord's timestamp format, e.g. `2026-11-26T05:44:29.938000+00:00`.
pub fn timestamp_at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Payload builders (shapes of discord-payloads/, checked against serenity 0.12.5)
// ---------------------------------------------------------------------------------------------

const JOINED_AT: &str = "2024-01-01T00:00:00.000000+00:00";
/// Permissions of the default guild's owner: every bit.
const ALL_PERMISSIONS: u64 = (1 << 51) - 1;
/// `app_permissions` Discord sends for interactions in a DM.
const DM_APP_PERMISSIONS: &str = "117760";

/// (id, username, global_name, bot)
const KNOWN_USERS: &[(u64, &str, &str, bool)] = &[
    (ids::BOT, "reactif", "Reactif", true),
    (ids::OLGA, "olga-owner", "Olga-Owner", false),
    (ids::CARLA, "carla-customer", "Carla-Customer", false),
    (ids::CODY, "cody-customer", "Cody-Customer", false),
    (ids::ALEX, "alex-agent", "Alex-Agent", false),
    (ids::ADA, "ada-admin", "Ada-Admin", false),
    (ids::OTTO, "otto-outsider", "Otto-Outsider", false),
];

/// (user, roles) of the default guild's members.
const MEMBER_ROLES: &[(u64, &[u64])] = &[
    (ids::BOT, &[ids::BOT_ROLE]),
    (ids::OLGA, &[]),
    (ids::CARLA, &[]),
    (ids::CODY, &[]),
    (ids::ALEX, &[ids::AGENT_ROLE]),
    (ids::ADA, &[ids::ADMIN_ROLE]),
    (ids::OTTO, &[]),
];

/// (id, name, position, permissions, managed)
const ROLES: &[(u64, &str, u64, u64, bool)] = &[
    (ids::EVERYONE_ROLE, "@everyone", 0, 311385508929, false),
    (ids::AGENT_ROLE, "Support Agent", 1, 0, false),
    (ids::ADMIN_ROLE, "Admin", 2, 32, false),
    (ids::BOT_ROLE, "reactif", 3, 397284863057, true),
];

/// (id, type, name, position)
const CHANNELS: &[(u64, u8, &str, u16)] = &[
    (ids::STAFF, 0, "staff", 0),
    (ids::SUPPORT, 0, "support", 1),
    (ids::HELP_FORUM, 15, "help-forum", 2),
    (ids::ALERTS, 0, "alerts", 3),
];

/// A user object. Users of the default guild get their real names; others `user-<id>`.
pub fn user_json(id: u64) -> Value {
    let (username, global_name, bot) = KNOWN_USERS
        .iter()
        .find(|u| u.0 == id)
        .map(|u| (u.1.to_string(), Value::from(u.2), u.3))
        .unwrap_or_else(|| (format!("user-{id}"), Value::Null, false));
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

/// Roles of `user_id` in the default guild (empty for unknown users).
pub fn default_member_roles(user_id: u64) -> Vec<u64> {
    MEMBER_ROLES
        .iter()
        .find(|m| m.0 == user_id)
        .map(|m| m.1.to_vec())
        .unwrap_or_default()
}

/// The permissions Discord computes for a member of the default guild: everyone's plus their
/// roles', or every bit for the owner.
pub fn default_member_permissions(user_id: u64) -> u64 {
    if user_id == ids::OLGA {
        return ALL_PERMISSIONS;
    }
    let roles = default_member_roles(user_id);
    ROLES
        .iter()
        .filter(|r| r.0 == ids::EVERYONE_ROLE || roles.contains(&r.0))
        .fold(0, |acc, r| acc | r.3)
}

fn id_strings(ids: &[u64]) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

/// A guild member object without `user` (the shape inside MESSAGE_CREATE).
fn member_without_user(roles: &[u64]) -> Value {
    json!({
        "roles": id_strings(roles),
        "nick": null,
        "avatar": null,
        "banner": null,
        "joined_at": JOINED_AT,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

/// A guild member object with `user` (GUILD_CREATE `members`).
pub fn member_json(user_id: u64, roles: &[u64]) -> Value {
    let mut member = member_without_user(roles);
    member["user"] = user_json(user_id);
    member
}

fn role_json(id: u64, name: &str, position: u64, permissions: u64, managed: bool) -> Value {
    let mut role = json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": managed,
        "mentionable": false,
        "flags": 0,
    });
    if managed {
        role["tags"] = json!({"bot_id": ids::BOT.to_string()});
    }
    role
}

/// A guild text (0) or forum (15) channel object as in GUILD_CREATE.
pub fn guild_channel_json(guild_id: u64, id: u64, kind: u8, name: &str, position: u16) -> Value {
    let mut channel = json!({
        "id": id.to_string(),
        "type": kind,
        "guild_id": guild_id.to_string(),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": false,
        "topic": null,
        "parent_id": null,
        "rate_limit_per_user": 0,
        "last_message_id": null,
        "flags": 0,
    });
    if kind == 15 {
        let extra = json!({
            "available_tags": [],
            "default_reaction_emoji": null,
            "default_thread_rate_limit_per_user": 0,
            "default_sort_order": null,
            "default_forum_layout": 0,
            "default_auto_archive_duration": 4320,
        });
        merge(&mut channel, &extra);
    }
    channel
}

/// A DM channel object (type 1) with one recipient.
pub fn dm_channel_json(channel_id: u64, recipient_id: u64) -> Value {
    json!({
        "id": channel_id.to_string(),
        "type": 1,
        "flags": 0,
        "recipients": [user_json(recipient_id)],
        "last_message_id": null,
    })
}

/// The `d` of the default GUILD_CREATE: exactly `discord-payloads/GUILD_CREATE.json`
/// (roles everyone / Support Agent / Admin / reactif, channels staff / support / help-forum /
/// alerts, seven members, see [`ids`]).
pub fn default_guild() -> Value {
    let roles: Vec<Value> = ROLES
        .iter()
        .map(|r| role_json(r.0, r.1, r.2, r.3, r.4))
        .collect();
    let members: Vec<Value> = MEMBER_ROLES.iter().map(|m| member_json(m.0, m.1)).collect();
    let channels: Vec<Value> = CHANNELS
        .iter()
        .map(|c| guild_channel_json(ids::GUILD, c.0, c.1, c.2, c.3))
        .collect();
    // two json! calls: one would pass the macro recursion limit of the including crate
    let mut guild = json!({
        "id": ids::GUILD.to_string(),
        "name": "Reactif Test Guild",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": ids::OLGA.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
    });
    let rest = json!({
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "max_video_channel_users": 25,
        "widget_enabled": false,
        "widget_channel_id": null,
        "joined_at": JOINED_AT,
        "large": false,
        "unavailable": false,
        "member_count": members.len(),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    merge(&mut guild, &rest);
    guild
}

/// Where a message or an interaction happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A DM channel (no guild).
    Dm { channel_id: u64 },
    /// A channel (or thread) of a guild.
    Guild { guild_id: u64, channel_id: u64 },
}

impl Place {
    pub fn dm(channel_id: u64) -> Place {
        Place::Dm { channel_id }
    }
    /// A channel of the default guild ([`ids::GUILD`]).
    pub fn guild(channel_id: u64) -> Place {
        Place::Guild {
            guild_id: ids::GUILD,
            channel_id,
        }
    }
    pub fn channel_id(&self) -> u64 {
        match *self {
            Place::Dm { channel_id } | Place::Guild { channel_id, .. } => channel_id,
        }
    }
    pub fn guild_id(&self) -> Option<u64> {
        match *self {
            Place::Dm { .. } => None,
            Place::Guild { guild_id, .. } => Some(guild_id),
        }
    }
}

fn base_message(id: u64, channel_id: u64, author: Value, content: &str, at_ms: i64) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": content,
        "timestamp": timestamp_at(at_ms),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": [],
        "embeds": [],
        "reactions": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": [],
        "sticker_items": [],
    })
}

/// The `d` of a MESSAGE_CREATE by `author_id`, with id `snowflake_at(at_ms)`. In a guild it
/// carries `guild_id` and `member` (roles from the default guild); in a DM neither (the shapes of
/// `MESSAGE_CREATE-guild.json` / `MESSAGE_CREATE-dm.json`). Mutate the result for attachments,
/// `message_reference`, ...
pub fn message_create(author_id: u64, place: Place, content: &str, at_ms: i64) -> Value {
    let id = snowflake_at(at_ms);
    let mut msg = base_message(id, place.channel_id(), user_json(author_id), content, at_ms);
    if let Some(guild_id) = place.guild_id() {
        msg["guild_id"] = json!(guild_id.to_string());
        msg["member"] = member_without_user(&default_member_roles(author_id));
    }
    msg
}

/// A message the bot posted (as REST returns it), e.g. the message a button was on.
pub fn bot_message(channel_id: u64, content: &str, components: Value, at_ms: i64) -> Value {
    let mut msg = base_message(
        snowflake_at(at_ms),
        channel_id,
        user_json(ids::BOT),
        content,
        at_ms,
    );
    msg["components"] = components;
    msg["application_id"] = json!(ids::APP.to_string());
    msg
}

/// One action row with one secondary button.
pub fn button_row(custom_id: &str, label: &str) -> Value {
    json!([{
        "type": 1,
        "components": [{"type": 2, "style": 2, "label": label, "custom_id": custom_id, "disabled": false}],
    }])
}

/// A slash command option `{name, type, value}`; the type is inferred from the value:
/// string 3, integer 4, boolean 5, other number 10. For user/channel/role options or
/// subcommands write the JSON by hand.
pub fn option(name: &str, value: impl Into<Value>) -> Value {
    let value = value.into();
    let kind = match &value {
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        Value::Number(_) => 10,
        _ => 3,
    };
    json!({"name": name, "type": kind, "value": value})
}

fn channel_for_interaction(place: Place, user_id: u64) -> Value {
    match place {
        Place::Dm { channel_id } => dm_channel_json(channel_id, user_id),
        Place::Guild {
            guild_id,
            channel_id,
        } => {
            let name = CHANNELS
                .iter()
                .find(|c| c.0 == channel_id)
                .map(|c| c.2.to_string())
                .unwrap_or_else(|| format!("channel-{channel_id}"));
            json!({
                "id": channel_id.to_string(),
                "type": 0,
                "flags": 0,
                "name": name,
                "guild_id": guild_id.to_string(),
                "parent_id": null,
                "permissions": default_member_permissions(user_id).to_string(),
            })
        }
    }
}

/// Common INTERACTION_CREATE fields (`INTERACTION_CREATE-*.json`); `token` is `tok_<id>`.
fn interaction_base(kind: u8, data: Value, user_id: u64, place: Place) -> Value {
    let id = snowflake_at(now_ms());
    let mut it = json!({
        "id": id.to_string(),
        "application_id": ids::APP.to_string(),
        "type": kind,
        "data": data,
        "channel_id": place.channel_id().to_string(),
        "channel": channel_for_interaction(place, user_id),
        "token": format!("tok_{id}"),
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 8388608,
    });
    match place.guild_id() {
        None => {
            let extra = json!({
                "user": user_json(user_id),
                "app_permissions": DM_APP_PERMISSIONS,
                "authorizing_integration_owners": {"0": "0"},
                "context": 1,
            });
            merge(&mut it, &extra);
        }
        Some(guild_id) => {
            let mut member = member_json(user_id, &default_member_roles(user_id));
            member["permissions"] = json!(default_member_permissions(user_id).to_string());
            let extra = json!({
                "guild_id": guild_id.to_string(),
                "member": member,
                "guild_locale": "en-US",
                "app_permissions": "397284863057",
                "guild": {"id": guild_id.to_string(), "locale": "en-US", "features": []},
                "authorizing_integration_owners": {"0": guild_id.to_string()},
                "context": 0,
            });
            merge(&mut it, &extra);
        }
    }
    it
}

/// The `d` of an INTERACTION_CREATE for the slash command `/name` (type 2), with options made by
/// [`option`]. In a guild the member gets the default guild's roles and permissions.
pub fn slash_command(name: &str, options: Vec<Value>, user_id: u64, place: Place) -> Value {
    let data = json!({
        "id": snowflake_at(now_ms()).to_string(),
        "name": name,
        "type": 1,
        "options": options,
    });
    interaction_base(2, data, user_id, place)
}

/// The `d` of a component interaction (type 3): `component_type` 2 for a button (no `values`),
/// 3 for a string select. `message` is the message that carried the component; `None` builds a
/// bot message in that channel with a button of `custom_id`.
pub fn component_interaction(
    custom_id: &str,
    component_type: u8,
    values: Option<Vec<String>>,
    user_id: u64,
    place: Place,
    message: Option<Value>,
) -> Value {
    let mut data = json!({"custom_id": custom_id, "component_type": component_type});
    if let Some(values) = values {
        data["values"] = json!(values);
    }
    let mut it = interaction_base(3, data, user_id, place);
    it["message"] = message.unwrap_or_else(|| {
        bot_message(
            place.channel_id(),
            "",
            button_row(custom_id, "button"),
            now_ms(),
        )
    });
    it
}

/// The `d` of a button click (type 3), see [`component_interaction`].
pub fn button_click(custom_id: &str, user_id: u64, place: Place, message: Option<Value>) -> Value {
    component_interaction(custom_id, 2, None, user_id, place, message)
}

/// The `d` of a modal submit (type 5) with text inputs `(custom_id, value)`, one per row.
/// `message` is the message whose component opened the modal, if any.
pub fn modal_submit(
    custom_id: &str,
    fields: &[(&str, &str)],
    user_id: u64,
    place: Place,
    message: Option<Value>,
) -> Value {
    let rows: Vec<Value> = fields
        .iter()
        .map(|(id, value)| {
            json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
        })
        .collect();
    let mut it = interaction_base(
        5,
        json!({"custom_id": custom_id, "components": rows}),
        user_id,
        place,
    );
    if let Some(message) = message {
        it["message"] = message;
    }
    it
}

/// A thread channel object (type 11, public thread) as REST returns it; with `newly_created` it
/// is also the `d` of a THREAD_CREATE (e.g. a forum post: parent [`ids::HELP_FORUM`]).
pub fn thread_json(
    guild_id: u64,
    parent_id: u64,
    thread_id: u64,
    name: &str,
    owner_id: u64,
) -> Value {
    let created = timestamp_at(snowflake_ms(thread_id));
    json!({
        "id": thread_id.to_string(),
        "type": 11,
        "guild_id": guild_id.to_string(),
        "parent_id": parent_id.to_string(),
        "owner_id": owner_id.to_string(),
        "name": name,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": 4320,
            "archive_timestamp": created,
            "locked": false,
            "create_timestamp": created,
        },
    })
}

/// The `d` of a THREAD_CREATE for a thread created by `owner_id` at `at_ms`.
pub fn thread_create(
    guild_id: u64,
    parent_id: u64,
    name: &str,
    owner_id: u64,
    at_ms: i64,
) -> Value {
    let mut thread = thread_json(guild_id, parent_id, snowflake_at(at_ms), name, owner_id);
    thread["newly_created"] = json!(true);
    thread
}

fn ready_json(port: u16, guild_ids: &[u64], session_id: &str) -> Value {
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
    })
}

fn application_json() -> Value {
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

// ---------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------

/// Shallow merge: every key of `patch` (an object) overwrites the same key of `target`.
fn merge(target: &mut Value, patch: &Value) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            t.insert(k.clone(), v.clone());
        }
    }
}

/// An id given as a JSON string or number.
pub fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn field_id(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(id_of)
}

/// Does `path` match `pattern`, where a `*` segment of the pattern matches any one segment?
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let s: Vec<&str> = path.trim_matches('/').split('/').collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| *p == "*" || p == s)
}

fn collect_custom_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("custom_id", Value::String(s)) => out.push(s.clone()),
                    _ => collect_custom_ids(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_custom_ids(v, out)),
        _ => {}
    }
}

fn discord_error(message: &str, code: u32) -> Value {
    json!({"message": message, "code": code})
}

// ---------------------------------------------------------------------------------------------
// Recorded requests
// ---------------------------------------------------------------------------------------------

/// A file part of a multipart request (`files[N]` of a message with attachments).
#[derive(Clone, Debug)]
pub struct RecordedAttachment {
    /// The form field name, e.g. `files[0]`.
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// One REST call the bot made.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// 0, 1, 2... in arrival order (use it to look only at calls after a point of the test).
    pub seq: usize,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the `/api/v10` prefix, e.g. `/channels/123/messages`.
    pub path: String,
    /// Query pairs (serenity's empty leading pair of `?&a=b` is skipped).
    pub query: Vec<(String, String)>,
    /// The JSON body; for multipart, the parsed `payload_json` part; a non-JSON body as a string;
    /// `None` when empty.
    pub body: Option<Value>,
    /// Files of a multipart body, with their bytes.
    pub attachments: Vec<RecordedAttachment>,
    /// Status the fake answered.
    pub status: u16,
    /// Body the fake answered (`Null` for 204).
    pub response: Value,
}

impl RecordedRequest {
    /// `r.is("POST", "/channels/*/messages")`: method and path pattern (`*` = one segment).
    pub fn is(&self, method: &str, pattern: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && path_matches(pattern, &self.path)
    }
    /// Segment `i` of the path (`/channels/123/messages` → 0 `channels`, 1 `123`).
    pub fn segment(&self, i: usize) -> Option<&str> {
        self.path.trim_matches('/').split('/').nth(i)
    }
    /// Segment `i` of the path as an id.
    pub fn segment_id(&self, i: usize) -> Option<u64> {
        self.segment(i).and_then(|s| s.parse().ok())
    }
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// `content` of the body, or `data.content` for an interaction callback.
    pub fn content(&self) -> Option<&str> {
        let body = self.body.as_ref()?;
        body.get("content")
            .or_else(|| body.get("data").and_then(|d| d.get("content")))
            .and_then(Value::as_str)
    }
    /// Every `custom_id` anywhere in the body (buttons, selects, modals), in document order.
    pub fn custom_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(body) = &self.body {
            collect_custom_ids(body, &mut out);
        }
        out
    }
    /// `data.flags` (callbacks) or `flags` of the body has the EPHEMERAL bit (64).
    pub fn is_ephemeral(&self) -> bool {
        let Some(body) = &self.body else { return false };
        let flags = body
            .get("data")
            .and_then(|d| d.get("flags"))
            .or_else(|| body.get("flags"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        flags & 64 != 0
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration and state
// ---------------------------------------------------------------------------------------------

/// What the fake Discord knows at start.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// `d` of the GUILD_CREATEs sent after READY (READY lists them as unavailable).
    /// Default: `[default_guild()]`.
    pub guilds: Vec<Value>,
    /// HELLO's heartbeat interval. Default 45000 (no heartbeat during a short test).
    pub heartbeat_interval_ms: u64,
    /// Like real Discord, also dispatch MESSAGE_CREATE for messages the bot posts and
    /// THREAD_CREATE for threads it starts (a bot must ignore its own messages). Default false.
    pub echo_bot_events: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            guilds: vec![default_guild()],
            heartbeat_interval_ms: 45_000,
            echo_bot_events: false,
        }
    }
}

/// Counters of the gateway side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Websocket connections ever opened.
    pub connections_total: usize,
    /// Websocket connections open now.
    pub connected: usize,
    /// IDENTIFYs answered with READY.
    pub identifies: usize,
    /// RESUMEs answered with RESUMED.
    pub resumes: usize,
    /// Heartbeats received.
    pub heartbeats: usize,
}

struct Injection {
    method: String,
    pattern: String,
    remaining: usize,
    status: u16,
    body: Value,
    /// Do the normal work first, then answer with `status`: a response lost on the way back.
    after: bool,
    /// Only requests whose JSON body contains this text.
    body_contains: Option<String>,
}

enum ConnCmd {
    Frame(String),
    Close(u16, String),
    Drop,
}

struct GwSession {
    seq: u64,
    log: Vec<Value>,
    conn: Option<u64>,
}

struct InteractionInfo {
    channel_id: u64,
    message_id: Option<u64>,
}

#[derive(Default)]
struct World {
    requests: Vec<RecordedRequest>,
    injections: Vec<Injection>,
    gateway_frames: Vec<Value>,
    stats: GatewayStats,
    conns: HashMap<u64, mpsc::UnboundedSender<ConnCmd>>,
    sessions: HashMap<String, GwSession>,
    next_conn: u64,
    next_session: u64,
    no_heartbeat_ack: bool,
    clock_ms: Option<i64>,
    users: HashMap<u64, Value>,
    channels: HashMap<u64, Value>,
    dm_by_user: HashMap<u64, u64>,
    /// Every message known (dispatched or created through REST), in creation order.
    messages: Vec<Value>,
    interactions: HashMap<String, InteractionInfo>,
    /// interaction token → id of its original response message.
    originals: HashMap<String, u64>,
    global_commands: Vec<Value>,
    guild_commands: HashMap<u64, Vec<Value>>,
    guilds: HashMap<u64, Value>,
}

struct Shared {
    port: u16,
    config: FakeConfig,
    world: Mutex<World>,
    changed: watch::Sender<u64>,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl World {
    fn now(&self) -> i64 {
        self.clock_ms.unwrap_or_else(now_ms)
    }

    fn learn_user(&mut self, user: &Value) {
        if let Some(id) = field_id(user, "id") {
            self.users.insert(id, user.clone());
        }
    }

    fn learn_channel(&mut self, channel: &Value) {
        if let Some(id) = field_id(channel, "id") {
            if channel.get("type").and_then(Value::as_u64) == Some(1) {
                if let Some(r) = channel.get("recipients").and_then(|r| r.get(0)) {
                    self.learn_user(r);
                    if let Some(uid) = field_id(r, "id") {
                        self.dm_by_user.insert(uid, id);
                    }
                }
            }
            self.channels.insert(id, channel.clone());
        }
    }

    fn learn_guild(&mut self, guild: &Value) {
        let Some(gid) = field_id(guild, "id") else {
            return;
        };
        for key in ["channels", "threads"] {
            for ch in guild
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut ch = ch.clone();
                ch["guild_id"] = json!(gid.to_string());
                self.learn_channel(&ch);
            }
        }
        for m in guild
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(u) = m.get("user") {
                self.learn_user(u);
            }
        }
        self.guilds.insert(gid, guild.clone());
    }

    /// Keep the fake's world in line with what the bot was told over the gateway.
    fn learn_dispatch(&mut self, t: &str, d: &Value) {
        match t {
            "GUILD_CREATE" => self.learn_guild(d),
            "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "THREAD_CREATE" | "THREAD_UPDATE" => {
                self.learn_channel(d)
            }
            "MESSAGE_CREATE" => {
                if let Some(author) = d.get("author") {
                    self.learn_user(author);
                }
                let (Some(cid), Some(aid)) = (
                    field_id(d, "channel_id"),
                    d.get("author").and_then(|a| field_id(a, "id")),
                ) else {
                    return;
                };
                if d.get("guild_id").is_none()
                    && aid != ids::BOT
                    && !self.channels.contains_key(&cid)
                {
                    self.learn_channel(&dm_channel_json(cid, aid));
                }
                // upsert: an echo of a message created through REST is already known
                match field_id(d, "id").and_then(|mid| self.message_index(mid)) {
                    Some(i) => merge(&mut self.messages[i], d),
                    None => self.messages.push(d.clone()),
                }
            }
            "MESSAGE_DELETE" => {
                if let Some(mid) = field_id(d, "id") {
                    self.messages.retain(|m| field_id(m, "id") != Some(mid));
                }
            }
            "INTERACTION_CREATE" => {
                if let Some(u) = d
                    .get("user")
                    .or_else(|| d.get("member").and_then(|m| m.get("user")))
                {
                    self.learn_user(u);
                }
                if let Some(ch) = d.get("channel") {
                    if ch.get("type").and_then(Value::as_u64) == Some(1)
                        && !self.channels.contains_key(&field_id(ch, "id").unwrap_or(0))
                    {
                        self.learn_channel(ch);
                    }
                }
                if let (Some(token), Some(cid)) = (
                    d.get("token").and_then(Value::as_str),
                    field_id(d, "channel_id"),
                ) {
                    let message_id = d.get("message").and_then(|m| field_id(m, "id"));
                    self.interactions.insert(
                        token.to_string(),
                        InteractionInfo {
                            channel_id: cid,
                            message_id,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn user(&self, id: u64) -> Value {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| user_json(id))
    }

    fn dm_channel_for(&mut self, user_id: u64) -> u64 {
        if let Some(cid) = self.dm_by_user.get(&user_id) {
            return *cid;
        }
        let cid = if user_id == ids::CARLA {
            ids::CARLA_DM
        } else {
            snowflake_at(self.now())
        };
        let mut channel = dm_channel_json(cid, user_id);
        channel["recipients"] = json!([self.user(user_id)]);
        self.learn_channel(&channel);
        cid
    }

    fn message_index(&self, id: u64) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| field_id(m, "id") == Some(id))
    }

    fn guild_of_channel(&self, cid: u64) -> Option<u64> {
        self.channels
            .get(&cid)
            .and_then(|c| field_id(c, "guild_id"))
    }

    /// Attachments of a message built from uploaded files (+ descriptions of `payload_json`).
    fn attachments_json(
        &self,
        base: &str,
        channel_id: u64,
        body: &Value,
        uploads: &[RecordedAttachment],
    ) -> Vec<Value> {
        uploads
            .iter()
            .map(|up| {
                let aid = snowflake_at(self.now());
                let description = body
                    .get("attachments")
                    .and_then(Value::as_array)
                    .and_then(|a| {
                        a.iter().find(|a| {
                            a.get("filename").and_then(Value::as_str) == Some(&up.filename)
                        })
                    })
                    .and_then(|a| a.get("description").cloned())
                    .unwrap_or(Value::Null);
                let url = format!("{base}/attachments/{channel_id}/{aid}/{}", up.filename);
                json!({
                    "id": aid.to_string(),
                    "filename": up.filename,
                    "description": description,
                    "size": up.bytes.len(),
                    "url": url,
                    "proxy_url": url,
                    "content_type": up.content_type,
                    "height": null,
                    "width": null,
                })
            })
            .collect()
    }

    /// A message as REST returns it (REST-message-response.json), from a create-message body.
    fn build_message(
        &self,
        base: &str,
        channel_id: u64,
        body: &Value,
        uploads: &[RecordedAttachment],
        webhook: bool,
    ) -> Value {
        let now = self.now();
        let content = body.get("content").and_then(Value::as_str).unwrap_or("");
        let mut msg = base_message(
            snowflake_at(now),
            channel_id,
            user_json(ids::BOT),
            content,
            now,
        );
        msg["author"] = self.user(ids::BOT);
        msg["application_id"] = json!(ids::APP.to_string());
        if webhook {
            msg["webhook_id"] = json!(ids::APP.to_string());
        }
        self.apply_edit(base, &mut msg, body, uploads);
        if let Some(reference) = body.get("message_reference").filter(|r| r.is_object()) {
            let mut reference = reference.clone();
            if reference.get("channel_id").is_none() {
                reference["channel_id"] = json!(channel_id.to_string());
            }
            let referenced = field_id(&reference, "message_id")
                .and_then(|mid| self.message_index(mid))
                .map(|i| self.messages[i].clone())
                .unwrap_or(Value::Null);
            msg["message_reference"] = reference;
            msg["referenced_message"] = referenced;
            msg["type"] = json!(19);
        }
        msg
    }

    /// Apply a create/edit-message body (content, embeds, components, flags, attachments).
    fn apply_edit(
        &self,
        base: &str,
        msg: &mut Value,
        body: &Value,
        uploads: &[RecordedAttachment],
    ) {
        let channel_id = field_id(msg, "channel_id").unwrap_or(0);
        if let Some(c) = body.get("content").filter(|c| !c.is_null()) {
            msg["content"] = c.clone();
        }
        if let Some(embeds) = body.get("embeds").and_then(Value::as_array) {
            let embeds: Vec<Value> = embeds
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    if e.get("type").is_none() {
                        e["type"] = json!("rich");
                    }
                    e
                })
                .collect();
            msg["embeds"] = json!(embeds);
        }
        if let Some(components) = body.get("components").filter(|c| c.is_array()) {
            msg["components"] = components.clone();
        }
        if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
            msg["flags"] = json!(flags);
        }
        // Attachments: keep the existing ones listed by id (all when the body does not say),
        // then add the uploads.
        let existing: Vec<Value> = msg["attachments"].as_array().cloned().unwrap_or_default();
        let kept: Vec<Value> = match body.get("attachments").and_then(Value::as_array) {
            None => existing,
            Some(listed) => existing
                .into_iter()
                .filter(|a| {
                    listed
                        .iter()
                        .any(|l| field_id(l, "id") == field_id(a, "id"))
                })
                .collect(),
        };
        let mut all = kept;
        all.extend(self.attachments_json(base, channel_id, body, uploads));
        msg["attachments"] = json!(all);
    }
}

/// A reply of the REST router.
struct Reply {
    status: u16,
    body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
        }
    }
    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
        }
    }
    fn not_found(message: &str, code: u32) -> Reply {
        Reply {
            status: 404,
            body: Some(discord_error(message, code)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------

/// A fake Discord on 127.0.0.1: REST under `/api/v10`, gateway websocket at `/ws`.
/// Dropping it stops the server and drops the gateway connections.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.drop_connections();
        self.server.abort();
    }
}

impl FakeDiscord {
    /// Start with the default world ([`FakeConfig::default`]).
    pub async fn start() -> FakeDiscord {
        Self::start_with(FakeConfig::default()).await
    }

    /// Start on `127.0.0.1:0` (a free port).
    pub async fn start_with(config: FakeConfig) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let mut world = World::default();
        for guild in &config.guilds {
            world.learn_guild(guild);
        }
        for (id, ..) in KNOWN_USERS {
            world.users.entry(*id).or_insert_with(|| user_json(*id));
        }
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            port,
            config,
            world: Mutex::new(world),
            changed,
        });
        let app = Router::new()
            .route("/ws", get(gateway_upgrade))
            .fallback(rest)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("fake discord server stopped: {e}");
            }
        });
        FakeDiscord { shared, server }
    }

    /// `http://127.0.0.1:PORT`: give it to serenity's `HttpBuilder::proxy` (the bot's
    /// `DISCORD_API_URL`).
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    /// `ws://127.0.0.1:PORT/ws`, what `GET /gateway` answers.
    pub fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.shared.port)
    }

    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// Wait on a condition, re-checked after every change of the world (request, gateway
    /// frame, connection) until `timeout`. `check` takes its own snapshots, so user predicates
    /// never run under the world's lock (they may call the fake).
    async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut rx = self.shared.changed.subscribe();
        loop {
            if let Some(found) = check() {
                return Some(found);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return check(),
            }
        }
    }

    // ----- REST -----

    /// Every REST call so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.world().requests.clone()
    }

    /// How many REST calls were recorded so far: keep it as a mark and look only at later calls
    /// with `r.seq >= mark` (`wait_for_request` also returns calls made before it was called).
    pub fn request_count(&self) -> usize {
        self.shared.world().requests.len()
    }

    /// The calls with this method and path pattern (`*` = one segment).
    pub fn requests_matching(&self, method: &str, pattern: &str) -> Vec<RecordedRequest> {
        self.shared
            .world()
            .requests
            .iter()
            .filter(|r| r.is(method, pattern))
            .cloned()
            .collect()
    }

    /// The first recorded call (already made or coming) for which `pred` holds, or `None` after
    /// `timeout`.
    pub async fn wait_for_request(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.wait_until(timeout, || self.requests().into_iter().find(|r| pred(r)))
            .await
    }

    /// Wait until `n` recorded calls match `pred`; returns those found (fewer on timeout).
    pub async fn wait_for_requests(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        n: usize,
        timeout: Duration,
    ) -> Vec<RecordedRequest> {
        let matching = || -> Vec<RecordedRequest> {
            self.requests().into_iter().filter(|r| pred(r)).collect()
        };
        let found = self
            .wait_until(timeout, || Some(matching()).filter(|m| m.len() >= n))
            .await;
        found.unwrap_or_else(matching)
    }

    /// Answer the next `times` calls matching `method` (`"*"` for any) and `pattern` with
    /// `status` and `body` instead of the normal behaviour (they are still recorded). For 429 a
    /// `Retry-After` header is added from `body.retry_after`. Example:
    /// `fake.respond_with("POST", "/channels/*/messages", 1, 500, json!({"message": "oops", "code": 0}))`
    pub fn respond_with(
        &self,
        method: &str,
        pattern: &str,
        times: usize,
        status: u16,
        body: Value,
    ) {
        self.inject(method, pattern, None, times, status, body, false);
    }

    /// Like `respond_with`, but only for requests whose JSON body contains `body_contains`, and
    /// the request is carried out first (a message is created, say): only the answer is
    /// replaced, so the bot cannot tell that its request took effect.
    pub fn respond_after_doing(
        &self,
        method: &str,
        pattern: &str,
        body_contains: &str,
        times: usize,
        status: u16,
        body: Value,
    ) {
        self.inject(
            method,
            pattern,
            Some(body_contains),
            times,
            status,
            body,
            true,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn inject(
        &self,
        method: &str,
        pattern: &str,
        body_contains: Option<&str>,
        times: usize,
        status: u16,
        body: Value,
        after: bool,
    ) {
        self.shared.world().injections.push(Injection {
            method: method.to_string(),
            pattern: pattern.to_string(),
            remaining: times,
            status,
            body,
            after,
            body_contains: body_contains.map(str::to_string),
        });
    }

    /// A 429 for the next `times` matching calls, with Discord's body (`retry_after` seconds).
    pub fn rate_limit(&self, method: &str, pattern: &str, times: usize, retry_after_s: f64) {
        let body = json!({"message": "You are being rate limited.", "retry_after": retry_after_s, "global": false});
        self.respond_with(method, pattern, times, 429, body);
    }

    // ----- gateway -----

    /// True once the bot sent IDENTIFY and got READY (and the GUILD_CREATEs) within `timeout`.
    pub async fn wait_identified(&self, timeout: Duration) -> bool {
        self.wait_for_gateway(|s| s.identifies >= 1, timeout).await
    }

    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.world().stats.clone()
    }

    /// Wait until `pred` holds for the gateway counters, e.g. `|s| s.resumes >= 1`.
    pub async fn wait_for_gateway(
        &self,
        pred: impl Fn(&GatewayStats) -> bool,
        timeout: Duration,
    ) -> bool {
        self.wait_until(timeout, || pred(&self.gateway_stats()).then_some(()))
            .await
            .is_some()
    }

    /// Every frame the bot sent over the gateway (IDENTIFY, heartbeats, RESUME, ...), parsed.
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.shared.world().gateway_frames.clone()
    }

    /// Send the dispatch `event_name` (op 0, `t`) with `data` (`d`) and the next `s` of each
    /// session. Sessions whose socket is gone but can still RESUME get it on resume (Discord
    /// replays missed events). Returns the number of open sockets it was written to (0 means
    /// the bot is not connected: call [`Self::wait_identified`] first).
    /// The fake also learns from it: DM channels, users, interaction tokens, messages, threads.
    pub async fn dispatch(&self, event_name: &str, data: Value) -> usize {
        let sent = {
            let mut w = self.shared.world();
            w.learn_dispatch(event_name, &data);
            dispatch_locked(&mut w, event_name, &data)
        };
        if sent == 0 {
            tracing::warn!("fake discord: {event_name} dispatched to no connected session");
        }
        self.shared.bump();
        sent
    }

    /// Send a raw frame (any op) to every open gateway socket.
    pub fn send_raw(&self, frame: Value) {
        let text = frame.to_string();
        for tx in self.shared.world().conns.values() {
            let _ = tx.send(ConnCmd::Frame(text.clone()));
        }
    }

    /// op 7 RECONNECT: serenity reconnects and RESUMEs.
    pub fn send_reconnect(&self) {
        self.send_raw(json!({"op": 7, "d": null, "s": null, "t": null}));
    }

    /// op 9 INVALID_SESSION. With `resumable = false` the sessions are forgotten, so the bot must
    /// IDENTIFY again (serenity waits up to 5 s between IDENTIFYs).
    pub fn send_invalid_session(&self, resumable: bool) {
        if !resumable {
            self.shared.world().sessions.clear();
        }
        self.send_raw(json!({"op": 9, "d": resumable, "s": null, "t": null}));
    }

    /// Close every gateway socket abruptly (no close frame), as a network failure would.
    pub fn drop_connections(&self) {
        for tx in self.shared.world().conns.values() {
            let _ = tx.send(ConnCmd::Drop);
        }
    }

    /// Close every gateway socket with a close frame (`4000` unknown error → resume,
    /// `4004` authentication failed → the client stops, `4009` session timed out → re-identify).
    pub fn close_connections(&self, code: u16, reason: &str) {
        if matches!(code, 4006 | 4009) {
            self.shared.world().sessions.clear();
        }
        for tx in self.shared.world().conns.values() {
            let _ = tx.send(ConnCmd::Close(code, reason.to_string()));
        }
    }

    /// Stop (false) or resume (true) answering heartbeats with op 11: serenity then reconnects
    /// at its next heartbeat (set a small `heartbeat_interval_ms`).
    pub fn set_ack_heartbeats(&self, ack: bool) {
        self.shared.world().no_heartbeat_ack = !ack;
    }

    // ----- world -----

    /// Fix the time of what the fake creates (message ids/timestamps, DM and thread ids):
    /// `Some(unix_ms)`, or `None` for the real clock.
    pub fn set_clock_ms(&self, ms: Option<i64>) {
        self.shared.world().clock_ms = ms;
    }

    /// The DM channel id between the bot and `user_id` (what `POST /users/@me/channels`
    /// answers; created if needed; [`ids::CARLA_DM`] for Carla).
    pub fn dm_channel_id(&self, user_id: u64) -> u64 {
        self.shared.world().dm_channel_for(user_id)
    }

    /// Make a user known (for DMs and `GET /users/{id}`).
    pub fn add_user(&self, user: Value) {
        self.shared.world().learn_user(&user);
    }

    /// Make a channel known to `GET /channels/{id}` (without telling the bot).
    pub fn add_channel(&self, channel: Value) {
        self.shared.world().learn_channel(&channel);
    }

    /// The channel object the fake holds (guild channels, DMs, threads).
    pub fn channel(&self, id: u64) -> Option<Value> {
        self.shared.world().channels.get(&id).cloned()
    }

    /// Messages of a channel the fake knows (dispatched or posted by the bot), oldest first,
    /// ephemeral ones included.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        self.shared
            .world()
            .messages
            .iter()
            .filter(|m| field_id(m, "channel_id") == Some(channel_id))
            .cloned()
            .collect()
    }

    /// A message by id (with its latest edits).
    pub fn message(&self, id: u64) -> Option<Value> {
        let w = self.shared.world();
        w.message_index(id).map(|i| w.messages[i].clone())
    }

    /// The commands registered globally (bulk overwrite or create).
    pub fn global_commands(&self) -> Vec<Value> {
        self.shared.world().global_commands.clone()
    }

    /// The commands registered in a guild.
    pub fn guild_commands(&self, guild_id: u64) -> Vec<Value> {
        self.shared
            .world()
            .guild_commands
            .get(&guild_id)
            .cloned()
            .unwrap_or_default()
    }
}

/// Write a dispatch into every session (and to its socket if open). Returns sockets written.
fn dispatch_locked(w: &mut World, t: &str, d: &Value) -> usize {
    let World {
        sessions, conns, ..
    } = w;
    let mut sent = 0;
    for session in sessions.values_mut() {
        session.seq += 1;
        let frame = json!({"op": 0, "s": session.seq, "t": t, "d": d});
        if let Some(tx) = session.conn.and_then(|c| conns.get(&c)) {
            if tx.send(ConnCmd::Frame(frame.to_string())).is_ok() {
                sent += 1;
            }
        }
        session.log.push(frame);
    }
    sent
}

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

async fn gateway_upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| gateway_connection(shared, socket))
}

async fn gateway_connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ConnCmd>();
    let conn_id = {
        let mut w = shared.world();
        w.next_conn += 1;
        let id = w.next_conn;
        w.conns.insert(id, tx.clone());
        w.stats.connections_total += 1;
        w.stats.connected += 1;
        id
    };
    shared.bump();
    tracing::debug!("fake discord: gateway connection {conn_id} opened");
    let hello = json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": shared.config.heartbeat_interval_ms}});
    let mut open = socket
        .send(WsMessage::Text(hello.to_string().into()))
        .await
        .is_ok();
    while open {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<Value>(text.as_str()) {
                    Ok(frame) => on_client_frame(&shared, conn_id, &tx, frame),
                    Err(e) => tracing::warn!("fake discord: unparsable gateway frame {e}: {}", text.as_str()),
                },
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => open = false,
                Some(Ok(_)) => {}
            },
            cmd = rx.recv() => match cmd {
                Some(ConnCmd::Frame(text)) => {
                    open = socket.send(WsMessage::Text(text.into())).await.is_ok();
                }
                Some(ConnCmd::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(WsMessage::Close(Some(frame))).await;
                    open = false;
                }
                Some(ConnCmd::Drop) | None => open = false,
            },
        }
    }
    drop(socket);
    {
        let mut w = shared.world();
        w.conns.remove(&conn_id);
        w.stats.connected -= 1;
        for session in w.sessions.values_mut() {
            if session.conn == Some(conn_id) {
                session.conn = None;
            }
        }
    }
    shared.bump();
    tracing::debug!("fake discord: gateway connection {conn_id} closed");
}

fn send_frame(tx: &mpsc::UnboundedSender<ConnCmd>, frame: &Value) {
    let _ = tx.send(ConnCmd::Frame(frame.to_string()));
}

fn on_client_frame(
    shared: &Shared,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<ConnCmd>,
    frame: Value,
) {
    let op = frame.get("op").and_then(Value::as_u64);
    {
        let mut w = shared.world();
        w.gateway_frames.push(frame.clone());
        match op {
            Some(1) => {
                w.stats.heartbeats += 1;
                if !w.no_heartbeat_ack {
                    send_frame(tx, &json!({"op": 11, "s": null, "t": null, "d": null}));
                }
            }
            Some(2) => {
                // A new IDENTIFY abandons the sessions nobody is connected to.
                w.sessions.retain(|_, s| s.conn.is_some());
                w.next_session += 1;
                let session_id = format!("fake-session-{}", w.next_session);
                let guild_ids: Vec<u64> = shared
                    .config
                    .guilds
                    .iter()
                    .filter_map(|g| field_id(g, "id"))
                    .collect();
                let mut session = GwSession {
                    seq: 0,
                    log: Vec::new(),
                    conn: Some(conn_id),
                };
                let mut events = vec![("READY", ready_json(shared.port, &guild_ids, &session_id))];
                events.extend(
                    shared
                        .config
                        .guilds
                        .iter()
                        .map(|g| ("GUILD_CREATE", g.clone())),
                );
                for (t, d) in events {
                    session.seq += 1;
                    let frame = json!({"op": 0, "s": session.seq, "t": t, "d": d});
                    send_frame(tx, &frame);
                    session.log.push(frame);
                }
                w.sessions.insert(session_id, session);
                w.stats.identifies += 1;
            }
            Some(6) => {
                let d = frame.get("d").cloned().unwrap_or(Value::Null);
                let session_id = d.get("session_id").and_then(Value::as_str).unwrap_or("");
                let client_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
                match w.sessions.get_mut(session_id) {
                    Some(session) => {
                        session.conn = Some(conn_id);
                        for missed in session
                            .log
                            .iter()
                            .filter(|f| f["s"].as_u64().unwrap_or(0) > client_seq)
                        {
                            send_frame(tx, missed);
                        }
                        session.seq += 1;
                        let resumed = json!({"op": 0, "s": session.seq, "t": "RESUMED", "d": {}});
                        send_frame(tx, &resumed);
                        session.log.push(resumed);
                        w.stats.resumes += 1;
                    }
                    None => send_frame(tx, &json!({"op": 9, "s": null, "t": null, "d": false})),
                }
            }
            _ => {}
        }
    }
    shared.bump();
}

// ---------------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------------

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return Vec::new();
    }
    (0..=haystack.len() - needle.len())
        .filter(|&i| &haystack[i..i + needle.len()] == needle)
        .collect()
}

fn header_param(header_line: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = header_line.find(&key)? + key.len();
    let end = header_line[start..].find('"')? + start;
    Some(header_line[start..end].to_string())
}

/// Parse a `multipart/form-data` body into its `payload_json` (parsed) and its file parts.
fn parse_multipart(boundary: &str, body: &[u8]) -> (Option<Value>, Vec<RecordedAttachment>) {
    let delimiter = format!("--{boundary}");
    let starts = find_all(body, delimiter.as_bytes());
    let mut payload = None;
    let mut files = Vec::new();
    for pair in starts.windows(2) {
        let mut part = &body[pair[0] + delimiter.len()..pair[1]];
        part = part.strip_prefix(b"\r\n").unwrap_or(part);
        part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find_all(part, b"\r\n\r\n").first().copied() else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let data = &part[split + 4..];
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = header_param(line, "name");
                filename = header_param(line, "filename");
            } else if lower.starts_with("content-type:") {
                content_type = line.split_once(':').map(|(_, v)| v.trim().to_string());
            }
        }
        let name = name.unwrap_or_default();
        match filename {
            Some(filename) => files.push(RecordedAttachment {
                field: name,
                filename,
                content_type,
                bytes: data.to_vec(),
            }),
            None if name == "payload_json" => payload = serde_json::from_slice(data).ok(),
            None => {}
        }
    }
    (payload, files)
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> (Option<Value>, Vec<RecordedAttachment>) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        if let Some(boundary) = content_type.split("boundary=").nth(1) {
            return parse_multipart(boundary.trim_matches('"'), body);
        }
    }
    if body.is_empty() {
        return (None, Vec::new());
    }
    match serde_json::from_slice(body) {
        Ok(v) => (Some(v), Vec::new()),
        Err(_) => (
            Some(Value::String(String::from_utf8_lossy(body).to_string())),
            Vec::new(),
        ),
    }
}

async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let full = uri.path().to_string();
    let path = full
        .strip_prefix("/api/v10")
        .map(str::to_string)
        .unwrap_or(full);
    let (json_body, attachments) = parse_body(&headers, &body);
    let mut rec = RecordedRequest {
        seq: 0,
        method: method.as_str().to_string(),
        path,
        query: parse_query(uri.query()),
        body: json_body,
        attachments,
        status: 0,
        response: Value::Null,
    };
    let mut echoes = Vec::new();
    let reply = {
        let mut w = shared.world();
        let raw_body = rec.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        let injected = w.injections.iter_mut().find(|i| {
            i.remaining > 0
                && (i.method == "*" || rec.method.eq_ignore_ascii_case(&i.method))
                && path_matches(&i.pattern, &rec.path)
                && i.body_contains
                    .as_ref()
                    .is_none_or(|needle| raw_body.contains(needle.as_str()))
        });
        let reply = match injected {
            Some(inj) => {
                inj.remaining -= 1;
                let reply = Reply {
                    status: inj.status,
                    body: Some(inj.body.clone()),
                };
                if inj.after {
                    let _ = route(&shared, &mut w, &rec, &mut echoes);
                }
                reply
            }
            None => route(&shared, &mut w, &rec, &mut echoes),
        };
        w.injections.retain(|i| i.remaining > 0);
        rec.seq = w.requests.len();
        rec.status = reply.status;
        rec.response = reply.body.clone().unwrap_or(Value::Null);
        tracing::debug!(
            "fake discord: {} {} -> {}",
            rec.method,
            rec.path,
            rec.status
        );
        w.requests.push(rec);
        if shared.config.echo_bot_events {
            for (t, d) in &echoes {
                w.learn_dispatch(t, d);
                dispatch_locked(&mut w, t, d);
            }
        }
        reply
    };
    shared.bump();
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = retry_after_header(&reply.body);
    let mut response = match reply.body {
        Some(body) if status != StatusCode::NO_CONTENT => {
            (status, axum::Json(body)).into_response()
        }
        _ => status.into_response(),
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        if let Ok(v) = HeaderValue::from_str(&retry_after) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

fn retry_after_header(body: &Option<Value>) -> String {
    body.as_ref()
        .and_then(|b| b.get("retry_after"))
        .and_then(Value::as_f64)
        .map(|s| s.ceil().to_string())
        .unwrap_or_else(|| "1".to_string())
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

/// Commands: bulk overwrite (PUT list), create (POST one), list (GET), edit, delete.
fn commands_route(
    w: &mut World,
    method: &str,
    guild_id: Option<u64>,
    rest: &[&str],
    body: &Value,
) -> Reply {
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

fn create_message(
    shared: &Shared,
    w: &mut World,
    channel_id: u64,
    body: &Value,
    uploads: &[RecordedAttachment],
    webhook: bool,
    echoes: &mut Vec<(&'static str, Value)>,
) -> Value {
    // Like Discord: with `enforce_nonce`, a nonce already used in the channel returns the message
    // created then instead of a second one.
    let nonce = body.get("nonce").filter(|n| !n.is_null()).cloned();
    if let Some(n) = &nonce {
        if body.get("enforce_nonce").and_then(Value::as_bool) == Some(true) {
            let cid = channel_id.to_string();
            if let Some(earlier) = w
                .messages
                .iter()
                .find(|m| m["channel_id"].as_str() == Some(cid.as_str()) && &m["nonce"] == n)
            {
                return earlier.clone();
            }
        }
    }
    let mut msg = w.build_message(&shared.base_url(), channel_id, body, uploads, webhook);
    if let Some(n) = nonce {
        msg["nonce"] = n;
    }
    w.messages.push(msg.clone());
    if let Some(ch) = w.channels.get_mut(&channel_id) {
        ch["last_message_id"] = msg["id"].clone();
    }
    let ephemeral = msg["flags"].as_u64().unwrap_or(0) & 64 != 0;
    if !ephemeral {
        let mut event = msg.clone();
        if let Some(gid) = w.guild_of_channel(channel_id) {
            event["guild_id"] = json!(gid.to_string());
            event["member"] = member_without_user(&default_member_roles(ids::BOT));
        }
        echoes.push(("MESSAGE_CREATE", event));
    }
    msg
}

fn edit_message(
    shared: &Shared,
    w: &mut World,
    mid: u64,
    body: &Value,
    uploads: &[RecordedAttachment],
) -> Option<Value> {
    let i = w.message_index(mid)?;
    let mut msg = w.messages[i].clone();
    w.apply_edit(&shared.base_url(), &mut msg, body, uploads);
    msg["edited_timestamp"] = json!(timestamp_at(w.now()));
    w.messages[i] = msg.clone();
    Some(msg)
}

fn create_thread(
    w: &mut World,
    parent_id: u64,
    thread_id: u64,
    body: &Value,
    echoes: &mut Vec<(&'static str, Value)>,
) -> Value {
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
    echoes.push(("THREAD_CREATE", event));
    thread
}

fn interaction_callback(
    shared: &Shared,
    w: &mut World,
    token: &str,
    rec: &RecordedRequest,
) -> Reply {
    let body = rec.body.clone().unwrap_or(Value::Null);
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or_else(|| json!({}));
    let channel_id = w.interactions.get(token).map(|i| i.channel_id);
    let component_message = w.interactions.get(token).and_then(|i| i.message_id);
    match kind {
        // CHANNEL_MESSAGE_WITH_SOURCE / DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: the original response
        4 | 5 => {
            let cid = channel_id.unwrap_or_else(|| snowflake_at(w.now()));
            let mut msg = w.build_message(&shared.base_url(), cid, &data, &rec.attachments, true);
            if kind == 5 {
                msg["flags"] = json!(msg["flags"].as_u64().unwrap_or(0) | 128); // LOADING
            }
            if let Some(mid) = field_id(&msg, "id") {
                w.originals.insert(token.to_string(), mid);
            }
            w.messages.push(msg);
        }
        // UPDATE_MESSAGE: edits the message the component was on
        7 => {
            if let Some(mid) = component_message {
                let _ = edit_message(shared, w, mid, &data, &rec.attachments);
                w.originals.insert(token.to_string(), mid);
            }
        }
        _ => {}
    }
    Reply::no_content()
}

fn webhook_message_route(
    shared: &Shared,
    w: &mut World,
    method: &str,
    token: &str,
    which: &str,
    rec: &RecordedRequest,
) -> Reply {
    let body = rec.body.clone().unwrap_or_else(|| json!({}));
    let mid = if which == "@original" {
        w.originals.get(token).copied()
    } else {
        which.parse().ok()
    };
    match method {
        "GET" => match mid.and_then(|m| w.message_index(m)) {
            Some(i) => Reply::ok(w.messages[i].clone()),
            None => Reply::not_found("Unknown Message", 10008),
        },
        "PATCH" => {
            if let Some(msg) = mid.and_then(|m| edit_message(shared, w, m, &body, &rec.attachments))
            {
                let mut msg = msg;
                // a deferred response stops "thinking" once edited
                if let Some(flags) = msg["flags"].as_u64().filter(|f| f & 128 != 0) {
                    msg["flags"] = json!(flags & !128);
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
            let cid = w
                .interactions
                .get(token)
                .map(|i| i.channel_id)
                .unwrap_or_else(|| snowflake_at(w.now()));
            let msg = w.build_message(&shared.base_url(), cid, &body, &rec.attachments, true);
            if let Some(m) = field_id(&msg, "id") {
                w.originals.insert(token.to_string(), m);
            }
            w.messages.push(msg.clone());
            Reply::ok(msg)
        }
        "DELETE" => {
            if let Some(m) = mid {
                w.messages.retain(|x| field_id(x, "id") != Some(m));
            }
            Reply::no_content()
        }
        _ => Reply::ok(json!({})),
    }
}

/// Answer a REST call (no injection). Mutates the world; messages/threads the bot creates are
/// pushed to `echoes` as gateway events (sent only with `echo_bot_events`).
fn route(
    shared: &Shared,
    w: &mut World,
    rec: &RecordedRequest,
    echoes: &mut Vec<(&'static str, Value)>,
) -> Reply {
    let segs: Vec<&str> = rec.path.trim_matches('/').split('/').collect();
    let body = rec.body.clone().unwrap_or(Value::Null);
    let id = |i: usize| segs.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let m = rec.method.as_str();
    match (m, segs.as_slice()) {
        ("GET", ["gateway"]) => {
            Reply::ok(json!({"url": format!("ws://127.0.0.1:{}/ws", shared.port)}))
        }
        ("GET", ["gateway", "bot"]) => Reply::ok(json!({
            "url": format!("ws://127.0.0.1:{}/ws", shared.port),
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        ("GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]) => {
            Reply::ok(application_json())
        }
        ("GET", ["users", "@me"]) => Reply::ok(w.user(ids::BOT)),
        ("GET", ["users", uid]) => match uid.parse::<u64>() {
            Ok(uid) => Reply::ok(w.user(uid)),
            Err(_) => Reply::not_found("Unknown User", 10013),
        },
        ("POST", ["users", "@me", "channels"]) => match field_id(&body, "recipient_id") {
            Some(uid) => {
                let cid = w.dm_channel_for(uid);
                Reply::ok(w.channels[&cid].clone())
            }
            None => Reply {
                status: 400,
                body: Some(discord_error("Invalid Form Body", 50035)),
            },
        },
        (_, ["applications", _, "commands", tail @ ..]) => commands_route(w, m, None, tail, &body),
        (_, ["applications", _, "guilds", gid, "commands", tail @ ..]) => {
            commands_route(w, m, gid.parse().ok(), tail, &body)
        }
        ("GET", ["channels", _]) => match w.channels.get(&id(1)) {
            Some(c) => Reply::ok(c.clone()),
            None => Reply::not_found("Unknown Channel", 10003),
        },
        ("PATCH", ["channels", _]) => match w.channels.get_mut(&id(1)) {
            Some(c) => {
                let mut patch = body.clone();
                // thread archive/lock fields live in thread_metadata
                for k in ["archived", "locked", "auto_archive_duration"] {
                    if let Some(v) = patch.as_object_mut().and_then(|p| p.remove(k)) {
                        c["thread_metadata"][k] = v;
                    }
                }
                merge(c, &patch);
                let updated = c.clone();
                let is_thread = matches!(updated["type"].as_u64(), Some(10..=12));
                echoes.push((
                    if is_thread {
                        "THREAD_UPDATE"
                    } else {
                        "CHANNEL_UPDATE"
                    },
                    updated.clone(),
                ));
                Reply::ok(updated)
            }
            None => Reply::not_found("Unknown Channel", 10003),
        },
        ("DELETE", ["channels", _]) => match w.channels.remove(&id(1)) {
            Some(c) => Reply::ok(c),
            None => Reply::not_found("Unknown Channel", 10003),
        },
        ("GET", ["channels", _, "messages"]) => {
            let cid = id(1);
            let limit = rec
                .query_param("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(50usize);
            let before = rec
                .query_param("before")
                .and_then(|b| b.parse::<u64>().ok());
            let after = rec.query_param("after").and_then(|b| b.parse::<u64>().ok());
            let mut history: Vec<Value> = w
                .messages
                .iter()
                .filter(|msg| field_id(msg, "channel_id") == Some(cid))
                .filter(|msg| msg["flags"].as_u64().unwrap_or(0) & 64 == 0)
                .filter(|msg| {
                    let mid = field_id(msg, "id").unwrap_or(0);
                    before.is_none_or(|b| mid < b) && after.is_none_or(|a| mid > a)
                })
                .cloned()
                .collect();
            history.sort_by_key(|msg| std::cmp::Reverse(field_id(msg, "id").unwrap_or(0)));
            history.truncate(limit);
            Reply::ok(json!(history))
        }
        ("POST", ["channels", _, "messages"]) => {
            let msg = create_message(shared, w, id(1), &body, &rec.attachments, false, echoes);
            Reply::ok(msg)
        }
        ("GET", ["channels", _, "messages", _]) => match w.message_index(id(3)) {
            Some(i) => Reply::ok(w.messages[i].clone()),
            None => Reply::not_found("Unknown Message", 10008),
        },
        ("PATCH", ["channels", _, "messages", _]) => {
            match edit_message(shared, w, id(3), &body, &rec.attachments) {
                Some(msg) => Reply::ok(msg),
                None => Reply::not_found("Unknown Message", 10008),
            }
        }
        ("DELETE", ["channels", _, "messages", _]) => {
            let mid = id(3);
            w.messages.retain(|x| field_id(x, "id") != Some(mid));
            Reply::no_content()
        }
        ("POST", ["channels", _, "messages", _, "threads"]) => {
            // a thread started from a message takes the message's id
            Reply::ok(create_thread(w, id(1), id(3), &body, echoes))
        }
        ("POST", ["channels", _, "threads"]) => {
            let thread_id = snowflake_at(w.now());
            let mut thread = create_thread(w, id(1), thread_id, &body, echoes);
            // forum post: the starter message has the thread's id
            if let Some(message) = body.get("message").filter(|m| m.is_object()) {
                let mut msg = w.build_message(
                    &shared.base_url(),
                    thread_id,
                    message,
                    &rec.attachments,
                    false,
                );
                msg["id"] = json!(thread_id.to_string());
                w.messages.push(msg.clone());
                thread["message"] = msg;
            }
            Reply::ok(thread)
        }
        ("GET", ["guilds", gid]) => match gid.parse().ok().and_then(|g: u64| w.guilds.get(&g)) {
            Some(g) => Reply::ok(g.clone()),
            None => Reply::not_found("Unknown Guild", 10004),
        },
        ("GET", ["guilds", gid, key @ ("channels" | "members" | "roles")]) => {
            match gid.parse().ok().and_then(|g: u64| w.guilds.get(&g)) {
                Some(g) => Reply::ok(g.get(*key).cloned().unwrap_or_else(|| json!([]))),
                None => Reply::not_found("Unknown Guild", 10004),
            }
        }
        ("GET", ["guilds", gid, "members", uid]) => {
            let member = gid
                .parse()
                .ok()
                .and_then(|g: u64| w.guilds.get(&g))
                .and_then(|g| {
                    g["members"]
                        .as_array()?
                        .iter()
                        .find(|m| m["user"]["id"].as_str() == Some(uid))
                        .cloned()
                });
            match member {
                Some(member) => Reply::ok(member),
                None => Reply::not_found("Unknown Member", 10007),
            }
        }
        ("GET", ["guilds", gid, "threads", "active"]) => {
            let threads: Vec<Value> = w
                .channels
                .values()
                .filter(|c| {
                    matches!(c["type"].as_u64(), Some(10..=12))
                        && c["guild_id"].as_str() == Some(*gid)
                        && c["thread_metadata"]["archived"].as_bool() != Some(true)
                })
                .cloned()
                .collect();
            Reply::ok(json!({"threads": threads, "members": [], "has_more": false}))
        }
        ("POST", ["interactions", _, token, "callback"]) => {
            interaction_callback(shared, w, token, rec)
        }
        ("POST", ["webhooks", _, token]) => {
            let cid = w
                .interactions
                .get(*token)
                .map(|i| i.channel_id)
                .unwrap_or_else(|| snowflake_at(w.now()));
            Reply::ok(create_message(
                shared,
                w,
                cid,
                &body,
                &rec.attachments,
                true,
                echoes,
            ))
        }
        (_, ["webhooks", _, token, "messages", which]) => {
            webhook_message_route(shared, w, m, token, which, rec)
        }
        ("PUT" | "DELETE", _) => Reply::no_content(),
        ("POST", ["channels", _, "typing"]) => Reply::no_content(),
        ("GET", [.., last]) if last.ends_with('s') && last.parse::<u64>().is_err() => {
            Reply::ok(json!([]))
        }
        _ => Reply::ok(json!({})),
    }
}
