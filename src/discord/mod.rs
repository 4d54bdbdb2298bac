//! The Discord edge: the only module that knows serenity and poise. It flows one way:
//!
//! ```text
//!  drivers    gateway (Discord's events)  ·  poise (slash commands)  ·  timers (the clock)
//!             sharding (connecting this process's shards, IDENTIFY in turn)
//!                 │
//!  features   relay/ · watch · surveys/ · alerts · catchup · service_levels · commands/
//!                 │
//!  services   live · outbox/ · access · replies · render/ · custom_id · channels
//!             and the state they share: bot (Bot) · state · holes · config
//! ```
//!
//! - **Drivers** turn what happens into calls to features. `gateway` routes gateway events
//!   (messages to the relay or the watch, READY and RESUME to the catch-up, clicks and forms by
//!   their `custom_id`); poise routes slash commands to `commands/`. `timers` is the clock's
//!   driver, not a service, because it calls features: each tick goes through one narrow
//!   function per job (`surveys::send_due`, `surveys::close_expired`, `alerts::load_alerts`,
//!   `service_levels::act_on_due`, `catchup::fill_holes`) and performs the outbox's follow-ups.
//!   `sharding` starts the gateway's shards. Only `run`, below, uses the drivers. The timed
//!   work is this process's shards' only (`Bot::shards`, `domain::shards`).
//! - **Features** do one job each and use services only, never another feature nor a driver.
//!   What a feature needs from the gateway it is handed as a function: the catch-up sends what
//!   it reads through the live message path (`catchup::MessagePath`).
//! - **Services** are shared by features: `live` (a Discord message as an `Event`, committed
//!   with its survey plan: the relay and the watch both need it), `outbox` (persisted sends; a
//!   delivery that means more than "sent" comes back as a `FollowUp`, which the feature that
//!   queued the item performs), `access` (who is an agent; the commands' poise checks),
//!   `replies` (the one place an error becomes a reply), `render` (the report embed, the survey
//!   message), `custom_id` (what a button means), `channels` (what a thread belongs to). The
//!   state is in small owned structs whose fields only their own methods touch (`Bot` holds
//!   them), so no feature reaches into another's bookkeeping. Services use each other without
//!   a cycle.
//!
//! `layers_tests` reads the imports and fails when a change breaks this flow.

mod access;
mod alerts;
mod bot;
mod catchup;
mod channels;
mod commands;
mod config;
mod custom_id;
mod gateway;
mod holes;
#[cfg(test)]
mod layers_tests;
mod live;
mod outbox;
mod relay;
mod render;
mod replies;
mod service_levels;
mod sharding;
mod state;
mod surveys;
mod timers;
mod watch;

pub use config::DiscordConfig;
pub use timers::BotOptions;

use crate::clock::Clock;
use crate::desk::Desk;
use bot::{Bot, Error};
use outbox::{Outbox, Sender};
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use std::time::Duration;

const INTENTS: serenity::GatewayIntents = serenity::GatewayIntents::GUILDS
    .union(serenity::GatewayIntents::GUILD_MESSAGES)
    .union(serenity::GatewayIntents::DIRECT_MESSAGES)
    .union(serenity::GatewayIntents::MESSAGE_CONTENT)
    .union(serenity::GatewayIntents::GUILD_MEMBERS);

/// Runs the bot until Discord closes the connection for good or `shutdown` resolves.
pub async fn run(
    config: impl Into<DiscordConfig>,
    desk: Desk,
    clock: Arc<dyn Clock>,
    options: BotOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let health = Arc::new(crate::observe::Health::default());
    run_observed(config, desk, clock, options, health, shutdown).await
}

