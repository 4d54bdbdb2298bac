//! Service levels on Discord: the warning before a breach (to the agent roles only, once,
//! across restarts, cancelled by the answer), the breach line, and the auto-close (the
//! customer told, the ticket thread archived, cancelled by a customer message, caught up
//! after downtime at its own moment). The bot's clock is moved forward (`ShiftedClock`); the
//! messages keep the times their snowflakes carry.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::timeline::{Closer, End, Timeline};
use reactif::domain::{EventKind, GuildRules, Millis, MINUTE, SECOND};
use reactif::store::SlaTimerRow;
use serde_json::json;
use std::sync::Arc;

const WARNING: &str = "Still unanswered";

async fn sla_bot(settings: &[(&str, &str)]) -> (TestBot, Arc<ShiftedClock>) {
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
    let rules = GuildRules {
        survey_delay_ms: 1_000,
        ..GuildRules::default()
    }
    .with_sla_settings(settings)
    .unwrap();
    bot.store().save_guild_rules(GUILD, &rules).await.unwrap();
    (bot, clock)
}

async fn timers(bot: &TestBot, place: &str) -> Vec<SlaTimerRow> {
    bot.store().sla_timers_in_place(GUILD, place).await.unwrap()
}

/// Waits until the place's timers satisfy `pred`.
async fn wait_timers(
    bot: &TestBot,
    place: &str,
    what: &str,
    pred: impl Fn(&[SlaTimerRow]) -> bool,
) {
    let pred = &pred;
    eventually(what, WAIT, move || async move {
        pred(&timers(bot, place).await).then_some(())
    })
    .await;
}

fn has(rows: &[SlaTimerRow], kind: &str, done: bool) -> bool {
    rows.iter().any(|r| r.kind == kind && r.done == done)
}

/// Cody writes in the support channel: a second conversation whose timers come after Carla's.
/// Returns (place, question message).
async fn cody_writes(bot: &TestBot, text: &str) -> (String, serde_json::Value) {
    let msg = message_create(ids::CODY, Place::guild(ids::SUPPORT), text, now_ms());
    bot.fake.dispatch("MESSAGE_CREATE", msg.clone()).await;
    bot.wait_handled(ids::SUPPORT).await;
    (format!("{}:{}", ids::SUPPORT, ids::CODY), msg)
}

fn warnings_in(bot: &TestBot, channel: u64) -> Vec<RecordedRequest> {
    bot.fake
        .requests_matching("POST", &format!("/channels/{channel}/messages"))
        .into_iter()
        .filter(|r| r.content().is_some_and(|c| c.contains(WARNING)))
        .collect()
}

#[tokio::test]
async fn a_warning_mentions_only_the_agent_role_once_and_survives_restarts() {
    // 10 min target, warned 20 % (2 min) before: at 8 min.
    let (mut bot, clock) = sla_bot(&[("first_response", "10m")]).await;
    let (asked, thread) = carla_writes(&bot, "My order is late").await;
    let place = dm_key();
    wait_timers(&bot, &place, "the warning planned", |t| {
        has(t, "warning:first_response", false)
    })
    .await;
    let planned = timers(&bot, &place).await;
    let warning_row = planned
        .iter()
        .find(|t| t.kind == "warning:first_response")
        .unwrap();
    assert_eq!(warning_row.due_at, asked + 8 * MINUTE);

    // Down across the warning's moment: it comes once the bot is back, not lost.
    bot.halt().await;
    clock.shift(8 * MINUTE + SECOND);
    bot.resume().await;
    let warning = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages"))
                && r.content().is_some_and(|c| c.contains(WARNING))
        })
        .await;
    let body = warning.body.clone().unwrap();
    assert_eq!(
        body["allowed_mentions"],
        json!({"parse": [], "roles": [ids::AGENT_ROLE.to_string()]})
    );
    let content = warning.content().unwrap();
    assert!(
        content.contains(&format!("<@&{}>", ids::AGENT_ROLE)),
        "{content}"
    );
    assert!(
        !content.contains("@everyone")
            && !content.contains("<@!")
            && !content.contains(&format!("<@{}", ids::CARLA))
    );
    assert!(
        content.contains(&format!("<t:{}:R>", (asked + 10 * MINUTE) / 1000)),
        "{content}"
    );
    wait_timers(&bot, &place, "the warning done", |t| {
        has(t, "warning:first_response", true)
    })
    .await;

    // Another restart, then the breach: one line in the alert channel, and still one warning.
    bot.halt().await;
    clock.shift(10 * MINUTE + SECOND);
    bot.resume().await;
    let breach = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::ALERTS))
                && r.content().is_some_and(|c| c.contains("Target missed"))
        })
        .await;
    assert_eq!(
        breach.body.as_ref().unwrap()["allowed_mentions"],
        json!({"parse": []})
    );
    assert!(breach.content().unwrap().contains("first response (10m)"));
    bot.wait_outbox_empty().await;
    assert_eq!(warnings_in(&bot, thread).len(), 1);
    assert_eq!(shown(&bot.fake, thread, WARNING), 1);
    bot.stop().await;
}

