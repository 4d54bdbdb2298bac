//! KPI.md's service levels, resolution, auto-close and heatmap, one rule a test, with the
//! expectations worked out by hand in the comments (2026-11-02 is a Monday).

use super::kpi::{self, Report, Rules, Scope, Window};
use super::rules_tests::{t, History, AGENT, AGENT2, CUSTOMER, FROM, G, TO};
use super::sla::{Attainment, ServiceFigures, ServiceLevels};
use super::timeline::{Closer, End, Timeline};
use super::*;

fn rules(changes: &[(&str, &str)]) -> GuildRules {
    GuildRules::default()
        .with_sla_settings(changes)
        .expect("valid test settings")
}

fn report(h: &History, r: &GuildRules, now: &str, scope: &Scope) -> Report {
    let lookup = |_: &str| r;
    let w = Window {
        from: t(FROM),
        to: t(TO),
        now: t(now),
    };
    let tl = Timeline::build(&h.events, Some(w.now), &lookup);
    kpi::report(
        &tl,
        &Rules {
            lookup: &lookup,
            report: r,
        },
        scope,
        w,
    )
}

fn levels(h: &History, r: &GuildRules, now: &str) -> ServiceLevels {
    report(h, r, now, &Scope::default())
        .service_levels
        .expect("a replayed report has service levels")
}

fn current(h: &History, r: &GuildRules, now: &str) -> ServiceFigures {
    levels(h, r, now).current
}

/// (met, missed, in progress)
fn counts(a: &Attainment) -> (u64, u64, u64) {
    (a.met, a.missed, a.in_progress)
}

#[test]
fn a_first_response_exactly_at_the_target_is_met_and_an_unanswered_one_is_in_progress() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:15:00Z"); // 15 min: met
    h.customer("b", "2026-11-02T09:00:00Z"); // unanswered, 15 min at now: in progress
    h.customer("c", "2026-11-02T08:59:59.999Z"); // unanswered, 15 min 1 ms at now: missed
    let f = current(&h, &r, "2026-11-02T09:15:00Z");
    assert_eq!(counts(&f.first_response), (1, 1, 1));
    assert_eq!(f.first_response.target_ms, Some(15 * MINUTE));
    assert_eq!(f.first_response.attainment().map(|a| a.value()), Some(0.5));
    // No next request, so nothing to count and no attainment.
    assert_eq!(counts(&f.next_response), (0, 0, 0));
    assert_eq!(f.next_response.attainment(), None);
}

#[test]
fn an_answer_one_millisecond_past_the_target_misses_it() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:15:00.001Z");
    let f = current(&h, &r, TO);
    assert_eq!(counts(&f.first_response), (0, 1, 0));
    assert_eq!(f.first_response.attainment().map(|a| a.value()), Some(0.0));
}

