//! The Discord edge: the only module that knows serenity and poise. Handlers are thin: they map
//! a Discord event to an `Event`, hand it to the `Desk`, and perform what follows (relay, survey)
//! through Discord's REST API.

mod catchup;
mod commands;
mod handler;
mod outbox;
mod relay;
pub mod render;
mod survey;
mod watch;

use crate::clock::Clock;
use crate::desk::Desk;
use crate::domain::{snowflake_time, Event, EventKind, GuildRules, Millis};
use crate::i18n::{self, Texts};
use crate::settings::BotSettings;
use crate::store::DiscordSetup;
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use std::time::Duration;

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Arc<Bot>, Error>;

/// A refusal or a bad value that the user should read, as an ephemeral reply; everything else
/// is logged and answered with a generic apology.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

pub fn user_error(msg: impl Into<String>) -> Error {
    UserError(msg.into()).into()
}

/// Timing knobs, shorter in tests.
#[derive(Debug, Clone)]
pub struct BotOptions {
    /// How often due surveys are sent and expired ones closed.
    pub survey_tick: Duration,
    /// How often the load alert is evaluated for guilds with an alert channel.
    pub alert_every: Duration,
}

impl Default for BotOptions {
    fn default() -> Self {
        BotOptions {
            survey_tick: Duration::from_secs(1),
            alert_every: Duration::from_secs(600),
        }
    }
}

/// What every handler shares.
pub struct Bot {
    pub desk: Desk,
    pub clock: Arc<dyn Clock>,
    pub bot_user_id: serenity::UserId,
    pub(crate) sender: outbox::Sender,
    /// Serenity runs handlers concurrently; messages of one place are handled one at a time so
    /// that, say, two quick DMs cannot open two staff threads.
    places: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Set at shutdown: no new event is taken (catch-up reads it at the next start).
    stopping: std::sync::atomic::AtomicBool,
    /// One permit per event being handled; shutdown waits for them all.
    work: Arc<tokio::sync::Semaphore>,
    /// Messages being handled at once; the others wait in line (fairly, in arrival order).
    handlers: Arc<tokio::sync::Semaphore>,
    /// Messages waiting for a handler (the database may be away): at most `WAITING_LIMIT`.
    waiting: std::sync::atomic::AtomicUsize,
    /// Channels where a message could not be held for the database (the queue was full):
    /// the first such message's id. Their cursor stays before it, and a catch-up reads them
    /// again once the database answers.
    holes: std::sync::Mutex<std::collections::HashMap<String, Hole>>,
    /// Set while a read-back of holes runs (one at a time, beside the timers).
    filling: std::sync::atomic::AtomicBool,
    /// The gateway context, for catch-ups started by the timers.
    context: std::sync::Mutex<Option<serenity::Context>>,
    /// Outbox items Discord confirmed while the database could not record it: item id → the
    /// item and the message id it produced.
    unrecorded:
        std::sync::Mutex<std::collections::HashMap<i64, (crate::store::OutboxItem, String)>>,
}

/// A channel's message that could not be handled: the catch-up reads the channel again from
/// it, with backoff, until it goes through or `HOLE_TRIES` tries failed.
#[derive(Debug, Clone)]
pub struct Hole {
    pub guild: Option<String>,
    pub first: u64,
    pub tries: u32,
    pub next_try: std::time::Instant,
}

pub const HOLE_TRIES: u32 = 10;

/// Messages handled at once; a few dozen keep both cores and the database busy.
const HANDLERS: usize = 32;

/// Events handled at once, at most (far above what the gateway delivers).
const WORK_PERMITS: u32 = 1 << 20;
/// Messages that may wait for a handler at once (a burst, or the database away); beyond,
/// they are left in Discord's history and read back by the catch-up.
pub const WAITING_LIMIT: usize = 10_000;

