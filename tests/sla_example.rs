//! docs/examples/sla-example.*: the service levels of KPI.md worked by hand, through the replay
//! behind `reactif stats`, with the guild's settings set in code (tests/cli.rs sets them with
//! `reactif setup` and reads the same figures from the rollups).

mod support;

use reactif::desk::build_report;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{parse_time, Event, EventKind, GuildRules};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const GUILD: &str = "1000000000000000001";
const BOT: &str = "1100000000000000001";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

fn events() -> Vec<Event> {
    std::fs::read_to_string(examples().join("sla-example.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Event::parse_line(l).unwrap())
        .collect()
}

/// The example's guild: Paris, weekdays 09:00-18:00, the targets on the business clock,
/// auto-close after two hours.
fn rules() -> GuildRules {
    GuildRules {
        timezone: chrono_tz::Europe::Paris,
        business_hours: "mon-fri 09:00-18:00".parse().unwrap(),
        ..GuildRules::default()
    }
    .with_sla_settings(&[
        ("first_response", "15m"),
        ("next_response", "1h"),
        ("resolution", "4h"),
        ("sla_clock", "business"),
        ("auto_close", "2h"),
    ])
    .unwrap()
}

/// `--guild 1000000000000000001 --since 2026-11-02 --until 2026-11-07 --now 2026-11-06T16:00:00Z`:
/// Monday to Friday, local midnights.
fn report(events: &[Event]) -> Value {
    let t = |s| parse_time(s).unwrap();
    let rules = rules();
    let all = HashMap::from([(GUILD.to_string(), rules.clone())]);
    let scope = Scope {
        guild_id: Some(GUILD.into()),
        ..Scope::default()
    };
    let window = Window {
        from: t("2026-11-01T23:00:00Z"),
        to: t("2026-11-06T23:00:00Z"),
        now: t("2026-11-06T16:00:00Z"),
    };
    reactif::report::json::report(&build_report(events, &all, &rules, &scope, window))
}

fn expected() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(examples().join("sla-example.expected.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn the_sla_example_gives_the_figures_worked_by_hand() {
    support::json::assert_subset(&expected(), &report(&events()));
}

#[test]
fn the_sla_example_in_any_order_gives_the_same_figures() {
    let mut reversed = events();
    reversed.reverse();
    support::json::assert_subset(&expected(), &report(&reversed));
}

#[test]
fn the_sla_example_with_the_bots_close_events_gives_the_same_figures() {
    // The bot records its auto-closes as close events at the instant it closed: 2 h after the
    // last agent message of dm-1, dm-7 and thread-3.
    let t = |s| parse_time(s).unwrap();
    let mut with_closes = events();
    for (n, (place, at)) in [
        ("dm-1", "2026-11-02T10:10:00Z"),
        ("dm-7", "2026-11-03T11:30:00Z"),
        ("thread-3", "2026-11-04T14:40:00Z"),
    ]
    .into_iter()
    .enumerate()
    {
        let at = t(at);
        with_closes.push(Event {
            id: (reactif::domain::snowflake_at(at) + 100 + n as u64).to_string(),
            guild_id: GUILD.into(),
            place: place.into(),
            author_id: BOT.into(),
            at,
            kind: EventKind::Close,
        });
    }
    let with = report(&with_closes);
    support::json::assert_subset(&expected(), &with);
    assert_eq!(with, report(&events()));
}
