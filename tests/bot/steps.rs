//! What the people of the default world do, as steps shared by the features' tests: Carla (a
//! customer) writes in DM, Alex (an agent) answers in her ticket thread, and so on.

use crate::harness::{TestBot, GUILD};
use fake_discord::*;
use reactif::domain::EventKind;
use serde_json::{json, Value};
use std::time::Duration;

/// Lets the clock move on, so that what happens next has a later snowflake time than what
/// happened before (a delay of zero would hide a wrong subtraction). Not a wait for the bot.
pub async fn a_moment_later() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

pub fn dm_key() -> String {
    format!("dm-{}", ids::CARLA_DM)
}

/// Carla writes in DM; returns (message time, staff thread id).
pub async fn carla_writes(bot: &TestBot, text: &str) -> (i64, u64) {
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

pub async fn alex_answers(bot: &TestBot, thread: u64, text: &str) -> i64 {
    let at = now_ms();
    let mut msg = message_create(ids::ALEX, Place::guild(thread), text, at);
    msg["guild_id"] = json!(GUILD);
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    at
}

/// Carla asks, Alex answers, and the survey arrives; returns (survey message, survey id,
/// ticket thread).
pub async fn answered_and_surveyed(bot: &TestBot) -> (Value, String, u64) {
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

/// How many messages in `channel` contain `text` (what Discord shows, not what was tried).
pub fn shown(fake: &FakeDiscord, channel: u64, text: &str) -> usize {
    fake.messages_in(channel)
        .iter()
        .filter(|m| m["content"].as_str().is_some_and(|c| c.contains(text)))
        .count()
}
