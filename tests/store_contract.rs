//! One contract, two backends: every test here runs on a fresh SQLite file and on a fresh
//! PostgreSQL database (when REACTIF_TEST_POSTGRES_URL is set; otherwise listed as ignored).
//! At the end, the two migration folders are checked to stay in step.

mod support;

use reactif::desk::Desk;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{parse_time, BadgeStatistic, Event, EventKind, GuildRules, Locale, Rating};
use reactif::store::{
    Commit, CommitOutcome, DynStore, Inserted, OutboxItem, OutboxOp, SurveyJob, SurveyOp,
    SurveyStatus,
};
use std::path::Path;

fn ev(id: &str, guild: &str, place: &str, at: &str, kind: EventKind) -> Event {
    Event {
        id: id.into(),
        guild_id: guild.into(),
        place: place.into(),
        author_id: "42".into(),
        at: parse_time(at).expect("test time"),
        kind,
    }
}

fn sorted(mut v: Vec<Event>) -> Vec<Event> {
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

async fn storing_an_event_twice_changes_nothing(store: DynStore) {
    let e = ev(
        "1",
        "g",
        "p",
        "2026-11-02T09:00:00Z",
        EventKind::CustomerMessage,
    );
    assert_eq!(
        store.insert_events(std::slice::from_ref(&e)).await.unwrap(),
        [Inserted::New]
    );
    assert_eq!(
        store.insert_events(std::slice::from_ref(&e)).await.unwrap(),
        [Inserted::Duplicate]
    );
    // Same id, different content: the first one stays.
    let mut changed = e.clone();
    changed.at += 1;
    assert_eq!(
        store.insert_events(&[changed]).await.unwrap(),
        [Inserted::Duplicate]
    );
    assert_eq!(store.place_events("g", "p").await.unwrap(), vec![e]);
    assert_eq!(store.count_events(None).await.unwrap(), 1);
}

async fn a_batch_holding_an_id_twice_stores_it_once(store: DynStore) {
    let a = ev(
        "1",
        "g",
        "p",
        "2026-11-02T09:00:00Z",
        EventKind::CustomerMessage,
    );
    let b = ev(
        "2",
        "g",
        "p",
        "2026-11-02T09:01:00Z",
        EventKind::AgentMessage,
    );
    let out = store
        .insert_events(&[a.clone(), b.clone(), a.clone()])
        .await
        .unwrap();
    assert_eq!(out, [Inserted::New, Inserted::New, Inserted::Duplicate]);
    assert_eq!(store.count_events(Some("g")).await.unwrap(), 2);
    // Stored and new ones mixed, and an id repeated in a later chunk of the same batch (the
    // store writes 1,000 rows a statement): each is told apart.
    let mut batch: Vec<Event> = (0..1_001)
        .map(|i| Event {
            id: format!("n{i}"),
            ..a.clone()
        })
        .collect();
    batch[3] = b.clone();
    batch[1_000].id = "n0".into();
    let out = store.insert_events(&batch).await.unwrap();
    let duplicates: Vec<usize> = (0..out.len())
        .filter(|&i| out[i] == Inserted::Duplicate)
        .collect();
    assert_eq!(duplicates, vec![3, 1_000]);
    assert_eq!(store.count_events(Some("g")).await.unwrap(), 2 + 999);
}

async fn every_kind_of_event_round_trips(store: DynStore) {
    let events = vec![
        ev(
            "1",
            "g",
            "p",
            "2026-11-02T09:00:00.125Z",
            EventKind::CustomerMessage,
        ),
        ev("2", "g", "p", "2026-11-02T09:00:01Z", EventKind::Note),
        ev("3", "g", "p", "2026-11-02T09:00:02Z", EventKind::BotMessage),
        ev(
            "4",
            "g",
            "p",
            "2026-11-02T09:00:03Z",
            EventKind::AgentMessage,
        ),
        ev(
            "5",
            "g",
            "p",
            "2026-11-02T09:01:03Z",
            EventKind::SurveySent {
                survey_id: "s1".into(),
                answer_message_id: "4".into(),
            },
        ),
        ev(
            "6",
            "g",
            "p",
            "2026-11-02T09:02:00Z",
            EventKind::Rating {
                survey_id: "s1".into(),
                rating: Rating::parse(4).unwrap(),
            },
        ),
        ev(
            "7",
            "g",
            "p",
            "2026-11-02T09:02:30Z",
            EventKind::Comment {
                survey_id: "s1".into(),
                text: "Très bien, merci ✓ \"quoted\"\n\\ \t\u{1} 🎉".into(),
            },
        ),
        ev("8", "g", "p", "2026-11-02T09:03:00Z", EventKind::Close),
    ];
    store.insert_events(&events).await.unwrap();
    assert_eq!(sorted(store.place_events("g", "p").await.unwrap()), events);
    // The refresh reads them back another way (as JSON): the same events, text included.
    let places = ["p".to_string(), "empty".to_string()];
    assert_eq!(
        sorted(store.events_of_places("g", &places).await.unwrap()),
        events
    );
    assert!(store
        .events_of_places("g", &["empty".to_string()])
        .await
        .unwrap()
        .is_empty());
}

async fn events_until_leaves_out_later_events_and_other_guilds(store: DynStore) {
    let events = vec![
        ev(
            "1",
            "g1",
            "p",
            "2026-11-02T09:00:00Z",
            EventKind::CustomerMessage,
        ),
        ev(
            "2",
            "g1",
            "p",
            "2026-11-02T10:00:00Z",
            EventKind::CustomerMessage,
        ),
        ev(
            "3",
            "g2",
            "p",
            "2026-11-02T09:30:00Z",
            EventKind::CustomerMessage,
        ),
    ];
    store.insert_events(&events).await.unwrap();
    let now = parse_time("2026-11-02T10:00:00Z").unwrap();
    let ids = |v: Vec<Event>| sorted(v).into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.events_until(Some("g1"), now).await.unwrap()),
        ["1", "2"]
    );
    assert_eq!(
        ids(store.events_until(Some("g1"), now - 1).await.unwrap()),
        ["1"]
    );
    assert_eq!(
        ids(store.events_until(None, now).await.unwrap()),
        ["1", "2", "3"]
    );
    assert_eq!(store.place_events("g2", "p").await.unwrap().len(), 1);
}

