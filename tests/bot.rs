//! The real bot (the code `reactif run` runs) against a fake Discord on 127.0.0.1, with a fresh
//! SQLite database per test. Handlers run concurrently, so every test waits for conditions with
//! timeouts, never for an order.

mod support;

use fake_discord::*;
use reactif::clock::SystemClock;
use reactif::desk::Desk;
use reactif::discord::BotOptions;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::timeline::Timeline;
use reactif::domain::{Event, EventKind, GuildRules, DAY, MINUTE};
use reactif::settings::BotSettings;
use reactif::store::{DiscordSetup, WatchKind, WatchedChannel};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
const GUILD: &str = "1191168956170371082";

struct TestBot {
    fake: FakeDiscord,
    desk: Desk,
    clock: Arc<dyn reactif::clock::Clock>,
    db: Option<support::db::TestDb>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestBot {
    /// Stops the bot process, keeping its database and the fake Discord.
    async fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(WAIT, &mut self.handle).await;
    }

    /// Starts a new bot process on the same database and fake Discord.
    async fn resume(&mut self) {
        let sessions = self.fake.gateway_stats().identifies;
        let url = self.db.as_ref().map(|d| d.url.clone()).unwrap_or_default();
        let (tx, handle) = start(&self.fake, &self.desk, &url, &[], self.clock.clone());
        self.stop = Some(tx);
        self.handle = handle;
        wait_ready(&self.fake, sessions).await;
    }

    async fn wait_event_in(
        &self,
        guild: &str,
        conversation: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> Event {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let events = self
                .desk
                .store()
                .place_events(guild, conversation)
                .await
                .unwrap();
            if let Some(e) = events.into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no such event in {guild}/{conversation}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.handle).await;
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }

    async fn events(&self, conversation: &str) -> Vec<Event> {
        self.desk
            .store()
            .place_events(GUILD, conversation)
            .await
            .unwrap()
    }

    /// Waits until the place (of the default guild) holds an event satisfying `pred`.
    async fn wait_event(&self, conversation: &str, pred: impl Fn(&Event) -> bool) -> Event {
        self.wait_event_in(GUILD, conversation, pred).await
    }

    async fn request(&self, pred: impl Fn(&RecordedRequest) -> bool) -> RecordedRequest {
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

    async fn slash(&self, name: &str, options: Vec<Value>, user: u64, place: Place) -> String {
        let it = slash_command(name, options, user, place);
        let id = it["id"].as_str().unwrap().to_string();
        assert_eq!(self.fake.dispatch("INTERACTION_CREATE", it).await, 1);
        id
    }

    /// A choice option as Discord sends it: the value registered for that choice's name.
    fn choice(&self, command: &str, option: &str, name: &str) -> Value {
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
    async fn interaction_reply(&self, interaction_id: &str) -> RecordedRequest {
        self.request(|r| {
            r.is("POST", "/interactions/*/*/callback") && r.segment(1) == Some(interaction_id)
        })
        .await
    }
}

fn init_tracing() {
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
async fn configure_default_guild(desk: &Desk) {
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
    clock: Arc<dyn reactif::clock::Clock>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
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
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(reactif::discord::run(
        settings,
        desk.clone(),
        clock,
        BotOptions {
            survey_tick: Duration::from_millis(100),
            alert_every: Duration::from_secs(3600),
        },
        async move {
            let _ = rx.await;
        },
    ));
    (tx, handle)
}

async fn spawn_bot() -> TestBot {
    spawn_with(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[],
    )
    .await
}

async fn spawn_with(config: FakeConfig, extra: &[(&str, &str)]) -> TestBot {
    spawn_clocked(config, extra, Arc::new(SystemClock)).await
}

/// The system clock moved forward by a settable offset, to let a test live "25 hours later".
struct ShiftedClock(std::sync::atomic::AtomicI64);

impl reactif::clock::Clock for ShiftedClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn spawn_clocked(
    config: FakeConfig,
    extra: &[(&str, &str)],
    clock: Arc<dyn reactif::clock::Clock>,
) -> TestBot {
    let db = support::db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    spawn_on(config, extra, clock, db, desk).await
}

/// Starts the bot on `db`, the bot reaching it through `bot_desk` (the same database, or the
/// same database through a proxy that a test can cut).
async fn spawn_on(
    config: FakeConfig,
    extra: &[(&str, &str)],
    clock: Arc<dyn reactif::clock::Clock>,
    db: support::db::TestDb,
    bot_desk: Desk,
) -> TestBot {
    init_tracing();
    let fake = FakeDiscord::start_with(config).await;
    let desk = Desk::new(db.store.clone());
    configure_default_guild(&desk).await;
    let (tx, handle) = start(&fake, &bot_desk, &db.url, extra, clock.clone());
    assert!(fake.wait_identified(WAIT).await, "the bot identified");
    // Commands registered: poise's setup has run, so events are handled from now on.
    assert!(fake
        .wait_for_request(
            |r| r.is("PUT", "/applications/*/commands")
                || r.is("PUT", "/applications/*/guilds/*/commands"),
            WAIT
        )
        .await
        .is_some());
    TestBot {
        fake,
        desk,
        clock,
        db: Some(db),
        stop: Some(tx),
        handle,
    }
}

fn dm_key() -> String {
    format!("dm-{}", ids::CARLA_DM)
}

/// Carla writes in DM; returns (message time, staff thread id).
async fn carla_writes(bot: &TestBot, text: &str) -> (i64, u64) {
    let at = now_ms();
    let n = bot.fake.request_count();
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::CARLA, Place::dm(ids::CARLA_DM), text, at),
        )
        .await;
    let relayed = bot
        .request(|r| {
            r.seq >= n
                && r.is("POST", "/channels/*/messages")
                && r.content().is_some_and(|c| c.contains(text))
        })
        .await;
    (at, relayed.segment_id(1).unwrap())
}

async fn alex_answers(bot: &TestBot, thread: u64, text: &str) -> i64 {
    let at = now_ms();
    let mut msg = message_create(ids::ALEX, Place::guild(thread), text, at);
    msg["guild_id"] = json!(GUILD);
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    at
}

#[tokio::test]
async fn a_customer_dm_opens_a_staff_thread_with_the_message() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Hello, my order #42 is late").await;
    let created = bot
        .request(|r| r.is("POST", &format!("/channels/{}/threads", ids::STAFF)))
        .await;
    assert!(created.body.as_ref().unwrap()["name"]
        .as_str()
        .unwrap()
        .contains("Carla-Customer"));
    assert_ne!(thread, ids::STAFF);
    let relayed = bot.fake.messages_in(thread);
    let text = relayed[0]["content"].as_str().unwrap();
    assert!(
        text.contains("Carla-Customer") && text.contains(&ids::CARLA.to_string()),
        "{text}"
    );
    // Never pings: no allowed mentions.
    let post = bot
        .request(|r| r.is("POST", &format!("/channels/{thread}/messages")))
        .await;
    assert_eq!(
        post.body.as_ref().unwrap()["allowed_mentions"]["parse"],
        json!([])
    );
    // The customer is told once that the team has it.
    let ack = bot
        .request(|r| r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM)))
        .await;
    assert!(ack.content().unwrap().contains("support team has it"));
    // A second message goes to the same thread, with no second acknowledgement.
    let (_, again) = carla_writes(&bot, "Any news?").await;
    assert_eq!(again, thread);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let acks = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", ids::CARLA_DM));
    assert_eq!(acks.len(), 1, "one acknowledgement per conversation");
    assert_eq!(
        bot.fake
            .requests_matching("POST", &format!("/channels/{}/threads", ids::STAFF))
            .len(),
        1
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_agent_answer_reaches_the_customer_and_its_delay_is_the_difference_of_snowflake_times() {
    let bot = spawn_bot().await;
    let (asked, thread) = carla_writes(&bot, "Where is my parcel?").await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let answered = alex_answers(&bot, thread, "It left the warehouse today").await;
    let relay = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content().is_some_and(|c| c.contains("warehouse"))
        })
        .await;
    let content = relay.content().unwrap();
    assert!(
        content.starts_with("**Support:**"),
        "agents are anonymous by default: {content}"
    );
    assert!(!content.contains("Alex"), "{content}");
    let answer = bot
        .wait_event(&dm_key(), |e| e.kind == EventKind::AgentMessage)
        .await;
    assert_eq!(answer.at, answered);
    let events = bot.events(&dm_key()).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.requests.len(), 1);
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));
    assert_eq!(
        tl.requests[0].answer.as_ref().unwrap().agent_id,
        ids::ALEX.to_string()
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_note_is_not_relayed() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Refund please").await;
    alex_answers(&bot, thread, "; check the payment first").await;
    bot.wait_event(&dm_key(), |e| e.kind == EventKind::Note)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !bot.fake
            .requests()
            .iter()
            .any(|r| r.content().is_some_and(|c| c.contains("check the payment"))),
        "a note must stay internal"
    );
    bot.stop().await;
}

