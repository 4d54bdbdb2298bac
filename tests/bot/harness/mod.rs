//! The harness: a real bot (`reactif::discord::run`, what `reactif run` runs) on a fresh
//! database against a fresh fake Discord, per test; and the waits every test uses. A wait is
//! on something recorded (a request the fake saw, a row the bot wrote, a clean exit), never on
//! a fixed time.

mod process;
mod waits;

pub use process::BotProcess;
pub use waits::*;

use crate::support::db::{self, TestDb};
use fake_discord::*;
use reactif::clock::{Clock, SystemClock};
use reactif::desk::Desk;
use reactif::discord::BotOptions;
use reactif::domain::{Event, GuildRules};
use reactif::observe::Health;
use reactif::settings::BotSettings;
use reactif::store::{DiscordSetup, DynStore, WatchKind, WatchedChannel};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any wait lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);
/// The default guild, as the store keys it.
pub const GUILD: &str = "1191168956170371082";

/// A bot running in this process, with its fake Discord and its database.
pub struct TestBot {
    pub fake: FakeDiscord,
    /// The test's own view of the bot's database.
    pub desk: Desk,
    clock: Arc<dyn Clock>,
    /// What the bot tells `/healthz` about its gateway.
    pub health: Arc<Health>,
    db: Option<TestDb>,
    running: Option<Running>,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestBot {
    /// Stops the bot process, keeping its database and the fake Discord, and asserts that it
    /// stopped cleanly: within [`WAIT`] (the bot gives its events 20 s, so a bot that needs
    /// them has a handler stuck), without a panic, and with `run` returning `Ok`. Once it has
    /// returned, every event the bot took has been handled to the end.
    pub async fn halt(&mut self) {
        let Some(Running { stop, task }) = self.running.take() else {
            return;
        };
        let _ = stop.send(());
        let joined = tokio::time::timeout(WAIT, task)
            .await
            .unwrap_or_else(|_| panic!("the bot did not stop within {WAIT:?}"));
        let result = joined.unwrap_or_else(|e| panic!("the bot's task failed: {e}"));
        if let Err(e) = result {
            panic!("the bot stopped with an error: {e:#}");
        }
    }

    /// Starts a new bot process on the same database and fake Discord.
    pub async fn resume(&mut self) {
        assert!(self.running.is_none(), "halt the bot before resuming it");
        let sessions = self.fake.gateway_stats().identifies;
        let url = self.db_url().to_string();
        self.running = Some(start(
            &self.fake,
            &self.desk,
            &url,
            &[],
            self.clock.clone(),
            Arc::clone(&self.health),
        ));
        wait_ready(&self.fake, sessions).await;
    }

    /// Stops the bot (see [`Self::halt`]) and drops its database.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }

    pub fn db_url(&self) -> &str {
        self.db.as_ref().map(|d| d.url.as_str()).unwrap_or_default()
    }

    pub fn store(&self) -> &DynStore {
        self.desk.store()
    }

    /// The events of a place of the default guild.
    pub async fn events(&self, place: &str) -> Vec<Event> {
        self.store().place_events(GUILD, place).await.unwrap()
    }

    /// Waits until the place holds an event satisfying `pred`.
    pub async fn wait_event_in(
        &self,
        guild: &str,
        place: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> Event {
        let (store, pred) = (self.store(), &pred);
        eventually(
            &format!("an event in {guild}/{place}"),
            WAIT,
            move || async move {
                let events = store.place_events(guild, place).await.unwrap();
                events.into_iter().find(|e| pred(e))
            },
        )
        .await
    }

    /// Waits until the place (of the default guild) holds an event satisfying `pred`.
    pub async fn wait_event(&self, place: &str, pred: impl Fn(&Event) -> bool) -> Event {
        self.wait_event_in(GUILD, place, pred).await
    }

    /// Waits until the bot handled the newest message a person posted in `channel`.
    pub async fn wait_handled(&self, channel: u64) {
        wait_handled(&self.fake, self.store(), channel).await;
    }

    /// Waits until every message the bot queued for Discord is delivered (or refused).
    pub async fn wait_outbox_empty(&self) {
        wait_outbox_empty(self.store(), WAIT).await;
    }

    /// The first request (made or coming) satisfying `pred`; fails the test after [`WAIT`].
    pub async fn request(&self, pred: impl Fn(&RecordedRequest) -> bool) -> RecordedRequest {
        self.fake
            .wait_for_request(pred, WAIT)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "expected request not made; made: {:#?}",
                    self.fake
                        .requests()
                        .iter()
                        .map(|r| format!("{} {}", r.method, r.path))
                        .collect::<Vec<_>>()
                )
            })
    }

    /// Dispatches the slash command `/name`; returns the interaction's id.
    pub async fn slash(&self, name: &str, options: Vec<Value>, user: u64, place: Place) -> String {
        let it = slash_command(name, options, user, place);
        let id = it["id"].as_str().unwrap().to_string();
        assert_eq!(self.fake.dispatch("INTERACTION_CREATE", it).await, 1);
        id
    }

    /// A choice option as Discord sends it: the value registered for that choice's name.
    pub fn choice(&self, command: &str, option: &str, name: &str) -> Value {
        let commands = self.fake.global_commands();
        let cmd = commands
            .iter()
            .find(|c| c["name"] == command)
            .expect("command registered");
        let opt = cmd["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == option)
            .expect("option registered");
        let value = opt["choices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .expect("choice registered")["value"]
            .clone();
        json!({"name": option, "type": opt["type"], "value": value})
    }

    /// The first answer to an interaction (callback), then any edit or follow-up.
    pub async fn interaction_reply(&self, interaction_id: &str) -> RecordedRequest {
        self.request(|r| {
            r.is("POST", "/interactions/*/*/callback") && r.segment(1) == Some(interaction_id)
        })
        .await
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,reactif=info".into()),
        )
        .with_test_writer()
        .try_init();
}

/// The default guild configured: #staff for tickets, "Support Agent" as agent role, #support and
/// #help-forum watched, #alerts for alerts, a 1 s survey delay.
pub async fn configure_default_guild(desk: &Desk) {
    let store = desk.store();
    store
        .save_discord_setup(
            GUILD,
            &DiscordSetup {
                staff_channel_id: Some(ids::STAFF.to_string()),
                alert_channel_id: Some(ids::ALERTS.to_string()),
                show_agent_names: false,
                transcripts: false,
                agent_roles: vec![ids::AGENT_ROLE.to_string()],
                watched: vec![
                    WatchedChannel {
                        channel_id: ids::SUPPORT.to_string(),
                        kind: WatchKind::Text,
                    },
                    WatchedChannel {
                        channel_id: ids::HELP_FORUM.to_string(),
                        kind: WatchKind::Forum,
                    },
                ],
            },
        )
        .await
        .unwrap();
    store
        .save_guild_rules(
            GUILD,
            &GuildRules {
                survey_delay_ms: 1_000,
                ..GuildRules::default()
            },
        )
        .await
        .unwrap();
}

/// Starts `reactif::discord::run` (what `reactif run` runs) against `fake`.
fn start(
    fake: &FakeDiscord,
    desk: &Desk,
    db_url: &str,
    extra: &[(&str, &str)],
    clock: Arc<dyn Clock>,
    health: Arc<Health>,
) -> Running {
    let base = fake.base_url();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let url = db_url.to_string();
    let settings = BotSettings::from_lookup(|k| match k {
        "DISCORD_TOKEN" => Some("fake-token-0123456789abcdefghij".into()),
        "DISCORD_API_URL" => Some(base.clone()),
        "DATABASE_URL" => Some(url.clone()),
        _ => extra
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone()),
    })
    .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(reactif::discord::run_observed(
        settings,
        desk.clone(),
        clock,
        BotOptions {
            survey_tick: Duration::from_millis(100),
            alert_every: Duration::from_secs(3600),
        },
        health,
        async move {
            let _ = stopped.await;
        },
    ));
    Running { stop, task }
}

