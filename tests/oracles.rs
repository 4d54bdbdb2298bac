//! Checks of the checkers: the brute-force oracles of tests/support (KPI.md's SLA section and
//! ENGAGEMENT.md) against small histories whose figures are computed by hand in the comments.
//! If an oracle drifted from its contract, the property tests comparing it with the
//! implementation would prove nothing. Uses only tests/support, never the crate's API.

#[allow(dead_code)]
#[path = "support/engagement_oracle.rs"]
mod engagement_oracle;
#[allow(dead_code)]
#[path = "support/json.rs"]
mod json;
#[allow(dead_code)]
#[path = "support/oracle.rs"]
mod oracle;

use engagement_oracle::{engagement_report, EngagementParams};
use json::assert_subset;
use oracle::{business_ms, oracle_report, GuildSla, OracleParams};
use serde_json::{json, Value};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn t(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp_millis()
}

/// A support history in the import format; ids increase in the order lines are added.
struct Hist {
    lines: Vec<Value>,
    guild: &'static str,
}

impl Hist {
    fn new() -> Self {
        Hist {
            lines: Vec::new(),
            guild: "1",
        }
    }

    fn push(&mut self, kind: &str, place: &str, author: &str, at: &str) -> &mut Self {
        let id = (1000 + self.lines.len()).to_string();
        self.lines.push(json!({
            "kind": kind, "id": id, "guild_id": self.guild, "conversation": place,
            "author_id": author, "at": at,
        }));
        self
    }

    /// A message of the place's customer (author "500").
    fn customer(&mut self, place: &str, at: &str) -> &mut Self {
        self.push("customer_message", place, "500", at)
    }

    fn agent(&mut self, place: &str, agent: &str, at: &str) -> &mut Self {
        self.push("agent_message", place, agent, at)
    }

    fn close(&mut self, place: &str, by: &str, at: &str) -> &mut Self {
        self.push("close", place, by, at)
    }
}

fn window(from: &str, to: &str, now: &str) -> OracleParams {
    OracleParams {
        from_ms: t(from),
        to_ms: t(to),
        now_ms: t(now),
        ..Default::default()
    }
}

fn off() -> Value {
    json!({"target_ms": null, "met": 0, "missed": 0, "in_progress": 0, "attainment": null})
}

// ---------------------------------------------------------------------------------------------
// Response targets
// ---------------------------------------------------------------------------------------------

#[test]
fn a_first_response_exactly_at_the_target_is_met_and_one_ms_later_missed() {
    let mut h = Hist::new();
    // A: answered after 600 000 ms = the target: met, credited to 901.
    h.customer("A", "2026-11-02T09:00:00.000Z")
        .agent("A", "901", "2026-11-02T09:10:00.000Z");
    // B: 600 001 ms: missed, credited to 902.
    h.customer("B", "2026-11-02T09:00:00.000Z")
        .agent("B", "902", "2026-11-02T09:10:00.001Z");
    // C: unanswered, 600 000 ms from start to now: not greater than the target: in progress.
    h.customer("C", "2026-11-02T09:00:00.001Z");
    // D: unanswered, 600 001 ms to now: missed, credited to nobody.
    h.customer("D", "2026-11-02T09:00:00.000Z");
    let p = OracleParams {
        first_response_ms: Some(10 * MINUTE),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T09:10:00.001Z",
        )
    };
    let r = oracle_report(&h.lines, &p);
    assert_subset(
        &json!({
            "requests": 4, "answered": 2, "pending": 2,
            "sla": {
                // met 1 / (met 1 + missed 2)
                "first_response": {"target_ms": 600_000, "met": 1, "missed": 2, "in_progress": 1,
                                   "attainment": 1.0 / 3.0},
                "next_response": off(),
                "resolution": off(),
            },
            "agents": [
                {"agent_id": "901", "answered": 1, "sla": {
                    "first_response": {"met": 1, "missed": 0, "attainment": 1.0},
                    "next_response": {"met": 0, "missed": 0, "attainment": null}}},
                {"agent_id": "902", "answered": 1, "sla": {
                    "first_response": {"met": 0, "missed": 1, "attainment": 0.0},
                    "next_response": {"met": 0, "missed": 0, "attainment": null}}},
            ],
        }),
        &r,
    );
}

#[test]
fn next_response_targets_every_request_after_the_first() {
    let mut h = Hist::new();
    h.customer("P", "2026-11-02T09:00:00Z") // request 1 (first: target off)
        .agent("P", "901", "2026-11-02T09:01:00Z")
        .customer("P", "2026-11-02T09:02:00Z") // request 2
        .agent("P", "901", "2026-11-02T09:07:00Z") // 300 000 ms: met
        .customer("P", "2026-11-02T09:08:00Z") // request 3
        .agent("P", "902", "2026-11-02T09:13:00.001Z") // 300 001 ms: missed
        .customer("P", "2026-11-02T09:20:00Z"); // request 4: 300 000 ms to now: in progress
    let p = OracleParams {
        next_response_ms: Some(5 * MINUTE),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T09:25:00Z",
        )
    };
    let r = oracle_report(&h.lines, &p);
    assert_subset(
        &json!({
            "requests": 4,
            "sla": {
                "first_response": off(),
                "next_response": {"target_ms": 300_000, "met": 1, "missed": 1, "in_progress": 1,
                                  "attainment": 0.5},
            },
            // 901 answered requests 1 and 2, 902 request 3.
            "agents": [
                {"agent_id": "901", "answered": 2, "sla": {
                    "first_response": {"met": 0, "missed": 0, "attainment": null},
                    "next_response": {"met": 1, "missed": 0, "attainment": 1.0}}},
                {"agent_id": "902", "answered": 1, "sla": {
                    "next_response": {"met": 0, "missed": 1, "attainment": 0.0}}},
            ],
        }),
        &r,
    );
}