/// Answers and waits for the survey; returns (survey message, survey id).
async fn answered_and_surveyed(bot: &TestBot) -> (Value, String, u64) {
    let (_, thread) = carla_writes(bot, "My screen is blank").await;
    let answered = alex_answers(bot, thread, "Try holding the power button").await;
    let survey = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && !r.custom_ids().is_empty()
        })
        .await;
    let sent_at = snowflake_ms(id_of(&survey.response["id"]).unwrap());
    assert!(
        sent_at >= answered + 1_000,
        "the survey waits for the survey delay"
    );
    let ids: Vec<String> = survey.custom_ids();
    assert_eq!(ids.len(), 6, "{ids:?}");
    let survey_id = ids[0]
        .strip_prefix("survey:v1:")
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .0
        .to_string();
    assert!(survey
        .content()
        .unwrap()
        .contains("How satisfied are you with this answer?"));
    bot.wait_event(
        &dm_key(),
        |e| matches!(&e.kind, EventKind::SurveySent { survey_id: s, .. } if *s == survey_id),
    )
    .await;
    (survey.response.clone(), survey_id, thread)
}

#[tokio::test]
async fn the_survey_arrives_after_the_survey_delay_and_only_the_customer_can_rate() {
    let bot = spawn_bot().await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    bot.wait_event(
        &dm_key(),
        |e| matches!(&e.kind, EventKind::SurveySent { survey_id: s, .. } if *s == survey_id),
    )
    .await;

    // Someone else's click is refused, ephemerally, and stores nothing.
    let click = button_click(
        &format!("survey:v1:{survey_id}:1"),
        ids::CODY,
        Place::dm(ids::CARLA_DM),
        Some(message.clone()),
    );
    let click_id = click["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", click).await;
    let refused = bot.interaction_reply(&click_id).await;
    assert!(refused.is_ephemeral());
    assert!(refused.content().unwrap().contains("someone else"));

    // The customer's click is stored and the message updated to show it.
    let click = button_click(
        &format!("survey:v1:{survey_id}:4"),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(message),
    );
    let click_id = click["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", click).await;
    let updated = bot.interaction_reply(&click_id).await;
    assert_eq!(updated.body.as_ref().unwrap()["type"], 7, "UPDATE_MESSAGE");
    assert!(updated.content().unwrap().contains("4/5"));
    let rating = bot
        .wait_event(&dm_key(), |e| matches!(e.kind, EventKind::Rating { .. }))
        .await;
    assert_eq!(rating.author_id, ids::CARLA.to_string());
    assert!(!bot
        .events(&dm_key())
        .await
        .iter()
        .any(|e| e.author_id == ids::CODY.to_string()));

    let now = now_ms() + 1;
    let report = bot
        .desk
        .report(
            &Scope {
                guild_id: Some(GUILD.into()),
                ..Scope::default()
            },
            Window {
                from: now - DAY,
                to: now,
                now,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            report.current.surveys_sent,
            report.current.ratings,
            report.current.rating_sum
        ),
        (1, 1, 4)
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_second_answer_before_a_click_replaces_the_survey() {
    let bot = spawn_bot().await;
    let (message, first, thread) = answered_and_surveyed(&bot).await;
    let first_message = id_of(&message["id"]).unwrap();
    carla_writes(&bot, "Still blank").await;
    let n = bot.fake.request_count();
    alex_answers(&bot, thread, "Then please send it to us").await;
    let removed = bot
        .request(|r| {
            r.is(
                "PATCH",
                &format!("/channels/{}/messages/{first_message}", ids::CARLA_DM),
            )
        })
        .await;
    assert_eq!(removed.body.as_ref().unwrap()["components"], json!([]));
    let second = bot
        .request(|r| {
            r.seq >= n
                && r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && !r.custom_ids().is_empty()
        })
        .await;
    assert!(!second.custom_ids()[0].contains(&format!(":{first}:")));
    // The withdrawn survey no longer counts as sent.
    bot.wait_event(
        &dm_key(),
        |e| matches!(&e.kind, EventKind::SurveySent { survey_id, .. } if *survey_id != first),
    )
    .await;
    let now = now_ms() + 1;
    let report = bot
        .desk
        .report(
            &Scope::default(),
            Window {
                from: now - DAY,
                to: now,
                now,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.current.surveys_sent, 1);
    assert_eq!(report.current.answered, 2);
    bot.stop().await;
}

#[tokio::test]
async fn the_comment_modal_stores_the_comment() {
    let bot = spawn_bot().await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    let click = button_click(
        &format!("survey-comment:v1:{survey_id}"),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(message.clone()),
    );
    let click_id = click["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", click).await;
    let modal = bot.interaction_reply(&click_id).await;
    assert_eq!(modal.body.as_ref().unwrap()["type"], 9, "MODAL");
    let submit = modal_submit(
        &format!("survey-comment:v1:{survey_id}"),
        &[("comment", "Quick and kind, thanks")],
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(message),
    );
    let submit_id = submit["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", submit).await;
    let saved = bot.interaction_reply(&submit_id).await;
    assert!(saved.is_ephemeral());
    let comment = bot
        .wait_event(&dm_key(), |e| matches!(e.kind, EventKind::Comment { .. }))
        .await;
    assert_eq!(
        comment.kind,
        EventKind::Comment {
            survey_id,
            text: "Quick and kind, thanks".into()
        }
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_unknown_button_gets_an_ephemeral_explanation() {
    let bot = spawn_bot().await;
    for custom_id in ["survey:v1:123:9", "something-else", "survey:v1:999:3"] {
        let click = button_click(custom_id, ids::CARLA, Place::dm(ids::CARLA_DM), None);
        let id = click["id"].as_str().unwrap().to_string();
        bot.fake.dispatch("INTERACTION_CREATE", click).await;
        let reply = bot.interaction_reply(&id).await;
        assert!(reply.is_ephemeral(), "{custom_id}");
    }
    bot.stop().await;
}

/// Stores a scripted history directly (as an import would), relative to now.
async fn scripted_history(desk: &Desk) -> i64 {
    let now = now_ms();
    let mut n = 0u64;
    let mut ev = |place: &str, author: u64, at: i64, kind: EventKind| {
        n += 1;
        Event {
            id: (snowflake_at(at) + n).to_string(),
            guild_id: GUILD.into(),
            place: place.into(),
            author_id: author.to_string(),
            at,
            kind,
        }
    };
    let events = vec![
        ev("h1", ids::CODY, now - 3 * DAY, EventKind::CustomerMessage),
        ev(
            "h1",
            ids::ALEX,
            now - 3 * DAY + 2 * MINUTE,
            EventKind::AgentMessage,
        ),
        ev("h2", ids::CODY, now - 2 * DAY, EventKind::CustomerMessage),
        ev(
            "h2",
            ids::ALEX,
            now - 2 * DAY + 10 * MINUTE,
            EventKind::AgentMessage,
        ),
        ev(
            "h3",
            ids::CODY,
            now - 60 * MINUTE,
            EventKind::CustomerMessage,
        ),
    ];
    desk.ingest(&events).await.unwrap();
    now
}

fn embed_field(body: &Value, name: &str) -> String {
    body["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
}

#[tokio::test]
async fn stats_by_an_agent_shows_the_figures_of_the_history_with_a_chart() {
    let bot = spawn_bot().await;
    scripted_history(&bot.desk).await;
    let period = bot.choice("stats", "period", "7d");
    let id = bot
        .slash(
            "stats",
            vec![period, option("export", true)],
            ids::ALEX,
            Place::guild(ids::STAFF),
        )
        .await;
    let deferred = bot.interaction_reply(&id).await;
    assert_eq!(deferred.body.as_ref().unwrap()["type"], 5, "deferred first");
    assert!(deferred.is_ephemeral());
    let reply = bot
        .request(|r| {
            r.path.starts_with("/webhooks/")
                && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    let body = reply.body.as_ref().unwrap();
    // By hand: 3 requests, 2 answered (2 min and 10 min), 1 pending; rate 2/2.
    assert!(embed_field(body, "Requests").starts_with("3 "), "{body}");
    assert!(
        embed_field(body, "Requests").contains("2 answered · 0 unanswered · 1 pending"),
        "{body}"
    );
    assert!(
        embed_field(body, "Response rate").starts_with("100.0 %"),
        "{body}"
    );
    assert!(
        embed_field(body, "Response delay")
            .contains("mean 6 min 00 s · median 2 min 00 s · p90 10 min 00 s"),
        "{body}"
    );
    assert!(
        embed_field(body, "Agents").contains(&format!("<@{}> · 2 answered", ids::ALEX)),
        "{body}"
    );
    let names: Vec<&str> = reply
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert!(names.contains(&"reactif-stats.png"), "{names:?}");
    let png = reply
        .attachments
        .iter()
        .find(|a| a.filename == "reactif-stats.png")
        .unwrap();
    assert_eq!(&png.bytes[..4], b"\x89PNG");
    let csv = reply
        .attachments
        .iter()
        .find(|a| a.filename == "reactif-requests.csv")
        .expect("the CSV export");
    assert_eq!(String::from_utf8_lossy(&csv.bytes).lines().count(), 1 + 3);
    bot.stop().await;
}

#[tokio::test]
async fn stats_by_a_non_agent_and_setup_by_a_non_admin_are_refused() {
    let bot = spawn_bot().await;
    let id = bot
        .slash("stats", vec![], ids::OTTO, Place::guild(ids::SUPPORT))
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("Only agents"),
        "{:?}",
        reply.content()
    );

    let id = bot
        .slash(
            "setup",
            vec![option("timezone", "Europe/Paris")],
            ids::ALEX,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("Manage Server"),
        "{:?}",
        reply.content()
    );
    assert_eq!(
        bot.desk.store().guild_rules(GUILD).await.unwrap().timezone,
        chrono_tz::UTC
    );

    // With no option, /setup shows the settings.
    let id = bot
        .slash("setup", vec![], ids::ADA, Place::guild(ids::STAFF))
        .await;
    let reply = bot.interaction_reply(&id).await;
    let shown = reply.content().unwrap();
    assert!(
        shown.contains(&format!("staff channel: <#{}>", ids::STAFF)),
        "{shown}"
    );
    assert!(shown.contains("survey delay: 1 s"), "{shown}");

    // An admin may, and a bad value gets an explanation with an example.
    let id = bot
        .slash(
            "setup",
            vec![option("timezone", "Mars/Olympus")],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("Europe/Paris"),
        "{:?}",
        reply.content()
    );
    let id = bot
        .slash(
            "setup",
            vec![
                option("timezone", "Europe/Paris"),
                option("business_hours", "mon-fri 09:00-18:00"),
                bot.choice("setup", "locale", "fr"),
            ],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(
        reply.content().unwrap().contains("Saved"),
        "{:?}",
        reply.content()
    );
    let rules = bot.desk.store().guild_rules(GUILD).await.unwrap();
    assert_eq!(rules.timezone, chrono_tz::Europe::Paris);
    assert_eq!(
        rules.business_hours.to_string(),
        "mon 09:00-18:00; tue 09:00-18:00; wed 09:00-18:00; thu 09:00-18:00; fri 09:00-18:00"
    );
    assert_eq!(rules.locale, reactif::domain::Locale::Fr);
    bot.stop().await;
}

#[tokio::test]
async fn forum_mode_measures_and_surveys_without_relaying() {
    let bot = spawn_bot().await;
    let post = thread_create(
        ids::GUILD,
        ids::HELP_FORUM,
        "Cannot log in",
        ids::CODY,
        now_ms(),
    );
    let thread = id_of(&post["id"]).unwrap();
    bot.fake.add_channel(post.clone());
    bot.fake.dispatch("THREAD_CREATE", post).await;
    let asked = now_ms();
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::CODY, Place::guild(thread), "I cannot log in", asked),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answered = now_ms();
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(
                ids::ALEX,
                Place::guild(thread),
                "Reset your password here",
                answered,
            ),
        )
        .await;
    let key = thread.to_string();
    let survey = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages")) && !r.custom_ids().is_empty()
        })
        .await;
    assert!(survey.content().unwrap().contains("How satisfied"));
    let events = bot.events(&key).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.conversations.len(), 1);
    assert_eq!(tl.conversations[0].customer_id, ids::CODY.to_string());
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));
    // No relay: no staff thread, no DM.
    assert!(bot
        .fake
        .requests_matching("POST", "/channels/*/threads")
        .is_empty());
    assert!(bot
        .fake
        .requests_matching("POST", "/users/@me/channels")
        .is_empty());
    assert_eq!(
        bot.fake
            .requests_matching("POST", "/channels/*/messages")
            .len(),
        1,
        "only the survey"
    );
    bot.stop().await;
}

#[tokio::test]
async fn close_ends_the_conversation_and_both_sides_are_told() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Thanks, all good").await;
    let id = bot
        .slash("close", vec![], ids::ALEX, Place::guild(thread))
        .await;
    bot.interaction_reply(&id).await;
    bot.wait_event(&dm_key(), |e| e.kind == EventKind::Close)
        .await;
    let told = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content().is_some_and(|c| c.contains("closed"))
        })
        .await;
    assert!(told.content().unwrap().contains("open a new one"));
    // The next DM opens a new conversation, in a new thread.
    let (_, next) = carla_writes(&bot, "One more question").await;
    assert_ne!(next, thread);
    let events = bot.events(&dm_key()).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.conversations.len(), 2);
    bot.stop().await;
}

