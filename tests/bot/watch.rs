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

/// #general: a text channel of the default guild that nobody watched.
const GENERAL: u64 = 1191169098776707116;

/// The rows of every table but the report rollups (which a timer may rebuild), by table.
async fn row_counts(db_url: &str) -> std::collections::BTreeMap<String, i64> {
    let pool = sqlx::SqlitePool::connect(db_url).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'kpi_%' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for (t,) in tables {
        let sql = format!("SELECT COUNT(*) FROM \"{t}\"");
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap();
        counts.insert(t, n);
    }
    pool.close().await;
    counts
}

/// Ordinary chat costs nothing: 1,000 messages in a channel that is neither watched nor a
/// ticket, and 100 in a thread of it, make no REST call and write no row. Cody's messages in
/// #support before and after mark the start and the end; the bot is halted (every event it took
/// handled to the end) before the rows are counted.
#[tokio::test]
async fn ordinary_chat_costs_no_rest_call_and_no_write() {
    let mut guild = default_guild();
    guild["channels"]
        .as_array_mut()
        .unwrap()
        .push(guild_channel_json(ids::GUILD, GENERAL, 0, "general", 9));
    let config = FakeConfig {
        guilds: vec![guild],
        echo_bot_events: true,
        ..FakeConfig::default()
    };
    let mut bot = spawn_with(config, &[]).await;
    let before_chat =
        |text: &str| message_create(ids::CODY, Place::guild(ids::SUPPORT), text, now_ms());
    bot.fake
        .dispatch("MESSAGE_CREATE", before_chat("Hello support"))
        .await;
    bot.wait_handled(ids::SUPPORT).await;
    let thread = thread_create(ids::GUILD, GENERAL, "memes", ids::OTTO, now_ms());
    let thread_id = id_of(&thread["id"]).unwrap();
    bot.fake.add_channel(thread.clone());
    bot.fake.dispatch("THREAD_CREATE", thread).await;
    let rows = row_counts(bot.db_url()).await;
    let mark = bot.fake.request_count();
    for i in 0..1_000 {
        let text = format!("chat {i}");
        let msg = message_create(ids::OTTO, Place::guild(GENERAL), &text, now_ms());
        bot.fake.dispatch("MESSAGE_CREATE", msg).await;
        if i % 10 == 0 {
            let msg = message_create(ids::OTTO, Place::guild(thread_id), &text, now_ms());
            bot.fake.dispatch("MESSAGE_CREATE", msg).await;
        }
    }
    bot.fake
        .dispatch("MESSAGE_CREATE", before_chat("Still there?"))
        .await;
    bot.wait_handled(ids::SUPPORT).await;
    bot.halt().await;
    let calls: Vec<String> = bot.fake.requests()[mark..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(calls.is_empty(), "REST calls made: {calls:?}");
    let after = row_counts(bot.db_url()).await;
    for (table, n) in &rows {
        let expected = if table == "events" { n + 1 } else { *n };
        assert_eq!(after[table], expected, "rows of {table}");
    }
    assert_eq!(
        bot.store().cursor(&GENERAL.to_string()).await.unwrap(),
        None
    );
    assert_eq!(
        bot.store().cursor(&thread_id.to_string()).await.unwrap(),
        None
    );
    bot.stop().await;
}