#[test]
fn later_requests_are_measured_against_the_next_response_target() {
    let r = rules(&[("first_response", "10m"), ("next_response", "20m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:05:00Z"); // first: 5 min of 10: met
    h.customer("a", "2026-11-02T10:00:00Z");
    h.agent("a", "2026-11-02T10:30:00Z"); // next: 30 min of 20: missed
    h.customer("a", "2026-11-02T11:00:00Z");
    h.agent("a", "2026-11-02T11:20:00Z"); // next: 20 min of 20: met
    let s = levels(&h, &r, TO);
    assert_eq!(counts(&s.current.first_response), (1, 0, 0));
    assert_eq!(counts(&s.current.next_response), (1, 1, 0));
    // All three answers are the agent's.
    let a = s.agents[AGENT];
    assert_eq!(counts(&a.first_response), (1, 0, 0));
    assert_eq!(counts(&a.next_response), (1, 1, 0));
}

#[test]
fn an_answer_after_the_deadline_still_meets_or_misses_and_is_credited_to_its_agent() {
    // A one-hour deadline and a two-hour target: an answer at 1 h 30 is unanswered for the
    // response rate but meets the target; one at 3 h misses it. Both are AGENT2's.
    let mut r = rules(&[("first_response", "2h")]);
    r.deadline_ms = HOUR;
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.push("a", AGENT2, "2026-11-02T10:30:00Z", EventKind::AgentMessage);
    h.customer("b", "2026-11-02T09:00:00Z");
    h.push("b", AGENT2, "2026-11-02T12:00:00Z", EventKind::AgentMessage);
    let rep = report(&h, &r, TO, &Scope::default());
    assert_eq!((rep.current.answered, rep.current.unanswered), (0, 2));
    let s = rep.service_levels.as_ref().unwrap();
    assert_eq!(counts(&s.current.first_response), (1, 1, 0));
    assert_eq!(counts(&s.agents[AGENT2].first_response), (1, 1, 0));
    // Listed among the agents although it answered nothing within the deadline.
    assert_eq!(rep.agents.len(), 1);
    assert_eq!(
        (rep.agents[0].agent_id.as_str(), rep.agents[0].answered),
        (AGENT2, 0)
    );

    // Without a target the same late answers credit nothing and list nobody.
    let rep = report(
        &h,
        &GuildRules {
            deadline_ms: HOUR,
            ..GuildRules::default()
        },
        TO,
        &Scope::default(),
    );
    assert!(rep.agents.is_empty());
}

#[test]
fn a_request_missed_without_an_answer_is_credited_to_no_agent() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let s = levels(&h, &r, TO);
    assert_eq!(counts(&s.current.first_response), (0, 1, 0));
    assert!(s.agents.is_empty());
}

#[test]
fn an_unanswered_request_keeps_its_clock_running_after_a_close_or_a_lapse() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.push("a", AGENT, "2026-11-02T09:05:00Z", EventKind::Close);
    // At 09:15 the closed conversation's request is at exactly 15 min: in progress; 1 ms
    // later it is missed though nobody can answer it any more.
    let f = current(&h, &r, "2026-11-02T09:15:00Z");
    assert_eq!(counts(&f.first_response), (0, 0, 1));
    let f = current(&h, &r, "2026-11-02T09:15:00.001Z");
    assert_eq!(counts(&f.first_response), (0, 1, 0));
}

#[test]
fn the_business_clock_skips_the_weekend() {
    // Weekdays 09:00-18:00 UTC, a two-hour target. From Friday 17:00: one business hour on
    // Friday, the second ends Monday 10:00.
    let mut r = rules(&[("first_response", "2h"), ("sla_clock", "business")]);
    r.business_hours = "mon-fri 09:00-18:00".parse().unwrap();
    // A week of idle, so that Monday's answers still answer Friday's requests.
    r.idle_ms = 7 * DAY;
    let mut h = History::default();
    h.customer("a", "2026-11-06T17:00:00Z");
    h.agent("a", "2026-11-09T10:00:00Z"); // 2 h of business time (65 h of calendar): met
    h.customer("b", "2026-11-06T17:00:00Z");
    h.agent("b", "2026-11-09T10:00:00.001Z"); // 2 h + 1 ms: missed
    h.customer("c", "2026-11-06T17:00:00Z"); // unanswered
    let f = current(&h, &r, "2026-11-09T10:00:00Z");
    // b's answer is after now: b and c stand at exactly 2 h, in progress.
    assert_eq!(counts(&f.first_response), (1, 0, 2));
    let f = current(&h, &r, "2026-11-09T10:00:00.001Z");
    assert_eq!(counts(&f.first_response), (1, 2, 0));
    // On the calendar clock all three missed long ago.
    let calendar = GuildRules {
        sla: SlaRules {
            clock: SlaClock::Calendar,
            ..r.sla.clone()
        },
        ..r.clone()
    };
    let f = current(&h, &calendar, "2026-11-09T10:00:00.001Z");
    assert_eq!(counts(&f.first_response), (0, 3, 0));
}

#[test]
fn the_business_clock_follows_the_local_hours_across_the_autumn_change() {
    // Paris, weekdays 09:00-18:00 local. Friday 2026-10-23 15:00 UTC is 17:00 summer time;
    // Monday 10-26 09:00 UTC is 10:00 winter time: one hour on each side, 2 h in all.
    let mut r = rules(&[("first_response", "2h"), ("sla_clock", "business")]);
    r.business_hours = "mon-fri 09:00-18:00".parse().unwrap();
    r.timezone = "Europe/Paris".parse().unwrap();
    r.idle_ms = 7 * DAY;
    let mut h = History::default();
    h.customer("a", "2026-10-23T15:00:00Z");
    h.agent("a", "2026-10-26T09:00:00Z");
    h.customer("b", "2026-10-23T15:00:00Z");
    h.agent("b", "2026-10-26T09:00:00.001Z");
    let from = "2026-10-20T00:00:00Z";
    let lookup = |_: &str| &r;
    let w = Window {
        from: t(from),
        to: t(TO),
        now: t(TO),
    };
    let tl = Timeline::build(&h.events, Some(w.now), &lookup);
    let rules = Rules {
        lookup: &lookup,
        report: &r,
    };
    let f = super::sla::figures(&tl, &rules, &Scope::default(), w);
    assert_eq!(counts(&f.first_response), (1, 1, 0));
}