#[tokio::test]
async fn the_answer_cancels_the_warning() {
    let (bot, clock) = sla_bot(&[("first_response", "10m")]).await;
    let (_, thread) = carla_writes(&bot, "Where is my parcel?").await;
    let place = dm_key();
    wait_timers(&bot, &place, "the warning planned", |t| {
        has(t, "warning:first_response", false)
    })
    .await;
    alex_answers(&bot, thread, "It ships today").await;
    bot.wait_handled(thread).await;
    // The answer's transaction dropped the warning and the breach.
    wait_timers(&bot, &place, "the timers dropped", |t| t.is_empty()).await;

    // Cody asks in the support channel after Carla: his warning comes after hers would have.
    let (cody, _) = cody_writes(&bot, "Is the shop open on Sunday?").await;
    wait_timers(&bot, &cody, "Cody's warning planned", |t| {
        has(t, "warning:first_response", false)
    })
    .await;
    clock.shift(8 * MINUTE + SECOND);
    let to_alerts = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::ALERTS))
                && r.content().is_some_and(|c| c.contains(WARNING))
        })
        .await;
    // A watched channel's warning goes to the alert channel, naming where.
    let content = to_alerts.content().unwrap();
    assert!(
        content.contains(&format!("<#{}>", ids::SUPPORT)),
        "{content}"
    );
    assert!(!content.contains(&format!("<@{}>", ids::CODY)), "{content}");
    assert_eq!(
        to_alerts.body.as_ref().unwrap()["allowed_mentions"],
        json!({"parse": [], "roles": [ids::AGENT_ROLE.to_string()]})
    );
    assert!(warnings_in(&bot, thread).is_empty());
    bot.stop().await;
}

/// Carla asks and Alex answers; returns (answer time, ticket thread).
async fn carla_answered(bot: &TestBot) -> (Millis, u64) {
    let (_, thread) = carla_writes(bot, "Can I change my address?").await;
    a_moment_later().await;
    let answered = alex_answers(bot, thread, "Yes, done").await;
    bot.wait_handled(thread).await;
    wait_timers(bot, &dm_key(), "the auto-close planned", |t| {
        has(t, "auto_close", false)
    })
    .await;
    (answered, thread)
}

async fn bot_close(bot: &TestBot, place: &str) -> reactif::domain::Event {
    let me = ids::BOT.to_string();
    bot.wait_event(place, |e| e.kind == EventKind::Close && e.author_id == me)
        .await
}

#[tokio::test]
async fn an_auto_close_tells_the_customer_and_archives_the_thread() {
    let (bot, clock) = sla_bot(&[("auto_close", "1h")]).await;
    let (answered, thread) = carla_answered(&bot).await;
    clock.shift(60 * MINUTE + SECOND);
    let told = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content().is_some_and(|c| c.contains("reopen"))
        })
        .await;
    assert!(told
        .content()
        .unwrap()
        .contains("Write again any time to reopen it"));
    let archive = bot
        .request(|r| r.is("PATCH", &format!("/channels/{thread}")))
        .await;
    assert_eq!(archive.body.as_ref().unwrap()["archived"], json!(true));
    assert_eq!(
        bot.fake.channel(thread).unwrap()["thread_metadata"]["archived"],
        json!(true)
    );
    assert_eq!(shown(&bot.fake, thread, "Closed automatically"), 1);
    let close = bot_close(&bot, &dm_key()).await;
    assert_eq!(close.at, answered + 60 * MINUTE);
    // KPI.md: resolved by the bot's close, resolution time from the opening to it.
    let rules = bot.store().guild_rules(GUILD).await.unwrap();
    let events = bot.events(&dm_key()).await;
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.conversations.len(), 1);
    assert_eq!(
        tl.conversations[0].end(clock_now(&clock)),
        End::Closed(reactif::domain::timeline::Close {
            at: answered + 60 * MINUTE,
            // The bot's close event is at the auto-close instant, so the replay reads it as
            // that auto-close (docs/kpi.md): the same figures with or without the event.
            by: Closer::AutoClose,
        })
    );
    bot.stop().await;
}