async fn guild_rules_default_to_kpi_md_and_changes_are_kept(store: DynStore) {
    assert_eq!(store.guild_rules("g").await.unwrap(), GuildRules::default());
    let mut r = GuildRules {
        timezone: chrono_tz::Europe::Paris,
        business_hours: "mon-fri 09:00-18:00".parse().unwrap(),
        idle_ms: 3_600_000,
        deadline_ms: 7_200_000,
        survey_delay_ms: 30_000,
        locale: Locale::Fr,
        note_prefix: "//".into(),
        ..GuildRules::default()
    };
    r.badge.min_rate_bp = 8_500;
    r.badge.statistic = BadgeStatistic::Median;
    store.save_guild_rules("g", &r).await.unwrap();
    assert_eq!(store.guild_rules("g").await.unwrap(), r);
    r.locale = Locale::En;
    store.save_guild_rules("g", &r).await.unwrap();
    assert_eq!(store.guild_rules("g").await.unwrap(), r);
    let all = store.all_guild_rules().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all["g"], r);
}

async fn deleting_a_guild_removes_only_its_events(store: DynStore) {
    store
        .insert_events(&[
            ev(
                "1",
                "g1",
                "p",
                "2026-11-02T09:00:00Z",
                EventKind::CustomerMessage,
            ),
            ev(
                "2",
                "g2",
                "p",
                "2026-11-02T09:00:00Z",
                EventKind::CustomerMessage,
            ),
        ])
        .await
        .unwrap();
    assert_eq!(store.delete_guild_events("g1").await.unwrap(), 1);
    assert_eq!(store.count_events(None).await.unwrap(), 1);
    assert_eq!(store.count_events(Some("g2")).await.unwrap(), 1);
}

async fn migrations_can_run_again(store: DynStore) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
}