#[tokio::test]
async fn a_watched_text_channel_counts_replies_to_the_customer() {
    let bot = spawn_bot().await;
    let asked = now_ms();
    let question = message_create(
        ids::CODY,
        Place::guild(ids::SUPPORT),
        "How do I export?",
        asked,
    );
    let question_id = id_of(&question["id"]).unwrap();
    bot.fake.dispatch("MESSAGE_CREATE", question.clone()).await;
    let key = format!("{}:{}", ids::SUPPORT, ids::CODY);
    bot.wait_event(&key, |e| e.kind == EventKind::CustomerMessage)
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answered = now_ms();
    let mut reply = message_create(
        ids::ALEX,
        Place::guild(ids::SUPPORT),
        "Use the export button",
        answered,
    );
    reply["type"] = json!(19);
    reply["message_reference"] = json!({"message_id": question_id.to_string(), "channel_id": ids::SUPPORT.to_string(), "guild_id": GUILD});
    reply["referenced_message"] = question;
    bot.fake.dispatch("MESSAGE_CREATE", reply).await;
    let answer = bot
        .wait_event(&key, |e| e.kind == EventKind::AgentMessage)
        .await;
    assert_eq!(answer.at - asked, answered - asked);
    let survey = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::SUPPORT))
                && !r.custom_ids().is_empty()
        })
        .await;
    assert_eq!(
        survey.body.as_ref().unwrap()["message_reference"]["message_id"],
        question_id.to_string()
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_answer_handled_before_its_question_still_gets_its_survey() {
    let bot = spawn_bot().await;
    let post = thread_create(ids::GUILD, ids::HELP_FORUM, "Billing", ids::CODY, now_ms());
    let thread = id_of(&post["id"]).unwrap();
    bot.fake.add_channel(post.clone());
    bot.fake.dispatch("THREAD_CREATE", post).await;
    let asked = now_ms();
    let question = message_create(
        ids::CODY,
        Place::guild(thread),
        "Why was I charged twice?",
        asked,
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answer = message_create(
        ids::ALEX,
        Place::guild(thread),
        "Refunded, sorry!",
        now_ms(),
    );
    // The gateway delivers the answer first (as after a reconnect or a catch-up).
    bot.fake.dispatch("MESSAGE_CREATE", answer).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    bot.fake.dispatch("MESSAGE_CREATE", question).await;
    let survey = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages")) && !r.custom_ids().is_empty()
        })
        .await;
    assert!(survey.content().unwrap().contains("How satisfied"));
    bot.stop().await;
}