#[test]
fn an_answer_after_the_deadline_still_meets_or_misses_and_lists_its_agent() {
    // deadline 1 h (shorter than idle, so that a late answer is still in the conversation).
    let mut h = Hist::new();
    // P1: answered after 3 600 001 ms: past the deadline (unanswered), and misses 30 min; 901
    // is listed with answered 0.
    h.customer("P1", "2026-11-02T09:00:00Z")
        .agent("P1", "901", "2026-11-02T10:00:00.001Z");
    // P2: first request answered by 902 in 20 min (answered, met); the next one, started
    // 09:30, answered by 903 after 3 600 001 ms: past the deadline but within 2 h: met.
    h.customer("P2", "2026-11-02T09:00:00Z")
        .agent("P2", "902", "2026-11-02T09:20:00Z")
        .customer("P2", "2026-11-02T09:30:00Z")
        .agent("P2", "903", "2026-11-02T10:30:00.001Z");
    let p = OracleParams {
        deadline_ms: HOUR,
        first_response_ms: Some(30 * MINUTE),
        next_response_ms: Some(2 * HOUR),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T12:00:00Z",
        )
    };
    let r = oracle_report(&h.lines, &p);
    assert_subset(
        &json!({
            "requests": 3, "answered": 1, "unanswered": 2, "pending": 0,
            "sla": {
                "first_response": {"target_ms": 1_800_000, "met": 1, "missed": 1,
                                   "in_progress": 0, "attainment": 0.5},
                "next_response": {"target_ms": 7_200_000, "met": 1, "missed": 0,
                                  "in_progress": 0, "attainment": 1.0},
            },
            // Sorted by answered (902: 1), then agent_id ("901" < "903").
            "agents": [
                {"agent_id": "902", "answered": 1, "sla": {
                    "first_response": {"met": 1, "missed": 0, "attainment": 1.0}}},
                {"agent_id": "901", "answered": 0, "surveys_sent": 0, "sla": {
                    "first_response": {"met": 0, "missed": 1, "attainment": 0.0},
                    "next_response": {"met": 0, "missed": 0, "attainment": null}}},
                {"agent_id": "903", "answered": 0, "sla": {
                    "first_response": {"met": 0, "missed": 0, "attainment": null},
                    "next_response": {"met": 1, "missed": 0, "attainment": 1.0}}},
            ],
        }),
        &r,
    );
}

// ---------------------------------------------------------------------------------------------
// The business clock
// ---------------------------------------------------------------------------------------------

fn weekdays_9_to_18() -> Option<Vec<(u32, u32, u32)>> {
    Some((0..5).map(|d| (d, 9 * 60, 18 * 60)).collect())
}

#[test]
fn the_business_clock_skips_the_weekend() {
    // Europe/Paris is UTC+1 in November. 2026-11-20 is a Friday, 2026-11-23 a Monday.
    let mut h = Hist::new();
    // P1: Fri 17:00 local -> Mon 09:59 local: business 1 h (Fri 17-18) + 59 min (Mon 9-9:59)
    // = 7 140 000 <= 2 h: met. Calendar: Fri 16:00Z -> Mon 08:59Z = 64 h 59 min = 233 940 000.
    h.customer("P1", "2026-11-20T16:00:00Z")
        .agent("P1", "901", "2026-11-23T08:59:00Z");
    // P2: Fri 17:00 local -> Mon 10:00:00.001 local: business 7 200 001: missed. Calendar
    // 65 h + 1 ms = 234 000 001.
    h.customer("P2", "2026-11-20T16:00:00Z")
        .agent("P2", "902", "2026-11-23T09:00:00.001Z");
    // P3: Sat 10:00 local, unanswered; now Mon 11:00 local: business Mon 9-11 = 2 h, not more
    // than the target: in progress. (Calendar: Sat 09:00Z -> Mon 10:00Z = 49 h.)
    h.customer("P3", "2026-11-21T09:00:00Z");
    let business = OracleParams {
        idle_ms: 4 * DAY,
        deadline_ms: 4 * DAY,
        first_response_ms: Some(2 * HOUR),
        sla_business: true,
        timezone: "Europe/Paris".into(),
        business_hours: weekdays_9_to_18(),
        ..window(
            "2026-11-20T00:00:00Z",
            "2026-11-22T00:00:00Z",
            "2026-11-23T10:00:00Z",
        )
    };
    let r = oracle_report(&h.lines, &business);
    assert_subset(
        &json!({
            "answered": 2, "pending": 1,
            "sla": {"first_response": {"target_ms": 7_200_000, "met": 1, "missed": 1,
                                       "in_progress": 1, "attainment": 0.5}},
            "response_delay_ms": {"mean": 233_970_000.5, "median": 233_940_000,
                                  "p90": 234_000_001},
            // nearest rank: median rank ceil(0.5*2) = 1, p90 rank ceil(0.9*2) = 2.
            "business_hours_delay_ms": {"mean": 7_170_000.5, "median": 7_140_000,
                                        "p90": 7_200_001},
        }),
        &r,
    );
    // The same guild on the calendar clock: every request is past 2 h (P3: 49 h), and the
    // business-hours delay is unchanged.
    let calendar = OracleParams {
        sla_business: false,
        ..business
    };
    let r = oracle_report(&h.lines, &calendar);
    assert_subset(
        &json!({
            "sla": {"first_response": {"target_ms": 7_200_000, "met": 0, "missed": 3,
                                       "in_progress": 0, "attainment": 0.0}},
            "business_hours_delay_ms": {"mean": 7_170_000.5},
        }),
        &r,
    );
}

