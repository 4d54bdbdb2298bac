//! One contract, two backends: every test here runs on a fresh SQLite file and on a fresh
//! PostgreSQL database (when REACTIF_TEST_POSTGRES_URL is set; otherwise listed as ignored).
//! At the end, the two migration folders are checked to stay in step.

mod support;

use reactif::desk::Desk;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::shards::Shards;
use reactif::domain::{parse_time, BadgeStatistic, Event, EventKind, GuildRules, Locale, Rating};
use reactif::store::{
    Commit, CommitOutcome, DynStore, Inserted, OutboxItem, OutboxOp, SlaTimerRow, SurveyJob,
    SurveyOp, SurveyStatus, TimerOp,
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

async fn service_level_settings_are_kept_per_guild(store: DynStore) {
    use reactif::domain::settings::{SlaClock, SlaWarning};
    use reactif::domain::{DAY, HOUR};
    // Saving other settings keeps KPI.md's defaults: every target off, 20 % warning.
    let plain = GuildRules {
        locale: Locale::Fr,
        ..GuildRules::default()
    };
    store.save_guild_rules("g", &plain).await.unwrap();
    let read = store.guild_rules("g").await.unwrap();
    assert_eq!(read.sla.first_response, None);
    assert_eq!(read.sla.warning, SlaWarning::Percent(20));
    assert_eq!(read, plain);
    // Each setting is stored, for that guild only.
    let mut r = GuildRules::default()
        .with_sla_settings(&[
            ("first_response", "15m"),
            ("next_response", "4h"),
            ("resolution", "2d"),
            ("sla_clock", "business"),
            ("auto_close", "12h"),
            ("sla_warning", "10m"),
        ])
        .unwrap();
    store.save_guild_rules("g", &r).await.unwrap();
    let read = store.guild_rules("g").await.unwrap();
    assert_eq!(read.sla.resolution, Some(2 * DAY));
    assert_eq!(read.sla.clock, SlaClock::Business);
    assert_eq!(read.sla.auto_close, Some(12 * HOUR));
    assert_eq!(read.sla.warning, SlaWarning::Before(600_000));
    assert_eq!(read, r);
    assert_eq!(store.guild_rules("h").await.unwrap(), GuildRules::default());
    // Turned off again, and a warning of a percentage, and none at all.
    r = r
        .with_sla_settings(&[("resolution", "off"), ("sla_warning", "35%")])
        .unwrap();
    store.save_guild_rules("g", &r).await.unwrap();
    assert_eq!(store.guild_rules("g").await.unwrap(), r);
    assert_eq!(r.sla.resolution, None);
    r = r.with_sla_settings(&[("sla_warning", "off")]).unwrap();
    store.save_guild_rules("g", &r).await.unwrap();
    assert_eq!(store.all_guild_rules().await.unwrap()["g"], r);
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
        reactif::desk::Forgetting { own: 1, others: 0 }
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

/// Cody's forum post, where Otto wrote "+1", and Otto's own DM: what `/forget-me` by Otto
/// may touch.
fn cody_and_otto() -> (Vec<Event>, Commit) {
    let at = |m: i64| parse_time("2026-11-02T09:00:00Z").unwrap() + m * 60_000;
    let e = |id: &str, place: &str, author: &str, m: i64, kind: EventKind| Event {
        id: id.into(),
        guild_id: "g".into(),
        place: place.into(),
        author_id: author.into(),
        at: at(m),
        kind,
    };
    let events = vec![
        e("c1", "post-1", "cody", 0, EventKind::CustomerMessage),
        e("o1", "post-1", "otto", 1, EventKind::CustomerMessage),
        e("a1", "post-1", "alex", 5, EventKind::AgentMessage),
        e(
            "s1",
            "post-1",
            "bot",
            7,
            EventKind::SurveySent {
                survey_id: "a1".into(),
                answer_message_id: "a1".into(),
            },
        ),
        e(
            "r1",
            "post-1",
            "cody",
            8,
            EventKind::Rating {
                survey_id: "a1".into(),
                rating: Rating::parse(5).unwrap(),
            },
        ),
        e("o2", "dm-9", "otto", 10, EventKind::CustomerMessage),
        e("a2", "dm-9", "alex", 12, EventKind::AgentMessage),
        e("c2", "post-1", "cody", 20, EventKind::CustomerMessage),
    ];
    let line = |id: &str, place: &str, author: &str| reactif::store::TranscriptLine {
        message_id: id.into(),
        guild_id: "g".into(),
        conversation: place.into(),
        author_id: author.into(),
        at: 0,
        content: format!("words of {author}"),
    };
    let mut cody_survey = job("a3");
    cody_survey.conversation = "post-1".into();
    cody_survey.customer_id = "cody".into();
    let state = Commit {
        transcript: vec![
            line("c1", "post-1", "cody"),
            line("o1", "post-1", "otto"),
            line("o2", "dm-9", "otto"),
        ],
        surveys: vec![SurveyOp::Schedule(cody_survey)],
        ..Commit::default()
    };
    (events, state)
}

async fn forgetting_a_member_leaves_other_customers_places_as_they_are(store: DynStore) {
    let desk = Desk::new(store.clone());
    let (events, state) = cody_and_otto();
    desk.ingest(&events).await.unwrap();
    store.commit(&state).await.unwrap();
    store
        .save_ticket(&reactif::store::Ticket {
            guild_id: "g".into(),
            customer_id: "otto".into(),
            dm_channel_id: "9".into(),
            thread_id: Some("99".into()),
            conversation: "dm-9".into(),
        })
        .await
        .unwrap();
    store.set_dm_choice("otto", "g").await.unwrap();
    store.set_dm_choice("cody", "g").await.unwrap();
    let scope = Scope {
        guild_id: Some("g".into()),
        ..Scope::default()
    };
    let window = Window {
        from: parse_time("2026-11-01T00:00:00Z").unwrap(),
        to: parse_time("2026-11-03T00:00:00Z").unwrap(),
        now: parse_time("2026-11-03T00:00:00Z").unwrap(),
    };
    let report = |desk: Desk| {
        let scope = scope.clone();
        async move { reactif::report::json::report(&desk.report(&scope, window).await.unwrap()) }
    };
    let before = report(desk.clone()).await;
    let cody_before = sorted(store.place_events("g", "post-1").await.unwrap())
        .into_iter()
        .filter(|e| e.author_id != "otto")
        .collect::<Vec<_>>();

    let done = desk.forget_customer("otto").await.unwrap();
    assert_eq!(done, reactif::desk::Forgetting { own: 1, others: 1 });

    let post = sorted(store.place_events("g", "post-1").await.unwrap());
    assert_eq!(post.len(), 6, "Cody's post keeps its key and every event");
    let otto_row = post.iter().find(|e| e.id == "o1").unwrap();
    assert!(otto_row.author_id.starts_with("anon-"), "{otto_row}");
    let cody_after: Vec<Event> = post.into_iter().filter(|e| e.id != "o1").collect();
    assert_eq!(cody_after, cody_before, "nothing of Cody's changes");
    assert!(
        store.survey("a3").await.unwrap().is_some(),
        "Cody's survey job stays"
    );
    let lines = store.transcript("g", "post-1").await.unwrap();
    assert_eq!(lines.len(), 1, "only Otto's words go: {lines:?}");
    assert_eq!(lines[0].author_id, "cody");
    assert!(store.place_events("g", "dm-9").await.unwrap().is_empty());
    assert!(store.ticket("g", "otto").await.unwrap().is_none());
    assert_eq!(store.dm_choice("otto").await.unwrap(), None);
    assert_eq!(store.dm_choice("cody").await.unwrap().as_deref(), Some("g"));
    let all = store.events_until(None, i64::MAX).await.unwrap();
    assert!(!all.iter().any(|e| e.author_id == "otto"));
    assert_eq!(report(desk.clone()).await, before, "no figure changes");
}

async fn purging_forgets_the_team_choice_of_customers_no_longer_known(store: DynStore) {
    let desk = Desk::new(store.clone());
    let (events, _) = cody_and_otto();
    desk.ingest(&events).await.unwrap();
    store.set_dm_choice("otto", "g").await.unwrap();
    store.set_dm_choice("cody", "g").await.unwrap();
    // dm-9 ended at 09:12; Cody's post goes on until 09:20.
    let n = desk
        .purge_before(parse_time("2026-11-02T09:15:00Z").unwrap())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Otto is still known by his "+1" in Cody's post: his choice stays until that goes too.
    assert_eq!(store.dm_choice("otto").await.unwrap().as_deref(), Some("g"));
    desk.purge_before(parse_time("2026-11-02T10:00:00Z").unwrap())
        .await
        .unwrap();
    assert_eq!(store.dm_choice("otto").await.unwrap(), None);
    assert_eq!(store.dm_choice("cody").await.unwrap(), None);
}

async fn whether_a_guild_has_events_is_one_lookup_and_live_reads_by_time(store: DynStore) {
    let (events, _) = cody_and_otto();
    store.insert_events(&events).await.unwrap();
    assert!(store.guild_has_events("g").await.unwrap());
    assert!(!store.guild_has_events("h").await.unwrap());
    let since = parse_time("2026-11-02T09:10:00Z").unwrap();
    let mut ids: Vec<String> = store
        .place_events_since("g", "post-1", since)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["c2"]);
}

async fn exports_and_channel_reports_read_only_their_places_and_stop_at_a_limit(store: DynStore) {
    let desk = Desk::new(store.clone());
    desk.ingest(&worked_example()).await.unwrap();
    let guild = "1000000000000000001";
    let scope = Scope {
        guild_id: Some(guild.into()),
        ..Scope::default()
    };
    let window = worked_window();
    let all = desk
        .export_bounded(guild, &scope, window, 1_000)
        .await
        .unwrap();
    assert!(!all.capped);
    let whole = reactif::desk::export_rows(
        &store.events_until(Some(guild), window.now).await.unwrap(),
        &Default::default(),
        &scope,
        window,
    );
    assert_eq!(all.rows.len(), whole.len());
    assert!(all.rows.windows(2).all(|w| w[0].start <= w[1].start));
    let cut = desk.export_bounded(guild, &scope, window, 2).await.unwrap();
    assert!(cut.capped);
    assert_eq!(cut.rows.len(), 2);
    // A report over one place replays that place alone, and refuses past its limit.
    let one = Scope {
        conversations: Some(["dm-100".to_string()].into_iter().collect()),
        ..scope.clone()
    };
    let report = desk
        .places_report(guild, &one, window, 1_000)
        .await
        .unwrap();
    let replayed = desk.replay_report(&one, window).await.unwrap();
    assert_eq!(
        reactif::report::json::report(&report.unwrap()),
        reactif::report::json::report(&replayed)
    );
    assert!(desk
        .places_report(guild, &one, window, 3)
        .await
        .unwrap()
        .is_none());
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

fn timer(kind: &str, subject: &str, due_at: i64) -> SlaTimerRow {
    SlaTimerRow {
        guild_id: "g".into(),
        conversation: "p".into(),
        kind: kind.into(),
        subject: subject.into(),
        due_at,
        done: false,
    }
}

fn plan(timers: Vec<SlaTimerRow>) -> Commit {
    Commit {
        timers: vec![TimerOp::Plan {
            guild_id: "g".into(),
            conversation: "p".into(),
            timers,
        }],
        ..Commit::default()
    }
}

/// A plan replaces the place's pending timers; a timer done stays done (planning it again
/// changes nothing), and marking done one that is no longer pending writes nothing of its
/// commit: what a timer sends is decided once.
async fn service_level_timers_are_planned_replaced_and_done_once(store: DynStore) {
    let (warning, breach) = (
        timer("warning:first_response", "m1", 100),
        timer("breach:first_response", "m1", 200),
    );
    assert!(store
        .commit(&plan(vec![warning.clone(), breach.clone()]))
        .await
        .unwrap()
        .committed());
    assert_eq!(
        store.due_sla_timers(150, 10, &Shards::ALL).await.unwrap(),
        vec![warning.clone()]
    );
    let notice = |key: &str| OutboxOp::enqueue(OutboxItem::post_text(key.into(), "c", "hi", 0));
    let done = |t: &SlaTimerRow, key: &str| Commit {
        timers: vec![TimerOp::Done(t.clone())],
        outbox: vec![notice(key)],
        ..Commit::default()
    };
    assert_eq!(
        store.commit(&done(&warning, "w1")).await.unwrap(),
        CommitOutcome::Committed
    );
    // A second decision on the same timer (another tick, a restart) is skipped whole.
    assert_eq!(
        store.commit(&done(&warning, "w2")).await.unwrap(),
        CommitOutcome::Skipped
    );
    assert_eq!(store.outbox_backlog(None).await.unwrap().pending, 1);
    // The answer's plan drops the pending breach; the warning, done, is not planned again.
    assert!(store
        .commit(&plan(vec![warning.clone()]))
        .await
        .unwrap()
        .committed());
    let rows = store.sla_timers_in_place("g", "p").await.unwrap();
    assert_eq!(
        rows,
        vec![SlaTimerRow {
            done: true,
            ..warning.clone()
        }]
    );
    assert!(store
        .due_sla_timers(1_000, 10, &Shards::ALL)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.commit(&done(&breach, "b1")).await.unwrap(),
        CommitOutcome::Skipped
    );
    // Forgetting the place forgets its timers.
    store.anonymize_place("g", "p").await.unwrap();
    assert!(store
        .sla_timers_in_place("g", "p")
        .await
        .unwrap()
        .is_empty());
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
    service_level_settings_are_kept_per_guild,
    deleting_a_guild_removes_only_its_events,
    migrations_can_run_again,
    the_worked_example_gives_the_figures_worked_by_hand,
    purging_removes_customer_ids_and_keeps_every_figure,
    forgetting_a_customer_touches_only_their_conversations,
    forgetting_a_member_leaves_other_customers_places_as_they_are,
    purging_forgets_the_team_choice_of_customers_no_longer_known,
    whether_a_guild_has_events_is_one_lookup_and_live_reads_by_time,
    exports_and_channel_reports_read_only_their_places_and_stop_at_a_limit,
    a_commit_is_all_or_nothing_and_reports_survey_conflicts,
    a_group_commit_keeps_each_commits_outcome,
    concurrent_commits_share_transactions,
    service_level_timers_are_planned_replaced_and_done_once,
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
    let last = versions.last().copied().unwrap_or(0);
    let expected: Vec<u32> = (1..=last).collect();
    assert_eq!(versions, expected, "versions numbered 1, 2, 3, ...");
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

// --- Storage that cannot write is an outage that passes, on both backends. ---

/// A commit of one event with a relay of `size` bytes, for filling a database.
fn bulky_commit(i: usize, size: usize) -> Commit {
    let at = format!("2026-11-02T10:{:02}:{:02}Z", (i / 60) % 60, i % 60);
    let e = ev(
        &format!("fill-{i}"),
        "g1",
        "p1",
        &at,
        EventKind::CustomerMessage,
    );
    let item = OutboxItem::post_text(format!("fill:{i}"), "1", &"x".repeat(size), 0);
    Commit {
        events: vec![e],
        outbox: vec![OutboxOp::enqueue(item)],
        ..Commit::default()
    }
}

/// SQLite's size limit reached (as on a full disk): the write fails with SQLITE_FULL, which
/// the bot must treat like an unreachable database (the message waits), not as a wrong query.
#[tokio::test]
async fn sqlite_full_is_an_outage_that_passes() {
    use reactif::store::sqlite::SqliteStore;
    use reactif::store::{CommitStore, Outage};
    let db = support::db::sqlite().await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    let limit = pages + 8;
    let capped = SqliteStore::connect_with(&db.url, move |o| {
        o.pragma("max_page_count", limit.to_string())
    })
    .await
    .unwrap();
    let mut failure = None;
    for i in 0..1_000 {
        if let Err(e) = capped.commit(&bulky_commit(i, 3_000)).await {
            failure = Some(e);
            break;
        }
    }
    let e = failure.expect("the capped file filled up");
    assert_eq!(e.outage(), Some(Outage::Full), "{e}");
    assert!(e.is_transient());
    db.cleanup().await;
}

/// A PostgreSQL database that turned read-only (a standby after a failover, or
/// `default_transaction_read_only`): the write fails with 25006, an outage that passes.
// --- /forget-me finds a person's rows through an index, on both backends. ---

#[tokio::test]
async fn forgetting_reads_the_author_index_not_the_table_on_sqlite() {
    let db = support::db::sqlite().await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let sql = format!(
        "EXPLAIN QUERY PLAN {}",
        reactif::store::PLACES_OF_CUSTOMER_SQL
    );
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("5000000000000000003")
        .fetch_all(&pool)
        .await
        .unwrap();
    let details: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("USING COVERING INDEX events_author")),
        "{details:?}"
    );
    assert!(
        !details.iter().any(|d| d.starts_with("SCAN events")),
        "{details:?}"
    );
    pool.close().await;
    db.cleanup().await;
}

#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn postgres_read_only_is_an_outage_that_passes() {
    use reactif::store::postgres::PgStore;
    use reactif::store::{CommitStore, Outage};
    use sqlx::Connection;
    let db = support::db::postgres().await;
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    admin.close().await.unwrap();
    let read_only = PgStore::connect(&db.url).await.unwrap();
    let e = read_only
        .commit(&bulky_commit(1, 10))
        .await
        .expect_err("a read-only database refuses the write");
    assert_eq!(e.outage(), Some(Outage::ReadOnly), "{e}");
    assert!(e.is_transient());
    reactif::store::Store::close(&read_only).await;
    db.cleanup().await;
}

