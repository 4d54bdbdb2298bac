//! The engagement report from the rollups (`Desk::engagement_report`) must equal the report
//! replayed from every stored row (`Desk::engagement_replay_report`), figure for figure, theme
//! for theme, top post for top post and day for day: random histories of two guilds (posts with
//! several themes, a post stored again with an earlier time, reactions added, removed and added
//! again, the author's own, replies inside and after the window, interactions before their post
//! or on no post), stored in random order and random batches with refreshes in between, the
//! guilds' engagement window and time zone (odd offsets, a DST change) changed on the way,
//! `/forget-me` and `purge` on the way; then random windows (whole local days and not), `now`s
//! (posts still maturing, events after `now`), `--guild` and `--theme`. SQLite and PostgreSQL.

mod support;

use proptest::prelude::*;
use reactif::desk::Desk;
use reactif::domain::engagement::{EngagementEvent, EngagementKind, Filters};
use reactif::domain::kpi::{local_midnight, Window};
use reactif::domain::{parse_time, GuildRules, Millis, DAY, HOUR, MINUTE};
use reactif::store::DynStore;
use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
});

const GUILDS: [&str; 2] = ["1", "2"];
/// Ids compared as numbers: `10` comes after `9`.
const USERS: [&str; 5] = ["9", "10", "11", "12", "13"];
const THEMES: [&str; 4] = ["a", "B", "b", "untagged"];
const EMOJI: [&str; 2] = ["👍", "🎉"];
const ZONES: [&str; 4] = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"];
const WINDOWS: [Millis; 3] = [7 * DAY, 30 * HOUR, 2 * DAY];

/// 2026-03-01T00:00:00Z: New York changes to summer time a week later.
fn t0() -> Millis {
    parse_time("2026-03-01T00:00:00Z").unwrap()
}

#[derive(Debug, Clone)]
struct Case {
    /// (guild, author, minute of the history, themes as a bit set, audience)
    posts: Vec<(usize, usize, i64, u8, u64)>,
    /// Posts stored a second time, earlier by this many minutes (index, minutes).
    earlier: Vec<(usize, i64)>,
    /// (kind: 0 add, 1 remove, 2 reply; post index, past the posts = unknown; user; emoji;
    /// minutes after the post, may be negative)
    touches: Vec<(u8, usize, usize, usize, i64)>,
    /// The rules of each guild before and after the change: (zone, window).
    rules: [(usize, usize); 4],
    change_rules: bool,
    forget: Option<usize>,
    purge_day: Option<i64>,
    /// Where the shuffled events are cut into batches, as fractions of 1000.
    cuts: Vec<u16>,
    seed: u64,
    /// Windows: (from in minutes, or in days when aligned; length; now after from, in minutes).
    windows: Vec<(bool, i64, i64, i64)>,
}

fn case() -> impl Strategy<Value = Case> {
    let post = (0usize..2, 0usize..5, 0i64..20 * 24 * 60, 0u8..16, 0u64..6);
    let touch = (
        0u8..3,
        0usize..40,
        0usize..5,
        0usize..2,
        -600i64..9 * 24 * 60,
    );
    let window = (
        any::<bool>(),
        0i64..20 * 24 * 60,
        1i64..12 * 24 * 60,
        -3000i64..30 * 24 * 60,
    );
    (
        proptest::collection::vec(post, 1..30),
        proptest::collection::vec((0usize..30, 1i64..3000), 0..3),
        proptest::collection::vec(touch, 0..160),
        [
            (0usize..4, 0usize..3),
            (0usize..4, 0usize..3),
            (0usize..4, 0usize..3),
            (0usize..4, 0usize..3),
        ],
        any::<bool>(),
        (
            proptest::option::of(0usize..5),
            proptest::option::of(0i64..25),
        ),
        proptest::collection::vec(0u16..1000, 0..4),
        any::<u64>(),
        proptest::collection::vec(window, 3..6),
    )
        .prop_map(
            |(
                posts,
                earlier,
                touches,
                rules,
                change_rules,
                (forget, purge_day),
                cuts,
                seed,
                windows,
            )| Case {
                posts,
                earlier,
                touches,
                rules,
                change_rules,
                forget,
                purge_day,
                cuts,
                seed,
                windows,
            },
        )
}