#[tokio::test]
async fn a_token_that_discord_rejects_stops_the_bot_with_a_clear_message() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    fake.respond_with(
        "GET",
        "/users/@me",
        1,
        401,
        json!({"message": "401: Unauthorized", "code": 0}),
    );
    let db = support::db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    let (_tx, handle) = start(&fake, &desk, &db.url, &[], Arc::new(SystemClock));
    let result = tokio::time::timeout(WAIT, handle)
        .await
        .expect("the bot stops by itself")
        .unwrap();
    let err = result
        .expect_err("a rejected token is an error")
        .to_string();
    assert!(err.contains("rejected DISCORD_TOKEN"), "{err}");
    assert!(
        fake.gateway_stats().connections_total == 0,
        "no gateway connection with a bad token"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_dev_guild_gets_its_commands_registered_there() {
    let bot = spawn_with(FakeConfig::default(), &[("DISCORD_DEV_GUILD_ID", GUILD)]).await;
    let put = bot
        .request(|r| r.is("PUT", "/applications/*/guilds/*/commands"))
        .await;
    assert_eq!(put.segment_id(3), Some(ids::GUILD));
    let names: Vec<String> = put
        .body
        .as_ref()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["setup", "stats", "close", "forget-me"]);
    assert!(bot
        .fake
        .requests_matching("PUT", "/applications/*/commands")
        .is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn surveys_and_acknowledgements_speak_the_guild_language() {
    let bot = spawn_bot().await;
    let mut rules = bot.desk.store().guild_rules(GUILD).await.unwrap();
    rules.locale = reactif::domain::Locale::Fr;
    bot.desk
        .store()
        .save_guild_rules(GUILD, &rules)
        .await
        .unwrap();
    let (_, thread) = carla_writes(&bot, "Bonjour").await;
    let ack = bot
        .request(|r| r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM)))
        .await;
    assert!(
        ack.content().unwrap().contains("l'équipe du support"),
        "{:?}",
        ack.content()
    );
    alex_answers(&bot, thread, "Voici la réponse").await;
    let relay = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content().is_some_and(|c| c.contains("Voici"))
        })
        .await;
    assert!(relay.content().unwrap().starts_with("**Support :**"));
    let survey = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && !r.custom_ids().is_empty()
        })
        .await;
    assert!(
        survey.content().unwrap().contains("Êtes-vous satisfait"),
        "{:?}",
        survey.content()
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_customer_in_two_support_guilds_chooses_the_team() {
    const OTHER_GUILD: u64 = 1191168956170372000;
    const OTHER_STAFF: u64 = 1191168956170372001;
    let mut second = default_guild();
    second["id"] = json!(OTHER_GUILD.to_string());
    second["name"] = json!("Second Shop");
    for c in second["channels"].as_array_mut().unwrap() {
        c["guild_id"] = json!(OTHER_GUILD.to_string());
    }
    second["channels"][0]["id"] = json!(OTHER_STAFF.to_string());
    let config = FakeConfig {
        guilds: vec![default_guild(), second],
        ..FakeConfig::default()
    };
    let bot = spawn_with(config, &[]).await;
    bot.fake
        .add_channel(guild_channel_json(OTHER_GUILD, OTHER_STAFF, 0, "staff", 0));
    bot.desk
        .store()
        .save_discord_setup(
            &OTHER_GUILD.to_string(),
            &DiscordSetup {
                staff_channel_id: Some(OTHER_STAFF.to_string()),
                ..DiscordSetup::default()
            },
        )
        .await
        .unwrap();
    let dm = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Which shop am I talking to?",
        now_ms(),
    );
    let dm_id = id_of(&dm["id"]).unwrap();
    bot.fake.dispatch("MESSAGE_CREATE", dm).await;
    let menu = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && !r.custom_ids().is_empty()
        })
        .await;
    let custom_id = menu.custom_ids()[0].clone();
    assert_eq!(custom_id, format!("team:v1:{dm_id}"));
    let options = &menu.body.as_ref().unwrap()["components"][0]["components"][0]["options"];
    assert_eq!(options.as_array().unwrap().len(), 2, "{options}");
    assert!(
        bot.fake
            .requests_matching("POST", "/channels/*/threads")
            .is_empty(),
        "nothing relayed before the choice"
    );
    let pick = component_interaction(
        &custom_id,
        3,
        Some(vec![OTHER_GUILD.to_string()]),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(menu.response.clone()),
    );
    bot.fake.dispatch("INTERACTION_CREATE", pick).await;
    let thread = bot
        .request(|r| r.is("POST", &format!("/channels/{OTHER_STAFF}/threads")))
        .await;
    let thread_id = id_of(&thread.response["id"]).unwrap();
    let relayed = bot
        .request(|r| r.is("POST", &format!("/channels/{thread_id}/messages")))
        .await;
    assert!(relayed
        .content()
        .unwrap()
        .contains("Which shop am I talking to?"));
    bot.wait_event_in(&OTHER_GUILD.to_string(), &dm_key(), |e| {
        e.kind == EventKind::CustomerMessage
    })
    .await;
    // The choice is remembered: the next DM goes straight to that team.
    carla_writes(&bot, "Thanks").await;
    assert_eq!(
        bot.fake
            .requests()
            .iter()
            .filter(|r| r.custom_ids().iter().any(|c| c.starts_with("team:")))
            .count(),
        1
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_survey_closes_after_a_day_and_a_late_click_is_refused() {
    let clock = Arc::new(ShiftedClock(std::sync::atomic::AtomicI64::new(0)));
    let bot = spawn_clocked(FakeConfig::default(), &[], clock.clone()).await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    let message_id = id_of(&message["id"]).unwrap();
    clock
        .0
        .store(DAY + MINUTE, std::sync::atomic::Ordering::SeqCst);
    let closed = bot
        .request(|r| {
            r.is(
                "PATCH",
                &format!("/channels/{}/messages/{message_id}", ids::CARLA_DM),
            )
        })
        .await;
    let body = closed.body.as_ref().unwrap();
    let buttons: Vec<&Value> = body["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().iter())
        .collect();
    assert_eq!(buttons.len(), 6);
    assert!(buttons.iter().all(|b| b["disabled"] == true), "{body}");
    assert!(body["content"].as_str().unwrap().contains("closed"));
    let deadline = tokio::time::Instant::now() + WAIT;
    while bot
        .desk
        .store()
        .survey(&survey_id)
        .await
        .unwrap()
        .unwrap()
        .status
        != reactif::store::SurveyStatus::Closed
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the survey is recorded as closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let click = button_click(
        &format!("survey:v1:{survey_id}:5"),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(message),
    );
    let id = click["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", click).await;
    let refused = bot.interaction_reply(&id).await;
    assert!(refused.is_ephemeral());
    assert!(refused.content().unwrap().contains("closed"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!bot
        .events(&dm_key())
        .await
        .iter()
        .any(|e| matches!(e.kind, EventKind::Rating { .. })));
    bot.stop().await;
}

#[tokio::test]
async fn messages_sent_while_the_bot_was_down_are_caught_up_once_with_exact_delays() {
    let mut bot = spawn_bot().await;
    let (asked, thread) = carla_writes(&bot, "First question").await;
    bot.halt().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let dm = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Are you there?",
        now_ms(),
    );
    assert_eq!(
        bot.fake.dispatch("MESSAGE_CREATE", dm).await,
        0,
        "nobody is connected"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answered = now_ms();
    let mut reply = message_create(
        ids::ALEX,
        Place::guild(thread),
        "Yes: here is your answer",
        answered,
    );
    reply["guild_id"] = json!(GUILD);
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", reply).await, 0);
    bot.resume().await;
    let to_staff = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages"))
                && r.content().is_some_and(|c| c.contains("Are you there?"))
        })
        .await;
    assert!(
        to_staff.content().unwrap().contains("(delayed)"),
        "{:?}",
        to_staff.content()
    );
    let to_customer = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content()
                    .is_some_and(|c| c.contains("here is your answer"))
        })
        .await;
    assert!(to_customer.content().unwrap().contains("(delayed)"));
    let answer = bot
        .wait_event(&dm_key(), |e| e.kind == EventKind::AgentMessage)
        .await;
    assert_eq!(answer.at, answered);
    let events = bot.events(&dm_key()).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.customer_messages.len(), 2);
    assert_eq!(
        tl.requests.len(),
        1,
        "the second message joined the waiting request"
    );
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));

    // Another restart finds nothing new: nothing is relayed twice.
    let relays_before = bot
        .fake
        .requests_matching("POST", &format!("/channels/{thread}/messages"))
        .len();
    bot.halt().await;
    bot.resume().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        bot.fake
            .requests_matching("POST", &format!("/channels/{thread}/messages"))
            .len(),
        relays_before
    );
    let messages = |evs: &[Event]| {
        evs.iter()
            .filter(|e| matches!(e.kind, EventKind::CustomerMessage | EventKind::AgentMessage))
            .count()
    };
    assert_eq!(messages(&bot.events(&dm_key()).await), messages(&events));
    assert_eq!(messages(&events), 3);
    bot.stop().await;
}

