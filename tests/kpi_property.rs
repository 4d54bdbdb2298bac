//! Random event streams, in random order: every figure of the JSON report must equal the
//! brute-force recomputation of tests/support/oracle.rs, written independently from docs/kpi.md
//! without reading the implementation. Times are drawn so that they often fall exactly on the
//! idle, deadline, survey-close and window boundaries, where implementations disagree first.

mod support;

use proptest::prelude::*;
use reactif::desk::build_report;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{Event, GuildRules, Millis, DAY, HOUR, MINUTE};
use serde_json::Value;
use std::collections::HashMap;
use support::oracle::{oracle_report, OracleParams};

const BASE: Millis = 1_793_577_600_000; // 2026-11-02T00:00:00Z

/// Gaps between consecutive events of one place: many sit on a rule's boundary.
const GAPS: [Millis; 12] = [
    0,
    1,
    1_000,
    MINUTE,
    5 * MINUTE - 1,
    5 * MINUTE,
    HOUR,
    5 * HOUR,
    DAY - 1,
    DAY,
    DAY + 1,
    30 * HOUR,
];

#[derive(Debug, Clone)]
enum Step {
    Customer(u8),
    Agent(u8),
    Note,
    Bot,
    Close,
    Survey(u8),
    Rating {
        survey: u8,
        by_customer: bool,
        other: u8,
        rating: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        7 => (0u8..2).prop_map(Step::Customer),
        6 => (0u8..3).prop_map(Step::Agent),
        1 => Just(Step::Note),
        1 => Just(Step::Bot),
        1 => Just(Step::Close),
        2 => any::<u8>().prop_map(Step::Survey),
        3 => (any::<u8>(), proptest::bool::weighted(0.8), 0u8..2, 1u8..=5)
            .prop_map(|(survey, by_customer, other, rating)| Step::Rating { survey, by_customer, other, rating }),
    ]
}

/// One place: its guild, its start offset, and its steps with the index of the gap before each.
type PlaceSteps = (u8, Millis, Vec<(usize, Step)>);

#[derive(Debug, Clone)]
struct Scenario {
    /// Per place: (guild, start offset, steps with their gap index).
    places: Vec<PlaceSteps>,
    window: (Millis, Millis, Millis),
    shuffle_seed: u64,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let place = (
        0u8..2,
        0..(6 * DAY / HOUR),
        proptest::collection::vec((0..GAPS.len(), step()), 1..14),
    )
        .prop_map(|(g, h, steps)| (g, h * HOUR, steps));
    (
        proptest::collection::vec(place, 1..7),
        (0..10i64, 1..6i64, 0..200i64, any::<u64>()),
    )
        .prop_map(|(places, (from_day, len_days, now_hours, seed))| {
            let from = BASE + from_day * DAY;
            let to = from + len_days * DAY;
            // `now` often equals `to`, sometimes lies inside the window, sometimes far after.
            let now = match now_hours % 4 {
                0 => to,
                1 => from + (now_hours * HOUR) % (len_days * DAY).max(1),
                _ => to + now_hours * HOUR,
            };
            Scenario {
                places,
                window: (from, to, now),
                shuffle_seed: seed,
            }
        })
}

/// Turns a scenario into events. Ids are unique numbers in a shuffled order, so that events at
/// the same millisecond are ordered by id and not by their place in the stream.
fn events(s: &Scenario) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut agent_messages: Vec<Vec<String>> = vec![Vec::new(); s.places.len()];
    let mut surveys: Vec<String> = Vec::new();
    let total: usize = s.places.iter().map(|p| p.2.len()).sum();
    let mut ids: Vec<u64> = (0..total as u64).map(|i| 7_000_000 + i * 3).collect();
    let mut x = s.shuffle_seed | 1;
    for i in (1..ids.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ids.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut next_id = ids.into_iter();
    for (p, (guild, start, steps)) in s.places.iter().enumerate() {
        let guild_id = format!("{}", 100 + *guild as u32);
        let place = format!("place-{p}");
        let customer = format!("{}", 500 + p % 3);
        let mut t = BASE + start;
        for (gap, st) in steps {
            t += GAPS[*gap];
            let id = next_id.next().unwrap_or_default().to_string();
            let mut line = serde_json::json!({
                "id": id, "guild_id": guild_id, "conversation": place,
                "at": reactif::domain::format_time(t),
            });
            match st {
                Step::Customer(c) => {
                    line["kind"] = "customer_message".into();
                    line["author_id"] = if *c == 0 {
                        customer.clone()
                    } else {
                        "599".to_string()
                    }
                    .into();
                }
                Step::Agent(a) => {
                    line["kind"] = "agent_message".into();
                    line["author_id"] = format!("{}", 900 + *a as u32).into();
                    agent_messages[p].push(id.clone());
                }
                Step::Note => {
                    line["kind"] = "note".into();
                    line["author_id"] = "900".into();
                }
                Step::Bot => {
                    line["kind"] = "bot_message".into();
                    line["author_id"] = "1".into();
                }
                Step::Close => {
                    line["kind"] = "close".into();
                    line["author_id"] = "900".into();
                }
                Step::Survey(pick) => {
                    let answers = &agent_messages[p];
                    let answer = if answers.is_empty() {
                        "424242".to_string()
                    } else {
                        answers[*pick as usize % answers.len()].clone()
                    };
                    let sid = format!("s{}", surveys.len());
                    surveys.push(sid.clone());
                    line["kind"] = "survey_sent".into();
                    line["author_id"] = "1".into();
                    line["survey_id"] = sid.into();
                    line["answer_message_id"] = answer.into();
                }
                Step::Rating {
                    survey,
                    by_customer,
                    other,
                    rating,
                } => {
                    let sid = if surveys.is_empty() {
                        "s-none".to_string()
                    } else {
                        surveys[*survey as usize % surveys.len()].clone()
                    };
                    line["kind"] = "rating".into();
                    line["author_id"] = if *by_customer {
                        customer.clone()
                    } else {
                        format!("{}", 598 - *other as u32)
                    }
                    .into();
                    line["survey_id"] = sid.into();
                    line["rating"] = (*rating).into();
                }
            }
            out.push(Event::parse_line(&line.to_string()).expect("generated lines are valid"));
        }
    }
    // Random order of arrival.
    let mut x = s.shuffle_seed.rotate_left(17) | 1;
    for i in (1..out.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.swap(i, (x % (i as u64 + 1)) as usize);
    }
    out
}

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
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(400), ..ProptestConfig::default() })]

    #[test]
    fn every_figure_equals_an_independent_brute_force_recomputation(s in scenario()) {
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
        },
    );
    support::json::assert_subset(&expected, &got);
}
