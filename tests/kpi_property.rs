//! Random event streams, in random order: every figure of the JSON report must equal the
//! brute-force recomputation of tests/support/oracle.rs, written independently from docs/kpi.md
//! without reading the implementation. Times are drawn so that they often fall exactly on the
//! idle, deadline, survey-close and window boundaries, where implementations disagree first.

mod support;

use proptest::prelude::*;
use reactif::desk::{build_report, Desk};
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{Event, GuildRules, Millis, DAY, HOUR, MINUTE};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::LazyLock;
use support::oracle::{oracle_report, GuildSla, OracleParams};
use support::scenario::{events, scenario, Scenario};

const GUILDS: [&str; 2] = ["100", "101"];
const ZONES: [&str; 4] = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"];

/// One guild's settings drawn from `pick`, as reactif and as the oracle take them: targets and
/// auto-close on the scenario's gaps (5 min, 1 h, 5 h, 1 day) so that answers and closes fall
/// exactly on them, either clock, business hours or none, four time zones (one with a DST
/// change in the scenarios' weeks, one at +13:45).
fn settings(pick: u64) -> (GuildRules, GuildSla) {
    let of = |shift: u32, options: [Option<Millis>; 4]| options[((pick >> shift) & 3) as usize];
    let first_response = of(0, [None, Some(5 * MINUTE), Some(HOUR), Some(5 * HOUR)]);
    let next_response = of(2, [None, Some(MINUTE), Some(5 * HOUR), Some(DAY)]);
    let resolution = of(4, [None, Some(HOUR), Some(5 * HOUR), Some(30 * HOUR)]);
    let auto_close = of(6, [None, Some(HOUR), Some(5 * MINUTE), Some(5 * HOUR)]);
    let business = pick & (1 << 8) != 0;
    let hours = pick & (1 << 9) != 0;
    let zone = ZONES[((pick >> 10) & 3) as usize];
    let mut rules = GuildRules {
        timezone: zone.parse().expect("a zone"),
        business_hours: if hours {
            "mon-fri 09:00-17:30"
        } else {
            "always"
        }
        .parse()
        .expect("hours"),
        ..GuildRules::default()
    };
    rules.sla.first_response = first_response;
    rules.sla.next_response = next_response;
    rules.sla.resolution = resolution;
    rules.sla.auto_close = auto_close;
    rules.sla.clock = if business { "business" } else { "calendar" }
        .parse()
        .expect("a clock");
    let oracle = GuildSla {
        first_response_ms: first_response,
        next_response_ms: next_response,
        resolution_ms: resolution,
        sla_business: business,
        auto_close_ms: auto_close,
        timezone: zone.to_string(),
        business_hours: hours.then(|| (0..5).map(|d| (d, 9 * 60, 17 * 60 + 30)).collect()),
    };
    (rules, oracle)
}

/// Each guild's settings: one draw each from `pick`.
fn guild_settings(pick: u64) -> Vec<(String, (GuildRules, GuildSla))> {
    GUILDS
        .iter()
        .enumerate()
        .map(|(i, g)| (g.to_string(), settings(pick >> (12 * i))))
        .collect()
}

fn ours(events: &[Event], w: Window, pick: u64) -> Value {
    let rules: HashMap<String, GuildRules> = guild_settings(pick)
        .into_iter()
        .map(|(g, (r, _))| (g, r))
        .collect();
    let report = build_report(events, &rules, &GuildRules::default(), &Scope::default(), w);
    reactif::report::json::report(&report)
}

fn theirs(events: &[Event], w: Window, guild: Option<&str>, pick: u64) -> Value {
    let lines: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.to_line()).expect("to_line is JSON"))
        .collect();
    oracle_report(
        &lines,
        &OracleParams {
            from_ms: w.from,
            to_ms: w.to,
            now_ms: w.now,
            idle_ms: DAY,
            deadline_ms: DAY,
            survey_close_ms: DAY,
            badge_min_rate: (9, 10),
            badge_max_delay_ms: 5 * MINUTE,
            guild_id: guild.map(str::to_string),
            per_guild: guild_settings(pick)
                .into_iter()
                .map(|(g, (_, o))| (g, o))
                .collect(),
            ..Default::default()
        },
    )
}

fn compare(expected: &Value, actual: &Value, evs: &[Event]) -> Result<(), TestCaseError> {
    let diffs = support::json::subset_differences(expected, actual);
    prop_assert!(
        diffs.is_empty(),
        "differences: {:#?}\nevents:\n{}",
        diffs,
        evs.iter()
            .map(|e| e.to_line())
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(())
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
});

/// Through a real database: the settings saved as `/sla` and `reactif setup` save them, the
/// events ingested, and guild 100's report as `/stats` builds it (from the rollups when they
/// stand for it) compared with the oracle's.
fn through_the_store(s: &Scenario, pick: u64, postgres: bool) -> Result<(), TestCaseError> {
    RUNTIME.block_on(async {
        let db = if postgres {
            support::db::postgres().await
        } else {
            support::db::sqlite().await
        };
        let desk = Desk::new(db.store.clone());
        for (g, (rules, _)) in guild_settings(pick) {
            db.store.save_guild_rules(&g, &rules).await.unwrap();
        }
        let evs = events(s);
        desk.ingest(&evs).await.unwrap();
        let (from, to, now) = s.window;
        // The rollups stand for a report at or after the newest event.
        let newest = evs.iter().map(|e| e.at).max().unwrap_or(now);
        let w = Window {
            from,
            to,
            now: now.max(newest),
        };
        let scope = Scope {
            guild_id: Some(GUILDS[0].to_string()),
            ..Scope::default()
        };
        let report = desk.report(&scope, w).await.unwrap();
        db.cleanup().await;
        let actual = reactif::report::json::report(&report);
        compare(&theirs(&evs, w, Some(GUILDS[0]), pick), &actual, &evs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(400), ..ProptestConfig::default() })]

    #[test]
    fn every_figure_equals_an_independent_brute_force_recomputation(
        s in scenario(false),
        pick in any::<u64>(),
    ) {
        let evs = events(&s);
        let (from, to, now) = s.window;
        let w = Window { from, to, now };
        compare(&theirs(&evs, w, None, pick), &ours(&evs, w, pick), &evs)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_figure_equals_the_oracle_through_sqlite(s in scenario(true), pick in any::<u64>()) {
        through_the_store(&s, pick, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(
        not(reactif_pg),
        ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
    )]
    fn every_figure_equals_the_oracle_through_postgres(s in scenario(true), pick in any::<u64>()) {
        through_the_store(&s, pick, true)?;
    }
}

#[test]
fn the_oracle_itself_reproduces_the_worked_example() {
    // A check of the checker: if the oracle drifted from the contract, the property above
    // would prove nothing.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let lines: Vec<Value> = std::fs::read_to_string(dir.join("worked-example.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("worked-example.expected.json")).unwrap(),
    )
    .unwrap();
    let t = |s| reactif::domain::parse_time(s).unwrap();
    let got = oracle_report(
        &lines,
        &OracleParams {
            from_ms: t("2026-11-02T00:00:00Z"),
            to_ms: t("2026-11-05T00:00:00Z"),
            now_ms: t("2026-11-05T10:00:00Z"),
            idle_ms: DAY,
            deadline_ms: DAY,
            survey_close_ms: DAY,
            badge_min_rate: (9, 10),
            badge_max_delay_ms: 5 * MINUTE,
            ..Default::default()
        },
    );
    support::json::assert_subset(&expected, &got);
}
