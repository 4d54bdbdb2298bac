//! The fake itself: its configuration, its shared state, starting it, waiting on it, and what a
//! test may read or change of its world. The REST and gateway sides add their own methods to
//! [`FakeDiscord`] in their modules.

use crate::gateway::GatewayState;
use crate::payloads::guild::{default_guild, user_json, KNOWN_USERS};
use crate::rest::RestState;
use crate::world::World;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

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
    /// `shards` of `GET /gateway/bot` (the count Discord recommends). Default 1.
    pub shards: u64,
    /// `session_start_limit.max_concurrency` of `GET /gateway/bot`: IDENTIFY buckets
    /// (`shard_id % max_concurrency`). Default 1.
    pub max_concurrency: u64,
    /// An IDENTIFY less than this many milliseconds after the previous one of its bucket is
    /// recorded as an overlap ([`FakeDiscord::identify_overlaps`]). Default 5000, Discord's
    /// rule; a test may lower it a little below serenity's own 5 s pause, which is measured
    /// from a shard's start and not from its IDENTIFY.
    pub identify_interval_ms: u64,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            guilds: vec![default_guild()],
            heartbeat_interval_ms: 45_000,
            echo_bot_events: false,
            shards: 1,
            max_concurrency: 1,
            identify_interval_ms: 5_000,
        }
    }
}

/// Everything that changes, under one lock: what was recorded of REST, the gateway's sessions
/// and sockets, and the world both sides read and change.
#[derive(Default)]
pub(crate) struct State {
    pub rest: RestState,
    pub gateway: GatewayState,
    pub world: World,
}

/// What the server's handlers and the [`FakeDiscord`] handle share.
pub(crate) struct Shared {
    pub port: u16,
    pub config: FakeConfig,
    /// When the fake started: the origin of the IDENTIFY log's times.
    pub started: std::time::Instant,
    state: Mutex<State>,
    /// Bumped after every change of the state: waits re-check their condition then.
    changed: watch::Sender<u64>,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Wakes every wait (call it after changing the state, outside the lock).
    pub fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }
}

/// A fake Discord on 127.0.0.1: REST under `/api/v10`, gateway websocket at `/ws`.
/// Dropping it stops the server and drops the gateway connections.
pub struct FakeDiscord {
    pub(crate) shared: Arc<Shared>,
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
        let mut state = State::default();
        for guild in &config.guilds {
            state.world.learn_guild(guild);
        }
        for (id, ..) in KNOWN_USERS {
            state
                .world
                .users
                .entry(*id)
                .or_insert_with(|| user_json(*id));
        }
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            port,
            config,
            started: std::time::Instant::now(),
            state: Mutex::new(state),
            changed,
        });
        let app = Router::new()
            .route("/ws", get(crate::gateway::upgrade))
            .fallback(crate::rest::handle)
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
        self.shared.gateway_url()
    }

    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// Waits until `check` returns something, re-checking it after every change the fake
    /// records (a REST call, a gateway frame, a connection, a dispatch), until `timeout`; then
    /// returns what a last check finds. `check` takes its own snapshots (through the fake's
    /// methods), so it never runs under the fake's lock. Example: wait until a channel shows a
    /// text, `fake.wait_until(WAIT, || fake.messages_in(c).iter().any(..).then_some(()))`.
    pub async fn wait_until<T>(
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

    // ----- the world -----

    /// Fix the time of what the fake creates (message ids/timestamps, DM and thread ids):
    /// `Some(unix_ms)`, or `None` for the real clock.
    pub fn set_clock_ms(&self, ms: Option<i64>) {
        self.shared.state().world.clock_ms = ms;
    }

    /// The DM channel id between the bot and `user_id` (what `POST /users/@me/channels`
    /// answers; created if needed; [`crate::ids::CARLA_DM`] for Carla).
    pub fn dm_channel_id(&self, user_id: u64) -> u64 {
        self.shared.state().world.dm_channel_for(user_id)
    }

    /// Make a user known (for DMs and `GET /users/{id}`).
    pub fn add_user(&self, user: Value) {
        self.shared.state().world.learn_user(&user);
    }

    /// Make `member` (a guild member object with its `user`) a member of `guild_id` as REST
    /// knows it (`GET /guilds/{guild}/members/{user}`), without telling the gateway: the bot's
    /// cache does not have them, as for someone who joined while the bot was away.
    pub fn add_member(&self, guild_id: u64, member: Value) {
        let mut state = self.shared.state();
        if let Some(members) = state
            .world
            .guilds
            .get_mut(&guild_id)
            .and_then(|g| g["members"].as_array_mut())
        {
            members.push(member);
        }
    }

    /// Make a channel known to `GET /channels/{id}` (without telling the bot).
    pub fn add_channel(&self, channel: Value) {
        self.shared.state().world.learn_channel(&channel);
    }

    /// The channel object the fake holds (guild channels, DMs, threads).
    pub fn channel(&self, id: u64) -> Option<Value> {
        self.shared.state().world.channels.get(&id).cloned()
    }

    /// Messages of a channel the fake knows (dispatched or posted by the bot), oldest first,
    /// ephemeral ones included.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        self.shared.state().world.messages_in(channel_id)
    }

    /// A message by id (with its latest edits).
    pub fn message(&self, id: u64) -> Option<Value> {
        let state = self.shared.state();
        let w = &state.world;
        w.message_index(id).map(|i| w.messages[i].clone())
    }

    /// The user logged in to "Discord" in the browser: who approves an OAuth2 authorization
    /// (`GET /oauth2/authorize` redirects back at once with a code for them; `None`: refused).
    pub fn set_oauth_user(&self, user_id: Option<u64>) {
        self.shared.state().world.oauth_user = user_id;
    }

    /// The commands registered globally (bulk overwrite or create).
    pub fn global_commands(&self) -> Vec<Value> {
        self.shared.state().world.global_commands.clone()
    }

    /// The commands registered in a guild.
    pub fn guild_commands(&self, guild_id: u64) -> Vec<Value> {
        self.shared
            .state()
            .world
            .guild_commands
            .get(&guild_id)
            .cloned()
            .unwrap_or_default()
    }
}
