//! Watched channels: forum posts and text channels are measured and surveyed where they are,
//! without any relay.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::timeline::Timeline;
use reactif::domain::{EventKind, GuildRules};
use serde_json::json;

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
    a_moment_later().await;
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
    a_moment_later().await;
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
    a_moment_later().await;
    let answer = message_create(
        ids::ALEX,
        Place::guild(thread),
        "Refunded, sorry!",
        now_ms(),
    );
    // The gateway delivers the answer first (as after a reconnect or a catch-up).
    bot.fake.dispatch("MESSAGE_CREATE", answer).await;
    bot.wait_handled(thread).await;
    bot.fake.dispatch("MESSAGE_CREATE", question).await;
    let survey = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages")) && !r.custom_ids().is_empty()
        })
        .await;
    assert!(survey.content().unwrap().contains("How satisfied"));
    bot.stop().await;
}