impl Bot {
    pub async fn lock_place(&self, key: String) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self
                .places
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if map.len() > 10_000 {
                map.retain(|_, l| Arc::strong_count(l) > 1);
            }
            Arc::clone(map.entry(key).or_default())
        };
        lock.lock_owned().await
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    fn new(desk: Desk, clock: Arc<dyn Clock>, me: serenity::UserId, sender: outbox::Sender) -> Bot {
        Bot {
            desk,
            clock,
            bot_user_id: me,
            sender,
            places: Default::default(),
            stopping: Default::default(),
            work: Arc::new(tokio::sync::Semaphore::new(WORK_PERMITS as usize)),
            handlers: Arc::new(tokio::sync::Semaphore::new(HANDLERS)),
            waiting: Default::default(),
            holes: Default::default(),
            filling: Default::default(),
            context: Default::default(),
            unrecorded: Default::default(),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A permit to handle one event, unless the bot is shutting down.
    pub fn start_work(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if self.stopping() {
            return None;
        }
        Arc::clone(&self.work).try_acquire_owned().ok()
    }

    /// Stops taking events and waits (up to `grace`) for the ones being handled; then moves
    /// the cursors of channels with unhandled messages back before them, so that the next
    /// start's catch-up reads them.
    async fn drain(&self, grace: std::time::Duration) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let all = tokio::time::timeout(grace, self.work.acquire_many(WORK_PERMITS)).await;
        if all.is_err() {
            tracing::warn!("events still being handled at shutdown; the catch-up will finish them");
        }
        let holes: Vec<(String, Hole)> = self
            .lock_holes()
            .iter()
            .map(|(c, h)| (c.clone(), h.clone()))
            .collect();
        for (channel, hole) in holes {
            self.remember_before(&channel, hole.guild.as_deref(), hole.first)
                .await;
        }
    }

    /// Records a message that could not be handled now: the channel is read again from it.
    pub fn record_hole(&self, channel: &str, guild: Option<&str>, message: u64) {
        self.lock_holes()
            .entry(channel.to_string())
            .and_modify(|h| h.first = h.first.min(message))
            .or_insert(Hole {
                guild: guild.map(str::to_string),
                first: message,
                tries: 0,
                next_try: std::time::Instant::now(),
            });
    }

    /// Moves the channel's cursor back before `message` (best effort: the database may be the
    /// reason it was not handled), so that a catch-up, even after a restart, reads it.
    pub async fn remember_before(&self, channel: &str, guild: Option<&str>, message: u64) {
        let before = i64::try_from(message.saturating_sub(1)).unwrap_or(i64::MAX);
        if let Err(e) = self
            .desk
            .store()
            .rewind_cursor(channel, guild, before, self.now())
            .await
        {
            tracing::warn!(channel, error = %e, "cannot record where to read the channel again from");
        }
    }

    fn unrecorded(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, (crate::store::OutboxItem, String)>>
    {
        self.unrecorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_holes(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Hole>> {
        self.holes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub async fn rules(&self, guild_id: &str) -> anyhow::Result<GuildRules> {
        Ok(self.desk.store().guild_rules(guild_id).await?)
    }

    pub async fn setup(&self, guild_id: &str) -> anyhow::Result<DiscordSetup> {
        Ok(self.desk.store().discord_setup(guild_id).await?)
    }

    pub async fn texts(&self, guild_id: &str) -> &'static Texts {
        match self.rules(guild_id).await {
            Ok(r) => i18n::texts(r.locale),
            Err(_) => &i18n::EN,
        }
    }
}

/// The time of a Discord object, from its snowflake: Discord's clock, not ours.
pub fn discord_time(id: u64) -> Millis {
    snowflake_time(id)
}

pub fn event(id: u64, guild: &str, conversation: &str, author: u64, kind: EventKind) -> Event {
    Event {
        id: id.to_string(),
        guild_id: guild.to_string(),
        place: conversation.to_string(),
        author_id: author.to_string(),
        at: discord_time(id),
        kind,
    }
}

/// Builds serenity's HTTP client: straight to Discord, or through `DISCORD_API_URL`.
pub fn http_client(settings: &BotSettings) -> anyhow::Result<serenity::Http> {
    // A call that hangs must not hold a handler (or the timers) forever.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
    let mut builder = serenity::HttpBuilder::new(settings.token.expose()).client(client);
    if let Some(url) = &settings.api_url {
        // Serenity's own rate limiter sends requests to discord.com directly, ignoring the
        // proxy, so it is off when a proxy is set; the proxy is then in charge of rate limits.
        builder = builder.proxy(url.clone()).ratelimiter_disabled(true);
    }
    Ok(builder.build())
}

async fn on_error(error: poise::FrameworkError<'_, Arc<Bot>, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let text = match error.downcast_ref::<UserError>() {
                Some(u) => u.0.clone(),
                None => {
                    tracing::error!(command = %ctx.command().name, error = %format!("{error:#}"), "command failed");
                    "Something went wrong on our side; it has been logged. Please try again."
                        .to_string()
                }
            };
            let _ = ctx
                .send(poise::CreateReply::default().content(text).ephemeral(true))
                .await;
        }
        poise::FrameworkError::ArgumentParse {
            error, input, ctx, ..
        } => {
            let text = format!(
                "`{}` is not a valid value: {error}",
                input.unwrap_or_default()
            );
            let _ = ctx
                .send(poise::CreateReply::default().content(text).ephemeral(true))
                .await;
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!("error while handling an error: {e}");
            }
        }
    }
}

