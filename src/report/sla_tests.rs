//! The service levels in every rendering: JSON field names as docs/kpi.md writes them, text in
//! English and French, CSV rows for the window and the previous one, and the heatmap's PNG.
//! Expected values are worked by hand in the comments.

use crate::desk::build_report;
use crate::domain::kpi::{Report, Scope, Window};
use crate::domain::{parse_time, Event, EventKind, GuildRules, Millis};
use serde_json::json;
use std::collections::HashMap;

fn t(s: &str) -> Millis {
    parse_time(s).expect("a test time")
}

/// One conversation on Monday 2026-11-02: the first request answered by 900 in 10 min (target
/// 15 min: met), the second by 901 in 1 h 30 (target 1 h: missed), closed at 11:31, 2 h 31 min
/// after it opened (target 1 day: met).
fn report() -> Report {
    let rules = GuildRules::default()
        .with_sla_settings(&[
            ("first_response", "15m"),
            ("next_response", "1h"),
            ("resolution", "1d"),
        ])
        .unwrap();
    let lines = [
        ("customer_message", "500", "2026-11-02T09:00:00Z"),
        ("agent_message", "900", "2026-11-02T09:10:00Z"),
        ("customer_message", "500", "2026-11-02T10:00:00Z"),
        ("agent_message", "901", "2026-11-02T11:30:00Z"),
        ("close", "901", "2026-11-02T11:31:00Z"),
    ];
    let events: Vec<Event> = lines
        .iter()
        .enumerate()
        .map(|(i, (kind, author, at))| Event {
            id: (100 + i).to_string(),
            guild_id: "1".into(),
            place: "a".into(),
            author_id: author.to_string(),
            at: t(at),
            kind: EventKind::plain(kind).unwrap(),
        })
        .collect();
    let all = HashMap::from([("1".to_string(), rules.clone())]);
    let scope = Scope {
        guild_id: Some("1".into()),
        ..Scope::default()
    };
    let w = Window {
        from: t("2026-11-02T00:00:00Z"),
        to: t("2026-11-03T00:00:00Z"),
        now: t("2026-11-03T00:00:00Z"),
    };
    build_report(&events, &all, &rules, &scope, w)
}