/// docs/examples/worked-example.*: the figures worked by hand in the contract.
async fn the_worked_example_gives_the_figures_worked_by_hand(store: DynStore) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let events = worked_example();
    let desk = Desk::new(store);
    // In reverse order and twice: order and repetition change nothing.
    let reversed: Vec<Event> = events.iter().rev().cloned().collect();
    assert_eq!(desk.ingest(&reversed).await.unwrap().new, 21);
    assert_eq!(desk.ingest(&events).await.unwrap().duplicates, 21);
    let window = worked_window();
    let report = desk.report(&Scope::default(), window).await.unwrap();
    let json = reactif::report::json::report(&report);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("worked-example.expected.json")).unwrap(),
    )
    .unwrap();
    support::json::assert_subset(&expected, &json);
    assert_eq!(json["window"]["from"], "2026-11-02T00:00:00.000Z");
    assert_eq!(json["window"]["now"], "2026-11-05T10:00:00.000Z");
    // The guild filter keeps them all (one guild), another guild sees nothing.
    let scope = Scope {
        guild_id: Some("1000000000000000001".into()),
        ..Scope::default()
    };
    let same = reactif::report::json::report(&desk.report(&scope, window).await.unwrap());
    support::json::assert_subset(&expected, &same);
    let scope = Scope {
        guild_id: Some("2".into()),
        ..Scope::default()
    };
    let other = desk.report(&scope, window).await.unwrap();
    assert_eq!(other.current.messages_received, 0);
}

