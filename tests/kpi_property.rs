//! Random event streams, in random order: every figure of the JSON report must equal the
//! brute-force recomputation of tests/support/oracle.rs, written independently from docs/kpi.md
//! without reading the implementation. Times are drawn so that they often fall exactly on the
//! idle, deadline, survey-close and window boundaries, where implementations disagree first.

mod support;

use proptest::prelude::*;
use reactif::desk::build_report;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{Event, GuildRules, DAY, MINUTE};
use serde_json::Value;
use std::collections::HashMap;
use support::oracle::{oracle_report, OracleParams};
use support::scenario::{events, scenario};

fn ours(events: &[Event], w: Window) -> Value {
    let rules: HashMap<String, GuildRules> = HashMap::new();
    let report = build_report(events, &rules, &GuildRules::default(), &Scope::default(), w);
    reactif::report::json::report(&report)
}

fn theirs(events: &[Event], w: Window) -> Value {
    let lines: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.to_line()).expect("to_line is JSON"))
        .collect();
    let mut expected = oracle_report(
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
            ..Default::default()
        },
    );
    without_sla_figures(&mut expected);
    expected
}

/// The implementation does not report the SLA section's figures yet, and the comparison is a
/// subset check: until it does, only the figures that existed before are compared.
/// The lead removes this (and its call) once the implementation reports them.
fn without_sla_figures(report: &mut Value) {
    const NEW: [&str; 6] = [
        "sla",
        "resolved",
        "lapsed",
        "open",
        "resolution_ms",
        "heatmap",
    ];
    let strip = |v: &mut Value| {
        if let Some(o) = v.as_object_mut() {
            for k in NEW {
                o.remove(k);
            }
        }
    };
    strip(report);
    strip(&mut report["previous"]);
    if let Some(agents) = report["agents"].as_array_mut() {
        agents.iter_mut().for_each(strip);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(400), ..ProptestConfig::default() })]

    #[test]
    fn every_figure_equals_an_independent_brute_force_recomputation(s in scenario(false)) {
        let evs = events(&s);
        let (from, to, now) = s.window;
        let w = Window { from, to, now };
        let expected = theirs(&evs, w);
        let actual = ours(&evs, w);
        let diffs = support::json::subset_differences(&expected, &actual);
        prop_assert!(diffs.is_empty(), "differences: {:#?}\nevents:\n{}", diffs,
            evs.iter().map(|e| e.to_line()).collect::<Vec<_>>().join("\n"));
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
