//! The engagement store (docs/engagement.md) on both backends: posts, reaction events and
//! replies stored once each, read back by window, the hand-worked example through the store, and
//! the privacy operations that must leave every figure as it was.

use reactif::desk::Desk;
use reactif::domain::engagement::{EngagementEvent, EngagementKind, Filters};
use reactif::domain::kpi::Window;
use reactif::domain::{parse_time, GuildRules};
use reactif::store::{DynStore, Inserted};
use serde_json::Value;
use std::path::Path;

fn t(s: &str) -> i64 {
    parse_time(s).expect("test time")
}

fn post(id: &str, guild: &str, at: &str, themes: &[&str], audience: u64) -> EngagementEvent {
    EngagementEvent {
        id: id.into(),
        guild_id: guild.into(),
        author_id: "900".into(),
        at: t(at),
        kind: EngagementKind::Post {
            channel_id: "77".into(),
            themes: themes.iter().map(|s| s.to_string()).collect(),
            audience,
        },
    }
}

fn reaction(id: &str, post: &str, user: &str, at: &str, add: bool) -> EngagementEvent {
    let (post_id, emoji) = (post.to_string(), "👍".to_string());
    EngagementEvent {
        id: id.into(),
        guild_id: "g".into(),
        author_id: user.into(),
        at: t(at),
        kind: if add {
            EngagementKind::ReactionAdd { post_id, emoji }
        } else {
            EngagementKind::ReactionRemove { post_id, emoji }
        },
    }
}

fn reply(id: &str, post: &str, user: &str, at: &str) -> EngagementEvent {
    EngagementEvent {
        id: id.into(),
        guild_id: "g".into(),
        author_id: user.into(),
        at: t(at),
        kind: EngagementKind::Reply {
            post_id: post.into(),
        },
    }
}

fn sorted(mut v: Vec<EngagementEvent>) -> Vec<EngagementEvent> {
    v.sort_by(|a, b| a.id.cmp(&b.id).then(a.kind.name().cmp(b.kind.name())));
    v
}

