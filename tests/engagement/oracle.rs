//! The store's engagement figures against the independent oracle, on random histories: posts
//! of two guilds (one with its own engagement window), several themes, reactions added and
//! removed, replies, interactions on unknown posts, ties in time broken by ids of several
//! lengths, and `--guild` and `--theme` filters. Stored through the desk in random batches, on
//! SQLite and on PostgreSQL.

use crate::support::db::{self, TestDb};
use crate::support::engagement_oracle::{engagement_report, EngagementParams};
use crate::support::json::subset_differences;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reactif::desk::Desk;
use reactif::domain::engagement::{EngagementEvent, EngagementKind, Filters};
use reactif::domain::kpi::Window;
use reactif::domain::{parse_time, GuildRules};
use serde_json::Value;

const HOUR: i64 = 3_600_000;
const GUILDS: [&str; 2] = ["1", "2"];
/// Ids compared as numbers: `10` comes after `9`.
const USERS: [&str; 4] = ["9", "10", "11", "12"];
const THEMES: [&str; 4] = ["a", "B", "b", "untagged"];
const EMOJI: [&str; 2] = ["👍", "🎉"];
/// Guild 2's own engagement window.
const SHORT_WINDOW: i64 = 30 * HOUR;

#[derive(Debug, Clone)]
struct Case {
    /// (guild, author, hour, themes as a bit set, audience)
    posts: Vec<(usize, usize, i64, u8, u64)>,
    /// (kind: 0 add, 1 remove, 2 reply; post index, past the posts = unknown; user; emoji; hour)
    touches: Vec<(u8, usize, usize, usize, i64)>,
    /// Distinct ids for the interactions, shuffled.
    ids: Vec<u32>,
    short_window: bool,
    from_hour: i64,
    length_hours: i64,
    now_after_to: i64,
    guild: Option<usize>,
    theme: Option<usize>,
    /// Where the events are cut into batches.
    cut: usize,
}

fn case() -> impl Strategy<Value = Case> {
    let post = (0usize..2, 0usize..4, 0i64..80, 0u8..16, 0u64..6);
    let touch = (0u8..3, 0usize..7, 0usize..4, 0usize..2, 0i64..100);
    (
        proptest::collection::vec(post, 1..6),
        proptest::collection::vec(touch, 0..40),
        Just((1u32..2000).collect::<Vec<u32>>()).prop_shuffle(),
        any::<bool>(),
        (0i64..40, 1i64..60, -10i64..120),
        (
            proptest::option::of(0usize..2),
            proptest::option::of(0usize..4),
        ),
        0usize..50,
    )
        .prop_map(
            |(posts, touches, ids, short_window, (from, len, after), (guild, theme), cut)| Case {
                posts,
                touches,
                ids,
                short_window,
                from_hour: from * 3,
                length_hours: len * 3,
                now_after_to: after * 3,
                guild,
                theme,
                cut,
            },
        )
}

fn base() -> i64 {
    parse_time("2026-11-01T00:00:00Z").unwrap()
}

fn events(c: &Case) -> Vec<EngagementEvent> {
    // On a 6-hour grid, so that interactions often share a time and their ids decide.
    let at = |hour: i64| base() + hour * 6 * HOUR / 3;
    let mut out: Vec<EngagementEvent> = c
        .posts
        .iter()
        .enumerate()
        .map(
            |(i, (guild, author, hour, themes, audience))| EngagementEvent {
                id: (5000 + i).to_string(),
                guild_id: GUILDS[*guild].into(),
                author_id: USERS[*author].into(),
                at: at(*hour),
                kind: EngagementKind::Post {
                    channel_id: "70".into(),
                    themes: (0..4)
                        .filter(|b| themes & (1 << b) != 0)
                        .map(|b| THEMES[b].to_string())
                        .collect(),
                    audience: *audience,
                },
            },
        )
        .collect();
    for (n, (kind, post, user, emoji, hour)) in c.touches.iter().enumerate() {
        let post_id = if *post < c.posts.len() {
            (5000 + post).to_string()
        } else {
            "4999".to_string()
        };
        let emoji = EMOJI[*emoji].to_string();
        out.push(EngagementEvent {
            id: c.ids[n].to_string(),
            guild_id: GUILDS[n % 2].into(),
            author_id: USERS[*user].into(),
            at: at(*hour),
            kind: match kind {
                0 => EngagementKind::ReactionAdd { post_id, emoji },
                1 => EngagementKind::ReactionRemove { post_id, emoji },
                _ => EngagementKind::Reply { post_id },
            },
        });
    }
    out
}

async fn check(desk: &Desk, c: &Case) -> Result<(), TestCaseError> {
    let store = desk.store();
    for g in GUILDS {
        store.delete_guild_engagement(g).await.unwrap();
    }
    let rules = GuildRules {
        engagement_window_ms: if c.short_window {
            SHORT_WINDOW
        } else {
            GuildRules::default().engagement_window_ms
        },
        ..GuildRules::default()
    };
    store.save_guild_rules(GUILDS[1], &rules).await.unwrap();
    let all = events(c);
    let cut = c.cut.min(all.len());
    // Interactions may come before their post: the later batch holds the posts.
    let mut order = all.clone();
    order.rotate_left(cut);
    desk.ingest_engagement(&order[..order.len() / 2])
        .await
        .unwrap();
    desk.ingest_engagement(&order[order.len() / 2..])
        .await
        .unwrap();

    let from = base() + c.from_hour * HOUR;
    let to = from + c.length_hours * HOUR;
    let window = Window {
        from,
        to,
        now: to + c.now_after_to * HOUR,
    };
    let filters = Filters {
        guild_id: c.guild.map(|g| GUILDS[g].to_string()),
        theme: c.theme.map(|t| THEMES[t].to_string()),
    };
    let report = desk.engagement_report(&filters, window).await.unwrap();
    let mut ours = reactif::report::engagement::json(&report);

    let lines: Vec<Value> = all
        .iter()
        .map(|e| serde_json::from_str(&e.to_line()).unwrap())
        .collect();
    let params = EngagementParams {
        from_ms: window.from,
        to_ms: window.to,
        now_ms: window.now,
        per_guild_window: if c.short_window {
            vec![(GUILDS[1].to_string(), SHORT_WINDOW)]
        } else {
            Vec::new()
        },
        guild_id: filters.guild_id.clone(),
        theme: filters.theme.clone(),
        ..EngagementParams::default()
    };
    let expected = engagement_report(&lines, &params);
    let missing = subset_differences(&expected, &ours);
    prop_assert!(
        missing.is_empty(),
        "differs from the oracle: {missing:#?}\nours: {ours:#}\noracle: {expected:#}"
    );
    // Nothing beyond the oracle's fields but `previous.window` (docs/engagement.md, choice 14).
    if let Some(prev) = ours.get_mut("previous").and_then(Value::as_object_mut) {
        prev.remove("window");
    }
    let extra = subset_differences(&ours, &expected);
    prop_assert!(
        extra.is_empty(),
        "fields the oracle does not have: {extra:#?}"
    );
    Ok(())
}

fn run(db: impl std::future::Future<Output = TestDb>, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(db);
    let desk = Desk::new(db.store.clone());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |c| rt.block_on(check(&desk, &c)));
    rt.block_on(db.cleanup());
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn the_store_agrees_with_the_oracle_on_random_histories_on_sqlite() {
    run(db::sqlite(), 150);
}

#[test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
fn the_store_agrees_with_the_oracle_on_random_histories_on_postgres() {
    run(db::postgres(), 100);
}