#[test]
fn a_business_hour_in_the_spring_gap_starts_when_the_gap_ends() {
    // Paris springs from 02:00 to 03:00 on Sunday 2026-03-29. Hours "sun 02:30-04:00": 02:30
    // does not exist, so they open at 03:00 local (01:00 UTC) and close at 04:00 local
    // (02:00 UTC): one business hour. A request from 00:30 to 02:30 UTC lasts exactly that.
    let mut r = rules(&[("first_response", "1h"), ("sla_clock", "business")]);
    r.business_hours = "sun 02:30-04:00".parse().unwrap();
    r.timezone = "Europe/Paris".parse().unwrap();
    assert_eq!(
        super::sla::sla_ms(&r, t("2026-03-29T00:30:00Z"), t("2026-03-29T02:30:00Z")),
        HOUR
    );
    // In autumn (2026-10-25, 03:00 back to 02:00) 02:30 happens twice: the earlier one counts,
    // 00:30 UTC, so the hours run to 04:00 winter time (03:00 UTC): 2 h 30 min.
    assert_eq!(
        super::sla::sla_ms(&r, t("2026-10-25T00:00:00Z"), t("2026-10-25T04:00:00Z")),
        2 * HOUR + 30 * MINUTE
    );
}

#[test]
fn conversations_are_resolved_lapsed_or_open_and_measured_against_the_resolution_target() {
    let r = rules(&[("resolution", "1h")]);
    let mut h = History::default();
    let close = |h: &mut History, place: &str, at: &str| {
        h.push(place, AGENT, at, EventKind::Close);
    };
    h.customer("a", "2026-11-03T09:00:00Z");
    h.agent("a", "2026-11-03T09:10:00Z");
    close(&mut h, "a", "2026-11-03T09:40:00Z"); // resolved in 40 min: met
    h.customer("b", "2026-11-03T09:00:00Z");
    close(&mut h, "b", "2026-11-03T10:00:00.001Z"); // 60 min 1 ms: missed
    h.customer("c", "2026-11-03T09:00:00Z");
    close(&mut h, "c", "2026-11-03T10:00:00Z"); // exactly 60 min: met
    h.customer("d", "2026-11-02T09:00:00Z"); // silent since: lapsed 11-03 09:00, missed
    h.customer("e", "2026-11-04T11:30:00Z"); // open 30 min at now: in progress
    h.customer("f", "2026-11-04T10:00:00Z");
    h.agent("f", "2026-11-04T10:01:00Z"); // open 2 h at now: missed
    let f = current(&h, &r, "2026-11-04T12:00:00Z");
    assert_eq!((f.resolved, f.lapsed, f.open), (3, 1, 2));
    assert_eq!(counts(&f.resolution), (2, 3, 1));
    // 40 min, 60 min and 60 min 1 ms: mean 3,200,000.33, median (rank 2) 60 min, p90 (rank 3).
    assert_eq!(f.resolution_time.count, 3);
    assert_eq!(f.resolution_time.sum, 9_600_001);
    assert_eq!(f.resolution_time.median, Some(3_600_000));
    assert_eq!(f.resolution_time.p90, Some(3_600_001));
}

#[test]
fn resolution_time_is_on_the_sla_clock_even_without_a_resolution_target() {
    let mut r = rules(&[("sla_clock", "business")]);
    r.business_hours = "mon-fri 09:00-18:00".parse().unwrap();
    r.idle_ms = 7 * DAY;
    let mut h = History::default();
    h.customer("a", "2026-11-06T17:30:00Z"); // Friday
    h.push("a", AGENT, "2026-11-09T09:15:00Z", EventKind::Close); // Monday: 30 + 15 min
    let f = current(&h, &r, TO);
    assert_eq!(f.resolved, 1);
    assert_eq!(f.resolution_time.median, Some(45 * MINUTE));
    assert_eq!(f.resolution.target_ms, None);
    assert_eq!(counts(&f.resolution), (0, 0, 0));
}