async fn engagement_events_are_stored_once_and_read_back_by_window(store: DynStore) {
    let p1 = post(
        "10",
        "g",
        "2026-11-02T09:00:00Z",
        &["release", "Events"],
        120,
    );
    let p2 = post("11", "g", "2026-11-03T09:00:00Z", &[], 0);
    let other = post("12", "h", "2026-11-02T10:00:00Z", &["x"], 5);
    let r1 = reaction("20", "10", "1", "2026-11-02T09:05:00Z", true);
    let r2 = reaction("21", "10", "1", "2026-11-02T09:06:00Z", false);
    let late = reaction("22", "10", "2", "2026-11-04T09:00:00Z", true);
    // A reply may share its id with a reaction event: they are rows of different kinds.
    let y1 = reply("20", "11", "3", "2026-11-03T10:00:00Z");
    let orphan = reply("23", "999", "3", "2026-11-03T10:00:00Z");
    let all = vec![
        p1.clone(),
        r1.clone(),
        r2.clone(),
        late.clone(),
        y1.clone(),
        orphan.clone(),
        p2.clone(),
        other.clone(),
        p1.clone(),
    ];
    let out = store.insert_engagement(&all).await.unwrap();
    let mut expected = vec![Inserted::New; 8];
    expected.push(Inserted::Duplicate);
    assert_eq!(out, expected);
    // Again: nothing new, and nothing changed.
    let again = store.insert_engagement(&all).await.unwrap();
    assert!(again.iter().all(|o| *o == Inserted::Duplicate), "{again:?}");
    assert_eq!(store.count_posts(None).await.unwrap(), 3);
    assert_eq!(store.count_posts(Some("g")).await.unwrap(), 2);

    let ids: Vec<String> = ["10", "20", "23", "404"].map(String::from).to_vec();
    assert_eq!(
        sorted(store.engagement_by_ids(&ids).await.unwrap()),
        sorted(vec![p1.clone(), r1.clone(), y1.clone(), orphan.clone()])
    );

    // Guild g's posts of [11-02, 11-04) at 11-03 12:00: both posts, the interactions on them
    // up to then (not the later reaction, nor the orphan reply).
    let got = store
        .engagement_events(
            Some("g"),
            t("2026-11-02T00:00:00Z"),
            t("2026-11-04T00:00:00Z"),
            t("2026-11-03T12:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        sorted(got),
        sorted(vec![
            p1.clone(),
            p2.clone(),
            r1.clone(),
            r2.clone(),
            y1.clone()
        ])
    );
    // Posts after `now` are not there yet, nor what is on them.
    let got = store
        .engagement_events(
            None,
            t("2026-11-02T00:00:00Z"),
            t("2026-11-04T00:00:00Z"),
            t("2026-11-02T09:30:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        sorted(got),
        sorted(vec![p1.clone(), r1.clone(), r2.clone()])
    );
    // Over all guilds: the other guild's post too.
    let got = store
        .engagement_events(
            None,
            t("2026-11-02T00:00:00Z"),
            t("2026-11-03T00:00:00Z"),
            t("2026-11-02T10:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        sorted(got),
        sorted(vec![p1.clone(), other.clone(), r1.clone(), r2.clone()])
    );

    // A post stored again with an earlier time becomes that copy (its earliest copy counts).
    let earlier = post("10", "g", "2026-11-01T09:00:00Z", &["moved"], 7);
    assert_eq!(
        store
            .insert_engagement(std::slice::from_ref(&earlier))
            .await
            .unwrap(),
        [Inserted::Duplicate]
    );
    let ids = vec!["10".to_string()];
    let stored = store.engagement_by_ids(&ids).await.unwrap();
    assert_eq!(stored, vec![earlier]);
    let later = post("10", "g", "2026-11-05T09:00:00Z", &["later"], 9);
    store.insert_engagement(&[later]).await.unwrap();
    assert_eq!(
        store.engagement_by_ids(&ids).await.unwrap(),
        stored,
        "a later copy changes nothing"
    );

    assert_eq!(store.delete_guild_engagement("g").await.unwrap(), 7);
    assert_eq!(store.count_posts(None).await.unwrap(), 1);
}

fn example() -> Vec<EngagementEvent> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/engagement-example.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| EngagementEvent::parse_line(l).unwrap())
        .collect()
}

fn example_expected() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples/engagement-example.expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn example_window() -> Window {
    Window {
        from: t("2026-11-09T00:00:00Z"),
        to: t("2026-11-16T00:00:00Z"),
        now: t("2026-11-16T12:00:00Z"),
    }
}

async fn example_report(desk: &Desk) -> Value {
    let r = desk
        .engagement_report(&Filters::default(), example_window())
        .await
        .unwrap();
    reactif::report::engagement::json(&r)
}

/// Equal JSON: the same fields both ways, numbers within 1e-9.
fn assert_same(expected: &Value, actual: &Value) {
    crate::support::json::assert_subset(expected, actual);
    crate::support::json::assert_subset(actual, expected);
}

async fn the_engagement_example_through_the_store_gives_the_hand_worked_report(store: DynStore) {
    let desk = Desk::new(store.clone());
    let events = example();
    // Posts last, in two batches: the figures do not depend on the order of storing.
    let (posts, rest): (Vec<_>, Vec<_>) = events
        .into_iter()
        .partition(|e| matches!(e.kind, EngagementKind::Post { .. }));
    desk.ingest_engagement(&rest).await.unwrap();
    desk.ingest_engagement(&posts).await.unwrap();
    assert_same(&example_expected(), &example_report(&desk).await);
    // A guild's own engagement window is kept and used: 1 hour keeps only what came within
    // the first hour of each post.
    let guild = "1000000000000000001";
    let rules = GuildRules {
        engagement_window_ms: 3_600_000,
        ..GuildRules::default()
    };
    store.save_guild_rules(guild, &rules).await.unwrap();
    assert_eq!(
        store.guild_rules(guild).await.unwrap().engagement_window_ms,
        3_600_000
    );
    let short = example_report(&desk).await;
    assert_ne!(short["engagements"], example_expected()["engagements"]);
    assert_eq!(short["maturing"], 0);
}

async fn forgetting_and_purging_keep_every_engagement_figure(store: DynStore) {
    let desk = Desk::new(store.clone());
    desk.ingest_engagement(&example()).await.unwrap();
    let before = example_report(&desk).await;
    let u1 = "1500000000000000001";
    assert!(store.forget_engagement_user(u1).await.unwrap() > 0);
    let ids: Vec<String> = example().iter().map(|e| e.id.clone()).collect();
    let stored = store.engagement_by_ids(&ids).await.unwrap();
    assert!(stored.iter().all(|e| e.author_id != u1), "{stored:?}");
    assert_same(&before, &example_report(&desk).await);

    // Purge before 11-20: P0 (window ended 11-12), P1 (11-16) and P2 (11-19 15:00) lose their
    // people's ids; P3 (11-21) keeps them.
    let n = store
        .purge_engagement_before(t("2026-11-20T00:00:00Z"))
        .await
        .unwrap();
    assert!(n > 0);
    let stored = store.engagement_by_ids(&ids).await.unwrap();
    let p3 = "1571072193331200021";
    for e in &stored {
        let on_p3 = e.id == p3 || e.kind.post_id() == Some(p3);
        assert_eq!(
            !e.author_id.starts_with("anon-"),
            on_p3,
            "only P3's rows keep their ids: {e:?}"
        );
    }
    // Each purged post keeps its figures (one token per person); only the distinct people of
    // a window across the purge date may count someone once on each side.
    let after = example_report(&desk).await;
    assert_same(&before["previous"], &after["previous"]);
    assert_same(&before["top_posts"], &after["top_posts"]);
    for figure in [
        "posts",
        "reactions",
        "replies",
        "engaged_users",
        "engagement_rate",
    ] {
        assert_eq!(before[figure], after[figure], "{figure}");
    }
    // Purging the rest: every row anonymised. Twice is once.
    let later = t("2026-11-30T00:00:00Z");
    assert!(store.purge_engagement_before(later).await.unwrap() > 0);
    let stored = store.engagement_by_ids(&ids).await.unwrap();
    assert!(stored.iter().all(|e| e.author_id.starts_with("anon-")));
    assert_eq!(store.purge_engagement_before(later).await.unwrap(), 0);

    // Purging every post at once keeps every figure exactly, the distinct people included.
    store
        .delete_guild_engagement("1000000000000000001")
        .await
        .unwrap();
    desk.ingest_engagement(&example()).await.unwrap();
    store.purge_engagement_before(later).await.unwrap();
    let stored = store.engagement_by_ids(&ids).await.unwrap();
    assert!(stored.iter().all(|e| e.author_id.starts_with("anon-")));
    assert_same(&before, &example_report(&desk).await);
}

/// People are numbered 1, 2, 3… however often those already numbered come back: a set of
/// people is a bitmap up to the largest number, so gaps would make every set larger.
async fn people_are_numbered_densely_however_often_they_come_back(store: DynStore) {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let first = store
        .eng_number_people(&names(&["7", "8", "9"]))
        .await
        .unwrap();
    for _ in 0..3 {
        let again = store
            .eng_number_people(&names(&["9", "8", "7"]))
            .await
            .unwrap();
        assert_eq!(again, first);
    }
    let all = store.eng_number_people(&names(&["10", "7"])).await.unwrap();
    assert_eq!(all["7"], first["7"]);
    let mut numbers: Vec<u32> = first.values().copied().collect();
    numbers.push(all["10"]);
    numbers.sort_unstable();
    assert_eq!(numbers, vec![1, 2, 3, 4]);
    assert_eq!(all["10"], 4, "the newcomer takes the next number");
}

contract!(
    people_are_numbered_densely_however_often_they_come_back,
    engagement_events_are_stored_once_and_read_back_by_window,
    the_engagement_example_through_the_store_gives_the_hand_worked_report,
    forgetting_and_purging_keep_every_engagement_figure,
);