/// Who may do what: every command and button, by a customer, an agent, an admin, and a member
/// of another guild. `true` means the action is carried out, `false` that it is refused with an
/// ephemeral explanation.
#[tokio::test]
async fn the_permission_matrix_holds_for_every_command_and_button() {
    const OTHER_GUILD: u64 = 1191168956170373000;
    const OTHER_ADMIN: u64 = 1191168956170373005;
    let mut second = default_guild();
    second["id"] = json!(OTHER_GUILD.to_string());
    second["name"] = json!("Other Guild");
    for c in second["channels"].as_array_mut().unwrap() {
        c["guild_id"] = json!(OTHER_GUILD.to_string());
        let id = id_of(&c["id"]).unwrap();
        c["id"] = json!((id + 1_000).to_string());
    }
    let config = FakeConfig {
        guilds: vec![default_guild(), second],
        echo_bot_events: true,
        ..FakeConfig::default()
    };
    let bot = spawn_with(config, &[]).await;
    scripted_history(&bot.desk).await;

    async fn run(
        bot: &TestBot,
        name: &str,
        options: Vec<Value>,
        user: u64,
        place: Place,
    ) -> RecordedRequest {
        let id = bot.slash(name, options, user, place).await;
        bot.interaction_reply(&id).await
    }
    let staff = Place::guild(ids::STAFF);
    // (command, user, allowed)
    let cases = [
        ("stats", ids::CARLA, false),
        ("stats", ids::OTTO, false),
        ("stats", ids::ALEX, true),
        ("stats", ids::ADA, true),
        ("stats", ids::OLGA, true),
        ("setup", ids::CARLA, false),
        ("setup", ids::ALEX, false),
        ("setup", ids::ADA, true),
        ("setup", ids::OLGA, true),
    ];
    for (command, user, allowed) in cases {
        let reply = run(&bot, command, vec![], user, staff).await;
        let body = reply.body.as_ref().unwrap();
        let refused = body["type"] == 4 && reply.content().is_some_and(|c| c.contains("Only"));
        assert_eq!(!refused, allowed, "/{command} by {user}: {body}");
        assert!(
            reply.is_ephemeral(),
            "/{command} by {user} answers privately"
        );
    }
    // A member of another guild sees only their own guild: the owner of the other guild (all
    // permissions) gets a report of an empty guild, never this guild's figures.
    let mut it = slash_command(
        "stats",
        vec![],
        OTHER_ADMIN,
        Place::guild(ids::STAFF + 1_000),
    );
    it["guild_id"] = json!(OTHER_GUILD.to_string());
    it["member"]["permissions"] = json!("8");
    let id = it["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", it).await;
    bot.interaction_reply(&id).await;
    let reply = bot
        .request(|r| {
            r.path.contains(&id_token_path(&id))
                && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    assert!(
        embed_field(reply.body.as_ref().unwrap(), "Requests").starts_with("0 "),
        "{:?}",
        reply.body
    );

    // /close in a ticket thread: agents yes, a customer who somehow writes there no.
    let (_, thread) = carla_writes(&bot, "Hello").await;
    let reply = run(&bot, "close", vec![], ids::OTTO, Place::guild(thread)).await;
    assert!(
        reply.content().unwrap().contains("Only agents"),
        "{:?}",
        reply.content()
    );
    let reply = run(&bot, "close", vec![], ids::ALEX, Place::guild(thread)).await;
    assert!(
        !reply.is_ephemeral(),
        "the close is announced in the thread"
    );

    // Survey buttons (only the conversation's customer) are covered by
    // the_survey_arrives_after_the_survey_delay_and_only_the_customer_can_rate.
    bot.stop().await;
}

/// The interaction token of the fake's payloads is `tok_{id}`: webhook paths contain it.
fn id_token_path(interaction_id: &str) -> String {
    format!("tok_{interaction_id}")
}

#[tokio::test]
async fn malformed_gateway_payloads_are_dropped_and_the_bot_carries_on() {
    let bot = spawn_bot().await;
    let mut broken = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "broken", now_ms());
    broken["author"] = json!("not a user");
    bot.fake.dispatch("MESSAGE_CREATE", broken).await;
    bot.fake
        .dispatch("MESSAGE_CREATE", json!({"id": "0", "channel_id": null}))
        .await;
    bot.fake
        .dispatch(
            "INTERACTION_CREATE",
            json!({"type": 3, "data": {"custom_id": 7}}),
        )
        .await;
    bot.fake
        .dispatch("TOTALLY_UNKNOWN_EVENT", json!({"x": [1, 2, 3]}))
        .await;
    bot.fake
        .send_raw(json!({"op": 0, "s": 999, "t": "MESSAGE_CREATE", "d": "just a string"}));
    // Empty, very long, attachment-only and sticker-only messages, and mentions: no panic, all
    // stored, nothing pings.
    let (_, thread) = carla_writes(&bot, "@everyone <@&1191169040056451102> hello").await;
    let long = "x".repeat(4_000);
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::CARLA, Place::dm(ids::CARLA_DM), &long, now_ms()),
        )
        .await;
    let mut files = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "", now_ms());
    files["attachments"] = json!([{"id": "1191169174274179199", "filename": "receipt.pdf", "size": 1234, "url": "https://cdn.example/receipt.pdf", "proxy_url": "https://cdn.example/receipt.pdf"}]);
    bot.fake.dispatch("MESSAGE_CREATE", files).await;
    let mut sticker = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "", now_ms());
    sticker["sticker_items"] =
        json!([{"id": "1191169174274179198", "name": "wave", "format_type": 1}]);
    bot.fake.dispatch("MESSAGE_CREATE", sticker).await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content().is_some_and(|c| c.contains("receipt.pdf"))
    })
    .await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content().is_some_and(|c| c.contains("[sticker: wave]"))
    })
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = bot
            .events(&dm_key())
            .await
            .iter()
            .filter(|e| e.kind == EventKind::CustomerMessage)
            .count();
        if n == 4 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} customer messages stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let long_posts: Vec<RecordedRequest> = bot
        .fake
        .requests_matching("POST", &format!("/channels/{thread}/messages"))
        .into_iter()
        .filter(|r| r.content().is_some_and(|c| c.contains("xxxx")))
        .collect();
    assert!(
        long_posts.len() >= 2,
        "a 4,000-character message is relayed in pieces under Discord's limit"
    );
    assert!(long_posts
        .iter()
        .all(|r| r.content().unwrap().chars().count() <= 2_000));
    for r in bot.fake.requests_matching("POST", "/channels/*/messages") {
        assert_eq!(
            r.body.as_ref().unwrap()["allowed_mentions"]["parse"],
            json!([]),
            "{:?}",
            r.body
        );
    }
    bot.stop().await;
}

#[tokio::test]
async fn forget_me_removes_the_customers_ids_and_keeps_the_figures() {
    let bot = spawn_bot().await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    let click = button_click(
        &format!("survey:v1:{survey_id}:5"),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(message),
    );
    let click_id = click["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", click).await;
    bot.interaction_reply(&click_id).await;
    bot.wait_event(&dm_key(), |e| matches!(e.kind, EventKind::Rating { .. }))
        .await;
    let now = now_ms() + 1;
    let window = Window {
        from: now - DAY,
        to: now,
        now,
    };
    let before = bot.desk.report(&Scope::default(), window).await.unwrap();

    let id = bot
        .slash("forget-me", vec![], ids::CARLA, Place::dm(ids::CARLA_DM))
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("1 conversation"),
        "{:?}",
        reply.content()
    );
    let all = bot.desk.store().events_until(None, i64::MAX).await.unwrap();
    assert!(!all
        .iter()
        .any(|e| e.author_id == ids::CARLA.to_string() || e.place == dm_key()));
    assert!(bot
        .desk
        .store()
        .ticket(GUILD, &ids::CARLA.to_string())
        .await
        .unwrap()
        .is_none());
    let after = bot.desk.report(&Scope::default(), window).await.unwrap();
    assert_eq!(
        reactif::report::json::report(&after),
        reactif::report::json::report(&before)
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_relay_that_discord_fails_is_retried_until_delivered_once() {
    let bot = spawn_bot().await;
    // The first message post (the relay into the new thread) fails with a 500.
    bot.fake.respond_with(
        "POST",
        "/channels/*/messages",
        1,
        500,
        json!({"message": "Internal Server Error", "code": 0}),
    );
    let at = now_ms();
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "Is anyone there?", at),
        )
        .await;
    let failed = bot
        .request(|r| r.is("POST", "/channels/*/messages") && r.status == 500)
        .await;
    let thread = failed.segment_id(1).unwrap();
    let delivered = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages"))
                && r.status == 200
                && r.content().is_some_and(|c| c.contains("Is anyone there?"))
        })
        .await;
    assert!(delivered.seq > failed.seq);
    assert_eq!(
        delivered.body.as_ref().unwrap()["enforce_nonce"],
        true,
        "retries carry a nonce"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let deliveries = bot
        .fake
        .requests_matching("POST", &format!("/channels/{thread}/messages"))
        .into_iter()
        .filter(|r| r.status == 200 && r.content().is_some_and(|c| c.contains("Is anyone there?")))
        .count();
    assert_eq!(deliveries, 1, "delivered once");
    bot.stop().await;
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Hello").await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.content()
                .is_some_and(|c| c.contains("support team has it"))
    })
    .await;
    bot.fake.rate_limit(
        "POST",
        &format!("/channels/{}/messages", ids::CARLA_DM),
        1,
        1.5,
    );
    alex_answers(&bot, thread, "Rate limited answer").await;
    let limited = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM)) && r.status == 429
        })
        .await;
    let limited_at = std::time::Instant::now();
    bot.request(|r| {
        r.seq > limited.seq
            && r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.status == 200
            && r.content()
                .is_some_and(|c| c.contains("Rate limited answer"))
    })
    .await;
    assert!(
        limited_at.elapsed() >= Duration::from_millis(1_300),
        "waited for retry_after: {:?}",
        limited_at.elapsed()
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_queued_relay_survives_a_restart() {
    let mut bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Hello").await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.content()
                .is_some_and(|c| c.contains("support team has it"))
    })
    .await;
    // The DM keeps failing while the bot runs.
    bot.fake.respond_with(
        "POST",
        &format!("/channels/{}/messages", ids::CARLA_DM),
        2,
        503,
        json!({"message": "Service Unavailable", "code": 0}),
    );
    alex_answers(&bot, thread, "Answer through an outage").await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM)) && r.status == 503
    })
    .await;
    bot.halt().await;
    let (pending, _) = bot.desk.store().outbox_backlog(None).await.unwrap();
    assert_eq!(pending, 1, "the relay waits in the outbox");
    bot.resume().await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.status == 200
            && r.content()
                .is_some_and(|c| c.contains("Answer through an outage"))
    })
    .await;
    wait_outbox_empty(bot.desk.store(), WAIT).await;
    bot.stop().await;
}