#[test]
fn the_business_clock_across_the_spring_dst_change() {
    // Paris, Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). Business hours Sunday
    // 02:30-04:00 local: 02:30 does not exist, it is the instant the gap ends (01:00Z); 04:00
    // CEST is 02:00Z: one hour of business time.
    let hours = Some(vec![(6, 150, 240)]);
    let (a, b) = (t("2026-03-28T23:00:00Z"), t("2026-03-29T03:00:00Z"));
    assert_eq!(business_ms("Europe/Paris", &hours, a, b), HOUR);
    // That Sunday lasts 23 h: a whole-day business interval holds 23 h.
    let all_sunday = Some(vec![(6, 0, 1440)]);
    let (sat, mon) = (t("2026-03-28T12:00:00Z"), t("2026-03-30T12:00:00Z"));
    assert_eq!(
        business_ms("Europe/Paris", &all_sunday, sat, mon),
        23 * HOUR
    );
    // In a report: customer Sun 00:00 local (Sat 23:00Z), answer 05:00 local (03:00Z): 1 h on
    // the business clock, exactly the target: met.
    let mut h = Hist::new();
    h.customer("P", "2026-03-28T23:00:00Z")
        .agent("P", "901", "2026-03-29T03:00:00Z");
    let p = OracleParams {
        first_response_ms: Some(HOUR),
        sla_business: true,
        timezone: "Europe/Paris".into(),
        business_hours: hours,
        ..window(
            "2026-03-28T00:00:00Z",
            "2026-03-30T00:00:00Z",
            "2026-03-30T00:00:00Z",
        )
    };
    assert_subset(
        &json!({
            "sla": {"first_response": {"met": 1, "missed": 0, "attainment": 1.0}},
            "response_delay_ms": {"median": 4 * HOUR},
            "business_hours_delay_ms": {"median": HOUR},
        }),
        &oracle_report(&h.lines, &p),
    );
}

#[test]
fn the_business_clock_across_the_autumn_dst_change() {
    // Paris, Sunday 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z). Business hours
    // Sunday 02:30-03:30 local: 02:30 is ambiguous, its earlier instant is 02:30 CEST = 00:30Z;
    // 03:30 exists once, CET = 02:30Z: two hours of business time.
    let hours = Some(vec![(6, 150, 210)]);
    let (a, b) = (t("2026-10-24T22:00:00Z"), t("2026-10-25T04:00:00Z"));
    assert_eq!(business_ms("Europe/Paris", &hours, a, b), 2 * HOUR);
    // That Sunday lasts 25 h.
    let all_sunday = Some(vec![(6, 0, 1440)]);
    let (sat, mon) = (t("2026-10-24T12:00:00Z"), t("2026-10-26T12:00:00Z"));
    assert_eq!(
        business_ms("Europe/Paris", &all_sunday, sat, mon),
        25 * HOUR
    );
    // Without business hours, business time is calendar time.
    assert_eq!(business_ms("Europe/Paris", &None, a, b), 6 * HOUR);
    let mut h = Hist::new();
    h.customer("P", "2026-10-24T22:00:00Z")
        .agent("P", "901", "2026-10-25T04:00:00Z");
    // A second request in the same conversation, Sunday 05:00Z (06:00 CET), unanswered at now
    // Monday 00:00Z: no business time after 03:30 local: in progress whatever the target.
    h.customer("P", "2026-10-25T05:00:00Z");
    let p = OracleParams {
        first_response_ms: Some(2 * HOUR - 1),
        next_response_ms: Some(1),
        sla_business: true,
        timezone: "Europe/Paris".into(),
        business_hours: hours,
        ..window(
            "2026-10-24T00:00:00Z",
            "2026-10-26T00:00:00Z",
            "2026-10-26T00:00:00Z",
        )
    };
    assert_subset(
        &json!({
            "sla": {
                // 7 200 000 > 7 199 999: missed.
                "first_response": {"met": 0, "missed": 1, "in_progress": 0},
                "next_response": {"met": 0, "missed": 0, "in_progress": 1},
            },
            "business_hours_delay_ms": {"median": 2 * HOUR},
        }),
        &oracle_report(&h.lines, &p),
    );
}

