//! The service-level timers, one rule a test, moments worked out by hand in the comments
//! (2026-11-02 is a Monday; the business hours are in UTC unless said).

use super::*;
use crate::domain::rules_tests::{t, History, CUSTOMER, G};
use crate::domain::{Event, EventKind, GuildRules, HOUR, MINUTE};

fn rules(changes: &[(&str, &str)]) -> GuildRules {
    GuildRules::default()
        .with_sla_settings(changes)
        .expect("valid test settings")
}

fn business(changes: &[(&str, &str)], hours: &str, tz: &str) -> GuildRules {
    let mut r = rules(changes);
    r.sla.clock = SlaClock::Business;
    r.business_hours = hours.parse().unwrap();
    r.timezone = tz.parse().unwrap();
    r
}

fn timeline(h: &History, r: &GuildRules) -> Timeline {
    let lookup = |_: &str| r;
    Timeline::build(&h.events, None, &lookup)
}

fn plan(h: &History, r: &GuildRules, now: &str) -> Vec<SlaTimer> {
    plan_timers(&timeline(h, r), r, t(now))
}

/// (name, due) of each planned timer, sorted by due time.
fn moments(timers: &[SlaTimer]) -> Vec<(String, Millis)> {
    let mut m: Vec<_> = timers.iter().map(|x| (x.name(), x.due_at)).collect();
    m.sort_by_key(|x| x.1);
    m
}

#[test]
fn on_the_calendar_the_warning_comes_20_percent_before_and_the_breach_1_ms_after_the_target() {
    // 15 min target, 20 % = 3 min: the warning at 09:12, the deadline 09:15, the breach 1 ms later.
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    let start = h.customer("a", "2026-11-02T09:00:00Z");
    let timers = plan(&h, &r, "2026-11-02T09:01:00Z");
    assert_eq!(
        moments(&timers),
        vec![
            ("warning:first_response".into(), t("2026-11-02T09:12:00Z")),
            (
                "breach:first_response".into(),
                t("2026-11-02T09:15:00.001Z")
            ),
        ]
    );
    assert!(timers.iter().all(|x| x.subject == start));
    assert!(timers
        .iter()
        .all(|x| x.deadline == t("2026-11-02T09:15:00Z")));
}

#[test]
fn on_the_business_clock_a_friday_evening_request_is_warned_on_monday_morning() {
    // Mon-Fri 09:00-18:00. A request on Friday 17:00 with a 2 h target: 1 h on Friday, so
    // 24 min before the deadline (1 h 36 min of business time) is Monday 09:36, the deadline
    // Monday 10:00; nothing comes during the weekend.
    let r = business(&[("first_response", "2h")], "mon-fri 09:00-18:00", "UTC");
    let mut h = History::default();
    h.customer("a", "2026-11-06T17:00:00Z");
    let timers = plan(&h, &r, "2026-11-06T17:00:00Z");
    assert_eq!(
        moments(&timers),
        vec![
            ("warning:first_response".into(), t("2026-11-09T09:36:00Z")),
            (
                "breach:first_response".into(),
                t("2026-11-09T10:00:00.001Z")
            ),
        ]
    );
}

#[test]
fn a_request_outside_business_hours_is_warned_inside_them_even_across_a_dst_change() {
    // Europe/Paris leaves summer time on Sunday 2026-10-25. A request on Saturday 10-24 at
    // noon (closed) with a 1 h target: the warning after 48 min of Monday's business time,
    // Monday 09:48 local = 08:48 UTC (winter time).
    let r = business(
        &[("first_response", "1h")],
        "mon-fri 09:00-18:00",
        "Europe/Paris",
    );
    let mut h = History::default();
    h.customer("a", "2026-10-24T10:00:00Z");
    let timers = plan(&h, &r, "2026-10-24T10:00:00Z");
    assert_eq!(
        moments(&timers)[0],
        ("warning:first_response".into(), t("2026-10-26T08:48:00Z"))
    );
}

