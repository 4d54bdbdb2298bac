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

/// Otto (a member with no role) can see the staff channel and writes twice in Carla's ticket
/// thread: nothing reaches Carla, her request stays unanswered, and Otto is told once why.
/// Alex's answer afterwards is the one that counts, timed from Carla's message.
#[tokio::test]
async fn only_agents_speak_for_support_in_a_ticket_thread() {
    let bot = spawn_bot().await;
    let (asked, thread) = carla_writes(&bot, "Is my account safe?").await;
    for text in ["Otto here: send me your password", "Otto again"] {
        let mut msg = message_create(ids::OTTO, Place::guild(thread), text, now_ms());
        msg["guild_id"] = json!(GUILD);
        bot.fake.dispatch("MESSAGE_CREATE", msg).await;
        bot.wait_handled(thread).await;
    }
    bot.wait_outbox_empty().await;
    let notices = shown(&bot.fake, thread, "Only agents speak for Support");
    assert_eq!(notices, 1, "one notice per author and thread");
    assert_eq!(
        shown(&bot.fake, ids::CARLA_DM, "Otto"),
        0,
        "nothing relayed"
    );
    let events = bot.events(&dm_key()).await;
    assert!(
        events.iter().all(|e| e.author_id != ids::OTTO.to_string()),
        "not stored: {events:?}"
    );
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.requests.len(), 1);
    assert!(tl.requests[0].answer.is_none(), "still unanswered");
    // An agent's answer is relayed and counted, timed from Carla's message.
    a_moment_later().await;
    let answered = alex_answers(&bot, thread, "Never share your password").await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.content().is_some_and(|c| c.contains("Never share"))
    })
    .await;
    bot.wait_event(&dm_key(), |e| e.kind == EventKind::AgentMessage)
        .await;
    let events = bot.events(&dm_key()).await;
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));
    bot.stop().await;
}

/// Ada has no agent role but Manage Server: like `/close`, that lets her answer for Support.
#[tokio::test]
async fn an_admin_without_the_agent_role_speaks_for_support() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Can I get an invoice?").await;
    let mut msg = message_create(ids::ADA, Place::guild(thread), "Invoice sent", now_ms());
    msg["guild_id"] = json!(GUILD);
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
            && r.content().is_some_and(|c| c.contains("Invoice sent"))
    })
    .await;
    bot.wait_handled(thread).await;
    assert_eq!(shown(&bot.fake, thread, "Only agents speak for Support"), 0);
    bot.stop().await;
}

const SECOND_GUILD: u64 = 1191168956170372000;
const SECOND_STAFF: u64 = 1191168956170372001;
/// A customer of the second guild only, whom the bot's cache does not know (she joined while
/// the bot was away): only Discord's REST API can say she is a member.
const DANA: u64 = 1191169023279235098;

/// The default guild and a second support guild ("Second Shop"), both configured.
async fn two_support_guilds() -> TestBot {
    let mut second = default_guild();
    second["id"] = json!(SECOND_GUILD.to_string());
    second["name"] = json!("Second Shop");
    for c in second["channels"].as_array_mut().unwrap() {
        c["guild_id"] = json!(SECOND_GUILD.to_string());
    }
    second["channels"][0]["id"] = json!(SECOND_STAFF.to_string());
    let config = FakeConfig {
        guilds: vec![default_guild(), second],
        echo_bot_events: true,
        ..FakeConfig::default()
    };
    let bot = spawn_with(config, &[]).await;
    bot.fake.add_channel(guild_channel_json(
        SECOND_GUILD,
        SECOND_STAFF,
        0,
        "staff",
        0,
    ));
    bot.desk
        .store()
        .save_discord_setup(
            &SECOND_GUILD.to_string(),
            &DiscordSetup {
                staff_channel_id: Some(SECOND_STAFF.to_string()),
                agent_roles: vec![ids::AGENT_ROLE.to_string()],
                ..DiscordSetup::default()
            },
        )
        .await
        .unwrap();
    bot
}

/// Discord fails (500) once while the bot checks Dana's membership: her DM is read again and
/// relayed to her team, and she is never told that she belongs to no team.
#[tokio::test]
async fn a_failed_membership_lookup_is_retried_not_answered_you_have_no_team() {
    let bot = two_support_guilds().await;
    bot.fake.add_user(user_json(DANA));
    bot.fake.add_member(SECOND_GUILD, member_json(DANA, &[]));
    bot.fake.respond_with(
        "GET",
        &format!("/guilds/{SECOND_GUILD}/members/{DANA}"),
        1,
        500,
        json!({"message": "Internal Server Error", "code": 0}),
    );
    let dm = bot.fake.dm_channel_id(DANA);
    let msg = message_create(DANA, Place::dm(dm), "My parcel never came", now_ms());
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    let thread = bot
        .request(|r| r.is("POST", &format!("/channels/{SECOND_STAFF}/threads")))
        .await;
    let thread = id_of(&thread.response["id"]).unwrap();
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content()
                .is_some_and(|c| c.contains("My parcel never came"))
    })
    .await;
    assert!(
        bot.fake
            .requests_matching("GET", &format!("/guilds/{SECOND_GUILD}/members/{DANA}"))
            .len()
            >= 2,
        "the lookup was tried again"
    );
    assert_eq!(shown(&bot.fake, dm, "does not serve"), 0);
    bot.stop().await;
}

