//! Limits: what people type is bounded, `/stats` runs on Discord's clock, and nobody can stall
//! the bot for the others (issue 14).

use crate::harness::*;
use fake_discord::*;
use reactif::domain::{Event, EventKind, SECOND};
use serde_json::Value;

/// `/stats` by Alex with these options; returns the body of its answer (after the deferral).
async fn stats_answer(bot: &TestBot, options: Vec<Value>) -> Value {
    let n = bot.fake.request_count();
    bot.slash("stats", options, ids::ALEX, Place::guild(ids::STAFF))
        .await;
    let reply = bot
        .request(|r| r.seq >= n && r.path.starts_with("/webhooks/") && r.body.is_some())
        .await;
    reply.body.unwrap()
}

fn field(body: &Value, name: &str) -> String {
    body["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
}

/// A date before 2015 or a window longer than 400 days is refused with the limit named, before
/// any report is built.
#[tokio::test]
async fn stats_refuses_dates_and_windows_out_of_bounds_naming_the_limit() {
    let bot = spawn_bot().await;
    let body = stats_answer(&bot, vec![option("since", "1970-01-01")]).await;
    let text = body["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("since 1970-01-01T00:00:00.000Z is outside the years 2015 to"),
        "{body}"
    );
    assert!(body["embeds"].as_array().is_none_or(|e| e.is_empty()));
    let body = stats_answer(&bot, vec![option("until", "9999-12-31")]).await;
    let text = body["content"].as_str().unwrap_or_default();
    assert!(text.contains("until 9999-12-31"), "{body}");
    let body = stats_answer(&bot, vec![option("since", "2020-01-01")]).await;
    let text = body["content"].as_str().unwrap_or_default();
    assert!(text.contains("at most 400 days"), "{body}");
    bot.stop().await;
}

/// The host's clock is 30 s behind Discord's: `/stats` is evaluated at the interaction's own
/// time (its snowflake), so the request and answer of a moment ago count.
#[tokio::test]
async fn stats_is_evaluated_on_discords_clock_not_the_hosts() {
    let clock = ShiftedClock::new();
    clock.shift(-30 * SECOND);
    let bot = spawn_clocked(FakeConfig::default(), &[], clock).await;
    let now = now_ms();
    let ev = |n: u64, at: i64, author: u64, kind: EventKind| Event {
        id: (snowflake_at(at) + n).to_string(),
        guild_id: GUILD.into(),
        place: "h1".into(),
        author_id: author.to_string(),
        at,
        kind,
    };
    bot.desk
        .ingest(&[
            ev(1, now - 20 * SECOND, ids::CODY, EventKind::CustomerMessage),
            ev(2, now - 10 * SECOND, ids::ALEX, EventKind::AgentMessage),
        ])
        .await
        .unwrap();
    let period = bot.choice("stats", "period", "7d");
    let body = stats_answer(&bot, vec![period]).await;
    assert!(field(&body, "Requests").starts_with("1 "), "{body}");
    assert!(field(&body, "Requests").contains("1 answered"), "{body}");
    bot.stop().await;
}

/// `/setup tickets_per_hour:1`: Carla's first conversation opens a ticket; after it is closed,
/// her next DM opens a new conversation but no new ticket: it is relayed to her latest one.
#[tokio::test]
async fn a_customer_past_the_ticket_limit_joins_their_latest_ticket() {
    let bot = spawn_bot().await;
    let id = bot
        .slash(
            "setup",
            vec![option("tickets_per_hour", 1)],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(
        reply
            .content()
            .unwrap()
            .contains("tickets per customer per hour: 1"),
        "{:?}",
        reply.content()
    );
    let (_, first) = crate::steps::carla_writes(&bot, "My order is late").await;
    let id = bot
        .slash("close", vec![], ids::ALEX, Place::guild(first))
        .await;
    bot.interaction_reply(&id).await;
    let key = crate::steps::dm_key();
    bot.wait_event(&key, |e| e.kind == EventKind::Close).await;
    crate::steps::a_moment_later().await;
    let (_, second) = crate::steps::carla_writes(&bot, "And my refund?").await;
    assert_eq!(second, first, "relayed to her latest ticket");
    assert_eq!(
        bot.fake
            .requests_matching("POST", &format!("/channels/{}/threads", ids::STAFF))
            .len(),
        1,
        "no second ticket"
    );
    // The new conversation is still counted as one.
    let events = bot.events(&key).await;
    let rules = reactif::domain::GuildRules::default();
    let tl = reactif::domain::timeline::Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.conversations.len(), 2);
    bot.stop().await;
}

/// A person who fires commands faster than `COMMAND_BURST` in `COMMAND_PERIOD` is asked, in
/// private, to wait.
#[tokio::test]
async fn commands_past_the_per_person_cooldown_are_answered_with_a_wait() {
    let bot = spawn_bot().await;
    for n in 1..=6 {
        let id = bot
            .slash("stats", vec![], ids::OTTO, Place::guild(ids::SUPPORT))
            .await;
        let reply = bot.interaction_reply(&id).await;
        assert!(reply.is_ephemeral());
        let text = reply.content().unwrap_or_default().to_string();
        if n <= 5 {
            assert!(text.contains("Only agents"), "{n}: {text}");
        } else {
            assert!(text.contains("Slow down a little"), "{n}: {text}");
        }
    }
    // Another person is not held back.
    let id = bot
        .slash("stats", vec![], ids::CARLA, Place::guild(ids::SUPPORT))
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.content().unwrap().contains("Only agents"));
    bot.stop().await;
}

/// Carla floods the bot with DMs; Cody's one DM, sent after all of hers, is relayed without
/// waiting for her flood: the messages of one place wait for it without holding a handler.
#[tokio::test]
async fn one_customers_flood_of_dms_does_not_hold_back_another_customer() {
    let bot = spawn_bot().await;
    crate::steps::carla_writes(&bot, "warm-up").await;
    let cody_dm = bot.fake.dm_channel_id(ids::CODY);
    let cody_says = |text: &str| message_create(ids::CODY, Place::dm(cody_dm), text, now_ms());
    bot.fake
        .dispatch("MESSAGE_CREATE", cody_says("cody warm-up"))
        .await;
    bot.request(|r| r.content().is_some_and(|c| c.contains("cody warm-up")))
        .await;
    const FLOOD: usize = 200;
    for i in 0..FLOOD {
        let m = message_create(
            ids::CARLA,
            Place::dm(ids::CARLA_DM),
            &format!("flood {i}"),
            now_ms(),
        );
        bot.fake.dispatch("MESSAGE_CREATE", m).await;
    }
    bot.fake
        .dispatch("MESSAGE_CREATE", cody_says("cody needs help"))
        .await;
    let cody = bot
        .request(|r| r.content().is_some_and(|c| c.contains("cody needs help")))
        .await;
    let flood_before = bot
        .fake
        .requests_matching("POST", "/channels/*/messages")
        .iter()
        .filter(|r| r.seq < cody.seq && r.content().is_some_and(|c| c.contains("flood ")))
        .count();
    assert!(
        flood_before < FLOOD / 2,
        "Cody waited for {flood_before} of Carla's {FLOOD} messages"
    );
    bot.wait_handled(ids::CARLA_DM).await;
    bot.stop().await;
}