#[test]
fn an_open_conversation_exactly_at_the_resolution_target_is_in_progress() {
    let r = rules(&[("resolution", "1h")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    assert_eq!(
        counts(&current(&h, &r, "2026-11-02T10:00:00Z").resolution),
        (0, 0, 1)
    );
    assert_eq!(
        counts(&current(&h, &r, "2026-11-02T10:00:00.001Z").resolution),
        (0, 1, 0)
    );
}

#[test]
fn a_close_after_the_conversation_lapsed_resolves_nothing() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.push("a", CUSTOMER, "2026-11-03T09:00:00Z", EventKind::Close); // exactly idle later
    h.customer("b", "2026-11-02T09:00:00Z");
    h.push("b", CUSTOMER, "2026-11-03T08:59:59.999Z", EventKind::Close); // 1 ms before
    let f = current(&h, &GuildRules::default(), TO);
    assert_eq!((f.resolved, f.lapsed, f.open), (1, 1, 0));
    assert_eq!(f.resolution_time.median, Some(DAY - 1));
}

/// A conversation whose agent answered at 09:05 and the rules' one-hour auto-close.
fn answered_at_five_past() -> (History, GuildRules) {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:05:00Z");
    (h, rules(&[("auto_close", "1h"), ("resolution", "2h")]))
}

#[test]
fn auto_close_closes_an_hour_after_the_last_agent_message() {
    let (mut h, r) = answered_at_five_past();
    let f = current(&h, &r, "2026-11-02T10:04:59.999Z");
    assert_eq!((f.resolved, f.open), (0, 1));
    let f = current(&h, &r, "2026-11-02T10:05:00Z");
    assert_eq!((f.resolved, f.open), (1, 0));
    assert_eq!(f.resolution_time.median, Some(65 * MINUTE));
    assert_eq!(counts(&f.resolution), (1, 0, 0));
    // The bot closed it; the customer's next message opens a new conversation, whose first
    // request gets a first response.
    let tl = Timeline::build(&h.events, Some(t(TO)), &|_: &str| &r);
    assert_eq!(
        tl.conversations[0].end(t(TO)),
        End::Closed(super::timeline::Close {
            at: t("2026-11-02T10:05:00Z"),
            by: Closer::AutoClose
        })
    );
    h.customer("a", "2026-11-02T10:05:00.001Z");
    h.agent("a", "2026-11-02T10:06:00.001Z");
    let rep = report(&h, &r, TO, &Scope::default());
    assert_eq!((rep.current.conversations, rep.current.requests), (2, 2));
    assert_eq!(rep.current.first_response.count, 2);
}

#[test]
fn a_customer_message_at_or_one_millisecond_before_the_auto_close_cancels_it() {
    for at in ["2026-11-02T10:05:00Z", "2026-11-02T10:04:59.999Z"] {
        let (mut h, r) = answered_at_five_past();
        h.customer("a", at);
        let rep = report(&h, &r, TO, &Scope::default());
        // One conversation, now waiting on its second request; silent until it lapses.
        assert_eq!(
            (rep.current.conversations, rep.current.requests),
            (1, 2),
            "{at}"
        );
        let f = rep.service_levels.unwrap().current;
        assert_eq!((f.resolved, f.lapsed), (0, 1), "{at}");
    }
}

#[test]
fn an_agent_message_before_the_auto_close_starts_its_hour_again() {
    let (mut h, r) = answered_at_five_past();
    h.agent("a", "2026-11-02T10:05:00Z"); // at the very instant
    let f = current(&h, &r, "2026-11-02T11:04:59.999Z");
    assert_eq!(f.open, 1);
    let f = current(&h, &r, "2026-11-02T11:05:00Z");
    assert_eq!(f.resolved, 1);
    assert_eq!(f.resolution_time.median, Some(2 * HOUR + 5 * MINUTE));
}

#[test]
fn the_bots_recorded_close_gives_the_figures_of_the_derived_one() {
    let r = rules(&[("auto_close", "1h"), ("resolution", "2h")]);
    let mut with = History::default();
    let mut without = History::default();
    for h in [&mut with, &mut without] {
        h.customer("a", "2026-11-02T09:00:00Z");
        h.agent("a", "2026-11-02T09:05:00Z");
    }
    // The bot's own close, imported, at exactly the auto-close instant.
    with.push("a", "bot", "2026-11-02T10:05:00Z", EventKind::Close);
    for h in [&mut with, &mut without] {
        h.customer("a", "2026-11-02T10:30:00Z");
        h.agent("a", "2026-11-02T10:31:00Z");
    }
    let a = report(&with, &r, TO, &Scope::default());
    let b = report(&without, &r, TO, &Scope::default());
    assert_eq!(a.current, b.current);
    assert_eq!(a.service_levels, b.service_levels);
    let f = a.service_levels.unwrap().current;
    // Two conversations, closed at 10:05 and (by the rules) at 11:31.
    assert_eq!((f.resolved, f.open, a.current.conversations), (2, 0, 2));
}

#[test]
fn a_close_at_the_auto_close_instant_is_that_auto_close_and_a_customer_message_then_cancels_it() {
    // The close event at 10:05 sorts before the customer's message of the same millisecond,
    // but it is taken as the auto-close (nothing says who sent it), which the customer's
    // message at the instant cancels: one conversation, waiting on its second request.
    for closer in ["bot", AGENT] {
        let (mut h, r) = answered_at_five_past();
        h.push("a", closer, "2026-11-02T10:05:00Z", EventKind::Close);
        h.customer("a", "2026-11-02T10:05:00Z");
        let rep = report(&h, &r, TO, &Scope::default());
        assert_eq!(
            (rep.current.conversations, rep.current.requests),
            (1, 2),
            "{closer}"
        );
        let f = rep.service_levels.unwrap().current;
        assert_eq!((f.resolved, f.lapsed), (0, 1), "{closer}");
    }
}

#[test]
fn auto_close_waits_for_an_agent_message_to_be_the_last_one() {
    let r = rules(&[("auto_close", "1h")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let f = current(&h, &r, TO);
    assert_eq!((f.resolved, f.lapsed), (0, 1));
}

#[test]
fn a_target_that_is_off_counts_nothing() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let f = current(&h, &GuildRules::default(), TO);
    for a in [&f.first_response, &f.next_response, &f.resolution] {
        assert_eq!(*a, Attainment::default());
        assert_eq!(a.attainment(), None);
    }
    assert_eq!((f.resolved, f.lapsed, f.open), (0, 1, 0));
}

#[test]
fn over_several_guilds_each_keeps_its_target_and_the_common_one_is_shown_only_if_shared() {
    let fifteen = rules(&[("first_response", "15m")]);
    let hour = rules(&[("first_response", "1h")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:30:00Z"); // guild 1, 15 min target: missed
    h.customer("b", "2026-11-02T09:00:00Z");
    h.agent("b", "2026-11-02T09:30:00Z");
    for e in h.events.iter_mut().filter(|e| e.place == "b") {
        e.guild_id = "2".into(); // guild 2, one-hour target: met
    }
    let lookup = |g: &str| if g == G { &fifteen } else { &hour };
    let scoped = |guild: Option<&str>| {
        let w = Window {
            from: t(FROM),
            to: t(TO),
            now: t(TO),
        };
        let tl = Timeline::build(&h.events, Some(w.now), &lookup);
        let rules = Rules {
            lookup: &lookup,
            report: &fifteen,
        };
        let scope = Scope {
            guild_id: guild.map(str::to_string),
            ..Scope::default()
        };
        super::sla::figures(&tl, &rules, &scope, w).first_response
    };
    let both = scoped(None);
    assert_eq!((both.target_ms, counts(&both)), (None, (1, 1, 0)));
    let second = scoped(Some("2"));
    assert_eq!((second.target_ms, counts(&second)), (Some(HOUR), (1, 0, 0)));
}

#[test]
fn an_agent_scope_keeps_only_that_agents_met_and_missed_answers() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:10:00Z");
    h.customer("b", "2026-11-02T09:00:00Z");
    h.push("b", AGENT2, "2026-11-02T09:20:00Z", EventKind::AgentMessage);
    h.customer("c", "2026-11-02T09:00:00Z"); // unanswered: no agent's
    let scope = Scope {
        agent_id: Some(AGENT2.into()),
        ..Scope::default()
    };
    let s = report(&h, &r, TO, &scope).service_levels.unwrap();
    assert_eq!(counts(&s.current.first_response), (0, 1, 0));
    assert_eq!(s.agents.keys().collect::<Vec<_>>(), [AGENT2]);
}

#[test]
fn the_previous_window_has_its_own_service_levels() {
    let r = rules(&[("first_response", "15m")]);
    let mut h = History::default();
    h.customer("a", "2026-10-25T09:00:00Z"); // in the previous window [10-23, 11-01)
    h.agent("a", "2026-10-25T09:05:00Z");
    h.customer("b", "2026-11-02T09:00:00Z");
    h.agent("b", "2026-11-02T09:30:00Z");
    let s = levels(&h, &r, TO);
    assert_eq!(counts(&s.previous.first_response), (1, 0, 0));
    assert_eq!(counts(&s.current.first_response), (0, 1, 0));
}

#[test]
fn the_heatmap_counts_requests_by_local_weekday_and_hour() {
    // New York is at UTC-5 after 2026-11-01. Monday 14:30 UTC is Monday 09:30 there; Tuesday
    // 04:00 UTC is Monday 23:00; Sunday 11-08 05:30 UTC is Sunday 00:30.
    let r = GuildRules {
        timezone: "America/New_York".parse().unwrap(),
        deadline_ms: HOUR,
        ..GuildRules::default()
    };
    let mut h = History::default();
    h.customer("a", "2026-11-02T14:30:00Z");
    h.agent("a", "2026-11-02T14:33:00Z"); // 3 min
    h.customer("b", "2026-11-03T14:10:00Z"); // Tuesday 09:10
    h.agent("b", "2026-11-03T14:11:00Z"); // 1 min
    h.customer("c", "2026-11-04T14:00:00Z"); // Wednesday 09:00
    h.agent("c", "2026-11-04T15:00:00.001Z"); // past the one-hour deadline: no delay
    h.customer("d", "2026-11-03T04:00:00Z");
    h.customer("e", "2026-11-08T05:30:00Z");
    let scope = Scope {
        guild_id: Some(G.into()),
        ..Scope::default()
    };
    let map = report(&h, &r, TO, &scope).service_levels.unwrap().heatmap;
    assert_eq!(map.requests[0][9], 1);
    assert_eq!(map.requests[1][9], 1);
    assert_eq!(map.requests[2][9], 1);
    assert_eq!(map.requests[0][23], 1);
    assert_eq!(map.requests[6][0], 1);
    assert_eq!(map.requests.iter().flatten().sum::<u64>(), 5);
    // Hour 9: delays 3 min and 1 min; the nearest-rank median of two is the lower.
    assert_eq!(map.median_delay_ms_by_hour[9], Some(MINUTE));
    assert_eq!(map.median_delay_ms_by_hour[23], None);
    // Without a guild in scope but with one guild's events, the report is that guild's.
    let map = report(&h, &r, TO, &Scope::default())
        .service_levels
        .unwrap()
        .heatmap;
    assert_eq!(map.requests[0][9], 1);
    assert_eq!(map.timezone.name(), "America/New_York");
    // Over several guilds (another guild's one note is enough) it is in UTC: Monday 14:30 is
    // hour 14.
    h.events.push(Event {
        id: "99".into(),
        guild_id: "another".into(),
        place: "z".into(),
        author_id: AGENT.into(),
        at: t("2026-11-02T10:00:00Z"),
        kind: EventKind::Note,
    });
    let map = report(&h, &r, TO, &Scope::default())
        .service_levels
        .unwrap()
        .heatmap;
    assert_eq!((map.requests[0][14], map.requests[0][9]), (1, 0));
    assert_eq!(map.timezone, chrono_tz::Tz::UTC);
}

#[test]
fn opened_conversations_are_resolved_lapsed_or_open_and_nothing_else() {
    let r = rules(&[("auto_close", "30m")]);
    let mut h = History::default();
    for (i, minutes) in [0, 7, 45, 90, 200].iter().enumerate() {
        let place = format!("p{i}");
        h.customer(&place, "2026-11-04T09:00:00Z");
        h.agent(
            &place,
            &format!("2026-11-04T{:02}:{:02}:00Z", 9 + minutes / 60, minutes % 60),
        );
    }
    h.customer("q", "2026-11-04T12:00:00Z");
    let rep = report(&h, &r, "2026-11-04T12:30:00Z", &Scope::default());
    let f = rep.service_levels.unwrap().current;
    // Auto-closes at 09:30, 09:37, 10:15, 11:00; the last agent message (12:20) not yet;
    // q is waiting.
    assert_eq!((f.resolved, f.lapsed, f.open), (4, 0, 2));
    assert_eq!(f.resolved + f.lapsed + f.open, rep.current.conversations);
}
