//! Satisfaction surveys: sent after the survey delay, rated by the customer only, replaced by a
//! newer answer, commented, closed after a day, in the guild's language.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{EventKind, DAY, MINUTE};
use reactif::store::SurveyStatus;
use serde_json::{json, Value};

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

#[tokio::test]
async fn a_survey_closes_after_a_day_and_a_late_click_is_refused() {
    let clock = ShiftedClock::new();
    let mut bot = spawn_clocked(FakeConfig::default(), &[], clock.clone()).await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    let message_id = id_of(&message["id"]).unwrap();
    clock.shift(DAY + MINUTE);
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
    let (store, survey_id) = (bot.store(), &survey_id);
    eventually(
        "the survey to be recorded as closed",
        WAIT,
        move || async move {
            let survey = store.survey(survey_id).await.unwrap().unwrap();
            (survey.status == SurveyStatus::Closed).then_some(())
        },
    )
    .await;
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
    // A stopped bot has handled every event it took to the end: the click included.
    bot.halt().await;
    assert!(!bot
        .events(&dm_key())
        .await
        .iter()
        .any(|e| matches!(e.kind, EventKind::Rating { .. })));
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

/// Sends the comment form with `text` as Carla would (or as a forged form would: Discord's
/// own length limit is not trusted); returns the bot's reply.
async fn submit_comment(bot: &TestBot, survey_id: &str, text: &str) -> RecordedRequest {
    let submit = modal_submit(
        &format!("survey-comment:v1:{survey_id}"),
        &[("comment", text)],
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        None,
    );
    let submit_id = submit["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", submit).await;
    bot.interaction_reply(&submit_id).await
}

fn reply_text(reply: &RecordedRequest) -> String {
    reply.body.as_ref().unwrap()["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The comment form is refused, with a word why, when the comment is over 1,000 characters or
/// the survey has closed: nothing is stored.
#[tokio::test]
async fn the_comment_form_is_refused_when_too_long_or_once_the_survey_closed() {
    let clock = ShiftedClock::new();
    let bot = spawn_clocked(FakeConfig::default(), &[], clock.clone()).await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    let too_long = submit_comment(&bot, &survey_id, &"a".repeat(1_001)).await;
    assert!(too_long.is_ephemeral());
    assert!(
        reply_text(&too_long).contains("longer than 1,000"),
        "{too_long:?}"
    );
    let message_id = id_of(&message["id"]).unwrap();
    clock.shift(DAY + MINUTE);
    bot.request(|r| {
        r.is(
            "PATCH",
            &format!("/channels/{}/messages/{message_id}", ids::CARLA_DM),
        )
    })
    .await;
    let (store, id) = (bot.store(), &survey_id);
    eventually(
        "the survey to be recorded as closed",
        WAIT,
        move || async move {
            let survey = store.survey(id).await.unwrap().unwrap();
            (survey.status == SurveyStatus::Closed).then_some(())
        },
    )
    .await;
    let late = submit_comment(&bot, &survey_id, "Late thoughts").await;
    assert!(late.is_ephemeral());
    let events = bot.events(&dm_key()).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Comment { .. })),
        "no comment stored: {}",
        reply_text(&late)
    );
    bot.stop().await;
}

/// Discord fails the answer's relay three times (503; retried after 1, 2 and 4 s): the
/// survey, due 1 s after the answer, waits until the customer has the answer it asks about.
#[tokio::test]
async fn the_survey_goes_out_only_after_the_answer_it_rates_was_delivered() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Is it in stock?").await;
    bot.wait_outbox_empty().await;
    let dm = format!("/channels/{}/messages", ids::CARLA_DM);
    bot.fake.respond_to_body_with(
        "POST",
        &dm,
        "Back in stock on Monday",
        3,
        503,
        json!({"message": "Service Unavailable", "code": 0}),
    );
    alex_answers(&bot, thread, "Back in stock on Monday").await;
    let answer = bot
        .request(|r| {
            r.is("POST", &dm)
                && r.status == 200
                && r.content().is_some_and(|c| c.contains("Back in stock"))
        })
        .await;
    let survey = bot
        .request(|r| r.is("POST", &dm) && !r.custom_ids().is_empty())
        .await;
    assert!(
        answer.seq < survey.seq,
        "the survey (request {}) went before the answer it rates (request {})",
        survey.seq,
        answer.seq
    );
    bot.stop().await;
}
