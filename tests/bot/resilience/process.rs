//! The bot's process dies or is told to stop: `reactif run` as a child process, killed or
//! sent SIGTERM, then started again.

use crate::harness::*;
use crate::steps::*;
use crate::support;
use fake_discord::*;
use reactif::desk::Desk;
use reactif::domain::timeline::Timeline;
use reactif::domain::{EventKind, GuildRules};
use serde_json::json;
use std::time::Duration;

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

    a_moment_later().await;
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
    let restarted = BotProcess::start(&fake, &db.url, &log);
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
    // Every message handled and everything queued sent: a second copy would show now.
    wait_handled(&fake, desk.store(), ids::CARLA_DM).await;
    wait_handled(&fake, desk.store(), thread).await;
    wait_outbox_empty(desk.store(), WAIT).await;

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
    restarted.stop(&log).await;
    db.cleanup().await;
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
    let status = process.terminate().await;
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "exit status {status}; log:\n{output}");
    assert!(output.contains("shutting down"), "{output}");
    // The bot closed its gateway connection itself (a close frame), before exiting.
    assert!(
        fake.wait_for_gateway(|s| s.connected == 0, WAIT).await,
        "the gateway is closed"
    );
    assert_eq!(fake.gateway_stats().closed_by_bot, 1, "{output}");
    let pending = desk.store().outbox_backlog(None).await.unwrap().pending;
    assert!(pending >= 1, "the undelivered relay stays queued");
    let stored = desk.store().place_events(GUILD, &dm_key()).await.unwrap();
    assert_eq!(stored.len(), 1, "the message was stored before the stop");

    let sessions = fake.gateway_stats().identifies;
    let restarted = BotProcess::start(&fake, &db.url, &log);
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
    restarted.stop(&log).await;
    db.cleanup().await;
}