proptest::proptest! {
    /// Business time is additive over adjacent intervals, never more than calendar time, and
    /// equal to it when the hours cover the whole week (also across Paris's DST changes, whose
    /// midnights all exist).
    #[test]
    fn business_time_adds_up_and_a_full_week_is_calendar_time(
        start in 0i64..(400 * DAY),
        len1 in 0i64..(9 * DAY),
        len2 in 0i64..(9 * DAY),
    ) {
        let a = t("2026-01-01T00:00:00Z") + start;
        let (m, b) = (a + len1, a + len1 + len2);
        let hours = Some(vec![(0, 9 * 60, 18 * 60), (2, 0, 150), (6, 120, 1440), (4, 600, 660)]);
        let paris = |x, y| business_ms("Europe/Paris", &hours, x, y);
        proptest::prop_assert_eq!(paris(a, m) + paris(m, b), paris(a, b));
        proptest::prop_assert!(paris(a, b) <= b - a);
        let week = Some((0..7).map(|d| (d, 0, 1440)).collect());
        proptest::prop_assert_eq!(business_ms("Europe/Paris", &week, a, b), b - a);
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

#[test]
fn resolution_of_closed_lapsed_and_open_conversations() {
    let mut h = Hist::new();
    // P1: closed by its agent after 40 min: resolved, 2 400 000, met.
    h.customer("P1", "2026-11-02T09:00:00Z")
        .agent("P1", "901", "2026-11-02T09:10:00Z")
        .close("P1", "901", "2026-11-02T09:40:00Z");
    // P2: closed by the customer after 3 600 001 ms: resolved, missed.
    h.customer("P2", "2026-11-02T09:00:00Z")
        .agent("P2", "901", "2026-11-02T09:10:00Z")
        .close("P2", "500", "2026-11-02T10:00:00.001Z");
    // P3: last message 2026-11-02 09:10, now 2026-11-03 09:10 = exactly idle later: lapsed,
    // missed.
    h.customer("P3", "2026-11-02T09:00:00Z")
        .agent("P3", "901", "2026-11-02T09:10:00Z");
    // P4: opened 12:00, unanswered, 21 h 10 min before now (less than idle): open; more than
    // 1 h: missed.
    h.customer("P4", "2026-11-02T12:00:00Z");
    // P5: opened 40 min before now: open, in progress.
    h.customer("P5", "2026-11-03T08:30:00Z");
    // P6: closed exactly 1 h after its opening: resolved, 3 600 000, met.
    h.customer("P6", "2026-11-02T10:00:00Z")
        .close("P6", "901", "2026-11-02T11:00:00Z");
    let mut p = OracleParams {
        resolution_ms: Some(HOUR),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-04T00:00:00Z",
            "2026-11-03T09:10:00Z",
        )
    };
    // resolution times sorted: 2 400 000, 3 600 000, 3 600 001. Mean 9 600 001 / 3; median
    // rank ceil(1.5) = 2; p90 rank ceil(2.7) = 3.
    let resolution_ms = json!({"mean": 9_600_001.0 / 3.0, "median": 3_600_000, "p90": 3_600_001});
    assert_subset(
        &json!({
            "conversations": 6, "resolved": 3, "lapsed": 1, "open": 2,
            "resolution_ms": resolution_ms,
            "sla": {"resolution": {"target_ms": 3_600_000, "met": 2, "missed": 3,
                                   "in_progress": 1, "attainment": 0.4}},
        }),
        &oracle_report(&h.lines, &p),
    );
    // resolution_ms does not need a target.
    p.resolution_ms = None;
    assert_subset(
        &json!({"resolved": 3, "lapsed": 1, "open": 2, "resolution_ms": resolution_ms,
                "sla": {"resolution": off()}}),
        &oracle_report(&h.lines, &p),
    );
}

#[test]
fn a_close_after_the_conversation_lapsed_resolves_nothing() {
    let mut h = Hist::new();
    // P1: closed exactly idle (24 h) after its last message: it had lapsed; nothing resolved.
    h.customer("P1", "2026-11-02T09:00:00Z")
        .agent("P1", "901", "2026-11-02T09:10:00Z")
        .close("P1", "901", "2026-11-03T09:10:00Z");
    // P2: closed 1 ms earlier: resolved after 24 h 9 min 59.999 s = 86 400 000 + 599 999 =
    // 86 999 999, within the 25 h target: met. P1 lapsed: missed.
    h.customer("P2", "2026-11-02T09:00:00Z")
        .agent("P2", "901", "2026-11-02T09:10:00Z")
        .close("P2", "901", "2026-11-03T09:09:59.999Z");
    let p = OracleParams {
        resolution_ms: Some(25 * HOUR),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-03T12:00:00Z",
        )
    };
    assert_subset(
        &json!({
            "conversations": 2, "resolved": 1, "lapsed": 1, "open": 0,
            "resolution_ms": {"mean": 86_999_999.0, "median": 86_999_999, "p90": 86_999_999},
            "sla": {"resolution": {"met": 1, "missed": 1, "in_progress": 0}},
        }),
        &oracle_report(&h.lines, &p),
    );
}

// ---------------------------------------------------------------------------------------------
// Auto-close
// ---------------------------------------------------------------------------------------------

