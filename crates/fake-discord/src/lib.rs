//! A fake Discord (REST + gateway websocket) on 127.0.0.1 for testing a real serenity 0.12.5 /
//! poise 0.7.1 bot end to end: reactif's tests (`tests/bot/`) and its benchmark
//! (`benches/perf.rs`) run the real bot against it. It is a dev-only crate (`publish = false`).
//!
//! ```text
//! use fake_discord::*;
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
//! # The parts
//!
//! * [`FakeDiscord`] (`fake.rs`): starting it, waiting on it ([`FakeDiscord::wait_until`]
//!   re-checks a condition after every change it records, so tests never poll or sleep), and
//!   the world a test may read or change (channels, messages, users, commands).
//! * `rest/`: every REST call is recorded ([`RecordedRequest`]), then answered by an injected
//!   fault ([`FakeDiscord::respond_with`], [`FakeDiscord::rate_limit`],
//!   [`FakeDiscord::respond_after_doing`]) or by a route of a table, one module per resource
//!   (`app`, `users`, `commands`, `channels`, `messages`, `guilds`, `interactions`). **Adding an
//!   endpoint** is a handler and one line in its module's `ROUTES` (see `rest/mod.rs`).
//! * `gateway/`: sessions and sockets (IDENTIFY, RESUME with replay, heartbeats), what a test
//!   sends ([`FakeDiscord::dispatch`], RECONNECT, INVALID_SESSION, dropped or closed sockets),
//!   and the counters ([`GatewayStats`]). Sharding (`gateway/shards.rs`): IDENTIFY's
//!   `shard: [id, count]` (absent: `[0, 1]`, everything), READY and GUILD_CREATEs of the owned
//!   guilds only, each event to the shard of its guild (`(guild_id >> 22) % count`, DMs to
//!   shard 0), and the log of IDENTIFYs with their buckets ([`FakeDiscord::identifies`],
//!   [`FakeDiscord::identify_overlaps`]); [`ids::SHARD_GUILDS`] has a guild on each of 4 shards. **Adding a gateway event** needs no code here: build its
//!   payload and dispatch it.
//! * `payloads/`: builders of what Discord sends, in the shapes serenity parses (messages,
//!   interactions, guilds, threads), around a default world ([`ids`], [`default_guild`]).
//! * `world.rs`: what the fake knows, learned from dispatches and REST calls, so that REST
//!   answers agree with what the gateway said.
//! * `time.rs`: snowflakes that carry the time a test chose.
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
//!   `cargo update -p reqwest@0.12.28 --precise 0.11.27`). This crate itself does not use reqwest.
//! * `serde_json::json!` with more than ~60 keys hits the default macro recursion limit: big
//!   payloads here are built in two parts.
//! * Event handlers run concurrently (each event is spawned): wait for conditions with timeouts
//!   ([`FakeDiscord::wait_for_request`]), never assume an order of handler effects.
//!
//! # Paths
//!
//! [`RecordedRequest::path`] is the path **without** the `/api/v10` prefix
//! (`/channels/123/messages`); anything outside `/api/v10` is recorded with its full path.
//! Patterns for [`RecordedRequest::is`] / [`FakeDiscord::respond_with`] use `*` for exactly one
//! segment: `"/channels/*/messages"`, `"/interactions/*/*/callback"`.

mod fake;
mod gateway;
pub mod ids;
mod json;
pub mod payloads;
mod recording;
mod rest;
mod time;
mod world;

pub use fake::{FakeConfig, FakeDiscord};
pub use gateway::{op, IdentifyRecord, ShardKey};
pub use json::{id_of, path_matches};
pub use payloads::guild::{
    default_guild, default_member_permissions, default_member_roles, dm_channel_json,
    guild_channel_json, guild_like_default, member_json, shard_guild, thread_create, thread_json,
    user_json,
};
pub use payloads::interaction::{
    button_click, button_row, component_interaction, modal_submit, option, slash_command,
};
pub use payloads::message::{bot_message, message_create, Place};
pub use payloads::reaction::{
    custom_emoji, reaction_add, reaction_remove, reaction_remove_all, reaction_remove_emoji,
    unicode_emoji,
};
pub use recording::{GatewayStats, RecordedAttachment, RecordedRequest};
pub use time::{now_ms, snowflake_at, snowflake_ms, timestamp_at, DISCORD_EPOCH_MS};