fn worked_example() -> Vec<Event> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    std::fs::read_to_string(dir.join("worked-example.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Event::parse_line(l).unwrap())
        .collect()
}

fn worked_window() -> Window {
    Window {
        from: parse_time("2026-11-02T00:00:00Z").unwrap(),
        to: parse_time("2026-11-05T00:00:00Z").unwrap(),
        now: parse_time("2026-11-05T10:00:00Z").unwrap(),
    }
}

const CUSTOMERS: [&str; 5] = [
    "5000000000000000001",
    "5000000000000000002",
    "5000000000000000003",
    "5000000000000000004",
    "5000000000000000009",
];

async fn purging_removes_customer_ids_and_keeps_every_figure(store: DynStore) {
    let desk = Desk::new(store.clone());
    desk.ingest(&worked_example()).await.unwrap();
    let before = reactif::report::json::report(
        &desk
            .report(&Scope::default(), worked_window())
            .await
            .unwrap(),
    );
    // dm-400 has an event on 11-05 11:00: it has not ended before 11-05 and stays as it is.
    let n = desk
        .purge_before(parse_time("2026-11-05T00:00:00Z").unwrap())
        .await
        .unwrap();
    assert_eq!(n, 3);
    let after = reactif::report::json::report(
        &desk
            .report(&Scope::default(), worked_window())
            .await
            .unwrap(),
    );
    assert_eq!(after, before, "figures are unchanged by anonymisation");
    let events = store.events_until(None, i64::MAX).await.unwrap();
    let kept: Vec<&Event> = events.iter().filter(|e| e.place == "dm-400").collect();
    assert_eq!(kept.len(), 2);
    for e in events.iter().filter(|e| e.place != "dm-400") {
        assert!(e.place.starts_with("anon-"), "{e}");
        assert!(!CUSTOMERS[..3].contains(&e.author_id.as_str()), "{e}");
        assert!(!CUSTOMERS[4..].contains(&e.author_id.as_str()), "{e}");
    }
    // Agents stay credited.
    assert!(events.iter().any(|e| e.author_id == "9010000000000000001"));
    // Nothing left to purge the second time.
    assert_eq!(
        desk.purge_before(parse_time("2026-11-05T00:00:00Z").unwrap())
            .await
            .unwrap(),
        0
    );
}

async fn forgetting_a_customer_touches_only_their_conversations(store: DynStore) {
    let desk = Desk::new(store.clone());
    desk.ingest(&worked_example()).await.unwrap();
    let before = reactif::report::json::report(
        &desk
            .report(&Scope::default(), worked_window())
            .await
            .unwrap(),
    );
    assert_eq!(
        desk.forget_customer("5000000000000000003").await.unwrap(),
        1
    );
    let events = store.events_until(None, i64::MAX).await.unwrap();
    assert!(!events.iter().any(|e| e.author_id == "5000000000000000003"));
    assert!(!events.iter().any(|e| e.place == "thread-300"));
    assert_eq!(events.iter().filter(|e| e.place == "dm-100").count(), 12);
    let after = reactif::report::json::report(
        &desk
            .report(&Scope::default(), worked_window())
            .await
            .unwrap(),
    );
    assert_eq!(after, before);
}

fn job(id: &str) -> SurveyJob {
    SurveyJob {
        survey_id: id.into(),
        guild_id: "g".into(),
        conversation: "p".into(),
        customer_id: "c".into(),
        agent_id: "a".into(),
        answer_message_id: id.into(),
        channel_id: "dm".into(),
        reply_to: None,
        due_at: 1_000,
        status: SurveyStatus::Scheduled,
        message_id: None,
        sent_at: None,
        rating: None,
    }
}

/// A commit is all or nothing: an event, a survey and an outbox item go in together, and a
/// survey found in another status than the decision assumed cancels everything.
async fn a_commit_is_all_or_nothing_and_reports_survey_conflicts(store: DynStore) {
    let ev = |id: &str| Event {
        id: id.into(),
        guild_id: "g".into(),
        place: "p".into(),
        author_id: "a".into(),
        at: 2_000,
        kind: EventKind::AgentMessage,
    };
    let item = |key: &str| {
        OutboxItem::post(key.into(), "dm", serde_json::json!({"content": "x"}), 0)
            .in_place("g", "p")
    };
    let first = Commit {
        events: vec![ev("e1")],
        require_new: true,
        surveys: vec![SurveyOp::Schedule(job("s1"))],
        outbox: vec![OutboxOp::enqueue(item("k1"))],
        ..Commit::default()
    };
    assert_eq!(
        store.commit(&first).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store.commit(&first).await.unwrap(),
        CommitOutcome::Skipped,
        "a replayed event"
    );
    assert_eq!(store.outbox_backlog(Some("g")).await.unwrap().pending, 1);
    assert_eq!(
        store.outbox_backlog(Some("other")).await.unwrap().pending,
        0
    );

    // Decided on "s1 is sending", but it is still scheduled: nothing of the commit is written.
    let stale = Commit {
        events: vec![ev("e2")],
        require_new: true,
        surveys: vec![SurveyOp::Status {
            survey_id: "s1".into(),
            from: vec![SurveyStatus::Sending],
            status: SurveyStatus::Cancelled,
        }],
        outbox: vec![OutboxOp::enqueue(item("k2"))],
        ..Commit::default()
    };
    assert_eq!(store.commit(&stale).await.unwrap(), CommitOutcome::Conflict);
    assert_eq!(store.place_events("g", "p").await.unwrap().len(), 1);
    assert_eq!(store.outbox_backlog(None).await.unwrap().pending, 1);
    assert_eq!(
        store.survey("s1").await.unwrap().unwrap().status,
        SurveyStatus::Scheduled
    );

    // A survey can be recorded as sent only while it is being sent.
    let sent = Commit {
        surveys: vec![SurveyOp::Sent {
            survey_id: "s1".into(),
            message_id: "m1".into(),
            sent_at: 3_000,
        }],
        ..Commit::default()
    };
    assert_eq!(store.commit(&sent).await.unwrap(), CommitOutcome::Conflict);
    let start = Commit {
        surveys: vec![SurveyOp::StartSending {
            survey_id: "s1".into(),
        }],
        ..Commit::default()
    };
    assert_eq!(
        store.commit(&start).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store.commit(&start).await.unwrap(),
        CommitOutcome::Skipped,
        "started once"
    );
    assert_eq!(store.commit(&sent).await.unwrap(), CommitOutcome::Committed);
    let s1 = store.survey("s1").await.unwrap().unwrap();
    assert_eq!(
        (s1.status, s1.message_id.as_deref(), s1.sent_at),
        (SurveyStatus::Sent, Some("m1"), Some(3_000))
    );

    // A rated survey is not withdrawn, and a withdrawn one takes no rating.
    let rate = |rating: i32| Commit {
        surveys: vec![SurveyOp::Rating {
            survey_id: "s1".into(),
            rating,
        }],
        ..Commit::default()
    };
    let withdraw = Commit {
        surveys: vec![SurveyOp::Status {
            survey_id: "s1".into(),
            from: vec![SurveyStatus::Sent],
            status: SurveyStatus::Withdrawn,
        }],
        ..Commit::default()
    };
    assert_eq!(
        store.commit(&rate(4)).await.unwrap(),
        CommitOutcome::Committed
    );
    assert_eq!(
        store.commit(&withdraw).await.unwrap(),
        CommitOutcome::Conflict
    );
    let mut unrated = job("s2");
    unrated.status = SurveyStatus::Sent;
    store
        .commit(&Commit {
            surveys: vec![SurveyOp::Schedule(unrated)],
            ..Commit::default()
        })
        .await
        .unwrap();
    let withdraw2 = Commit {
        surveys: vec![SurveyOp::Status {
            survey_id: "s2".into(),
            from: vec![SurveyStatus::Sent],
            status: SurveyStatus::Withdrawn,
        }],
        ..Commit::default()
    };
    assert_eq!(
        store.commit(&withdraw2).await.unwrap(),
        CommitOutcome::Committed
    );
    let rate2 = Commit {
        surveys: vec![SurveyOp::Rating {
            survey_id: "s2".into(),
            rating: 5,
        }],
        ..Commit::default()
    };
    assert_eq!(store.commit(&rate2).await.unwrap(), CommitOutcome::Conflict);
    assert_eq!(store.survey("s2").await.unwrap().unwrap().rating, None);

    // Forgetting the place drops what the bot still owed it.
    store.anonymize_place("g", "p").await.unwrap();
    assert_eq!(store.outbox_backlog(None).await.unwrap().pending, 0);
}

async fn a_group_commit_keeps_each_commits_outcome(store: DynStore) {
    let ev = |id: &str, place: &str| Event {
        id: id.into(),
        guild_id: "g".into(),
        place: place.into(),
        author_id: "a".into(),
        at: 2_000,
        kind: EventKind::CustomerMessage,
    };
    store.insert_events(&[ev("old", "p0")]).await.unwrap();
    let new = |id: &str, place: &str| Commit {
        events: vec![ev(id, place)],
        require_new: true,
        ..Commit::default()
    };
    // A survey change decided on a status the survey is not in.
    let stale = Commit {
        events: vec![ev("e3", "p3")],
        surveys: vec![SurveyOp::StartSending {
            survey_id: "missing".into(),
        }],
        ..Commit::default()
    };
    let outcomes = store
        .commit_group(&[new("e1", "p1"), new("old", "p0"), stale, new("e2", "p2")])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![
            CommitOutcome::Committed,
            CommitOutcome::Skipped,
            CommitOutcome::Skipped,
            CommitOutcome::Committed
        ]
    );
    // The skipped ones wrote nothing, the others everything, in one transaction.
    assert_eq!(store.count_events(Some("g")).await.unwrap(), 3);
    assert!(store.place_events("g", "p3").await.unwrap().is_empty());
    assert_eq!(store.place_events("g", "p2").await.unwrap().len(), 1);
    // What was written marked its places for the report rollups.
    let dirty: Vec<String> = store
        .dirty_places(Some("g"), None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.conversation)
        .collect();
    assert_eq!(dirty, vec!["p0", "p1", "p2"]);
    // The refresh reads them in batches, each from just after the last one's end.
    let after = |guild: Option<&str>, from: Option<(&str, &str)>, limit| {
        let store = store.clone();
        let (guild, from) = (
            guild.map(str::to_string),
            from.map(|(g, p)| (g.to_string(), p.to_string())),
        );
        async move {
            let from = from.as_ref().map(|(g, p)| (g.as_str(), p.as_str()));
            store
                .dirty_places(guild.as_deref(), from, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|d| format!("{}/{}", d.guild_id, d.conversation))
                .collect::<Vec<_>>()
        }
    };
    store
        .insert_events(&[
            Event {
                guild_id: "f".into(),
                ..ev("f1", "p1")
            },
            Event {
                guild_id: "h".into(),
                ..ev("h1", "p0")
            },
        ])
        .await
        .unwrap();
    assert_eq!(after(None, None, 2).await, vec!["f/p1", "g/p0"]);
    assert_eq!(
        after(None, Some(("g", "p0")), 10).await,
        vec!["g/p1", "g/p2", "h/p0"]
    );
    assert_eq!(
        after(None, Some(("f", "p1")), 2).await,
        vec!["g/p0", "g/p1"]
    );
    assert_eq!(after(Some("g"), Some(("g", "p1")), 10).await, vec!["g/p2"]);
    assert_eq!(
        after(Some("g"), Some(("g", "p2")), 10).await,
        Vec::<String>::new()
    );
    // What a large refresh runs afterwards must be valid on both backends.
    store.analyze_rollups().await.unwrap();
}