#[test]
fn auto_close_is_cancelled_by_a_customer_message_until_the_close_instant() {
    // auto_close 1 h: each place's last agent message is at 09:10, so the close instant is
    // 10:10:00.000.
    let mut h = Hist::new();
    // P1: the customer writes 1 ms before: one conversation, request 2 pending, still open.
    h.customer("P1", "2026-11-02T09:00:00Z")
        .agent("P1", "901", "2026-11-02T09:10:00Z")
        .customer("P1", "2026-11-02T10:09:59.999Z");
    // P2: the customer writes at the instant: cancelled as well.
    h.customer("P2", "2026-11-02T09:00:00Z")
        .agent("P2", "901", "2026-11-02T09:10:00Z")
        .customer("P2", "2026-11-02T10:10:00.000Z");
    // P3: 1 ms after: auto-closed at 10:10 (resolved in 70 min = 4 200 000); the message opens
    // a second conversation, open.
    h.customer("P3", "2026-11-02T09:00:00Z")
        .agent("P3", "901", "2026-11-02T09:10:00Z")
        .customer("P3", "2026-11-02T10:10:00.001Z");
    // P4: the bot's own close event at the instant changes nothing: resolved at 10:10.
    h.customer("P4", "2026-11-02T09:00:00Z")
        .agent("P4", "901", "2026-11-02T09:10:00Z")
        .close("P4", "1", "2026-11-02T10:10:00Z");
    // P5: no close event: auto-closed at 10:10 all the same; the agent message at 10:30 is
    // outside any conversation and answers nothing (902 is not listed).
    h.customer("P5", "2026-11-02T09:00:00Z")
        .agent("P5", "901", "2026-11-02T09:10:00Z")
        .agent("P5", "902", "2026-11-02T10:30:00Z");
    // P6: the bot's close at the instant (smaller id) and a customer message at the same
    // instant (larger id): the derived rule decides, the message cancels the close: open.
    h.customer("P6", "2026-11-02T09:00:00Z")
        .agent("P6", "901", "2026-11-02T09:10:00Z")
        .close("P6", "1", "2026-11-02T10:10:00Z")
        .customer("P6", "2026-11-02T10:10:00Z");
    let p = OracleParams {
        auto_close_ms: Some(HOUR),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T12:00:00Z",
        )
    };
    // conversations: P1 1, P2 1, P3 2, P4 1, P5 1, P6 1 = 7; requests: 2+2+2+1+1+2 = 10, of
    // which the six first ones are answered by 901 and P1, P2, P3, P6's second ones pending.
    assert_subset(
        &json!({
            "conversations": 7, "requests": 10, "answered": 6, "pending": 4,
            "resolved": 3, "lapsed": 0, "open": 4,
            "resolution_ms": {"mean": 4_200_000.0, "median": 4_200_000, "p90": 4_200_000},
            "agents": [{"agent_id": "901", "answered": 6}],
        }),
        &oracle_report(&h.lines, &p),
    );
    // Without auto-close, every one of these conversations is open at 12:00 (P4's close
    // resolves P4, P6's closes P6 and the customer's 10:10 message opens a new one there).
    let p = OracleParams {
        auto_close_ms: None,
        ..p
    };
    assert_subset(
        &json!({"conversations": 7, "resolved": 2, "open": 5, "lapsed": 0,
                "resolution_ms": {"median": 4_200_000}}),
        &oracle_report(&h.lines, &p),
    );
}

// ---------------------------------------------------------------------------------------------
// Heatmap and several guilds
// ---------------------------------------------------------------------------------------------

fn heat_history() -> Hist {
    // Paris is UTC+1 in November; 2026-11-22 is a Sunday.
    let mut h = Hist::new();
    // Tue 00:30 local (weekday 1, hour 0), answered in 300 000.
    h.customer("P1", "2026-11-23T23:30:00Z")
        .agent("P1", "901", "2026-11-23T23:35:00Z");
    // Mon 00:59:59.999 local (0, 0), answered in 600 000.
    h.customer("P2", "2026-11-22T23:59:59.999Z")
        .agent("P2", "901", "2026-11-23T00:09:59.999Z");
    // Mon 09:00 local (0, 9): 60 000; Mon 09:30 (0, 9): 180 000; Mon 09:45 (0, 9) unanswered.
    h.customer("P3", "2026-11-23T08:00:00Z")
        .agent("P3", "901", "2026-11-23T08:01:00Z");
    h.customer("P4", "2026-11-23T08:30:00Z")
        .agent("P4", "901", "2026-11-23T08:33:00Z");
    h.customer("P5", "2026-11-23T08:45:00Z");
    // Sun 23:59:59.999 local (6, 23): 60 000.
    h.customer("P6", "2026-11-22T22:59:59.999Z")
        .agent("P6", "901", "2026-11-22T23:00:59.999Z");
    h
}

fn heat(cells: &[(usize, usize, usize)], medians: &[(usize, i64)]) -> Value {
    let mut requests = vec![vec![0; 24]; 7];
    for &(d, hour, n) in cells {
        requests[d][hour] = n;
    }
    let mut by_hour = vec![Value::Null; 24];
    for &(hour, m) in medians {
        by_hour[hour] = json!(m);
    }
    json!({"requests": requests, "median_delay_ms_by_hour": by_hour})
}

#[test]
fn heatmap_cells_are_local_weekday_and_hour() {
    let h = heat_history();
    let paris = OracleParams {
        timezone: "Europe/Paris".into(),
        ..window(
            "2026-11-22T00:00:00Z",
            "2026-11-25T00:00:00Z",
            "2026-11-25T00:00:00Z",
        )
    };
    // Hour 0: delays 300 000 and 600 000, nearest-rank median rank 1: 300 000. Hour 9: 60 000
    // and 180 000 (the unanswered one left out): 60 000. Hour 23: 60 000.
    assert_subset(
        &json!({"heatmap": heat(&[(0, 0, 1), (1, 0, 1), (0, 9, 3), (6, 23, 1)],
                               &[(0, 300_000), (9, 60_000), (23, 60_000)])}),
        &oracle_report(&h.lines, &paris),
    );
    // In UTC: P1 Mon 23h, P2 Sun 23h, P3-P5 Mon 8h, P6 Sun 22h. Hour 23: 300 000 and 600 000.
    let utc = OracleParams {
        timezone: "UTC".into(),
        ..paris
    };
    assert_subset(
        &json!({"heatmap": heat(&[(0, 23, 1), (6, 23, 1), (0, 8, 3), (6, 22, 1)],
                               &[(23, 300_000), (8, 60_000), (22, 60_000)])}),
        &oracle_report(&h.lines, &utc),
    );
}