/// How many messages in `channel` contain `text` (what Discord shows, not what was tried).
fn shown(fake: &FakeDiscord, channel: u64, text: &str) -> usize {
    fake.messages_in(channel)
        .iter()
        .filter(|m| m["content"].as_str().is_some_and(|c| c.contains(text)))
        .count()
}

/// Discord takes the message but the answer is lost (a 500 after the fact): the bot retries
/// with the same nonce, and Discord (as the fake does) returns the first copy. A relay and a
/// survey each appear once, and the survey's recorded message is the one shown.
#[tokio::test]
async fn a_message_whose_answer_is_lost_is_retried_and_shown_once() {
    let bot = spawn_bot().await;
    let dm = format!("/channels/{}/messages", ids::CARLA_DM);
    let (_, thread) = carla_writes(&bot, "Where is my parcel?").await;
    bot.request(|r| r.is("POST", &dm) && r.status == 200).await; // the acknowledgement
    let lost = |what: &str| {
        bot.fake.respond_after_doing(
            "POST",
            &dm,
            what,
            1,
            500,
            json!({"message": "Internal Server Error", "code": 0}),
        )
    };
    lost("left the warehouse");
    lost("survey:v1:");
    let n = bot.fake.request_count();
    alex_answers(&bot, thread, "It left the warehouse today").await;
    bot.request(|r| r.seq >= n && r.is("POST", &dm) && r.status == 500)
        .await;
    bot.request(|r| {
        r.seq >= n
            && r.is("POST", &dm)
            && r.status == 200
            && r.content()
                .is_some_and(|c| c.contains("left the warehouse"))
    })
    .await;
    // The survey (1 s later) meets the same fault.
    let survey_sent = bot
        .wait_event(&dm_key(), |e| {
            matches!(e.kind, EventKind::SurveySent { .. })
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(shown(&bot.fake, ids::CARLA_DM, "left the warehouse"), 1);
    let surveys: Vec<Value> = bot
        .fake
        .messages_in(ids::CARLA_DM)
        .into_iter()
        .filter(|m| m["components"].as_array().is_some_and(|c| !c.is_empty()))
        .collect();
    assert_eq!(surveys.len(), 1, "one survey shown");
    assert_eq!(surveys[0]["id"].as_str(), Some(survey_sent.id.as_str()));
    let posts = bot
        .fake
        .requests_matching("POST", &dm)
        .into_iter()
        .filter(|r| r.custom_ids().iter().any(|c| c.starts_with("survey:v1:")))
        .count();
    assert!(
        posts >= 2,
        "the survey was tried again after the lost answer"
    );
    let sent_events = bot
        .events(&dm_key())
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::SurveySent { .. }))
        .count();
    assert_eq!(sent_events, 1);
    assert_eq!(bot.desk.store().outbox_backlog(None).await.unwrap().0, 0);
    bot.stop().await;
}

/// A customer whose DMs are closed: Discord answers 403 and the agents are told in the thread,
/// once; nothing is retried.
#[tokio::test]
async fn a_customer_with_closed_dms_is_reported_in_the_thread() {
    let bot = spawn_bot().await;
    let dm = format!("/channels/{}/messages", ids::CARLA_DM);
    let (_, thread) = carla_writes(&bot, "Please call me back").await;
    bot.request(|r| r.is("POST", &dm) && r.status == 200).await;
    bot.fake.respond_with(
        "POST",
        &dm,
        5,
        403,
        json!({"message": "Cannot send messages to this user", "code": 50007}),
    );
    alex_answers(&bot, thread, "We will call you at noon").await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content()
                .is_some_and(|c| c.contains("does not accept DMs"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let tries = bot
        .fake
        .requests_matching("POST", &dm)
        .into_iter()
        .filter(|r| r.content().is_some_and(|c| c.contains("call you at noon")))
        .count();
    assert_eq!(tries, 1, "a refusal is not retried");
    assert_eq!(shown(&bot.fake, thread, "does not accept DMs"), 1);
    bot.stop().await;
}

/// Transcripts are off by default (no content anywhere in the database); a guild that turns
/// them on gets each message's text, and `/forget-me` erases it.
#[tokio::test]
async fn message_content_is_stored_only_with_transcripts_on() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "secret-before-transcripts").await;
    alex_answers(&bot, thread, "agent-before-transcripts").await;
    bot.wait_event(&dm_key(), |e| e.kind == EventKind::AgentMessage)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let store = bot.desk.store();
    assert!(store.transcript(GUILD, &dm_key()).await.unwrap().is_empty());
    // Relayed text passes through the outbox, whose bodies are emptied once delivered.
    let url = bot.db.as_ref().unwrap().url.clone();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE body LIKE '%before-transcripts%'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if n == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "relayed text left in the outbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events WHERE body LIKE '%before-transcripts%' OR id LIKE '%before%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(n, 0);
    pool.close().await;
    let mut setup = store.discord_setup(GUILD).await.unwrap();
    setup.transcripts = true;
    store.save_discord_setup(GUILD, &setup).await.unwrap();
    carla_writes(&bot, "kept-with-transcripts").await;
    let lines = {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let lines = store.transcript(GUILD, &dm_key()).await.unwrap();
            if !lines.is_empty() || tokio::time::Instant::now() > deadline {
                break lines;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].content, "kept-with-transcripts");
    assert_eq!(lines[0].author_id, ids::CARLA.to_string());
    reactif::desk::Desk::new(store.clone())
        .forget_customer(&ids::CARLA.to_string())
        .await
        .unwrap();
    assert!(store.transcript(GUILD, &dm_key()).await.unwrap().is_empty());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE conversation = $1 OR ticket_customer_id = $2",
    )
    .bind(dm_key())
    .bind(ids::CARLA.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(n, 0, "the outbox forgets the customer too");
    pool.close().await;
    bot.stop().await;
}

