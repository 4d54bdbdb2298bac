//! Catch-up after downtime: what was written while the bot was away is read from Discord's
//! history at the next start, once, with its real times.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::timeline::Timeline;
use reactif::domain::{Event, EventKind, GuildRules};
use serde_json::json;

#[tokio::test]
async fn messages_sent_while_the_bot_was_down_are_caught_up_once_with_exact_delays() {
    let mut bot = spawn_bot().await;
    let (asked, thread) = carla_writes(&bot, "First question").await;
    bot.halt().await;
    a_moment_later().await;
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
    a_moment_later().await;
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
    let restarted = bot.fake.request_count();
    bot.resume().await;
    // The catch-up read both channels from where the bot had got to, and found nothing a
    // person wrote there since; and nothing waits in the outbox.
    for page in wait_catch_up_reads(&bot.fake, restarted, &[ids::CARLA_DM, thread]).await {
        assert_eq!(
            people_messages(&page),
            Vec::<String>::new(),
            "{}",
            page.path
        );
    }
    bot.wait_outbox_empty().await;
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
    a_moment_later().await;
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
    a_moment_later().await;
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