#[test]
fn over_several_guilds_targets_differ_and_the_heatmap_is_in_utc() {
    // The same exchange in two guilds: customer 09:00Z, answer 09:15Z (900 000 ms).
    let mut h = Hist::new();
    h.customer("P", "2026-11-02T09:00:00Z")
        .agent("P", "901", "2026-11-02T09:15:00Z");
    h.guild = "2";
    h.customer("P", "2026-11-02T09:00:00Z")
        .agent("P", "902", "2026-11-02T09:15:00Z");
    let guild = |first: i64, tz: &str| GuildSla {
        first_response_ms: Some(first),
        resolution_ms: Some(HOUR),
        timezone: tz.into(),
        ..Default::default()
    };
    let mut p = OracleParams {
        per_guild: vec![
            ("1".into(), guild(10 * MINUTE, "Europe/Paris")),
            ("2".into(), guild(20 * MINUTE, "UTC")),
        ],
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T12:00:00Z",
        )
    };
    // Guild 1 misses its 10 min, guild 2 meets its 20 min; the resolution target (1 h, common)
    // is missed by both conversations (open for 3 h at now). Heatmap in UTC: Monday 9h.
    assert_subset(
        &json!({
            "sla": {
                "first_response": {"target_ms": null, "met": 1, "missed": 1, "attainment": 0.5},
                "next_response": off(),
                "resolution": {"target_ms": 3_600_000, "met": 0, "missed": 2},
            },
            "heatmap": heat(&[(0, 9, 2)], &[(9, 900_000)]),
        }),
        &oracle_report(&h.lines, &p),
    );
    // `--guild 1`: its own target, and its time zone (Monday 10h in Paris).
    p.guild_id = Some("1".into());
    assert_subset(
        &json!({
            "requests": 1,
            "sla": {"first_response": {"target_ms": 600_000, "met": 0, "missed": 1}},
            "heatmap": heat(&[(0, 10, 1)], &[(10, 900_000)]),
        }),
        &oracle_report(&h.lines, &p),
    );
}

#[test]
fn the_new_figures_are_in_previous_too() {
    // A request in the previous window [11-01, 11-02), answered in 5 min; target 10 min.
    let mut h = Hist::new();
    h.customer("P", "2026-11-01T09:00:00Z")
        .agent("P", "901", "2026-11-01T09:05:00Z")
        .close("P", "901", "2026-11-01T09:30:00Z");
    let p = OracleParams {
        first_response_ms: Some(10 * MINUTE),
        ..window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-02T12:00:00Z",
        )
    };
    assert_subset(
        &json!({
            "resolved": 0,
            "sla": {"first_response": {"target_ms": 600_000, "met": 0}},
            "previous": {
                "requests": 1, "resolved": 1, "lapsed": 0, "open": 0,
                "resolution_ms": {"median": 1_800_000},
                "sla": {"first_response": {"target_ms": 600_000, "met": 1, "missed": 0,
                                           "attainment": 1.0}},
                // Sunday (6), 9h.
                "heatmap": heat(&[(6, 9, 1)], &[(9, 300_000)]),
            },
        }),
        &oracle_report(&h.lines, &p),
    );
}

// ---------------------------------------------------------------------------------------------
// Engagement
// ---------------------------------------------------------------------------------------------

fn post(id: &str, at: &str, author: &str, themes: &[&str], audience: i64) -> Value {
    json!({"kind": "post", "id": id, "at": at, "guild_id": "1", "channel_id": "c1",
           "author_id": author, "themes": themes, "audience": audience})
}

/// Interactions get ids from a counter so that their order at equal times is the order written.
struct Interactions {
    lines: Vec<Value>,
}

impl Interactions {
    fn push(&mut self, mut v: Value) -> &mut Self {
        v["id"] = json!((50_000 + self.lines.len()).to_string());
        v["guild_id"] = json!("1");
        self.lines.push(v);
        self
    }

    fn add(&mut self, post: &str, user: &str, emoji: &str, at: &str) -> &mut Self {
        self.push(
            json!({"kind": "reaction_add", "post_id": post, "author_id": user,
                         "emoji": emoji, "at": at}),
        )
    }

    fn remove(&mut self, post: &str, user: &str, emoji: &str, at: &str) -> &mut Self {
        self.push(
            json!({"kind": "reaction_remove", "post_id": post, "author_id": user,
                         "emoji": emoji, "at": at}),
        )
    }

    fn reply(&mut self, post: &str, user: &str, at: &str) -> &mut Self {
        self.push(json!({"kind": "reply", "post_id": post, "author_id": user, "at": at}))
    }
}

fn eng_window(from: &str, to: &str, now: &str) -> EngagementParams {
    EngagementParams {
        from_ms: t(from),
        to_ms: t(to),
        now_ms: t(now),
        ..Default::default()
    }
}

