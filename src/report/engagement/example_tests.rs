//! docs/examples/engagement-example.*: the figures of ENGAGEMENT.md worked by hand, pinned.

use crate::domain::engagement::{report, EngagementEvent, Filters, Report};
use crate::domain::kpi::{Rules, Window};
use crate::domain::{parse_time, GuildRules};
use serde_json::Value;
use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

fn events() -> Vec<EngagementEvent> {
    std::fs::read_to_string(examples().join("engagement-example.jsonl"))
        .expect("the example file")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| EngagementEvent::parse_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn window() -> Window {
    Window {
        from: parse_time("2026-11-09T00:00:00Z").unwrap(),
        to: parse_time("2026-11-16T00:00:00Z").unwrap(),
        now: parse_time("2026-11-16T12:00:00Z").unwrap(),
    }
}

fn example_report(events: &[EngagementEvent], filters: &Filters) -> Report {
    let rules = GuildRules::default();
    let rules = Rules {
        lookup: &|_| &rules,
        report: &rules,
    };
    report(events, &rules, filters, window())
}

/// Equal JSON, numbers that are not integers within a relative 1e-12 (the hand computation's
/// decimals are exact fractions rounded once; the report's mean goes through a fixed-point sum).
fn assert_same(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let (mut ek, mut ak): (Vec<_>, Vec<_>) = (e.keys().collect(), a.keys().collect());
            ek.sort();
            ak.sort();
            assert_eq!(ek, ak, "fields of {path}");
            for (k, v) in e {
                assert_same(v, &a[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "length of {path}");
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                assert_same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(e), Value::Number(a)) if e.is_f64() || a.is_f64() => {
            let (x, y) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{path}: expected {x}, got {y}"
            );
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

#[test]
fn the_hand_worked_example_gives_the_expected_json_report() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(examples().join("engagement-example.expected.json")).unwrap(),
    )
    .unwrap();
    let events = events();
    assert_eq!(events.len(), 24);
    let json = super::json(&example_report(&events, &Filters::default()));
    assert_same(&expected, &json, "report");

    // In any order, and read twice, the figures are the same.
    let mut twice: Vec<EngagementEvent> = events.iter().rev().cloned().collect();
    twice.extend(events.iter().cloned());
    let again = super::json(&example_report(&twice, &Filters::default()));
    assert_same(&expected, &again, "report read twice");
}

#[test]
fn the_example_filtered_by_theme_keeps_the_posts_carrying_it() {
    let filters = Filters {
        theme: Some("release".into()),
        ..Filters::default()
    };
    let r = example_report(&events(), &filters);
    // The window keeps P1 alone (4 engagements over 120), the previous window P0.
    let f = &r.current.figures;
    assert_eq!((f.posts, f.engagements(), f.audience), (1, 4, 120));
    assert_eq!(r.previous.figures.engagements(), 2);
    let other_guild = Filters {
        guild_id: Some("2".into()),
        ..Filters::default()
    };
    let r = example_report(&events(), &other_guild);
    assert_eq!((r.current.figures.posts, r.previous.figures.posts), (0, 0));
}

#[test]
fn the_text_report_compares_with_the_previous_window_and_links_the_top_posts() {
    let r = example_report(&events(), &Filters::default());
    let en = super::text::render(&r, &crate::i18n::ENGAGEMENT_EN);
    // Engagements 7 against 2: +250 %; the rate 2.8 % against 1.0 %: +1.8 points.
    assert!(
        en.contains("Engagements") && en.contains("▲ +250 %"),
        "{en}"
    );
    assert!(en.contains("2.8 %   ▲ +1.8 pts"), "{en}");
    assert!(en.contains("(2 still maturing)"), "{en}");
    assert!(en.contains("not a count of views"), "{en}");
    // The themes in the report's order, `events` new since the previous window.
    let events_row = en.find("  events ").expect("an events row");
    assert!(events_row < en.find("  release ").expect("a release row"));
    assert!(en.contains("▲ new"), "{en}");
    let first = en.find(
        "https://discord.com/channels/1000000000000000001/1300000000000000001/1569275353497600004",
    );
    let second = en.find(
        "https://discord.com/channels/1000000000000000001/1300000000000000002/1570453114060800018",
    );
    assert!(first.is_some() && first < second, "{en}");

    let fr = super::text::render(&r, &crate::i18n::ENGAGEMENT_FR);
    assert!(
        fr.contains("Rapport d'engagement") && fr.contains("pas un nombre de vues"),
        "{fr}"
    );
    assert!(
        fr.contains("(2 encore dans leur fenêtre d'engagement)"),
        "{fr}"
    );
    for english in [
        "Engagement report",
        "Top posts",
        "Themes",
        "still maturing",
        "(now ",
    ] {
        assert!(!fr.contains(english), "{english} in {fr}");
    }
}

#[test]
fn an_empty_window_says_so_and_still_explains_the_audience() {
    let r = example_report(&[], &Filters::default());
    let en = super::text::render(&r, &crate::i18n::ENGAGEMENT_EN);
    assert!(en.contains("No post in this window."), "{en}");
    assert!(en.contains("not a count of views"), "{en}");
    assert!(en.contains(crate::report::NOT_AVAILABLE), "{en}");
    let json = super::json(&r);
    assert_eq!(json["posts"], 0);
    assert_eq!(json["engagement_rate"], Value::Null);
    assert_eq!(json["mean_post_engagement_rate"], Value::Null);
    assert_eq!(json["top_posts"], serde_json::json!([]));
}

#[test]
fn the_csv_has_one_row_a_figure_then_the_themes() {
    let csv = super::csv::report(&example_report(&events(), &Filters::default()));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "theme,figure,current,previous");
    // 10 figures for all posts, then 10 for each of the 3 themes.
    assert_eq!(lines.len(), 1 + 10 * 4);
    for row in [
        ",posts,3,1",
        ",engagements,7,2",
        ",unique_engaged_users,5,2",
        ",engagement_rate,0.028,0.01",
        "events,engagements,7,0",
        "events,engagement_rate,0.035,",
        "release,audience,120,200",
        "untagged,maturing,1,0",
    ] {
        assert!(lines.contains(&row), "{row} in {csv}");
    }
}

#[test]
fn the_chart_is_a_png_of_its_size() {
    let r = example_report(&events(), &Filters::default());
    for t in [&crate::i18n::ENGAGEMENT_EN, &crate::i18n::ENGAGEMENT_FR] {
        let png = super::chart::render_png(&r, t).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (1000, 860));
        // Text, bars and axes: far from a blank image.
        assert!(png.len() > 20_000, "{}", png.len());
    }
    let empty = super::chart::render_png(
        &example_report(&[], &Filters::default()),
        &crate::i18n::ENGAGEMENT_EN,
    );
    assert!(empty.is_ok());
}