async fn concurrent_commits_share_transactions(store: DynStore) {
    let desk = Desk::new(store.clone()).with_group_commit();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let desk = desk.clone();
            tokio::spawn(async move {
                desk.commit(&Commit {
                    events: vec![Event {
                        id: format!("m{i}"),
                        guild_id: "g".into(),
                        place: format!("p{}", i % 7),
                        author_id: "c".into(),
                        at: 1_000 + i,
                        kind: EventKind::CustomerMessage,
                    }],
                    require_new: true,
                    ..Commit::default()
                })
                .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), CommitOutcome::Committed);
    }
    assert_eq!(store.count_events(Some("g")).await.unwrap(), 200);
    let (groups, commits) = desk.group_stats().unwrap();
    assert_eq!(commits, 200);
    assert!(
        groups < commits,
        "{groups} transactions for {commits} commits"
    );
}

async fn dashboard_sessions_links_and_states_are_good_once_and_until_they_end(store: DynStore) {
    use reactif::store::WebSession;
    // One signing key per database: the first writer's.
    let key = store.web_secret("link", "first", 1).await.unwrap();
    assert_eq!(key, "first");
    assert_eq!(
        store.web_secret("link", "second", 2).await.unwrap(),
        "first"
    );

    let session = |hash: &str, user: &str| WebSession {
        token_hash: hash.into(),
        user_id: user.into(),
        home_guild: Some("g".into()),
        created_ms: 1_000,
        expires_ms: 5_000,
    };
    store.create_session(&session("h1", "u1")).await.unwrap();
    store.create_session(&session("h2", "u1")).await.unwrap();
    store.create_session(&session("h3", "u2")).await.unwrap();
    assert_eq!(
        store.live_session("h1", 4_999).await.unwrap(),
        Some(session("h1", "u1"))
    );
    assert_eq!(
        store.live_session("h1", 5_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.live_session("nope", 2_000).await.unwrap(), None);
    assert!(store.revoke_session("h1", 2_000).await.unwrap());
    assert!(
        !store.revoke_session("h1", 2_000).await.unwrap(),
        "already revoked"
    );
    assert_eq!(
        store.live_session("h1", 2_001).await.unwrap(),
        None,
        "revoked"
    );
    assert_eq!(store.revoke_user_sessions("u1", 2_000).await.unwrap(), 1);
    assert_eq!(store.live_session("h2", 2_001).await.unwrap(), None);
    assert!(
        store.live_session("h3", 2_001).await.unwrap().is_some(),
        "another user's session stays"
    );

    assert!(store.use_link("n1", 10_000, 1_000).await.unwrap());
    assert!(
        !store.use_link("n1", 10_000, 2_000).await.unwrap(),
        "used twice"
    );
    assert!(store.use_link("n2", 10_000, 2_000).await.unwrap());

    store.save_oauth_state("s1", 10_000).await.unwrap();
    store.save_oauth_state("s2", 3_000).await.unwrap();
    assert!(store.take_oauth_state("s1", 2_000).await.unwrap());
    assert!(
        !store.take_oauth_state("s1", 2_000).await.unwrap(),
        "taken twice"
    );
    assert!(
        !store.take_oauth_state("s2", 3_000).await.unwrap(),
        "expired"
    );
    assert!(!store.take_oauth_state("never", 1).await.unwrap());
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::support::db::sqlite().await;
                    super::$name(db.store.clone()).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(reactif_pg),
                    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
                )]
                async fn $name() {
                    let db = crate::support::db::postgres().await;
                    super::$name(db.store.clone()).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

contract!(
    storing_an_event_twice_changes_nothing,
    a_batch_holding_an_id_twice_stores_it_once,
    every_kind_of_event_round_trips,
    events_until_leaves_out_later_events_and_other_guilds,
    guild_rules_default_to_kpi_md_and_changes_are_kept,
    deleting_a_guild_removes_only_its_events,
    migrations_can_run_again,
    the_worked_example_gives_the_figures_worked_by_hand,
    purging_removes_customer_ids_and_keeps_every_figure,
    forgetting_a_customer_touches_only_their_conversations,
    a_commit_is_all_or_nothing_and_reports_survey_conflicts,
    a_group_commit_keeps_each_commits_outcome,
    concurrent_commits_share_transactions,
    dashboard_sessions_links_and_states_are_good_once_and_until_they_end,
);

// --- The two migration folders stay in step. ---

/// The migration files of one backend's folder, by name.
fn migration_files(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn both_migration_folders_hold_the_same_versions_under_the_same_names() {
    let (sqlite, postgres) = (migration_files("sqlite"), migration_files("postgres"));
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same files"
    );
    // sqlx orders migrations by the number before the first `_`.
    let versions: Vec<u32> = sqlite
        .iter()
        .map(|name| {
            let (version, rest) = name
                .split_once('_')
                .unwrap_or_else(|| panic!("{name}: not VERSION_NAME.sql"));
            assert!(rest.ends_with(".sql"), "{name}: not VERSION_NAME.sql");
            version
                .parse()
                .unwrap_or_else(|e| panic!("{name}: version {version}: {e}"))
        })
        .collect();
    // Numbers are given out per feature before the features land (0013 is the dashboard's), so
    // a branch may skip some; what sqlx needs is one file per version, in order.
    assert_eq!(versions.first(), Some(&1), "versions start at 1");
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "one migration per version, in order: {versions:?}"
    );
}