/// The `content` line of a `/stats` reply by Alex.
async fn stats_content(bot: &TestBot) -> String {
    let period = bot.choice("stats", "period", "7d");
    let n = bot.fake.request_count();
    bot.slash("stats", vec![period], ids::ALEX, Place::guild(ids::STAFF))
        .await;
    let reply = bot
        .request(|r| {
            r.seq >= n
                && r.path.starts_with("/webhooks/")
                && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    reply.body.as_ref().unwrap()["content"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// `/stats` tells agents when messages to Discord are stuck, and only then.
#[tokio::test]
async fn stats_shows_a_stuck_backlog() {
    let clock = Arc::new(ShiftedClock(std::sync::atomic::AtomicI64::new(0)));
    let bot = spawn_clocked(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[],
        clock.clone(),
    )
    .await;
    let dm = format!("/channels/{}/messages", ids::CARLA_DM);
    let (_, thread) = carla_writes(&bot, "Hello").await;
    bot.request(|r| r.is("POST", &dm) && r.status == 200).await;
    bot.fake.respond_with(
        "POST",
        &dm,
        100_000,
        503,
        json!({"message": "Service Unavailable", "code": 0}),
    );
    alex_answers(&bot, thread, "An answer that waits").await;
    bot.request(|r| r.is("POST", &dm) && r.status == 503).await;
    let fresh = stats_content(&bot).await;
    assert!(
        !fresh.contains("waiting"),
        "a fresh retry is not news: {fresh}"
    );
    clock
        .0
        .store(3 * MINUTE, std::sync::atomic::Ordering::SeqCst);
    let stuck = stats_content(&bot).await;
    // The relay waits; so does the answer's survey if it fell due once the clock moved.
    assert!(
        (stuck.starts_with("⚠ 1 message(s)") || stuck.starts_with("⚠ 2 message(s)"))
            && stuck.contains("message(s) to Discord waiting, the oldest for 3 min"),
        "{stuck}"
    );
    bot.stop().await;
}

/// Waits until every message the bot queued for Discord has gone.
async fn wait_outbox_empty(store: &reactif::store::DynStore, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    while store.outbox_backlog(None).await.unwrap().0 > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the outbox empties");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `reactif run` as a separate process, so that a test can kill it without warning.
struct BotProcess {
    child: std::process::Child,
}

impl BotProcess {
    fn start(fake: &FakeDiscord, db_url: &str, log: &std::path::Path) -> BotProcess {
        let log = std::fs::File::create(log).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_reactif"))
            .arg("run")
            .env("DISCORD_TOKEN", "fake-token-0123456789abcdefghij")
            .env("DISCORD_API_URL", fake.base_url())
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "warn,reactif=info")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("reactif run starts");
        BotProcess { child }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until a bot (re)started after `sessions_before` identifications has identified.
async fn wait_ready(fake: &FakeDiscord, sessions_before: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while fake.gateway_stats().identifies <= sessions_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the (re)started bot identified"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The bot process is killed (SIGKILL) in the middle of a conversation, with a relay still in
/// its outbox; the customer writes while it is down. On restart every message is stored once,
/// the delay is exact, and each relay is delivered once.
#[tokio::test]
async fn a_killed_bot_loses_nothing_and_sends_nothing_twice() {
    init_tracing();
    let fake = FakeDiscord::start_with(FakeConfig {
        echo_bot_events: true,
        ..FakeConfig::default()
    })
    .await;
    let db = support::db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    configure_default_guild(&desk).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bot.log");
    let print_log = || std::fs::read_to_string(dir.path().join("bot.log")).unwrap_or_default();
    let process = BotProcess::start(&fake, &db.url, &log);
    wait_ready(&fake, 0).await;
    let dm = format!("/channels/{}/messages", ids::CARLA_DM);
    let wait = |pred: Box<dyn Fn(&RecordedRequest) -> bool + Send + Sync>| {
        let fake = &fake;
        let print_log = &print_log;
        async move {
            fake.wait_for_request(pred, WAIT).await.unwrap_or_else(|| {
                let made: Vec<String> = fake
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} {} {:?}", r.method, r.path, r.status, r.content()))
                    .collect();
                panic!(
                    "expected request not made; made: {made:#?}\nbot log:\n{}",
                    print_log()
                )
            })
        }
    };

    let asked = now_ms();
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create(
            ids::CARLA,
            Place::dm(ids::CARLA_DM),
            "My screen is blank",
            asked,
        ),
    )
    .await;
    let relayed = wait(Box::new(|r| {
        r.is("POST", "/channels/*/messages")
            && r.status == 200
            && r.content().is_some_and(|c| c.contains("screen is blank"))
    }))
    .await;
    let thread = relayed.segment_id(1).unwrap();
    let dm_ok = dm.clone();
    wait(Box::new(move |r| r.is("POST", &dm_ok) && r.status == 200)).await; // acknowledgement

    // Discord fails the answer's relay; the bot dies right after the first try.
    fake.respond_with(
        "POST",
        &dm,
        2,
        500,
        json!({"message": "Internal Server Error", "code": 0}),
    );
    let answered = now_ms();
    let mut reply = message_create(
        ids::ALEX,
        Place::guild(thread),
        "Hold the power button",
        answered,
    );
    reply["guild_id"] = json!(GUILD);
    fake.dispatch("MESSAGE_CREATE", reply).await;
    let dm_500 = dm.clone();
    wait(Box::new(move |r| r.is("POST", &dm_500) && r.status == 500)).await;
    process.kill();

    tokio::time::sleep(Duration::from_millis(20)).await;
    let later = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Still blank",
        now_ms(),
    );
    assert_eq!(
        fake.dispatch("MESSAGE_CREATE", later).await,
        0,
        "the bot is down"
    );

    let sessions = fake.gateway_stats().identifies;
    let _process = BotProcess::start(&fake, &db.url, &log);
    wait_ready(&fake, sessions).await;
    let thread_path = format!("/channels/{thread}/messages");
    wait(Box::new(move |r| {
        r.is("POST", &thread_path)
            && r.status == 200
            && r.content()
                .is_some_and(|c| c.contains("Still blank") && c.contains("(delayed)"))
    }))
    .await;
    let dm_done = dm.clone();
    wait(Box::new(move |r| {
        r.is("POST", &dm_done)
            && r.status == 200
            && r.content()
                .is_some_and(|c| c.contains("Hold the power button"))
    }))
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    assert_eq!(
        shown(&fake, ids::CARLA_DM, "Hold the power button"),
        1,
        "{}",
        print_log()
    );
    assert_eq!(shown(&fake, thread, "Still blank"), 1);
    assert_eq!(shown(&fake, thread, "screen is blank"), 1);
    let events = desk.store().place_events(GUILD, &dm_key()).await.unwrap();
    let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count();
    assert_eq!(count(EventKind::CustomerMessage), 2);
    assert_eq!(count(EventKind::AgentMessage), 1);
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));
    drop(_process);
    db.cleanup().await;
}

/// Carla's DMs and the relays they caused, counted once the database is back: every message
/// stored once and relayed once.
async fn assert_each_stored_and_relayed_once(bot: &TestBot, thread: u64, texts: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let stored = bot
            .events(&dm_key())
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::CustomerMessage)
            .count();
        let relayed = texts.iter().all(|t| shown(&bot.fake, thread, t) >= 1);
        if stored > texts.len() && relayed {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stored {stored} of {} messages once the database came back",
            texts.len() + 1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for t in texts {
        assert_eq!(shown(&bot.fake, thread, t), 1, "{t} relayed once");
    }
    let events = bot.events(&dm_key()).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::CustomerMessage)
            .count(),
        texts.len() + 1
    );
}

async fn carla_sends(bot: &TestBot, texts: &[String]) {
    for t in texts {
        let msg = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), t, now_ms());
        assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", msg).await, 1);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// Another process holds the SQLite file's write lock longer than the bot's busy timeout (10 s):
/// the messages that arrive meanwhile wait in memory, are retried, and are all stored and
/// relayed once the lock goes.
#[tokio::test]
async fn messages_wait_while_the_sqlite_file_is_locked() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Before the lock").await;
    let url = bot.db.as_ref().unwrap().url.clone();
    let mut locker = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    let texts: Vec<String> = (1..=3).map(|i| format!("During the lock #{i}")).collect();
    carla_sends(&bot, &texts).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        shown(&bot.fake, thread, "During the lock"),
        0,
        "nothing relayed before it is stored"
    );
    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    drop(locker);
    assert_each_stored_and_relayed_once(&bot, thread, &texts).await;
    bot.stop().await;
}

/// PostgreSQL becomes unreachable for several seconds (every connection cut and refused, by a
/// proxy between the bot and the server) while messages arrive: they are all stored and relayed
/// once it answers again.
#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn messages_wait_while_postgres_is_unreachable() {
    use std::net::ToSocketAddrs;
    let db = support::db::postgres().await;
    let authority = db
        .url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|a| a.rsplit('@').next().unwrap_or(a).to_string())
        .unwrap();
    let target = authority
        .to_socket_addrs()
        .unwrap()
        .next()
        .expect("the server's address");
    let proxy = support::tcp_proxy::TcpProxy::start(target).await;
    let through_proxy = db
        .url
        .replacen(&authority, &format!("127.0.0.1:{}", proxy.port), 1);
    let bot_store = reactif::store::open(&through_proxy).await.unwrap();
    let bot = spawn_on(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[],
        Arc::new(SystemClock),
        db,
        Desk::new(bot_store),
    )
    .await;
    let (_, thread) = carla_writes(&bot, "Before the outage").await;
    proxy.down().await;
    let texts: Vec<String> = (1..=3).map(|i| format!("During the outage #{i}")).collect();
    carla_sends(&bot, &texts).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(shown(&bot.fake, thread, "During the outage"), 0);
    proxy.up();
    assert_each_stored_and_relayed_once(&bot, thread, &texts).await;
    bot.stop().await;
}