/// Carla shares both teams. She writes three DMs before choosing: once she picks the second
/// team, all three reach its thread, in order, each once.
#[tokio::test]
async fn every_dm_sent_before_the_team_choice_is_relayed_in_order() {
    let bot = two_support_guilds().await;
    let texts = ["first: hello", "second: my order", "third: is late"];
    let is_menu = |r: &RecordedRequest| {
        r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM)) && !r.custom_ids().is_empty()
    };
    for (i, text) in texts.iter().enumerate() {
        let msg = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), text, now_ms());
        bot.fake.dispatch("MESSAGE_CREATE", msg).await;
        // Each waiting DM gets the menu again (she may have missed the first).
        let menus = bot.fake.wait_for_requests(is_menu, i + 1, WAIT).await;
        assert_eq!(menus.len(), i + 1);
        a_moment_later().await;
    }
    let menu = bot.request(is_menu).await;
    let pick = component_interaction(
        &menu.custom_ids()[0],
        3,
        Some(vec![SECOND_GUILD.to_string()]),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(menu.response.clone()),
    );
    bot.fake.dispatch("INTERACTION_CREATE", pick).await;
    let thread = bot
        .request(|r| r.is("POST", &format!("/channels/{SECOND_STAFF}/threads")))
        .await;
    let thread = id_of(&thread.response["id"]).unwrap();
    let relayed = bot
        .fake
        .wait_for_requests(
            |r| r.is("POST", &format!("/channels/{thread}/messages")) && r.status == 200,
            3,
            WAIT,
        )
        .await;
    let order: Vec<&str> = relayed.iter().filter_map(|r| r.content()).collect();
    assert_eq!(order.len(), 3, "{order:?}");
    for (text, got) in texts.iter().zip(&order) {
        assert!(got.contains(text), "{order:?}");
    }
    bot.wait_event_in(&SECOND_GUILD.to_string(), &dm_key(), |e| {
        e.kind == EventKind::CustomerMessage
    })
    .await;
    bot.wait_outbox_empty().await;
    for text in texts {
        assert_eq!(shown(&bot.fake, thread, text), 1, "{text} once");
    }
    bot.stop().await;
}

/// The menu is checked again at the click: a team whose server the customer left is refused.
#[tokio::test]
async fn the_team_menu_checks_membership_again_at_the_click() {
    let bot = two_support_guilds().await;
    bot.fake.add_user(user_json(DANA));
    bot.fake.add_member(SECOND_GUILD, member_json(DANA, &[]));
    bot.fake.add_member(ids::GUILD, member_json(DANA, &[]));
    let dm = bot.fake.dm_channel_id(DANA);
    let msg = message_create(DANA, Place::dm(dm), "Hi", now_ms());
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    let menu = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{dm}/messages")) && !r.custom_ids().is_empty()
        })
        .await;
    // Dana leaves the second server before she clicks.
    bot.fake.respond_with(
        "GET",
        &format!("/guilds/{SECOND_GUILD}/members/{DANA}"),
        1,
        404,
        json!({"message": "Unknown Member", "code": 10007}),
    );
    let pick = component_interaction(
        &menu.custom_ids()[0],
        3,
        Some(vec![SECOND_GUILD.to_string()]),
        DANA,
        Place::dm(dm),
        Some(menu.response.clone()),
    );
    let id = pick["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", pick).await;
    let reply = bot.interaction_reply(&id).await;
    let body = reply.body.as_ref().unwrap();
    assert!(
        body["data"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("not a member")),
        "{body}"
    );
    assert_eq!(body["data"]["flags"], json!(64));
    assert!(bot
        .store()
        .dm_choice(&DANA.to_string())
        .await
        .unwrap()
        .is_none());
    assert!(bot
        .fake
        .requests_matching("POST", &format!("/channels/{SECOND_STAFF}/threads"))
        .is_empty());
    bot.stop().await;
}

/// A customer whose display name is Markdown: the relay header shows the name as typed (escaped),
/// not styled text or a link, and the thread's title leaves the styling characters out.
#[tokio::test]
async fn names_in_relay_headers_and_thread_titles_are_escaped_for_markdown() {
    let bot = spawn_bot().await;
    let mut msg = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "Hello from a fancy name",
        now_ms(),
    );
    msg["author"]["global_name"] = json!("**Boss** [site](http://e.x) `x`");
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    let created = bot
        .request(|r| r.is("POST", &format!("/channels/{}/threads", ids::STAFF)))
        .await;
    let title = created.body.as_ref().unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(title.starts_with("Boss [site](http://e.x) x"), "{title}");
    let thread = id_of(&created.response["id"]).unwrap();
    let relayed = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{thread}/messages"))
                && r.content().is_some_and(|c| c.contains("fancy name"))
        })
        .await;
    let header = relayed.content().unwrap();
    assert!(
        header.starts_with(r"**\*\*Boss\*\* \[site\]\(http\://e.x\) \`x\`** ("),
        "{header}"
    );
    bot.stop().await;
}