// --- The engagement store, after `contract!` so that it can use it. ---
#[path = "store_contract/engagement.rs"]
mod engagement;

// --- Several processes on one database: shards, IDENTIFY turns, a shared refresh. ---
#[path = "store_contract/shards.rs"]
mod shards;

#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn forgetting_reads_the_author_index_not_the_table_on_postgres() {
    use sqlx::{Connection, Executor};
    let db = support::db::postgres().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    // An empty table is cheaper to scan than to look up: forbid the scan, so that the plan
    // shows whether the index can answer at all.
    conn.execute("SET enable_seqscan = off").await.unwrap();
    let sql = format!("EXPLAIN {}", reactif::store::PLACES_OF_CUSTOMER_SQL);
    let plan: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("5000000000000000003")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|(l,)| l).collect();
    assert!(
        plan.iter().any(|l| l.contains("events_author")),
        "{plan:#?}"
    );
    assert!(!plan.iter().any(|l| l.contains("Seq Scan")), "{plan:#?}");
    let _ = conn.close().await;
    db.cleanup().await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = support::db::sqlite().await;
    let path = db.url.strip_prefix("sqlite://").unwrap().to_string();
    // Something written, so that the WAL exists too.
    db.store.set_dm_choice("1", "2").await.unwrap();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: {mode:o}");
    }
    db.cleanup().await;
}