fn clock_now(clock: &ShiftedClock) -> Millis {
    use reactif::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn a_customer_message_before_the_moment_cancels_the_auto_close() {
    let (bot, clock) = sla_bot(&[("auto_close", "1h")]).await;
    let (_, thread) = carla_answered(&bot).await;
    carla_writes(&bot, "One more thing").await;
    wait_timers(&bot, &dm_key(), "the auto-close dropped", |t| t.is_empty()).await;
    // Cody's conversation is answered after Carla's: its auto-close comes after hers would.
    let (cody, question) = cody_writes(&bot, "Do you ship abroad?").await;
    a_moment_later().await;
    let mut answer = message_create(ids::ALEX, Place::guild(ids::SUPPORT), "Yes", now_ms());
    answer["type"] = json!(19);
    answer["message_reference"] = json!({"message_id": question["id"], "channel_id": ids::SUPPORT.to_string(), "guild_id": GUILD});
    answer["referenced_message"] = question;
    bot.fake.dispatch("MESSAGE_CREATE", answer).await;
    wait_timers(&bot, &cody, "Cody's auto-close planned", |t| {
        has(t, "auto_close", false)
    })
    .await;
    clock.shift(60 * MINUTE + SECOND);
    bot_close(&bot, &cody).await;
    let me = ids::BOT.to_string();
    let carla = bot.events(&dm_key()).await;
    assert!(!carla
        .iter()
        .any(|e| e.kind == EventKind::Close && e.author_id == me));
    assert!(bot.fake.channel(thread).unwrap()["thread_metadata"]["archived"] != json!(true));
    assert_eq!(shown(&bot.fake, ids::CARLA_DM, "reopen"), 0);
    bot.stop().await;
}

#[tokio::test]
async fn an_auto_close_missed_while_down_is_dated_at_its_moment_and_a_message_first_cancels_it() {
    let (mut bot, clock) = sla_bot(&[("auto_close", "1h")]).await;
    let (answered, _) = carla_answered(&bot).await;
    bot.halt().await;
    // While the bot is away Carla writes again 1 h 5 min after the answer: too late, the
    // conversation was closed at answered + 1 h and her message opens a new one.
    let late = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Hello again",
        answered + 65 * MINUTE,
    );
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", late).await, 0);
    clock.shift(2 * 60 * MINUTE);
    bot.resume().await;
    let close = bot_close(&bot, &dm_key()).await;
    assert_eq!(
        close.at,
        answered + 60 * MINUTE,
        "dated when it was due, not now"
    );
    let rules = bot.store().guild_rules(GUILD).await.unwrap();
    let events = bot.events(&dm_key()).await;
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(
        tl.conversations.len(),
        2,
        "the late message opened a new conversation"
    );
    bot.stop().await;

    // Now a message at 30 min, read back by the catch-up, comes first: no close.
    let (mut bot, clock) = sla_bot(&[("auto_close", "1h")]).await;
    let (_, thread) = carla_answered(&bot).await;
    bot.halt().await;
    a_moment_later().await;
    let first = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Still there?",
        now_ms(),
    );
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", first).await, 0);
    clock.shift(2 * 60 * MINUTE);
    bot.resume().await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content().is_some_and(|c| c.contains("Still there?"))
    })
    .await;
    // The catch-up's message replanned the place: the auto-close is gone, not done.
    wait_timers(&bot, &dm_key(), "the auto-close dropped", |t| t.is_empty()).await;
    let me = ids::BOT.to_string();
    assert!(!bot
        .events(&dm_key())
        .await
        .iter()
        .any(|e| e.kind == EventKind::Close && e.author_id == me));
    bot.stop().await;
}

#[tokio::test]
async fn stats_shows_the_service_levels_and_attaches_the_heatmap() {
    use reactif::domain::{Event, DAY};
    let (bot, _) = sla_bot(&[("first_response", "5m")]).await;
    let now = now_ms();
    let ev = |n: u64, place: &str, author: u64, at: i64, kind: EventKind| Event {
        id: (snowflake_at(at) + n).to_string(),
        guild_id: GUILD.into(),
        place: place.into(),
        author_id: author.to_string(),
        at,
        kind,
    };
    // By hand, 5 min target: h1 answered in 2 min (met), h2 in 10 min (missed), h3 waiting
    // 60 min (missed). h1 and h2 lapsed (idle 24 h), h3 open; nothing resolved.
    let c = EventKind::CustomerMessage;
    let a = EventKind::AgentMessage;
    bot.desk
        .ingest(&[
            ev(1, "h1", ids::CODY, now - 3 * DAY, c.clone()),
            ev(2, "h1", ids::ALEX, now - 3 * DAY + 2 * MINUTE, a.clone()),
            ev(3, "h2", ids::CODY, now - 2 * DAY, c.clone()),
            ev(4, "h2", ids::ALEX, now - 2 * DAY + 10 * MINUTE, a),
            ev(5, "h3", ids::CODY, now - 60 * MINUTE, c),
        ])
        .await
        .unwrap();
    let id = bot
        .slash("stats", vec![], ids::ALEX, Place::guild(ids::STAFF))
        .await;
    bot.interaction_reply(&id).await;
    let reply = bot
        .request(|r| {
            r.path.starts_with("/webhooks/")
                && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    let body = reply.body.as_ref().unwrap();
    let field = body["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Service levels"))
        })
        .unwrap_or_else(|| panic!("no service-level field in {body}"))["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        field.contains("First response: target 5m · met 1 · missed 2 · in progress 0 · 33.3 %"),
        "{field}"
    );
    assert!(field.contains("Next response: no target"), "{field}");
    assert!(
        field.contains("0 resolved = · 2 lapsed · 1 open"),
        "{field}"
    );
    let heatmap = reply
        .attachments
        .iter()
        .find(|a| a.filename == "reactif-heatmap.png")
        .expect("the heatmap attached");
    assert_eq!(&heatmap.bytes[..4], b"\x89PNG");
    assert!(reply
        .attachments
        .iter()
        .any(|a| a.filename == "reactif-stats.png"));
    bot.stop().await;
}
