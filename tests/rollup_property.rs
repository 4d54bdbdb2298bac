//! Reports built from the rollups (facts per place, parts per local day) must equal reports
//! replayed from every stored event, figure for figure, day for day: random histories go
//! through the real ingest path into a real database, in random order and in several batches,
//! under random guild rules (time zones with odd offsets and a DST change, business hours,
//! short deadlines, service-level targets on either clock, auto-close), sometimes with the
//! rules changed after the first batch. The reports carry the service levels, resolution and
//! heatmaps: they are compared too.

mod support;

use proptest::prelude::*;
use reactif::desk::Desk;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{Event, GuildRules, Millis, DAY, HOUR, MINUTE};
use reactif::store::DynStore;
use std::sync::LazyLock;
use support::scenario::{events, scenario, Scenario};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
});

const GUILD: &str = "100";
const ZONES: [&str; 4] = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"];

fn rules(pick: u64) -> GuildRules {
    let idle = if pick & 8 == 0 { DAY } else { 3 * HOUR };
    let of = |shift: u32, options: [Option<Millis>; 4]| options[((pick >> shift) & 3) as usize];
    let mut rules = GuildRules {
        timezone: ZONES[(pick % 4) as usize].parse().expect("a zone"),
        deadline_ms: if pick & 4 == 0 { DAY } else { 2 * HOUR },
        idle_ms: idle,
        business_hours: if pick & 16 == 0 {
            "always"
        } else {
            "mon-fri 09:00-17:30"
        }
        .parse()
        .expect("hours"),
        ..GuildRules::default()
    };
    // Service levels: targets on the scenarios' gaps (so answers fall exactly on them), either
    // clock, and auto-close (shorter than either idle), each also off.
    rules.sla.first_response = of(10, [None, Some(5 * MINUTE), Some(HOUR), Some(5 * HOUR)]);
    rules.sla.next_response = of(12, [None, Some(MINUTE), Some(5 * HOUR), Some(DAY)]);
    rules.sla.resolution = of(14, [None, Some(HOUR), Some(5 * HOUR), Some(30 * HOUR)]);
    rules.sla.auto_close = of(17, [None, Some(HOUR), Some(5 * MINUTE), Some(2 * HOUR)]);
    if pick & (1 << 16) != 0 {
        rules.sla.clock = reactif::domain::settings::SlaClock::Business;
    }
    debug_assert!(rules.sla.check(idle).is_ok());
    rules
}

/// The windows a team asks for: the scenario's own, the last 7 and 30 days, and one that ends
/// before `now`.
fn windows(s: &Scenario, now: Millis) -> Vec<Window> {
    let (from, to, _) = s.window;
    vec![
        Window { from, to, now },
        Window::last_days(now, 7),
        Window::last_days(now, 30),
        Window {
            from: from - DAY / 3,
            to: to.min(now),
            now,
        },
    ]
}

async fn check(store: DynStore, s: &Scenario) -> Result<(), TestCaseError> {
    let pick = s.shuffle_seed >> 7;
    // Days with delays in blocks, as large guilds store them, in most cases.
    let inline_max = [0, 1, 3, reactif::domain::percentile::INLINE_MAX][(pick >> 8) as usize % 4];
    let desk = Desk::new(store.clone()).with_inline_max(inline_max);
    let evs: Vec<Event> = events(s);
    let change_rules_later = pick & 32 != 0;
    if !change_rules_later {
        store.save_guild_rules(GUILD, &rules(pick)).await.unwrap();
    }
    let third = evs.len().div_ceil(3).max(1);
    for (i, chunk) in evs.chunks(third).enumerate() {
        desk.ingest(chunk).await.unwrap();
        if i == 0 {
            // Facts derived now must be corrected by what comes next.
            desk.refresh(None, &|_| {}).await.unwrap();
            if change_rules_later {
                store.save_guild_rules(GUILD, &rules(pick)).await.unwrap();
            }
        }
    }
    let newest = evs
        .iter()
        .filter(|e| e.guild_id == GUILD)
        .map(|e| e.at)
        .max();
    let Some(newest) = newest else {
        return Ok(());
    };
    let now = newest.max(s.window.2);
    for agent in [None, Some("900"), Some("901"), Some("902")] {
        let scope = Scope {
            guild_id: Some(GUILD.to_string()),
            agent_id: agent.map(str::to_string),
            conversations: None,
        };
        for w in windows(s, now) {
            let fast = desk.rollup_report(&scope, w).await.unwrap();
            let replayed = desk.replay_report(&scope, w).await.unwrap();
            if s.ratings_in_place {
                prop_assert!(
                    fast.is_some(),
                    "a regular guild must be reported from rollups: {:?}, now {}",
                    store.rollup_status(GUILD).await.unwrap(),
                    w.now
                );
            }
            if let Some(fast) = fast {
                prop_assert_eq!(&fast, &replayed, "scope {:?}, window {:?}", scope, w);
                // The dashboard's delay charts too (daily median and p90, histograms).
                let charts = desk.rollup_delay_charts(&scope, w).await.unwrap();
                let replayed = desk.replay_delay_charts(&scope, w).await.unwrap();
                prop_assert_eq!(
                    charts,
                    Some(replayed.clone()),
                    "charts, scope {:?}, window {:?}",
                    scope,
                    w
                );
                // And both from the dashboard's single read (blocks read once for both).
                let (page_report, page_charts) =
                    desk.report_with_delay_charts(&scope, w).await.unwrap();
                prop_assert_eq!(&page_report, &fast, "page report, scope {:?}", scope);
                prop_assert_eq!(page_charts, replayed, "page charts, scope {:?}", scope);
            }
        }
        // Before the newest event, the facts know too much: the report must replay.
        let past = Window {
            from: newest - 3 * DAY,
            to: newest - 1,
            now: newest - 1,
        };
        prop_assert!(desk.rollup_report(&scope, past).await.unwrap().is_none());
        prop_assert_eq!(
            desk.report(&scope, past).await.unwrap(),
            desk.replay_report(&scope, past).await.unwrap()
        );
    }
    Ok(())
}

