//! Privacy: message content only with transcripts on, and `/forget-me`.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{EventKind, DAY};

/// Transcripts are off by default (no content anywhere in the database); a guild that turns
/// them on gets each message's text, and `/forget-me` erases it.
#[tokio::test]
async fn message_content_is_stored_only_with_transcripts_on() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "secret-before-transcripts").await;
    alex_answers(&bot, thread, "agent-before-transcripts").await;
    bot.wait_event(&dm_key(), |e| e.kind == EventKind::AgentMessage)
        .await;
    // Both messages handled: a transcript line would have been written with each.
    bot.wait_handled(ids::CARLA_DM).await;
    bot.wait_handled(thread).await;
    let store = bot.desk.store();
    assert!(store.transcript(GUILD, &dm_key()).await.unwrap().is_empty());
    // Relayed text passes through the outbox, whose bodies are emptied once delivered.
    let url = bot.db_url().to_string();
    let pool = &sqlx::SqlitePool::connect(&url).await.unwrap();
    eventually(
        "relayed text to leave the outbox",
        WAIT,
        move || async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM outbox WHERE body LIKE '%before-transcripts%'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            (n == 0).then_some(())
        },
    )
    .await;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events WHERE body LIKE '%before-transcripts%' OR id LIKE '%before%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(n, 0);
    pool.close().await;
    let mut setup = store.discord_setup(GUILD).await.unwrap();
    setup.transcripts = true;
    store.save_discord_setup(GUILD, &setup).await.unwrap();
    carla_writes(&bot, "kept-with-transcripts").await;
    let place = &dm_key();
    let lines = eventually("a transcript line", WAIT, move || async move {
        let lines = store.transcript(GUILD, place).await.unwrap();
        (!lines.is_empty()).then_some(lines)
    })
    .await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].content, "kept-with-transcripts");
    assert_eq!(lines[0].author_id, ids::CARLA.to_string());
    reactif::desk::Desk::new(store.clone())
        .forget_customer(&ids::CARLA.to_string())
        .await
        .unwrap();
    assert!(store.transcript(GUILD, &dm_key()).await.unwrap().is_empty());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE conversation = $1 OR ticket_customer_id = $2",
    )
    .bind(dm_key())
    .bind(ids::CARLA.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(n, 0, "the outbox forgets the customer too");
    pool.close().await;
    bot.stop().await;
}

#[tokio::test]
async fn forget_me_removes_the_customers_ids_and_keeps_the_figures() {
    let bot = spawn_bot().await;
    let (message, survey_id, _) = answered_and_surveyed(&bot).await;
    let click = button_click(
        &format!("survey:v1:{survey_id}:5"),
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        Some(message),
    );
    let click_id = click["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", click).await;
    bot.interaction_reply(&click_id).await;
    bot.wait_event(&dm_key(), |e| matches!(e.kind, EventKind::Rating { .. }))
        .await;
    let now = now_ms() + 1;
    let window = Window {
        from: now - DAY,
        to: now,
        now,
    };
    let before = bot.desk.report(&Scope::default(), window).await.unwrap();

    let id = bot
        .slash("forget-me", vec![], ids::CARLA, Place::dm(ids::CARLA_DM))
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("1 conversation"),
        "{:?}",
        reply.content()
    );
    let all = bot.desk.store().events_until(None, i64::MAX).await.unwrap();
    assert!(!all
        .iter()
        .any(|e| e.author_id == ids::CARLA.to_string() || e.place == dm_key()));
    assert!(bot
        .desk
        .store()
        .ticket(GUILD, &ids::CARLA.to_string())
        .await
        .unwrap()
        .is_none());
    let after = bot.desk.report(&Scope::default(), window).await.unwrap();
    assert_eq!(
        reactif::report::json::report(&after),
        reactif::report::json::report(&before)
    );
    bot.stop().await;
}

/// `/forget-me` also takes the person's id off their reactions and replies to the community's
/// posts (and off their posts), and the engagement report stays the same.
#[tokio::test]
async fn forget_me_takes_the_id_off_reactions_and_replies() {
    use reactif::domain::engagement::{EngagementEvent, EngagementKind, Filters};
    let bot = spawn_bot().await;
    let carla = ids::CARLA.to_string();
    let now = now_ms();
    let event = |id: &str, author: &str, at: i64, kind: EngagementKind| EngagementEvent {
        id: id.into(),
        guild_id: GUILD.into(),
        author_id: author.into(),
        at,
        kind,
    };
    let post_id = "1300000000000000900".to_string();
    let events = vec![
        event(
            &post_id,
            "1400000000000000001",
            now - DAY,
            EngagementKind::Post {
                channel_id: "1300000000000000001".into(),
                themes: vec!["release".into()],
                audience: 10,
            },
        ),
        event(
            "1",
            &carla,
            now - DAY + 1000,
            EngagementKind::ReactionAdd {
                post_id: post_id.clone(),
                emoji: "👍".into(),
            },
        ),
        event(
            "1300000000000000901",
            &carla,
            now - DAY + 2000,
            EngagementKind::Reply {
                post_id: post_id.clone(),
            },
        ),
    ];
    bot.desk.ingest_engagement(&events).await.unwrap();
    let window = Window {
        from: now - 2 * DAY,
        to: now,
        now,
    };
    let report = || async {
        let r = bot
            .desk
            .engagement_report(&Filters::default(), window)
            .await
            .unwrap();
        reactif::report::engagement::json(&r)
    };
    let before = report().await;
    assert_eq!(before["engagements"], 2);
    assert_eq!(before["unique_engaged_users"], 1);

    let id = bot
        .slash("forget-me", vec![], ids::CARLA, Place::dm(ids::CARLA_DM))
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    let text = reply.content().unwrap_or_default().to_string();
    assert!(text.contains("reactions and replies"), "{text}");
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let stored = bot.desk.store().engagement_by_ids(&ids).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|e| e.author_id != carla), "{stored:?}");
    assert_eq!(report().await, before);
    bot.stop().await;
}