/// A database's tables, each with its columns' names.
type Schema = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

fn schema(rows: Vec<(String, String)>) -> Schema {
    let mut out = Schema::new();
    for (table, column) in rows {
        out.entry(table).or_default().insert(column);
    }
    out
}

/// What is in one schema and not in the other: whole tables, then columns.
fn schema_differences(a: (&str, &Schema), b: (&str, &Schema)) -> Vec<String> {
    let mut out = Vec::new();
    for ((name, one), (other_name, other)) in [(a, b), (b, a)] {
        for (table, columns) in one {
            match other.get(table) {
                None => out.push(format!("table {table} only on {name}")),
                Some(theirs) => out.extend(
                    columns
                        .difference(theirs)
                        .map(|c| format!("column {table}.{c} only on {name}, not on {other_name}")),
                ),
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn both_backends_migrate_to_the_same_tables_and_columns() {
    use sqlx::Connection;
    let (lite, pg) = (support::db::sqlite().await, support::db::postgres().await);
    let mut conn = sqlx::SqliteConnection::connect(&lite.url).await.unwrap();
    let sqlite = schema(
        sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap(),
    );
    conn.close().await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    let postgres = schema(
        sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t \
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             AND c.table_name <> '_sqlx_migrations'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap(),
    );
    conn.close().await.unwrap();
    // Both read something: the tables every figure comes from, with their columns.
    for schema in [&sqlite, &postgres] {
        assert!(schema["events"].contains("conversation"), "{schema:?}");
        assert!(
            schema["kpi_delay_blocks"].contains("first_bucket"),
            "{schema:?}"
        );
    }
    let differences = schema_differences(("sqlite", &sqlite), ("postgres", &postgres));
    assert!(
        differences.is_empty(),
        "the migrations diverge:\n{}",
        differences.join("\n")
    );
    lite.cleanup().await;
    pg.cleanup().await;
}