fn run(s: Scenario, postgres: bool) -> Result<(), TestCaseError> {
    RUNTIME.block_on(async {
        let db = if postgres {
            support::db::postgres().await
        } else {
            support::db::sqlite().await
        };
        let result = check(db.store.clone(), &s).await;
        db.cleanup().await;
        result.map_err(|e| {
            TestCaseError::fail(format!(
                "{e}\nevents:\n{}",
                events(&s)
                    .iter()
                    .map(|e| e.to_line())
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn rollup_reports_equal_replayed_reports_on_sqlite(s in scenario(true)) {
        run(s, false)?;
    }

    #[test]
    fn guilds_with_cross_place_ratings_are_replayed_or_equal_on_sqlite(s in scenario(false)) {
        run(s, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(
        not(reactif_pg),
        ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
    )]
    fn rollup_reports_equal_replayed_reports_on_postgres(s in scenario(true)) {
        run(s, true)?;
    }
}

/// A busy day whose delays crowd into a few buckets, shared by three agents: the blocks must
/// give each agent their own delays, and the guild all of them, at the exact ranks.
async fn crowded_buckets(store: DynStore) {
    use reactif::domain::EventKind;
    let desk = Desk::new(store.clone()).with_inline_max(10);
    let start: Millis = 1_790_000_000_000;
    let mut evs = Vec::new();
    for i in 0..600i64 {
        let at = start + i * 60_000;
        let place = format!("c{i}");
        let customer = format!("{}", 5_000 + i);
        let agent = ["900", "901", "902"][(i % 3) as usize];
        // Delays of 3 to 4 minutes: a handful of buckets, each holding every agent's.
        let delay = 3 * MINUTE + (i * 7_919) % MINUTE;
        for (n, (who, t, kind)) in [
            (customer.as_str(), at, EventKind::CustomerMessage),
            (agent, at + delay, EventKind::AgentMessage),
        ]
        .into_iter()
        .enumerate()
        {
            evs.push(Event {
                id: format!("{}", 10_000 + 2 * i + n as i64),
                guild_id: GUILD.to_string(),
                place: place.clone(),
                author_id: who.to_string(),
                at: t,
                kind,
            });
        }
    }
    desk.ingest(&evs).await.unwrap();
    let now = start + 3 * DAY;
    for agent in [None, Some("900"), Some("901"), Some("902")] {
        let scope = Scope {
            guild_id: Some(GUILD.to_string()),
            agent_id: agent.map(str::to_string),
            conversations: None,
        };
        for w in [
            Window::last_days(now, 7),
            Window {
                from: start - 2 * HOUR,
                to: now,
                now,
            },
        ] {
            let fast = desk.rollup_report(&scope, w).await.unwrap();
            let replayed = desk.replay_report(&scope, w).await.unwrap();
            assert_eq!(fast.as_ref(), Some(&replayed), "scope {scope:?}");
            let charts = desk.rollup_delay_charts(&scope, w).await.unwrap();
            let replayed = desk.replay_delay_charts(&scope, w).await.unwrap();
            assert_eq!(charts, Some(replayed), "charts, scope {scope:?}");
        }
    }
}

/// Days of many delays (kept in blocks) across the histogram's edges: the counts from the
/// stored days' buckets equal the replay's, and each day's p90 is found in its blocks.
async fn blocked_histograms(store: DynStore) {
    use reactif::domain::delay_charts::EDGES;
    use reactif::domain::EventKind;
    let desk = Desk::new(store.clone()).with_inline_max(10);
    let start: Millis = 1_790_000_000_000;
    let mut evs = Vec::new();
    for i in 0..400i64 {
        let at = start + i * 9 * MINUTE;
        let agent = ["900", "901"][(i % 2) as usize];
        // Around every edge: some just below, some on it, some just above.
        let edge = EDGES[(i as usize / 3) % EDGES.len()];
        let delay = edge + (i % 3) - 1;
        for (n, (who, t, kind)) in [
            (format!("{}", 5_000 + i), at, EventKind::CustomerMessage),
            (agent.to_string(), at + delay, EventKind::AgentMessage),
        ]
        .into_iter()
        .enumerate()
        {
            evs.push(Event {
                id: format!("{}", 10_000 + 2 * i + n as i64),
                guild_id: GUILD.to_string(),
                place: format!("c{i}"),
                author_id: who,
                at: t,
                kind,
            });
        }
    }
    desk.ingest(&evs).await.unwrap();
    let now = start + 8 * DAY;
    for agent in [None, Some("900")] {
        let scope = Scope {
            guild_id: Some(GUILD.to_string()),
            agent_id: agent.map(str::to_string),
            conversations: None,
        };
        let w = Window::last_days(now, 7);
        let charts = desk.rollup_delay_charts(&scope, w).await.unwrap().unwrap();
        let replayed = desk.replay_delay_charts(&scope, w).await.unwrap();
        assert_eq!(charts, replayed, "scope {scope:?}");
        assert!(
            charts.current.iter().filter(|n| **n > 0).count() >= 5,
            "{charts:?}"
        );
    }
}

#[test]
fn blocked_histograms_on_sqlite() {
    RUNTIME.block_on(async {
        let db = support::db::sqlite().await;
        blocked_histograms(db.store.clone()).await;
        db.cleanup().await;
    })
}

/// More places and days than a refresh batch (500): the refresh reads each next batch while
/// the last one is written, from a cursor, and must still sum every place and day once.
async fn many_batches(store: DynStore) {
    use reactif::domain::EventKind;
    let desk = Desk::new(store.clone());
    let start: Millis = 1_790_000_000_000;
    let mut evs = Vec::new();
    // 1,250 places, two a day: 626 UTC days from this start.
    for i in 0..1_250i64 {
        let at = start + i * (DAY / 2);
        for (n, (who, t, kind)) in [
            (format!("{}", 5_000 + i), at, EventKind::CustomerMessage),
            ("900".to_string(), at + 60_000 + i, EventKind::AgentMessage),
        ]
        .into_iter()
        .enumerate()
        {
            evs.push(Event {
                id: format!("{}", 10_000 + 2 * i + n as i64),
                guild_id: GUILD.to_string(),
                place: format!("c{i:05}"),
                author_id: who,
                at: t,
                kind,
            });
        }
    }
    desk.ingest(&evs).await.unwrap();
    let done = desk.refresh(None, &|_| {}).await.unwrap();
    // The guild's default time zone is UTC: a local day is a UTC day.
    let days: std::collections::BTreeSet<i64> = evs.iter().map(|e| e.at.div_euclid(DAY)).collect();
    assert!(days.len() > 500, "{} days: fewer than a batch", days.len());
    assert_eq!((done.places, done.days), (1_250, days.len() as u64));
    let again = desk.refresh(None, &|_| {}).await.unwrap();
    assert_eq!((again.places, again.days), (0, 0));
    let now = start + 625 * DAY;
    let scope = Scope {
        guild_id: Some(GUILD.to_string()),
        agent_id: None,
        conversations: None,
    };
    for w in [
        Window::last_days(now, 90),
        Window {
            from: start,
            to: now,
            now,
        },
    ] {
        let fast = desk.rollup_report(&scope, w).await.unwrap();
        let replayed = desk.replay_report(&scope, w).await.unwrap();
        assert_eq!(fast.as_ref(), Some(&replayed), "window {w:?}");
    }
}

#[test]
fn many_batches_on_sqlite() {
    RUNTIME.block_on(async {
        let db = support::db::sqlite().await;
        many_batches(db.store.clone()).await;
        db.cleanup().await;
    })
}

#[test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
fn many_batches_on_postgres() {
    RUNTIME.block_on(async {
        let db = support::db::postgres().await;
        many_batches(db.store.clone()).await;
        db.cleanup().await;
    })
}

#[test]
fn crowded_buckets_on_sqlite() {
    RUNTIME.block_on(async {
        let db = support::db::sqlite().await;
        crowded_buckets(db.store.clone()).await;
        db.cleanup().await;
    })
}

#[test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
fn crowded_buckets_on_postgres() {
    RUNTIME.block_on(async {
        let db = support::db::postgres().await;
        crowded_buckets(db.store.clone()).await;
        db.cleanup().await;
    })
}
