//! The clock's side of the bot, a driver like the gateway: every tick sends the surveys that
//! are due, delivers the outbox (and performs what its deliveries ask of the features), closes
//! the surveys whose window has passed, now and then checks the load alert, and reads back the
//! holes; beside them, the rollups are kept close behind the events. Each timer calls into its
//! feature through one narrow function. Only `discord::run` uses this module.

use super::bot::{database_unreachable, Bot};
use super::catchup::{self, MessagePath};
use super::outbox::FollowUp;
use super::{alerts, relay, service_levels, surveys};
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

pub async fn run(bot: Arc<Bot>, http: Arc<serenity::Http>, options: BotOptions, path: MessagePath) {
    let mut tick = tokio::time::interval(options.survey_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_alert: Option<Instant> = None;
    // While the database is unreachable every step fails the same way: say it once.
    let mut db_down = false;
    while !bot.stopping() {
        tick.tick().await;
        if bot.stopping() {
            break;
        }
        let mut failures: Vec<(&str, anyhow::Error)> = Vec::new();
        if let Err(e) = surveys::send_due(&bot).await {
            failures.push(("sending due surveys", e));
        }
        if let Err(e) = deliver_queued(&bot, &http).await {
            failures.push(("delivering queued messages", e));
        }
        if let Err(e) = surveys::close_expired(&bot).await {
            failures.push(("closing surveys", e));
        }
        if let Err(e) = service_levels::act_on_due(&bot).await {
            failures.push(("acting on service-level timers", e));
        }
        if last_alert.is_none_or(|t| t.elapsed() >= options.alert_every) {
            last_alert = Some(Instant::now());
            if let Err(e) = alerts::load_alerts(&bot).await {
                failures.push(("checking the load alert", e));
            }
        }
        failures
            .iter()
            .for_each(|(_, e)| crate::observe::database_error(e));
        let unreachable = failures.iter().any(|(_, e)| database_unreachable(e));
        if unreachable && !db_down {
            tracing::error!("the database is unreachable; timers and deliveries wait for it");
        } else if !unreachable && db_down {
            tracing::info!("the database answers again");
        }
        db_down = unreachable;
        if !unreachable {
            for (what, e) in failures {
                tracing::warn!(error = %format!("{e:#}"), "{what} failed; will retry");
            }
            fill_holes(&bot, path);
        }
    }
}

/// Every second, what operators see of the bot's load and of its gateway (`/metrics`,
/// `/healthz`), until the bot stops.
pub async fn observe(
    bot: Arc<Bot>,
    shards: Arc<serenity::ShardManager>,
    health: Arc<crate::observe::Health>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while !bot.stopping() {
        tick.tick().await;
        crate::observe::handler_queue(bot.intake.waiting(), bot.holes.count());
        let connected = {
            let runners = shards.runners.lock().await;
            for (id, r) in runners.iter() {
                let up = r.stage == serenity::ConnectionStage::Connected;
                crate::observe::shard_gateway(id.0, up, r.latency);
            }
            // A shard still waiting for its turn to identify is not connected yet.
            runners.len() as u32 == bot.shards.len()
                && runners
                    .values()
                    .all(|r| r.stage == serenity::ConnectionStage::Connected)
        };
        health.set_gateway(connected, bot.now());
    }
    health.set_gateway(false, bot.now());
}

/// Beside the timers, one at a time: a long read-back must not stop deliveries.
fn fill_holes(bot: &Arc<Bot>, path: MessagePath) {
    if !bot.holes.start_filling() {
        return;
    }
    let filler = Arc::clone(bot);
    tokio::spawn(async move {
        catchup::fill_holes(&filler, path).await;
        filler.holes.finish_filling();
    });
}

/// Delivers the outbox. What Discord confirmed but the database did not record is recorded
/// first, before anything is sent again (Discord's nonce only guards a few minutes): a failure
/// there stops the tick.
async fn deliver_queued(bot: &Bot, http: &serenity::Http) -> anyhow::Result<()> {
    bot.outbox.record_unrecorded().await?;
    while let Some(f) = bot.outbox.take_left() {
        perform(bot, http, f).await?;
    }
    for f in bot.outbox.deliver_due().await? {
        // A failure is logged, and the follow-up performed on a later tick.
        let _ = perform(bot, http, f).await;
    }
    Ok(())
}

/// Performs a follow-up through the feature whose message it is. Only a survey whose delivery
/// cannot be recorded fails (it is left for the next tick).
async fn perform(bot: &Bot, http: &serenity::Http, f: FollowUp) -> anyhow::Result<()> {
    match f {
        FollowUp::SurveyDelivered(d) => surveys::delivered(bot, d).await,
        FollowUp::ReopenTicket(r) | FollowUp::NotifyRefusal(r) => {
            relay::refused(bot, http, r).await;
            Ok(())
        }
    }
}

/// How often the bot sums new events up for reports. Each place is replayed once per round
/// however many messages it got, so a longer period costs the live path less under load; a
/// `/stats` sums what is left of its own guild first, so it is never stale.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the report rollups close behind the events, so that a `/stats` has little left to
/// sum before it answers.
pub async fn refresh_rollups(bot: Arc<Bot>) {
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