/// Starts the bot against `fake` on `desk`'s database and returns its task, which a test
/// awaits itself (to see the bot fail at start, say).
pub fn start_task(
    fake: &FakeDiscord,
    desk: &Desk,
    db_url: &str,
) -> (oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>) {
    let health = Arc::new(Health::default());
    let Running { stop, task } = start(fake, desk, db_url, &[], Arc::new(SystemClock), health);
    (stop, task)
}

/// The default world, with the fake echoing what the bot posts (as Discord does).
pub async fn spawn_bot() -> TestBot {
    spawn_with(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[],
    )
    .await
}

/// A bot with this fake world and these extra settings (`("DISCORD_DEV_GUILD_ID", ..)`).
pub async fn spawn_with(config: FakeConfig, extra: &[(&str, &str)]) -> TestBot {
    spawn_clocked(config, extra, Arc::new(SystemClock)).await
}

/// The system clock moved forward by a settable offset, to let a test live "25 hours later".
pub struct ShiftedClock(AtomicI64);

impl ShiftedClock {
    pub fn new() -> Arc<ShiftedClock> {
        Arc::new(ShiftedClock(AtomicI64::new(0)))
    }

    /// From now on the clock is `ms` ahead of the system's.
    pub fn shift(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.0.load(Ordering::SeqCst)
    }
}

pub async fn spawn_clocked(
    config: FakeConfig,
    extra: &[(&str, &str)],
    clock: Arc<dyn Clock>,
) -> TestBot {
    let db = db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    spawn_on(config, extra, clock, db, desk).await
}

/// Starts the bot on `db`, the bot reaching it through `bot_desk` (the same database, or the
/// same database through a proxy that a test can cut).
pub async fn spawn_on(
    config: FakeConfig,
    extra: &[(&str, &str)],
    clock: Arc<dyn Clock>,
    db: TestDb,
    bot_desk: Desk,
) -> TestBot {
    init_tracing();
    let fake = FakeDiscord::start_with(config).await;
    let desk = Desk::new(db.store.clone());
    configure_default_guild(&desk).await;
    let health = Arc::new(Health::default());
    let running = start(
        &fake,
        &bot_desk,
        &db.url,
        extra,
        clock.clone(),
        Arc::clone(&health),
    );
    assert!(fake.wait_identified(WAIT).await, "the bot identified");
    wait_commands_registered(&fake).await;
    TestBot {
        fake,
        desk,
        clock,
        health,
        db: Some(db),
        running: Some(running),
    }
}

/// Commands registered: poise's setup has run, so events are handled from now on.
async fn wait_commands_registered(fake: &FakeDiscord) {
    assert!(fake
        .wait_for_request(
            |r| r.is("PUT", "/applications/*/commands")
                || r.is("PUT", "/applications/*/guilds/*/commands"),
            WAIT
        )
        .await
        .is_some());
}