/// [`run`], telling `health` whether the gateway is connected (for `/healthz`).
pub async fn run_observed(
    config: impl Into<DiscordConfig>,
    desk: Desk,
    clock: Arc<dyn Clock>,
    options: BotOptions,
    health: Arc<crate::observe::Health>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = config.into();
    // Handlers commit concurrently: let those that wait share a transaction.
    let desk = desk.with_group_commit();
    let shards = config.shards;
    config::one_process_on_sqlite(desk.store().backend(), &shards)?;
    let http = config.http_client()?;
    let me = who_am_i(&http).await?;
    crate::observe::shards_owned(&shards);
    // Only this process's shards: a neighbour may be sending its own right now.
    let released = desk.store().release_outbox_leases(&shards).await?;
    if released > 0 {
        tracing::warn!(
            messages = released,
            "messages were being sent when the bot last stopped; retrying them (Discord's nonce stops duplicates)"
        );
    }
    let sender = Sender::new(config.api_base(), config.token.clone())?;
    let outbox = Outbox::new(desk.clone(), Arc::clone(&clock), sender).owning(shards);
    let store = desk.store().clone();
    let mut bot = Bot::new(desk, clock, me, Arc::new(outbox));
    bot.dashboard_url = config.dashboard_url.clone();
    bot.shards = shards;
    let bot = Arc::new(bot);
    let mut client = serenity::ClientBuilder::new_with_http(http, INTENTS)
        .framework(framework(
            Arc::clone(&bot),
            config.dev_guild_id,
            shards.owns_shard(0),
        ))
        .await?;
    let http = Arc::clone(&client.http);
    let timers = tokio::spawn(timers::run(
        Arc::clone(&bot),
        http,
        options,
        gateway::from_history,
    ));
    tokio::spawn(timers::refresh_rollups(Arc::clone(&bot)));
    tokio::spawn(timers::observe(
        Arc::clone(&bot),
        Arc::clone(&client.shard_manager),
        Arc::clone(&health),
    ));
    let manager = client.shard_manager.clone();
    let stopping = Arc::clone(&bot);
    tokio::spawn(async move {
        shutdown.await;
        // Stop taking events, let the ones in hand commit, let the timers finish their tick
        // (an outbox item being sent is recorded, or stays pending with its nonce), then
        // close the gateway. What arrives meanwhile is read back by the next start's catch-up.
        tracing::info!("shutting down: finishing the events in hand");
        stopping.drain(Duration::from_secs(20)).await;
        manager.shutdown_all().await;
    });
    let result = sharding::start(&mut client, shards, store).await;
    bot.lifecycle.stop();
    health.set_gateway(false, bot.now());
    if tokio::time::timeout(Duration::from_secs(20), timers)
        .await
        .is_err()
    {
        tracing::warn!("timers did not stop in time");
    }
    tracing::info!("stopped");
    result.map_err(|e| anyhow::anyhow!("the Discord connection stopped: {e}"))
}

/// Asking who we are first turns a rejected token into a clear message instead of a gateway
/// error later.
async fn who_am_i(http: &serenity::Http) -> anyhow::Result<serenity::UserId> {
    let me = http.get_current_user().await.map_err(|e| match &e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 401 => {
            anyhow::anyhow!(
                "Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the Developer Portal (Bot → Reset Token)"
            )
        }
        _ => anyhow::anyhow!("cannot reach Discord's API to check DISCORD_TOKEN: {e}"),
    })?;
    tracing::info!(bot = %me.name, id = %me.id, "connected to Discord's API");
    Ok(me.id)
}

/// Poise's framework: the commands, the error replies, the gateway's events, and the commands'
/// registration (in the dev guild, or globally) once the gateway is ready, by the process with
/// shard 0 only (the commands are the bot's, not a shard's: one registration is enough, and
/// Discord limits how often they are replaced).
fn framework(
    bot: Arc<Bot>,
    dev_guild: Option<u64>,
    register: bool,
) -> poise::Framework<Arc<Bot>, Error> {
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            command_check: Some(|ctx| Box::pin(commands::cooldown(ctx))),
            on_error: |e| Box::pin(replies::on_error(e)),
            event_handler: |fw, event| {
                Box::pin(gateway::dispatch(fw.serenity_context, event, fw.user_data))
            },
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                match dev_guild {
                    _ if !register => {}
                    Some(g) => {
                        poise::builtins::register_in_guild(ctx, commands, serenity::GuildId::new(g))
                            .await?
                    }
                    None => poise::builtins::register_globally(ctx, commands).await?,
                }
                tracing::info!(
                    guilds = ready.guilds.len(),
                    registered = register,
                    "ready; slash commands registered by the process with shard 0"
                );
                Ok(bot)
            })
        })
        .build()
}