#[test]
fn reactions_and_replies_count_inside_the_engagement_window_only() {
    // Post 100 by u0 at 11-02 10:00: its window is [11-02 10:00, 11-09 10:00).
    let mut i = Interactions { lines: Vec::new() };
    i.add("100", "u1", "👍", "2026-11-02T11:00:00Z") // added and removed inside: no
        .remove("100", "u1", "👍", "2026-11-02T12:00:00Z")
        .add("100", "u2", "👍", "2026-11-02T11:00:00Z") // removed, re-added: counts once
        .remove("100", "u2", "👍", "2026-11-02T12:00:00Z")
        .add("100", "u2", "👍", "2026-11-02T13:00:00Z")
        .add("100", "u2", "❤", "2026-11-02T11:00:00Z") // another emoji of u2: counts
        .add("100", "u3", "👍", "2026-11-02T11:00:00Z") // added twice: counts once
        .add("100", "u3", "👍", "2026-11-02T11:30:00Z")
        .add("100", "u4", "❤", "2026-11-02T11:00:00Z") // removed at the window's end: counts
        .remove("100", "u4", "❤", "2026-11-09T10:00:00Z")
        .add("100", "u5", "❤", "2026-11-02T11:00:00Z") // removed 1 ms before: no
        .remove("100", "u5", "❤", "2026-11-09T09:59:59.999Z")
        .add("100", "u0", "👍", "2026-11-02T11:00:00Z") // the author's own: no
        .add("100", "u6", "👍", "2026-11-09T10:00:00Z") // at the window's end: no
        .add("100", "u7", "👍", "2026-11-02T12:00:00Z") // removed inside, re-added after: no
        .remove("100", "u7", "👍", "2026-11-03T12:00:00Z")
        .add("100", "u7", "👍", "2026-11-09T12:00:00Z")
        .add("999", "u8", "👍", "2026-11-02T11:00:00Z") // unknown post: nothing
        .reply("100", "u9", "2026-11-03T10:00:00Z") // two replies by u9: 2
        .reply("100", "u9", "2026-11-04T10:00:00Z")
        .reply("100", "u0", "2026-11-03T10:00:00Z") // the author's own: no
        .reply("100", "u10", "2026-11-09T10:00:00Z") // after the window: no
        .reply("100", "u11", "2026-11-09T09:59:59.999Z") // last ms of the window: counts
        .reply("999", "u12", "2026-11-03T10:00:00Z"); // unknown post: nothing
    let mut lines = i.lines.clone();
    lines.push(post("100", "2026-11-02T10:00:00Z", "u0", &[], 10));
    let p = eng_window(
        "2026-11-02T00:00:00Z",
        "2026-11-03T00:00:00Z",
        "2026-11-10T00:00:00Z",
    );
    // Reactions: u2 👍, u2 ❤, u3 👍, u4 ❤ = 4. Replies: u9 x2, u11 = 3. Engaged users: u2, u3,
    // u4, u9, u11 = 5. Rate 7 / 10.
    let top = json!({"id": "100", "channel_id": "c1", "at": "2026-11-02T10:00:00.000Z",
                     "themes": ["untagged"], "audience": 10, "reactions": 4, "replies": 3,
                     "engagements": 7, "engaged_users": 5, "engagement_rate": 0.7});
    let r = engagement_report(&lines, &p);
    assert_subset(
        &json!({
            "window": {"from": "2026-11-02T00:00:00.000Z", "to": "2026-11-03T00:00:00.000Z",
                       "now": "2026-11-10T00:00:00.000Z"},
            "posts": 1, "maturing": 0, "reactions": 4, "replies": 3, "engagements": 7,
            "engaged_users": 5, "unique_engaged_users": 5, "audience": 10,
            "engagement_rate": 0.7, "mean_post_engagement_rate": 0.7,
            "themes": [{"theme": "untagged", "posts": 1, "engagements": 7, "reactions": 4,
                        "replies": 3, "engaged_users": 5, "audience": 10,
                        "engagement_rate": 0.7}],
            "top_posts": [top],
            "previous": {"posts": 0, "engagements": 0, "engagement_rate": null,
                         "mean_post_engagement_rate": null, "themes": [], "top_posts": []},
        }),
        &r,
    );
    // The order of the file changes nothing.
    lines.reverse();
    assert_eq!(engagement_report(&lines, &p), r);
}

#[test]
fn a_post_matures_at_now_and_events_at_now_count() {
    // Post 1 at T, post 2 at T + 1 ms; now = T + 7 days: post 1's window is over (not
    // maturing), post 2's ends 1 ms later (maturing).
    let mut i = Interactions { lines: Vec::new() };
    i.add("2", "u1", "👍", "2026-11-09T10:00:00Z") // at now: counts
        .add("2", "u2", "👍", "2026-11-05T10:00:00Z") // removed at now (inside): un-counted
        .remove("2", "u2", "👍", "2026-11-09T10:00:00Z")
        .reply("2", "u3", "2026-11-09T10:00:00.001Z") // after now: ignored
        .reply("1", "u4", "2026-11-09T09:59:59.999Z"); // post 1's last ms: counts
    let mut lines = i.lines;
    lines.push(post("1", "2026-11-02T10:00:00.000Z", "u0", &["news"], 0));
    lines.push(post("2", "2026-11-02T10:00:00.001Z", "u0", &["news"], 4));
    let r = engagement_report(
        &lines,
        &eng_window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-09T10:00:00Z",
        ),
    );
    // Post 1: 1 reply, audience 0 (rate null). Post 2: 1 reaction, audience 4 (rate 0.25).
    // Window: 2 engagements / audience 4 = 0.5; mean over posts with an audience: 0.25.
    assert_subset(
        &json!({
            "posts": 2, "maturing": 1, "reactions": 1, "replies": 1, "engagements": 2,
            "engaged_users": 2, "unique_engaged_users": 2, "audience": 4,
            "engagement_rate": 0.5, "mean_post_engagement_rate": 0.25,
            "top_posts": [
                {"id": "1", "engagements": 1, "engagement_rate": null},
                {"id": "2", "engagements": 1, "engagement_rate": 0.25},
            ],
        }),
        &r,
    );
}