fn post_id(i: usize) -> String {
    // Ids of several lengths, so that ties in time are broken as numbers.
    format!("{}", 7 + i * 13)
}

fn events(c: &Case) -> Vec<EngagementEvent> {
    let mut out = Vec::new();
    let post = |i: usize, at: Millis| {
        let (g, author, _, themes, audience) = c.posts[i];
        EngagementEvent {
            id: post_id(i),
            guild_id: GUILDS[g].into(),
            author_id: USERS[author].into(),
            at,
            kind: EngagementKind::Post {
                channel_id: "50".into(),
                themes: (0..4)
                    .filter(|b| themes & (1 << b) != 0)
                    .map(|b| THEMES[b].to_string())
                    .collect(),
                audience,
            },
        }
    };
    for (i, p) in c.posts.iter().enumerate() {
        out.push(post(i, t0() + p.2 * MINUTE));
    }
    for &(i, minutes) in &c.earlier {
        if let Some(p) = c.posts.get(i) {
            out.push(post(i, t0() + (p.2 - minutes) * MINUTE));
        }
    }
    for (n, &(kind, p, user, emoji, after)) in c.touches.iter().enumerate() {
        let (guild, at) = match c.posts.get(p) {
            Some(post) => (GUILDS[post.0], t0() + (post.2 + after) * MINUTE),
            None => (GUILDS[0], t0() + (after + 600) * MINUTE),
        };
        let (post_id, emoji) = (post_id(p), EMOJI[emoji].to_string());
        out.push(EngagementEvent {
            id: format!("{}", 1000 + n * 7),
            guild_id: guild.into(),
            author_id: USERS[user].into(),
            at,
            kind: match kind {
                0 => EngagementKind::ReactionAdd { post_id, emoji },
                1 => EngagementKind::ReactionRemove { post_id, emoji },
                _ => EngagementKind::Reply { post_id },
            },
        });
    }
    out
}

/// A reproducible shuffle.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

fn rules_of(c: &Case, guild: usize, later: bool) -> GuildRules {
    let (zone, window) = c.rules[guild * 2 + later as usize];
    GuildRules {
        timezone: ZONES[zone].parse().unwrap(),
        engagement_window_ms: WINDOWS[window],
        ..GuildRules::default()
    }
}

async fn check(store: DynStore, c: &Case) -> Result<(), TestCaseError> {
    let desk = Desk::new(store.clone());
    for (g, guild) in GUILDS.iter().enumerate() {
        store
            .save_guild_rules(guild, &rules_of(c, g, false))
            .await
            .unwrap();
    }
    let mut evs = events(c);
    shuffle(&mut evs, c.seed);
    let mut cuts: Vec<usize> = c
        .cuts
        .iter()
        .map(|f| evs.len() * *f as usize / 1000)
        .collect();
    cuts.push(evs.len());
    cuts.sort_unstable();
    let mut start = 0;
    for (i, cut) in cuts.into_iter().enumerate() {
        if cut > start {
            desk.ingest_engagement(&evs[start..cut]).await.unwrap();
            start = cut;
        }
        // Rollups derived now must be corrected by what comes next.
        desk.refresh_engagement().await.unwrap();
        if i == 0 && c.change_rules {
            for (g, guild) in GUILDS.iter().enumerate() {
                store
                    .save_guild_rules(guild, &rules_of(c, g, true))
                    .await
                    .unwrap();
            }
        }
        if i == 1 {
            if let Some(u) = c.forget {
                store.forget_engagement_user(USERS[u]).await.unwrap();
            }
            if let Some(d) = c.purge_day {
                desk.purge_engagement_before(t0() + d * DAY).await.unwrap();
            }
        }
    }
    let mut filters = vec![Filters::default()];
    for g in GUILDS {
        filters.push(Filters {
            guild_id: Some(g.into()),
            theme: None,
        });
    }
    for t in THEMES {
        filters.push(Filters {
            guild_id: None,
            theme: Some(t.into()),
        });
    }
    filters.push(Filters {
        guild_id: Some(GUILDS[0].into()),
        theme: Some(THEMES[0].into()),
    });
    for &(aligned, from, length, now_after) in &c.windows {
        for f in &filters {
            // Whole local days of the report's zone, or any minute.
            let zone = match &f.guild_id {
                Some(g) => store.guild_rules(g).await.unwrap().timezone,
                None => chrono_tz::Tz::UTC,
            };
            let w = if aligned {
                let day = chrono::DateTime::from_timestamp_millis(t0())
                    .unwrap()
                    .date_naive()
                    + chrono::Duration::days(from / (24 * 60));
                let from = local_midnight(&zone, day);
                let to =
                    local_midnight(&zone, day + chrono::Duration::days(1 + length / (24 * 60)));
                Window {
                    from,
                    to,
                    now: to + now_after * MINUTE,
                }
            } else {
                let from = t0() + from * MINUTE;
                Window {
                    from,
                    to: from + length * MINUTE,
                    now: from + now_after * MINUTE,
                }
            };
            let fast = desk.engagement_report(f, w).await.unwrap();
            let replayed = desk.engagement_replay_report(f, w).await.unwrap();
            prop_assert_eq!(&fast, &replayed, "filters {:?}, window {:?}", f, w);
        }
    }
    Ok(())
}