#[test]
fn a_fixed_warning_on_a_saturday_request_comes_in_monday_business_time() {
    // 10 min target, warned 9 min before: after 1 min of business time, Monday 09:01.
    let r = business(
        &[("first_response", "10m"), ("sla_warning", "9m")],
        "mon-fri 09:00-18:00",
        "UTC",
    );
    let mut h = History::default();
    h.customer("a", "2026-11-07T12:00:00Z"); // Saturday
    let timers = plan(&h, &r, "2026-11-07T12:00:00Z");
    assert_eq!(moments(&timers)[0].1, t("2026-11-09T09:01:00Z"));
}

#[test]
fn business_hours_that_never_open_plan_no_timer() {
    let r = business(&[("first_response", "1h")], "sat 09:00-10:00", "UTC");
    let mut r = r;
    r.business_hours = "mon 09:00-09:01".parse().unwrap();
    assert_eq!(
        sla_instant(&r, t("2026-11-02T10:00:00Z"), 2 * MINUTE),
        Some(t("2026-11-16T09:01:00Z"))
    );
    // 120 h of business time at one minute a week is far beyond the 400 days searched.
    assert_eq!(sla_instant(&r, t("2026-11-02T10:00:00Z"), 120 * HOUR), None);
}

#[test]
fn the_answer_cancels_the_warning_and_the_next_request_gets_its_own() {
    let r = rules(&[("first_response", "15m"), ("next_response", "1h")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let warning = plan(&h, &r, "2026-11-02T09:00:00Z")
        .into_iter()
        .find(|x| x.action == TimerAction::Warning)
        .unwrap();
    h.agent("a", "2026-11-02T09:05:00Z");
    assert!(plan(&h, &r, "2026-11-02T09:05:00Z").is_empty());
    assert!(!still_due(
        &timeline(&h, &r),
        &r,
        t("2026-11-02T09:12:00Z"),
        &warning
    ));
    let next = h.customer("a", "2026-11-02T09:30:00Z");
    let timers = plan(&h, &r, "2026-11-02T09:30:00Z");
    assert_eq!(
        moments(&timers)[0],
        ("warning:next_response".into(), t("2026-11-02T10:18:00Z"))
    );
    assert_eq!(timers[0].subject, next);
}

#[test]
fn a_warning_is_due_until_its_deadline_and_not_after() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let tl = timeline(&h, &r);
    let warning = plan_timers(&tl, &r, t("2026-11-02T09:00:00Z"))
        .into_iter()
        .find(|x| x.action == TimerAction::Warning)
        .unwrap();
    assert!(!still_due(&tl, &r, t("2026-11-02T09:11:59.999Z"), &warning));
    assert!(still_due(&tl, &r, t("2026-11-02T09:12:00Z"), &warning));
    assert!(still_due(&tl, &r, t("2026-11-02T09:15:00Z"), &warning));
    assert!(!still_due(&tl, &r, t("2026-11-02T09:15:00.001Z"), &warning));
}

#[test]
fn a_resolution_target_is_warned_while_the_conversation_is_open_and_a_close_cancels_it() {
    let r = rules(&[("resolution", "10h")]);
    let mut h = History::default();
    let opening = h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:05:00Z");
    let timers = plan(&h, &r, "2026-11-02T09:05:00Z");
    assert_eq!(
        moments(&timers)[0],
        ("warning:resolution".into(), t("2026-11-02T17:00:00Z"))
    );
    assert_eq!(timers[0].subject, opening);
    h.push("a", "900", "2026-11-02T10:00:00Z", EventKind::Close);
    assert!(!still_due(
        &timeline(&h, &r),
        &r,
        t("2026-11-02T17:00:00Z"),
        &timers[0]
    ));
}

fn auto_close_history() -> (GuildRules, History, SlaTimer) {
    let r = rules(&[("auto_close", "2h")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:10:00Z");
    let timers = plan(&h, &r, "2026-11-02T09:10:00Z");
    assert_eq!(
        moments(&timers),
        vec![("auto_close".into(), t("2026-11-02T11:10:00Z"))]
    );
    (r, h, timers[0].clone())
}

#[test]
fn the_auto_close_is_due_at_the_last_agent_message_plus_auto_close() {
    let (r, h, close) = auto_close_history();
    let tl = timeline(&h, &r);
    assert!(!still_due(&tl, &r, t("2026-11-02T11:09:59.999Z"), &close));
    assert!(still_due(&tl, &r, t("2026-11-02T11:10:00Z"), &close));
    assert!(still_due(&tl, &r, t("2026-11-03T08:00:00Z"), &close));
}

#[test]
fn a_customer_message_at_the_close_instant_cancels_it_and_one_1_ms_later_does_not() {
    // Read back after downtime: a message at 11:10:00.000 comes first (KPI.md: at or before).
    let (r, mut h, close) = auto_close_history();
    h.customer("a", "2026-11-02T11:10:00Z");
    assert!(!still_due(
        &timeline(&h, &r),
        &r,
        t("2026-11-02T12:00:00Z"),
        &close
    ));
    let (r, mut h, close) = auto_close_history();
    h.customer("a", "2026-11-02T11:10:00.001Z");
    // That message opened a new conversation: the old one is still to be closed, at 11:10.
    assert!(still_due(
        &timeline(&h, &r),
        &r,
        t("2026-11-02T12:00:00Z"),
        &close
    ));
}

/// The bot's recorded close sits at the auto-close instant, which the replay reads as that
/// auto-close (docs/kpi.md: a customer message in the same millisecond still cancels it), so
/// the timeline cannot tell a recorded close from a due one: the timer still reads as due.
/// What keeps it from acting twice is the store (the timer row is done in the transaction that
/// records the close: `store_contract::service_level_timers_are_planned_replaced_and_done_once`)
/// and the close's fixed event id and outbox keys; the figures are the same either way.
#[test]
fn a_recorded_close_at_the_auto_close_instant_is_read_as_that_auto_close() {
    let (r, mut h, close) = auto_close_history();
    h.events.push(Event {
        id: "auto-close".into(),
        guild_id: G.into(),
        place: "a".into(),
        author_id: "bot".into(),
        at: close.due_at,
        kind: EventKind::Close,
    });
    let tl = timeline(&h, &r);
    assert!(still_due(&tl, &r, t("2026-11-02T12:00:00Z"), &close));
    assert_eq!(tl.conversations.len(), 1);
    assert_eq!(
        tl.conversations[0].end(t("2026-11-02T12:00:00Z")),
        crate::domain::timeline::End::Closed(crate::domain::timeline::Close {
            at: close.due_at,
            by: crate::domain::timeline::Closer::AutoClose,
        })
    );
    let _ = CUSTOMER;
}

#[test]
fn a_late_message_keeps_the_unrecorded_auto_close_of_the_conversation_before_planned() {
    // Read back after downtime: the customer wrote at 11:15, after the 11:10 auto-close. The
    // replay ends the first conversation at 11:10 and opens a second; the close of the first
    // is still planned (to be recorded at 11:10), and nothing for the second (no answer yet).
    let (r, mut h, close) = auto_close_history();
    h.customer("a", "2026-11-02T11:15:00Z");
    let timers = plan(&h, &r, "2026-11-02T11:20:00Z");
    assert_eq!(
        moments(&timers),
        vec![("auto_close".into(), t("2026-11-02T11:10:00Z"))]
    );
    let (due, index) = due_timer(
        &timeline(&h, &r),
        &r,
        t("2026-11-02T11:20:00Z"),
        "auto_close",
        &close.subject,
        close.due_at,
    )
    .unwrap();
    assert_eq!((due.due_at, index), (t("2026-11-02T11:10:00Z"), 0));
}