/// SIGTERM (what service managers send): the bot finishes what it holds, closes the gateway and
/// exits 0; a relay still waiting for Discord stays queued and goes out once after the restart.
#[tokio::test]
async fn sigterm_stops_the_bot_cleanly_and_keeps_the_outbox() {
    init_tracing();
    let fake = FakeDiscord::start_with(FakeConfig {
        echo_bot_events: true,
        ..FakeConfig::default()
    })
    .await;
    let db = support::db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    configure_default_guild(&desk).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bot.log");
    let mut process = BotProcess::start(&fake, &db.url, &log);
    wait_ready(&fake, 0).await;
    fake.respond_with(
        "POST",
        "/channels/*/messages",
        3,
        503,
        json!({"message": "Service Unavailable", "code": 0}),
    );
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create(
            ids::CARLA,
            Place::dm(ids::CARLA_DM),
            "Hello before the stop",
            now_ms(),
        ),
    )
    .await;
    fake.wait_for_request(|r| r.status == 503, WAIT)
        .await
        .expect("the relay was tried");
    let pid = process.child.id().to_string();
    let term_sent = std::time::Instant::now();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(s) = process.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            term_sent.elapsed() < Duration::from_secs(30),
            "the bot did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "exit status {status}; log:\n{output}");
    assert!(output.contains("shutting down"), "{output}");
    assert_eq!(fake.gateway_stats().connected, 0, "the gateway is closed");
    let (pending, _) = desk.store().outbox_backlog(None).await.unwrap();
    assert!(pending >= 1, "the undelivered relay stays queued");
    let stored = desk.store().place_events(GUILD, &dm_key()).await.unwrap();
    assert_eq!(stored.len(), 1, "the message was stored before the stop");

    let sessions = fake.gateway_stats().identifies;
    let _process = BotProcess::start(&fake, &db.url, &log);
    wait_ready(&fake, sessions).await;
    wait_outbox_empty(desk.store(), Duration::from_secs(30)).await;
    let thread = fake
        .requests_matching("POST", "/channels/*/threads")
        .first()
        .and_then(|r| {
            r.response["id"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
        })
        .expect("a ticket thread");
    assert_eq!(shown(&fake, thread, "Hello before the stop"), 1);
    drop(_process);
    db.cleanup().await;
}

/// The gateway misbehaves the ways Discord's does: RECONNECT (op 7), a dropped websocket, and
/// INVALID_SESSION (op 9). Messages around and during each are stored and relayed once.
#[tokio::test]
async fn reconnects_and_invalid_sessions_lose_and_duplicate_nothing() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Message one").await;
    let wait_sessions = |before: GatewayStats| {
        let fake = &bot.fake;
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let now = fake.gateway_stats();
                if now.connected >= 1
                    && now.identifies + now.resumes > before.identifies + before.resumes
                {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the bot came back: {now:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let send = |text: &str| {
        let msg = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), text, now_ms());
        bot.fake.dispatch("MESSAGE_CREATE", msg)
    };

    let before = bot.fake.gateway_stats();
    bot.fake.send_reconnect();
    wait_sessions(before).await;
    send("Message two").await;

    let before = bot.fake.gateway_stats();
    bot.fake.drop_connections();
    // Posted while nobody is connected: only the catch-up can find it.
    send("Message three").await;
    wait_sessions(before).await;

    let before = bot.fake.gateway_stats();
    bot.fake.send_invalid_session(false);
    wait_sessions(before).await;
    send("Message four").await;

    let texts = [
        "Message one",
        "Message two",
        "Message three",
        "Message four",
    ];
    let deadline = tokio::time::Instant::now() + WAIT;
    while !texts.iter().all(|t| shown(&bot.fake, thread, t) >= 1) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "relayed: {:?}",
            texts.map(|t| shown(&bot.fake, thread, t))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for t in texts {
        assert_eq!(shown(&bot.fake, thread, t), 1, "{t} relayed once");
    }
    let customer = bot
        .events(&dm_key())
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::CustomerMessage)
        .count();
    assert_eq!(customer, 4);
    bot.stop().await;
}

/// Someone deleted the ticket thread: the customer's next message opens a new one and arrives
/// there, once; agents answer from the new thread.
#[tokio::test]
async fn a_deleted_ticket_thread_is_reopened_on_the_next_message() {
    let bot = spawn_bot().await;
    let (_, old) = carla_writes(&bot, "First message").await;
    bot.fake.respond_with(
        "POST",
        &format!("/channels/{old}/messages"),
        1_000,
        404,
        json!({"message": "Unknown Channel", "code": 10003}),
    );
    let threads_before = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/threads", ids::STAFF))
        .len();
    let (_, new) = {
        let n = bot.fake.request_count();
        bot.fake
            .dispatch(
                "MESSAGE_CREATE",
                message_create(
                    ids::CARLA,
                    Place::dm(ids::CARLA_DM),
                    "Second message",
                    now_ms(),
                ),
            )
            .await;
        let delivered = bot
            .request(|r| {
                r.seq >= n
                    && r.is("POST", "/channels/*/messages")
                    && r.status == 200
                    && r.content().is_some_and(|c| c.contains("Second message"))
            })
            .await;
        ((), delivered.segment_id(1).unwrap())
    };
    assert_ne!(new, old, "a new thread");
    assert_eq!(
        bot.fake
            .requests_matching("POST", &format!("/channels/{}/threads", ids::STAFF))
            .len(),
        threads_before + 1
    );
    assert_eq!(shown(&bot.fake, new, "Second message"), 1);
    alex_answers(&bot, new, "Answer from the new thread").await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.status == 200
            && r.content()
                .is_some_and(|c| c.contains("Answer from the new thread"))
    })
    .await;
    bot.stop().await;
}

/// A forum post opened while the bot was down has no cursor: the catch-up finds it among the
/// guild's active threads and reads it from its creation, with exact times.
#[tokio::test]
async fn a_forum_post_opened_while_the_bot_was_down_is_caught_up() {
    let mut bot = spawn_bot().await;
    bot.halt().await;
    let asked = now_ms();
    let post = thread_create(
        ids::GUILD,
        ids::HELP_FORUM,
        "Printer on fire",
        ids::CODY,
        asked,
    );
    let thread = id_of(&post["id"]).unwrap();
    bot.fake.add_channel(post);
    // A forum post's first message has the post's id.
    let mut first = message_create(ids::CODY, Place::guild(thread), "It is on fire", asked);
    first["id"] = json!(thread.to_string());
    first["guild_id"] = json!(GUILD);
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", first).await, 0);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answered = now_ms();
    let mut reply = message_create(ids::ALEX, Place::guild(thread), "Unplug it", answered);
    reply["guild_id"] = json!(GUILD);
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", reply).await, 0);
    bot.resume().await;
    let key = thread.to_string();
    let answer = bot
        .wait_event(&key, |e| e.kind == EventKind::AgentMessage)
        .await;
    assert_eq!(answer.at, answered);
    let events = bot.events(&key).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.customer_messages.len(), 1);
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));
    bot.stop().await;
}

/// A new customer's first DM while the bot is down: no catch-up can find the DM channel, but
/// their next message reveals it, and what they wrote before is read first, with its own time.
#[tokio::test]
async fn a_new_customers_dm_sent_while_the_bot_was_down_is_read_at_their_next_message() {
    let mut bot = spawn_bot().await;
    bot.halt().await;
    let asked = now_ms();
    let first = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Hello? Anyone?",
        asked,
    );
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", first).await, 0);
    bot.resume().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, thread) = carla_writes(&bot, "Second try").await;
    let early = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages"))
                && r.content().is_some_and(|c| c.contains("Hello? Anyone?"))
        })
        .await;
    assert!(early.content().unwrap().contains("(delayed)"));
    let second = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages"))
                && r.content().is_some_and(|c| c.contains("Second try"))
        })
        .await;
    assert!(early.seq < second.seq, "in the order they were written");
    let events = bot.events(&dm_key()).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.customer_messages.len(), 2);
    assert_eq!(
        tl.requests.len(),
        1,
        "one request, started by the first message"
    );
    assert_eq!(tl.requests[0].start, asked);
    bot.stop().await;
}