fn run(c: Case, postgres: bool) -> Result<(), TestCaseError> {
    RUNTIME.block_on(async {
        let db = if postgres {
            support::db::postgres().await
        } else {
            support::db::sqlite().await
        };
        let result = check(db.store.clone(), &c).await;
        db.cleanup().await;
        result
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engagement_rollup_reports_equal_replayed_reports_on_sqlite(c in case()) {
        run(c, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(
        not(reactif_pg),
        ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
    )]
    fn engagement_rollup_reports_equal_replayed_reports_on_postgres(c in case()) {
        run(c, true)?;
    }
}

/// Hand-checked: one post with a day that is summed whole and a report whose `now` cuts a
/// reaction: the rollups' report gives what the contract says.
#[test]
fn a_whole_day_and_a_cut_by_now_give_the_contracts_figures() {
    RUNTIME.block_on(async {
        let db = support::db::sqlite().await;
        let desk = Desk::new(db.store.clone());
        let at = t0() + 10 * HOUR;
        let ev = |id: &str, who: &str, minutes: i64, kind: EngagementKind| EngagementEvent {
            id: id.into(),
            guild_id: "1".into(),
            author_id: who.into(),
            at: at + minutes * MINUTE,
            kind,
        };
        let add = |e: &str| EngagementKind::ReactionAdd {
            post_id: "77".into(),
            emoji: e.into(),
        };
        desk.ingest_engagement(&[
            // The reaction before its post: it waits for it.
            ev("201", "9", 5, add("👍")),
            ev(
                "77",
                "10",
                0,
                EngagementKind::Post {
                    channel_id: "50".into(),
                    themes: vec!["a".into()],
                    audience: 4,
                },
            ),
            ev("202", "11", 60, add("🎉")),
            ev("203", "10", 70, add("👍")),
        ])
        .await
        .unwrap();
        let day = Window {
            from: t0(),
            to: t0() + DAY,
            now: t0() + 30 * DAY,
        };
        let r = desk
            .engagement_report(&Filters::default(), day)
            .await
            .unwrap();
        // Two reactions (the author's own does not count), two people, rate 2/4.
        assert_eq!(r.current.figures.reactions, 2);
        assert_eq!(r.current.figures.unique_engaged_users, 2);
        assert_eq!(r.current.figures.maturing, 0);
        assert_eq!(
            r.current.top_posts[0].engaged,
            vec!["9".to_string(), "11".to_string()]
        );
        // At 30 minutes after the post, only the first reaction is there, and it matures.
        let early = Window {
            now: at + 30 * MINUTE,
            ..day
        };
        let r = desk
            .engagement_report(&Filters::default(), early)
            .await
            .unwrap();
        assert_eq!(r.current.figures.reactions, 1);
        assert_eq!(r.current.figures.maturing, 1);
        assert_eq!(r.current.themes[0].figures.unique_engaged_users, 1);
        db.cleanup().await;
    });
}

/// A day whose posts mature in part is summed from its parts, its maturing posts counted one
/// by one: here the first two posts of the day have matured at `now` and the last has not.
#[test]
fn a_day_maturing_in_part_counts_only_its_maturing_posts() {
    RUNTIME.block_on(async {
        let db = support::db::sqlite().await;
        let desk = Desk::new(db.store.clone());
        let post = |id: &str, hours: i64, themes: &[&str]| EngagementEvent {
            id: id.into(),
            guild_id: "1".into(),
            author_id: "10".into(),
            at: t0() + hours * HOUR,
            kind: EngagementKind::Post {
                channel_id: "50".into(),
                themes: themes.iter().map(|t| t.to_string()).collect(),
                audience: 10,
            },
        };
        let react = |id: &str, post: &str, who: &str| EngagementEvent {
            id: id.into(),
            guild_id: "1".into(),
            author_id: who.into(),
            at: t0() + 23 * HOUR + MINUTE,
            kind: EngagementKind::ReactionAdd {
                post_id: post.into(),
                emoji: "👍".into(),
            },
        };
        desk.ingest_engagement(&[
            post("71", 1, &["a"]),
            post("72", 12, &["a", "b"]),
            post("73", 23, &["b"]),
            react("301", "71", "9"),
            react("302", "73", "9"),
            react("303", "73", "11"),
        ])
        .await
        .unwrap();
        // 7-day window: at 12:30 seven days later, 71 (01:00) and 72 (12:00) have matured.
        let w = Window {
            from: t0(),
            to: t0() + DAY,
            now: t0() + 7 * DAY + 12 * HOUR + 30 * MINUTE,
        };
        let r = desk
            .engagement_report(&Filters::default(), w)
            .await
            .unwrap();
        let f = &r.current.figures;
        assert_eq!((f.posts, f.maturing, f.reactions), (3, 1, 3));
        assert_eq!(f.unique_engaged_users, 2);
        let theme = |name: &str| {
            r.current
                .themes
                .iter()
                .find(|t| t.theme == name)
                .map(|t| (t.figures.posts, t.figures.maturing))
        };
        assert_eq!(theme("a"), Some((2, 0)));
        assert_eq!(theme("b"), Some((2, 1)));
        // Kept to theme a: 71 and 72, both matured; their theme b is 72 alone.
        let a = Filters {
            guild_id: Some("1".into()),
            theme: Some("a".into()),
        };
        let r = desk.engagement_report(&a, w).await.unwrap();
        assert_eq!(
            (r.current.figures.posts, r.current.figures.maturing),
            (2, 0)
        );
        // Kept to theme b: 72 matured, 73 maturing, under b and under a (72 only).
        let b = Filters {
            guild_id: Some("1".into()),
            theme: Some("b".into()),
        };
        let r = desk.engagement_report(&b, w).await.unwrap();
        assert_eq!(
            (r.current.figures.posts, r.current.figures.maturing),
            (2, 1)
        );
        let theme = |name: &str| {
            r.current
                .themes
                .iter()
                .find(|t| t.theme == name)
                .map(|t| (t.figures.posts, t.figures.maturing))
        };
        assert_eq!(theme("a"), Some((1, 0)));
        assert_eq!(theme("b"), Some((2, 1)));
        // A millisecond before 72's window ends it still matures.
        let w = Window {
            now: t0() + 7 * DAY + 12 * HOUR - 1,
            ..w
        };
        let r = desk
            .engagement_report(&Filters::default(), w)
            .await
            .unwrap();
        assert_eq!(r.current.figures.maturing, 2);
        db.cleanup().await;
    });
}

/// Blocks of seven days: 60 days of posts in two guilds (New York, whose clocks change on
/// 2026-03-08, and Chatham, 12:45 or 13:45 ahead), reports over 8 to 45 days, whole local days
/// or any minute, `now`s where posts still mature or have events after it, with and without a
/// guild or a theme, and a late reaction that changes a block already derived: the rollups'
/// report equals the replay.
#[test]
fn reports_over_weeks_sum_blocks_and_equal_the_replay() {
    for postgres in [false, true] {
        RUNTIME.block_on(async {
            let db = if postgres {
                support::db::postgres().await
            } else {
                support::db::sqlite().await
            };
            let (store, desk) = (db.store.clone(), Desk::new(db.store.clone()));
            for (guild, zone) in [("1", "America/New_York"), ("2", "Pacific/Chatham")] {
                let rules = GuildRules {
                    timezone: zone.parse().unwrap(),
                    ..GuildRules::default()
                };
                store.save_guild_rules(guild, &rules).await.unwrap();
            }
            let start = t0() - 20 * DAY;
            let mut evs = Vec::new();
            for n in 0..240i64 {
                let (guild, at) = (GUILDS[(n % 2) as usize], start + n * 6 * HOUR + n * MINUTE);
                let id = format!("{}", 5000 + n);
                evs.push(EngagementEvent {
                    id: id.clone(),
                    guild_id: guild.into(),
                    author_id: "10".into(),
                    at,
                    kind: EngagementKind::Post {
                        channel_id: "50".into(),
                        themes: (0..4)
                            .filter(|b| (n % 5) & (1 << b) != 0)
                            .map(|b| THEMES[b].to_string())
                            .collect(),
                        audience: (n % 7) as u64,
                    },
                });
                for k in 0..(n % 4) {
                    evs.push(EngagementEvent {
                        id: format!("{}", 100_000 + n * 10 + k),
                        guild_id: guild.into(),
                        author_id: USERS[((n + k) % 5) as usize].into(),
                        at: at + (k + 1) * 31 * HOUR,
                        kind: if k == 3 {
                            EngagementKind::Reply {
                                post_id: id.clone(),
                            }
                        } else {
                            EngagementKind::ReactionAdd {
                                post_id: id.clone(),
                                emoji: EMOJI[(k % 2) as usize].into(),
                            }
                        },
                    });
                }
            }
            desk.ingest_engagement(&evs).await.unwrap();
            desk.refresh_engagement().await.unwrap();
            // A reaction on an old post, after its blocks were derived.
            desk.ingest_engagement(&[EngagementEvent {
                id: "999999".into(),
                guild_id: "1".into(),
                author_id: "13".into(),
                at: start + 30 * HOUR,
                kind: EngagementKind::ReactionAdd {
                    post_id: "5004".into(),
                    emoji: "🎉".into(),
                },
            }])
            .await
            .unwrap();
            let mut filters = vec![Filters::default()];
            for g in GUILDS {
                filters.push(Filters {
                    guild_id: Some(g.into()),
                    theme: None,
                });
            }
            filters.push(Filters {
                guild_id: Some("1".into()),
                theme: Some("a".into()),
            });
            filters.push(Filters {
                guild_id: None,
                theme: Some("B".into()),
            });
            let end = start + 60 * DAY;
            let mut windows = Vec::new();
            for (days, now) in [
                (14, end + 5 * DAY),
                (30, end),
                (45, end - 3 * DAY - 7 * HOUR),
                (8, end - 20 * DAY + 13 * MINUTE),
            ] {
                windows.push(Window::last_days(now, days));
                for zone in ["America/New_York", "Pacific/Chatham", "UTC"] {
                    let tz: chrono_tz::Tz = zone.parse().unwrap();
                    let day = chrono::DateTime::from_timestamp_millis(now - days * DAY)
                        .unwrap()
                        .date_naive();
                    windows.push(Window {
                        from: local_midnight(&tz, day),
                        to: local_midnight(&tz, day + chrono::Duration::days(days)),
                        now,
                    });
                }
            }
            for w in &windows {
                for f in &filters {
                    let fast = desk.engagement_report(f, *w).await.unwrap();
                    let replayed = desk.engagement_replay_report(f, *w).await.unwrap();
                    assert_eq!(fast, replayed, "filters {f:?}, window {w:?}");
                }
            }
            db.cleanup().await;
        });
    }
}