#[test]
fn the_json_report_carries_the_service_levels_under_kpi_md_names() {
    let v = super::json::report(&report());
    assert_eq!(
        v["sla"]["first_response"],
        json!({"target_ms": 900_000, "met": 1, "missed": 0, "in_progress": 0, "attainment": 1.0})
    );
    assert_eq!(
        v["sla"]["next_response"],
        json!({"target_ms": 3_600_000, "met": 0, "missed": 1, "in_progress": 0, "attainment": 0.0})
    );
    assert_eq!(v["sla"]["resolution"]["met"], 1);
    assert_eq!(v["sla"]["clock"], "calendar");
    assert_eq!(
        (&v["resolved"], &v["lapsed"], &v["open"]),
        (&json!(1), &json!(0), &json!(0))
    );
    // 2 h 31 min = 9,060,000 ms, the only resolved conversation.
    assert_eq!(
        v["resolution_ms"],
        json!({"mean": 9_060_000.0, "median": 9_060_000, "p90": 9_060_000})
    );
    // The previous window (Sunday) has nothing, but the same fields.
    assert_eq!(v["previous"]["sla"]["first_response"]["met"], 0);
    assert_eq!(
        v["previous"]["sla"]["first_response"]["attainment"],
        json!(null)
    );
    assert_eq!(v["previous"]["resolution_ms"]["mean"], json!(null));
    // So has its heatmap, in the same shape.
    assert_eq!(v["previous"]["heatmap"]["requests"][0][9], 0);
    assert_eq!(
        v["previous"]["heatmap"]["requests"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(
        v["previous"]["heatmap"]["median_delay_ms_by_hour"][10],
        json!(null)
    );
    // Monday is weekday 0; requests at 09:00 and 10:00, answered in 10 and 90 min.
    assert_eq!(v["heatmap"]["requests"][0][9], 1);
    assert_eq!(v["heatmap"]["requests"][0][10], 1);
    assert_eq!(v["heatmap"]["requests"][1][9], 0);
    assert_eq!(v["heatmap"]["median_delay_ms_by_hour"][9], 600_000);
    assert_eq!(v["heatmap"]["median_delay_ms_by_hour"][10], 5_400_000);
    assert_eq!(v["heatmap"]["median_delay_ms_by_hour"][11], json!(null));
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents[0]["agent_id"], "900");
    assert_eq!(
        agents[0]["sla"],
        json!({"first_response": {"met": 1, "missed": 0, "attainment": 1.0},
               "next_response": {"met": 0, "missed": 0, "attainment": null}})
    );
    assert_eq!(agents[1]["sla"]["next_response"]["missed"], 1);
}

#[test]
fn a_report_without_service_levels_leaves_their_fields_out() {
    let mut r = report();
    r.service_levels = None;
    let v = super::json::report(&r);
    for field in ["sla", "resolved", "resolution_ms", "heatmap"] {
        assert!(v.get(field).is_none(), "{field}");
        assert!(v["previous"].get(field).is_none(), "previous.{field}");
    }
    assert!(v["agents"][0].get("sla").is_none());
    assert!(matches!(
        super::chart::render_heatmap_png(&r, &crate::i18n::EN),
        Err(super::chart::ChartError::NoHeatmap)
    ));
    // Reports are compared on every figure, the service levels included.
    assert_ne!(r, report());
}

#[test]
fn the_text_report_shows_the_service_levels_in_english_and_french() {
    let r = report();
    let en = super::text::render(&r, &crate::i18n::EN);
    assert!(en.contains("Service levels (calendar clock):"), "{en}");
    assert!(
        en.contains("target 15m · met 1 · missed 0 · in progress 0 · 100.0 %"),
        "{en}"
    );
    assert!(en.contains("target 1h · met 0 · missed 1"), "{en}");
    assert!(
        en.contains("1 resolved (▲ new) · 0 lapsed · 0 open"),
        "{en}"
    );
    assert!(en.contains("Busiest hours"), "{en}");
    assert!(en.contains("Mon 09:00 (1) · Mon 10:00 (1)"), "{en}");
    // Agent 901: no first response, its next one missed.
    assert!(en.contains("SLA next"), "{en}");
    assert!(en.contains("0.0 % (0/1)"), "{en}");
    let fr = super::text::render(&r, &crate::i18n::FR);
    assert!(
        fr.contains("Niveaux de service (temps calendaire):"),
        "{fr}"
    );
    assert!(
        fr.contains("objectif 15m · tenus 1 · manqués 0 · en cours 0"),
        "{fr}"
    );
    assert!(fr.contains("lun 09:00 (1)"), "{fr}");
    assert!(fr.contains("Délai de résolution"), "{fr}");
    assert!(!fr.contains("Service levels"), "{fr}");
}

#[test]
fn the_csv_report_has_a_row_a_service_level_figure() {
    let csv = super::csv::report(&report());
    for row in [
        "sla_first_response_target_ms,900000,900000",
        "sla_first_response_met,1,0",
        "sla_next_response_missed,1,0",
        "sla_next_response_attainment,0,",
        "sla_resolution_in_progress,0,0",
        "resolved,1,0",
        "resolution_ms_median,9060000,",
        // The previous window (Sunday) had none.
        "heatmap_requests_mon_09,1,0",
        "heatmap_median_delay_ms_10,5400000,",
        "heatmap_median_delay_ms_11,,",
    ] {
        assert!(csv.lines().any(|l| l == row), "{row} in\n{csv}");
    }
}

#[test]
fn the_heatmap_renders_as_a_png() {
    let png = super::chart::render_heatmap_png(&report(), &crate::i18n::FR).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