/// Runs the bot until Discord closes the connection for good or `shutdown` resolves.
pub async fn run(
    settings: BotSettings,
    desk: Desk,
    clock: Arc<dyn Clock>,
    options: BotOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Handlers commit concurrently: let those that wait share a transaction.
    let desk = desk.with_group_commit();
    let http = http_client(&settings)?;
    // Asking who we are first turns a rejected token into a clear message instead of a
    // gateway error later.
    let me = http.get_current_user().await.map_err(|e| match &e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 401 => {
            anyhow::anyhow!(
                "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the Developer Portal (Bot → Reset Token)"
            )
        }
        _ => anyhow::anyhow!("cannot reach Discord's API to check DISCORD_TOKEN: {e}"),
    })?;
    tracing::info!(bot = %me.name, id = %me.id, "connected to Discord's API");
    let released = desk.store().release_outbox_leases().await?;
    if released > 0 {
        tracing::warn!(
            messages = released,
            "messages were being sent when the bot last stopped; retrying them (Discord's nonce stops duplicates)"
        );
    }
    let bot = Arc::new(Bot::new(
        desk,
        clock,
        me.id,
        outbox::Sender::new(&settings)?,
    ));
    let dev_guild = settings.dev_guild_id;
    let setup_bot = Arc::clone(&bot);
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |e| Box::pin(on_error(e)),
            event_handler: |fw, event| {
                Box::pin(handler::dispatch(fw.serenity_context, event, fw.user_data))
            },
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                match dev_guild {
                    Some(g) => {
                        poise::builtins::register_in_guild(
                            ctx,
                            &framework.options().commands,
                            serenity::GuildId::new(g),
                        )
                        .await?
                    }
                    None => {
                        poise::builtins::register_globally(ctx, &framework.options().commands)
                            .await?
                    }
                }
                tracing::info!(
                    guilds = ready.guilds.len(),
                    "ready; slash commands registered"
                );
                Ok(setup_bot)
            })
        })
        .build();
    let intents = serenity::GatewayIntents::GUILDS
        | serenity::GatewayIntents::GUILD_MESSAGES
        | serenity::GatewayIntents::DIRECT_MESSAGES
        | serenity::GatewayIntents::MESSAGE_CONTENT
        | serenity::GatewayIntents::GUILD_MEMBERS;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await?;
    let http = Arc::clone(&client.http);
    let timers = tokio::spawn(survey::run_timers(Arc::clone(&bot), http, options));
    tokio::spawn(refresh_rollups(Arc::clone(&bot)));
    let shards = client.shard_manager.clone();
    let stopping = Arc::clone(&bot);
    tokio::spawn(async move {
        shutdown.await;
        // Stop taking events, let the ones in hand commit, let the timers finish their tick
        // (an outbox item being sent is recorded, or stays pending with its nonce), then
        // close the gateway. What arrives meanwhile is read back by the next start's catch-up.
        tracing::info!("shutting down: finishing the events in hand");
        stopping.drain(std::time::Duration::from_secs(20)).await;
        shards.shutdown_all().await;
    });
    let result = client.start().await;
    bot.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    if tokio::time::timeout(std::time::Duration::from_secs(20), timers)
        .await
        .is_err()
    {
        tracing::warn!("timers did not stop in time");
    }
    tracing::info!("stopped");
    result.map_err(|e| anyhow::anyhow!("the Discord connection stopped: {e}"))
}

/// How often the bot sums new events up for reports. Each place is replayed once per round
/// however many messages it got, so a longer period costs the live path less under load; a
/// `/stats` sums what is left of its own guild first, so it is never stale.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the report rollups close behind the events, so that a `/stats` has little left to
/// sum before it answers.
async fn refresh_rollups(bot: Arc<Bot>) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    while !bot.stopping() {
        tick.tick().await;
        match bot.desk.refresh(None, &|_| {}).await {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "summing events up for reports failed; will retry");
            }
            Err(_) => {}
        }
    }
}