/// Opens a thread by Cody under `parent` (a forum post, or a thread of a watched text channel)
/// and has him ask in it, then Otto (a member, not an agent) write "+1" there; returns (thread,
/// when Cody asked).
async fn cody_asks_and_otto_adds_one(bot: &TestBot, parent: u64, question: &str) -> (u64, i64) {
    let post = thread_create(ids::GUILD, parent, question, ids::CODY, now_ms());
    let thread = id_of(&post["id"]).unwrap();
    bot.fake.add_channel(post.clone());
    bot.fake.dispatch("THREAD_CREATE", post).await;
    let asked = now_ms();
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::CODY, Place::guild(thread), question, asked),
        )
        .await;
    a_moment_later().await;
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::OTTO, Place::guild(thread), "+1", now_ms()),
        )
        .await;
    bot.wait_handled(thread).await;
    (thread, asked)
}

/// Otto wrote "+1" in Cody's forum post and in Cody's thread of a watched channel, then runs
/// `/forget-me`: his rows are anonymised, and nothing of Cody's changes: the post keeps its key
/// and its survey, the figures are the same, and the answer to Cody's open request is timed
/// from Cody's question as before. A second `/forget-me` within the hour is refused, politely.
#[tokio::test]
async fn forget_me_erases_only_the_caller_in_other_customers_conversations() {
    let bot = spawn_bot().await;
    let (post, _) = cody_asks_and_otto_adds_one(&bot, ids::HELP_FORUM, "Cannot log in").await;
    a_moment_later().await;
    alex_answers(&bot, post, "Reset your password").await;
    let post_key = post.to_string();
    let survey = bot
        .wait_event(&post_key, |e| {
            matches!(e.kind, EventKind::SurveySent { .. })
        })
        .await;
    let (thread, asked) = cody_asks_and_otto_adds_one(&bot, ids::SUPPORT, "Export fails").await;
    let thread_key = format!("{}:{}", ids::SUPPORT, ids::CODY);
    let now = now_ms() + 1;
    let window = Window {
        from: now - DAY,
        to: now,
        now,
    };
    let before = bot.desk.report(&Scope::default(), window).await.unwrap();
    let post_before = bot.events(&post_key).await;
    let store = bot.desk.store();
    let surveys_before = store
        .surveys_in_place(GUILD, &post_key, reactif::store::SurveyStatus::Sent)
        .await
        .unwrap();
    assert_eq!(surveys_before.len(), 1);

    let otto_dm = Place::dm(bot.fake.dm_channel_id(ids::OTTO));
    let id = bot.slash("forget-me", vec![], ids::OTTO, otto_dm).await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    let text = reply.content().unwrap();
    assert!(text.contains("0 conversation(s) of yours"), "{text}");
    assert!(
        text.contains("in 2 conversation(s) of other people"),
        "{text}"
    );

    let all = store.events_until(None, i64::MAX).await.unwrap();
    assert!(!all.iter().any(|e| e.author_id == ids::OTTO.to_string()));
    let post_after = bot.events(&post_key).await;
    assert_eq!(
        post_after.len(),
        post_before.len(),
        "the post keeps its key"
    );
    let unchanged = |e: &reactif::domain::Event| e.author_id != ids::OTTO.to_string();
    let mut cody_before: Vec<_> = post_before.into_iter().filter(unchanged).collect();
    let mut cody_after: Vec<_> = post_after
        .into_iter()
        .filter(|e| !e.author_id.starts_with("anon-"))
        .collect();
    cody_before.sort_by(|a, b| a.id.cmp(&b.id));
    cody_after.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(cody_after, cody_before);
    assert!(bot
        .events(&post_key)
        .await
        .iter()
        .any(|e| e.id == survey.id));
    assert_eq!(
        store
            .surveys_in_place(GUILD, &post_key, reactif::store::SurveyStatus::Sent)
            .await
            .unwrap(),
        surveys_before,
        "Cody's survey is still open, still his"
    );
    let after = bot.desk.report(&Scope::default(), window).await.unwrap();
    assert_eq!(
        reactif::report::json::report(&after),
        reactif::report::json::report(&before)
    );

    // Cody's request in his thread is still open: the agent's answer is timed from it.
    a_moment_later().await;
    let answered = alex_answers(&bot, thread, "Fixed in 2.1").await;
    bot.wait_event(&thread_key, |e| e.kind == EventKind::AgentMessage)
        .await;
    let rules = reactif::domain::GuildRules::default();
    let tl =
        reactif::domain::timeline::Timeline::build(&bot.events(&thread_key).await, None, &|_| {
            &rules
        });
    assert_eq!(tl.conversations.len(), 1);
    assert_eq!(tl.conversations[0].customer_id, ids::CODY.to_string());
    assert_eq!(tl.requests[0].delay(), Some(answered - asked));

    let again = bot.slash("forget-me", vec![], ids::OTTO, otto_dm).await;
    let reply = bot.interaction_reply(&again).await;
    assert!(reply.is_ephemeral());
    let text = reply.content().unwrap();
    assert!(text.contains("less than an hour"), "{text}");
    assert!(text.contains("moins d'une heure"), "{text}");
    bot.stop().await;
}
