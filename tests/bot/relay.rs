//! The DM relay (modmail): a customer's DM opens a ticket thread in the staff channel, agents'
//! answers go back to the DM, notes stay internal, a customer of two teams chooses one.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::timeline::Timeline;
use reactif::domain::{EventKind, GuildRules};
use reactif::store::DiscordSetup;
use serde_json::json;

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
    // Handled, and what it queued sent: a second acknowledgement would have been posted now.
    bot.wait_handled(ids::CARLA_DM).await;
    bot.wait_outbox_empty().await;
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
    a_moment_later().await;
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
    // Handled, and what it queued sent: a relay of the note would have been posted now.
    bot.wait_handled(thread).await;
    bot.wait_outbox_empty().await;
    assert!(
        !bot.fake
            .requests()
            .iter()
            .any(|r| r.content().is_some_and(|c| c.contains("check the payment"))),
        "a note must stay internal"
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
