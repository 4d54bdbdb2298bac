//! The outbox: what the bot posts is queued with the event that causes it, retried after
//! Discord's failures and rate limits (across restarts), shown once, and given up when Discord
//! refuses it for good.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::{EventKind, MINUTE};
use serde_json::{json, Value};
use std::time::Duration;

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
    // Recorded as sent: nothing of it is left to try again.
    bot.wait_outbox_empty().await;
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
    let pending = bot.desk.store().outbox_backlog(None).await.unwrap().pending;
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
    // Everything recorded as sent: nothing is left to try again.
    bot.wait_outbox_empty().await;
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
    assert_eq!(
        bot.desk.store().outbox_backlog(None).await.unwrap().pending,
        0
    );
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
    // The relay recorded as refused and the notice as sent: nothing is left to try again.
    bot.wait_outbox_empty().await;
    let tries = bot
        .fake
        .requests_matching("POST", &dm)
        .into_iter()
        .filter(|r| r.content().is_some_and(|c| c.contains("call you at noon")))
        .count();
    assert_eq!(tries, 1, "a refusal is not retried");
    assert_eq!(shown(&bot.fake, thread, "does not accept DMs"), 1);
    // The undelivered words are kept in the notice, until it is delivered.
    assert_eq!(
        shown(&bot.fake, thread, "> **Support:** We will call you at noon"),
        1
    );
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
    let clock = ShiftedClock::new();
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
    clock.shift(3 * MINUTE);
    let stuck = stats_content(&bot).await;
    // The relay waits; so does the answer's survey if it fell due once the clock moved.
    assert!(
        (stuck.starts_with("⚠ 1 message(s)") || stuck.starts_with("⚠ 2 message(s)"))
            && stuck.contains("message(s) to Discord waiting, the oldest for 3 min"),
        "{stuck}"
    );
    bot.stop().await;
}

/// Discord leaves the relay of one answer hanging for 10 s: the agent's next answer in the
/// same ticket is relayed without waiting for it, and the hung one still arrives, once.
#[tokio::test]
async fn one_hung_send_does_not_hold_back_the_rest_of_the_ticket() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Two questions").await;
    bot.wait_outbox_empty().await;
    let dm = format!("/channels/{}/messages", ids::CARLA_DM);
    bot.fake
        .hang("POST", &dm, "First answer", 1, Duration::from_secs(10));
    alex_answers(&bot, thread, "First answer").await;
    a_moment_later().await;
    alex_answers(&bot, thread, "Second answer").await;
    let second = bot
        .request(|r| r.is("POST", &dm) && r.content().is_some_and(|c| c.contains("Second answer")))
        .await;
    let first = bot
        .request(|r| r.is("POST", &dm) && r.content().is_some_and(|c| c.contains("First answer")))
        .await;
    assert!(
        second.seq < first.seq,
        "the second answer waited for the hung first one"
    );
    bot.wait_outbox_empty().await;
    assert_eq!(shown(&bot.fake, ids::CARLA_DM, "First answer"), 1);
    assert_eq!(shown(&bot.fake, ids::CARLA_DM, "Second answer"), 1);
    bot.stop().await;
}

/// The staff channel was deleted: Carla's next message finds her thread gone (404) and no
/// new thread can be opened (404). She is told, with her words quoted; nothing is retried in
/// a loop; `/setup` tells the admins why.
#[tokio::test]
async fn a_lost_staff_channel_is_told_to_the_customer_and_in_setup_without_retry_loops() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "First message").await;
    bot.wait_outbox_empty().await;
    let gone = json!({"message": "Unknown Channel", "code": 10003});
    let to_thread = format!("/channels/{thread}/messages");
    let new_thread = format!("/channels/{}/threads", ids::STAFF);
    bot.fake
        .respond_with("POST", &to_thread, 1_000, 404, gone.clone());
    bot.fake.respond_with("POST", &new_thread, 1_000, 404, gone);
    let n = bot.fake.request_count();
    let msg = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Second message",
        now_ms(),
    );
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    let told = bot
        .request(|r| {
            r.seq >= n
                && r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content().is_some_and(|c| {
                    c.contains("refused to deliver") && c.contains("Second message")
                })
        })
        .await;
    let quoted = told.content().unwrap();
    assert!(quoted.contains("\n> **Carla-Customer**"), "{quoted}");
    bot.wait_handled(ids::CARLA_DM).await;
    bot.wait_outbox_empty().await;
    let tries = bot.fake.requests()[n..]
        .iter()
        .filter(|r| r.is("POST", &to_thread))
        .count();
    assert_eq!(tries, 1, "a refusal for good is not retried");
    let opens = bot.fake.requests()[n..]
        .iter()
        .filter(|r| r.is("POST", &new_thread))
        .count();
    assert_eq!(opens, 1, "one try to reopen the thread, no loop");
    let setup = bot
        .slash("setup", vec![], ids::ADA, Place::guild(ids::SUPPORT))
        .await;
    let reply = bot.interaction_reply(&setup).await;
    let text = reply.body.as_ref().unwrap()["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("refused (404)"), "{text}");
    bot.stop().await;
}