/// Window [11-02, 11-03): posts with themes; previous window [11-01, 11-02): q1, q2.
fn themed_history() -> Vec<Value> {
    let mut lines = vec![
        post("1", "2026-11-02T08:00:00Z", "u0", &["Zeta", "alpha"], 10),
        post("2", "2026-11-02T08:30:00Z", "u0", &["alpha", "alpha"], 20),
        post("10", "2026-11-02T09:00:00Z", "u0", &[], 30),
        post("9", "2026-11-02T09:00:00Z", "u0", &["émoi"], 0),
        post("5", "2026-11-02T11:00:00Z", "u0", &["beta"], 0),
        post("6", "2026-11-02T10:00:00Z", "u0", &["Alpha"], 5),
        post("20", "2026-11-01T12:00:00Z", "u0", &["alpha"], 8),
        post("21", "2026-11-01T13:00:00Z", "u0", &["beta"], 8),
    ];
    let mut i = Interactions { lines: Vec::new() };
    let at = "2026-11-02T12:00:00Z";
    i.reply("1", "uA", at).reply("1", "uB", at); // post 1: 2
    i.reply("2", "uA", at); // post 2: 1
    i.reply("10", "uC", at)
        .reply("10", "uC", at)
        .reply("10", "uC", at); // post 10: 3
    i.reply("9", "uA", at)
        .reply("9", "uB", at)
        .reply("9", "uD", at); // post 9: 3
    i.add("20", "uE", "👍", at); // q1 (post 20): 1
    lines.extend(i.lines);
    lines
}

#[test]
fn themes_sort_by_engagements_then_code_point_and_top_posts_break_ties() {
    let p = eng_window(
        "2026-11-02T00:00:00Z",
        "2026-11-03T00:00:00Z",
        "2026-11-20T00:00:00Z",
    );
    let r = engagement_report(&themed_history(), &p);
    // Theme engagements: alpha 2 + 1 = 3, untagged 3, émoi 3, Zeta 2, beta 0, Alpha 0.
    // Ties by code point: "alpha" (U+61) < "untagged" (U+75) < "émoi" (U+E9); "Alpha" (U+41)
    // < "beta". alpha: posts 1 and 2, audience 30, rate 3/30, mean of 2/10 and 1/20 = 0.125,
    // users uA, uB (engaged_users 2 + 1 = 3, unique 2). émoi: audience 0: rates null.
    assert_subset(
        &json!({"themes": [
            {"theme": "alpha", "posts": 2, "engagements": 3, "audience": 30,
             "engagement_rate": 0.1, "mean_post_engagement_rate": 0.125,
             "engaged_users": 3, "unique_engaged_users": 2},
            {"theme": "untagged", "posts": 1, "engagements": 3, "engaged_users": 1},
            {"theme": "émoi", "posts": 1, "engagements": 3, "engagement_rate": null,
             "mean_post_engagement_rate": null},
            {"theme": "Zeta", "posts": 1, "engagements": 2},
            {"theme": "Alpha", "posts": 1, "engagements": 0, "engagement_rate": 0.0},
            {"theme": "beta", "posts": 1, "engagements": 0},
        ]}),
        &r,
    );
    // Window: 6 posts, engagements 9, audience 65; rates of posts with an audience: 0.2, 0.05,
    // 0.1, 0 -> mean 0.0875. Engaged users 2 + 1 + 1 + 3 = 7, unique uA uB uC uD = 4.
    // Top posts: 3 engagements: posts 9 and 10 at the same time, id 9 < 10 as numbers; then
    // post 1 (2), post 2 (1); of the two with 0, post 6 (10:00) before post 5 (11:00).
    assert_subset(
        &json!({
            "posts": 6, "engagements": 9, "audience": 65, "engagement_rate": 9.0 / 65.0,
            "mean_post_engagement_rate": 0.0875, "engaged_users": 7,
            "unique_engaged_users": 4,
            "top_posts": [
                {"id": "9", "themes": ["émoi"], "engagements": 3},
                {"id": "10", "themes": ["untagged"], "engagements": 3},
                {"id": "1", "themes": ["Zeta", "alpha"], "engagements": 2},
                {"id": "2", "themes": ["alpha"], "engagements": 1},
                {"id": "6", "engagements": 0},
            ],
            "previous": {"posts": 2, "engagements": 1, "audience": 16,
                         "themes": [{"theme": "alpha", "engagements": 1},
                                    {"theme": "beta", "engagements": 0}],
                         "top_posts": [{"id": "20"}, {"id": "21"}]},
        }),
        &r,
    );
}

#[test]
fn the_theme_and_guild_filters_apply_to_both_windows() {
    let mut lines = themed_history();
    let mut other_guild = post("30", "2026-11-02T09:30:00Z", "u0", &["alpha"], 100);
    other_guild["guild_id"] = json!("2");
    lines.push(other_guild);
    let p = EngagementParams {
        theme: Some("alpha".into()),
        guild_id: Some("1".into()),
        ..eng_window(
            "2026-11-02T00:00:00Z",
            "2026-11-03T00:00:00Z",
            "2026-11-20T00:00:00Z",
        )
    };
    // Kept: posts 1 and 2 (not "Alpha"'s post 6, not guild 2's post 30); their themes alpha (3)
    // and Zeta (2, over post 1 only). Previous: post 20 only.
    assert_subset(
        &json!({
            "posts": 2, "engagements": 3, "audience": 30,
            "themes": [{"theme": "alpha", "posts": 2}, {"theme": "Zeta", "posts": 1}],
            "top_posts": [{"id": "1"}, {"id": "2"}],
            "previous": {"posts": 1, "engagements": 1, "themes": [{"theme": "alpha"}],
                         "top_posts": [{"id": "20", "reactions": 1}]},
        }),
        &engagement_report(&lines, &p),
    );
    // Without the guild filter, guild 2's post 30 joins (audience 100, no engagement).
    let p = EngagementParams {
        guild_id: None,
        ..p
    };
    assert_subset(
        &json!({"posts": 3, "audience": 130}),
        &engagement_report(&lines, &p),
    );
}
