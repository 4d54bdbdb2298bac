//! KPI.md's rules, one test each, with expectations worked out by hand in the comments.

use super::kpi::{self, Figures, Rules, Scope, Window};
use super::timeline::Timeline;
use super::*;

pub(super) const G: &str = "1";
pub(super) const CUSTOMER: &str = "500";
const OTHER: &str = "501";
pub(super) const AGENT: &str = "900";
pub(super) const AGENT2: &str = "901";

/// A history written in order; ids follow the order of writing.
#[derive(Default)]
pub(super) struct History {
    pub(super) events: Vec<Event>,
}

pub(super) fn t(s: &str) -> Millis {
    parse_time(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

impl History {
    pub(super) fn push(&mut self, place: &str, author: &str, at: &str, kind: EventKind) -> String {
        let id = format!("{}", 1000 + self.events.len());
        self.events.push(Event {
            id: id.clone(),
            guild_id: G.into(),
            place: place.into(),
            author_id: author.into(),
            at: t(at),
            kind,
        });
        id
    }
    pub(super) fn customer(&mut self, place: &str, at: &str) -> String {
        self.push(place, CUSTOMER, at, EventKind::CustomerMessage)
    }
    pub(super) fn agent(&mut self, place: &str, at: &str) -> String {
        self.push(place, AGENT, at, EventKind::AgentMessage)
    }
    fn survey(&mut self, place: &str, at: &str, survey: &str, answer: &str) {
        self.push(
            place,
            "bot",
            at,
            EventKind::SurveySent {
                survey_id: survey.into(),
                answer_message_id: answer.into(),
            },
        );
    }
    fn click(&mut self, place: &str, who: &str, at: &str, survey: &str, rating: i64) {
        self.push(
            place,
            who,
            at,
            EventKind::Rating {
                survey_id: survey.into(),
                rating: Rating::parse(rating).unwrap(),
            },
        );
    }

    fn figures(&self, from: &str, to: &str, now: &str) -> Figures {
        self.figures_with(&GuildRules::default(), from, to, now, &Scope::default())
    }

    fn figures_with(
        &self,
        r: &GuildRules,
        from: &str,
        to: &str,
        now: &str,
        scope: &Scope,
    ) -> Figures {
        let lookup = |_: &str| r;
        let w = Window {
            from: t(from),
            to: t(to),
            now: t(now),
        };
        let tl = Timeline::build(&self.events, Some(w.now), &lookup);
        kpi::figures(
            &tl,
            &Rules {
                lookup: &lookup,
                report: r,
            },
            scope,
            w,
        )
    }

    fn report(&self, from: &str, to: &str, now: &str) -> kpi::Report {
        let r = GuildRules::default();
        let lookup = |_: &str| &r;
        let w = Window {
            from: t(from),
            to: t(to),
            now: t(now),
        };
        let tl = Timeline::build(&self.events, Some(w.now), &lookup);
        kpi::report(
            &tl,
            &Rules {
                lookup: &lookup,
                report: &r,
            },
            &Scope::default(),
            w,
        )
    }
}

pub(super) const FROM: &str = "2026-11-01T00:00:00Z";
pub(super) const TO: &str = "2026-11-10T00:00:00Z";

#[test]
fn follow_ups_before_an_answer_belong_to_the_same_request() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.customer("a", "2026-11-02T09:01:00Z");
    h.customer("a", "2026-11-02T09:02:00Z");
    h.agent("a", "2026-11-02T09:05:00Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.messages_received, f.requests, f.answered), (3, 1, 1));
    // The delay runs from the first message of the request: 5 minutes.
    assert_eq!(f.response_delay.median, Some(300_000));
    assert_eq!(f.first_response.median, Some(300_000));
}

#[test]
fn first_response_time_ignores_later_requests_of_the_conversation() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:01:00Z");
    h.customer("a", "2026-11-02T10:00:00Z");
    h.agent("a", "2026-11-02T10:10:00Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.requests, f.answered, f.conversations), (2, 2, 1));
    assert_eq!(f.first_response.count, 1);
    assert_eq!(f.first_response.mean, Some(60_000.0));
    assert_eq!(f.response_delay.mean, Some(330_000.0));
}

#[test]
fn an_agent_writing_first_answers_nothing() {
    let mut h = History::default();
    h.agent("a", "2026-11-02T09:00:00Z");
    h.customer("a", "2026-11-02T09:10:00Z");
    h.agent("a", "2026-11-02T09:12:00Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.conversations, f.requests, f.answered), (1, 1, 1));
    assert_eq!(f.response_delay.mean, Some(120_000.0));
}

#[test]
fn a_message_exactly_idle_after_the_last_one_opens_a_new_conversation() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.customer("a", "2026-11-03T09:00:00Z"); // exactly 24 h: a new conversation and request
    h.agent("a", "2026-11-03T09:00:01Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!(
        (f.conversations, f.requests, f.answered, f.unanswered),
        (2, 2, 1, 1)
    );
    assert_eq!(f.response_delay.mean, Some(1_000.0));

    // One millisecond less and it is the same conversation: the answer then comes 24 h + 1 s
    // after the request's start, past the deadline.
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.customer("a", "2026-11-03T08:59:59.999Z");
    h.agent("a", "2026-11-03T09:00:01Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!(
        (f.conversations, f.requests, f.answered, f.unanswered),
        (1, 1, 0, 1)
    );
}

#[test]
fn an_agent_message_idle_after_the_last_message_answers_nothing() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T11:30:00Z");
    h.push("a", AGENT, "2026-11-02T12:00:00Z", EventKind::Note);
    h.agent("a", "2026-11-03T11:30:00Z");
    let f = h.figures(FROM, TO, TO);
    // The note does not reset the idle clock: 24 h of silence ended the conversation.
    assert_eq!((f.requests, f.answered, f.unanswered), (1, 0, 1));
}

#[test]
fn after_a_close_a_new_message_opens_a_new_conversation() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.push("a", AGENT, "2026-11-02T09:01:00Z", EventKind::Close);
    h.agent("a", "2026-11-02T09:02:00Z"); // after the close: answers nothing
    h.customer("a", "2026-11-02T09:03:00Z");
    h.agent("a", "2026-11-02T09:04:00Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!(
        (f.conversations, f.requests, f.answered, f.unanswered),
        (2, 2, 1, 1)
    );
    assert_eq!(f.first_response.mean, Some(60_000.0));
}

#[test]
fn an_answer_exactly_at_the_deadline_counts_and_one_just_after_does_not() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T12:00:00Z");
    h.customer("a", "2026-11-02T13:00:00Z");
    h.agent("a", "2026-11-03T12:00:00Z");
    h.customer("b", "2026-11-02T12:00:00Z");
    h.customer("b", "2026-11-02T13:00:00Z");
    h.agent("b", "2026-11-03T12:00:00.001Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!(
        (f.requests, f.answered, f.unanswered, f.pending),
        (2, 1, 1, 0)
    );
    assert_eq!(f.response_delay.mean, Some(86_400_000.0));
}

#[test]
fn a_request_is_pending_until_its_deadline_passes_at_now() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T12:00:00Z");
    let f = h.figures(FROM, TO, "2026-11-03T11:59:59.999Z");
    assert_eq!((f.answered, f.unanswered, f.pending), (0, 0, 1));
    assert_eq!(f.response_rate(), None);
    let f = h.figures(FROM, TO, "2026-11-03T12:00:00Z");
    assert_eq!((f.answered, f.unanswered, f.pending), (0, 1, 0));
    assert_eq!(f.response_rate().map(kpi::Ratio::value), Some(0.0));
}

#[test]
fn events_after_now_are_ignored_and_an_event_at_now_counts() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T12:00:00Z");
    h.agent("a", "2026-11-02T12:05:00Z");
    h.customer("b", "2026-11-02T12:10:00Z");
    let f = h.figures(FROM, TO, "2026-11-02T12:04:59.999Z");
    assert_eq!((f.messages_received, f.answered, f.pending), (1, 0, 1));
    let f = h.figures(FROM, TO, "2026-11-02T12:05:00Z");
    assert_eq!((f.messages_received, f.answered, f.pending), (1, 1, 0));
    let f = h.figures(FROM, TO, "2026-11-02T12:10:00Z");
    assert_eq!((f.messages_received, f.answered, f.pending), (2, 1, 1));
}

#[test]
fn notes_and_bot_messages_are_never_counted() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.push("a", AGENT, "2026-11-02T09:01:00Z", EventKind::Note);
    h.push("a", "bot", "2026-11-02T09:02:00Z", EventKind::BotMessage);
    h.agent("a", "2026-11-02T09:03:00Z");
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.messages_received, f.requests, f.answered), (1, 1, 1));
    assert_eq!(f.response_delay.mean, Some(180_000.0));
}

#[test]
fn a_request_belongs_to_the_window_of_its_start() {
    let mut h = History::default();
    h.customer("a", "2026-11-01T23:59:00Z");
    h.customer("a", "2026-11-02T00:01:00Z");
    h.agent("a", "2026-11-02T00:02:00Z");
    let f = h.figures("2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", TO);
    // One message in the window, but the request (and the conversation) started before it.
    assert_eq!(
        (f.messages_received, f.conversations, f.requests),
        (1, 0, 0)
    );
    let f = h.figures("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", TO);
    assert_eq!(
        (f.messages_received, f.conversations, f.requests, f.answered),
        (1, 1, 1, 1)
    );
}

#[test]
fn equal_times_are_ordered_by_id_as_numbers() {
    // The agent's message has the same millisecond but a smaller id: it comes first, so it is
    // outreach and the request stays waiting.
    let mut h = History::default();
    h.events.push(Event {
        id: "10".into(),
        guild_id: G.into(),
        place: "a".into(),
        author_id: CUSTOMER.into(),
        at: t("2026-11-02T09:00:00Z"),
        kind: EventKind::CustomerMessage,
    });
    h.events.push(Event {
        id: "9".into(),
        guild_id: G.into(),
        place: "a".into(),
        author_id: AGENT.into(),
        at: t("2026-11-02T09:00:00Z"),
        kind: EventKind::AgentMessage,
    });
    let f = h.figures(FROM, TO, "2026-11-02T10:00:00Z");
    assert_eq!((f.requests, f.answered, f.pending), (1, 0, 1));
}

#[test]
fn the_last_click_of_the_customer_wins() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let answer = h.agent("a", "2026-11-02T09:01:00Z");
    h.survey("a", "2026-11-02T09:02:00Z", "s1", &answer);
    h.click("a", CUSTOMER, "2026-11-02T09:03:00Z", "s1", 2);
    h.click("a", CUSTOMER, "2026-11-02T09:04:00Z", "s1", 5);
    let f = h.figures(FROM, TO, TO);
    assert_eq!(
        (f.surveys_sent, f.ratings, f.rating_sum, f.satisfied),
        (1, 1, 5, 1)
    );
    // Seen before the second click, the rating is still 2.
    let f = h.figures(FROM, TO, "2026-11-02T09:03:30Z");
    assert_eq!((f.ratings, f.rating_sum, f.satisfied), (1, 2, 0));
}

#[test]
fn clicks_by_another_user_or_after_the_survey_closed_change_nothing() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let answer = h.agent("a", "2026-11-02T09:01:00Z");
    h.survey("a", "2026-11-02T09:02:00Z", "s1", &answer);
    h.click("a", OTHER, "2026-11-02T09:03:00Z", "s1", 1);
    h.click("a", CUSTOMER, "2026-11-03T09:02:00Z", "s1", 4); // exactly 24 h: still open
    h.click("a", CUSTOMER, "2026-11-03T09:02:00.001Z", "s1", 1); // closed
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.surveys_sent, f.ratings, f.rating_sum), (1, 1, 4));
    assert_eq!(f.csat().map(kpi::Ratio::value), Some(1.0));
}

#[test]
fn a_new_answer_before_a_rating_withdraws_the_open_survey() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let a1 = h.agent("a", "2026-11-02T09:01:00Z");
    h.survey("a", "2026-11-02T09:02:00Z", "s1", &a1);
    h.customer("a", "2026-11-02T09:10:00Z");
    let a2 = h.agent("a", "2026-11-02T09:11:00Z");
    h.click("a", CUSTOMER, "2026-11-02T09:11:30Z", "s1", 1); // on the withdrawn survey
    h.survey("a", "2026-11-02T09:12:00Z", "s2", &a2);
    h.click("a", CUSTOMER, "2026-11-02T09:13:00Z", "s2", 4);
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.surveys_sent, f.ratings, f.rating_sum), (1, 1, 4));
    // Before the second answer, the first survey still counts as sent.
    let f = h.figures(FROM, TO, "2026-11-02T09:10:59Z");
    assert_eq!((f.surveys_sent, f.ratings), (1, 0));
}

#[test]
fn a_rated_survey_stays_when_a_new_answer_comes() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let a1 = h.agent("a", "2026-11-02T09:01:00Z");
    h.survey("a", "2026-11-02T09:02:00Z", "s1", &a1);
    h.click("a", CUSTOMER, "2026-11-02T09:03:00Z", "s1", 3);
    h.customer("a", "2026-11-02T09:10:00Z");
    h.agent("a", "2026-11-02T09:11:00Z");
    h.click("a", CUSTOMER, "2026-11-02T09:20:00Z", "s1", 5); // still open: changes the rating
    let f = h.figures(FROM, TO, TO);
    assert_eq!((f.surveys_sent, f.ratings, f.rating_sum), (1, 1, 5));
}

#[test]
fn a_survey_is_credited_to_the_author_of_the_answer() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    let a = h.push("a", AGENT2, "2026-11-02T09:01:00Z", EventKind::AgentMessage);
    h.survey("a", "2026-11-02T09:02:00Z", "s1", &a);
    h.click("a", CUSTOMER, "2026-11-02T09:03:00Z", "s1", 4);
    let r = h.report(FROM, TO, TO);
    assert_eq!(r.agents.len(), 1);
    assert_eq!(r.agents[0].agent_id, AGENT2);
    assert_eq!(
        (
            r.agents[0].answered,
            r.agents[0].surveys_sent,
            r.agents[0].ratings
        ),
        (1, 1, 1)
    );
}

#[test]
fn an_agent_scope_keeps_only_that_agents_answers() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.agent("a", "2026-11-02T09:01:00Z");
    h.customer("b", "2026-11-02T09:00:00Z");
    h.push("b", AGENT2, "2026-11-02T09:03:00Z", EventKind::AgentMessage);
    let scope = Scope {
        agent_id: Some(AGENT2.into()),
        ..Scope::default()
    };
    let f = h.figures_with(&GuildRules::default(), FROM, TO, TO, &scope);
    assert_eq!(
        (f.conversations, f.messages_received, f.requests, f.answered),
        (1, 1, 1, 1)
    );
    assert_eq!(f.response_delay.mean, Some(180_000.0));
}

#[test]
fn the_badge_is_awarded_at_ninety_percent_and_just_under_five_minutes() {
    // 9 requests answered in 4 min 59.999 s, 1 unanswered: rate exactly 0.9.
    let mut h = History::default();
    for i in 0..10 {
        let place = format!("p{i}");
        h.customer(&place, "2026-11-05T09:00:00Z");
        if i < 9 {
            h.agent(&place, "2026-11-05T09:04:59.999Z");
        }
    }
    let r = h.report(FROM, TO, TO);
    assert!(r.badge.awarded, "{:?}", r.badge.failing);

    // Exactly 5 minutes is not under 5 minutes.
    let mut h = History::default();
    h.customer("a", "2026-11-05T09:00:00Z");
    h.agent("a", "2026-11-05T09:05:00Z");
    let r = h.report(FROM, TO, TO);
    assert!(!r.badge.awarded);
    assert_eq!(r.badge.failing.len(), 1);
    assert!(
        matches!(r.badge.failing[0], kpi::BadgeFailure::Delay { over_by_ms, .. } if over_by_ms == 0.0)
    );
}

#[test]
fn the_badge_says_which_condition_fails_and_by_how_much() {
    let mut h = History::default();
    for i in 0..4 {
        let place = format!("p{i}");
        h.customer(&place, "2026-11-05T09:00:00Z");
        if i < 3 {
            h.agent(&place, "2026-11-05T09:10:00Z");
        }
    }
    let r = h.report(FROM, TO, TO);
    assert!(!r.badge.awarded);
    let codes: Vec<&str> = r.badge.failing.iter().map(|f| f.code()).collect();
    assert_eq!(codes, ["response_rate", "response_delay"]);
    match &r.badge.failing[0] {
        kpi::BadgeFailure::ResponseRate { short_by, .. } => {
            assert!((short_by - 0.15).abs() < 1e-12)
        }
        other => panic!("{other:?}"),
    }
    match &r.badge.failing[1] {
        kpi::BadgeFailure::Delay { over_by_ms, .. } => assert_eq!(*over_by_ms, 300_000.0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_badge_only_looks_at_the_seven_days_before_now() {
    let mut h = History::default();
    h.customer("old", "2026-11-02T09:00:00Z");
    h.customer("new", "2026-11-08T09:00:00Z");
    h.agent("new", "2026-11-08T09:01:00Z");
    // now = 11-09T09:00: the window is [11-02T09:00, 11-09T09:00): the old request is in it.
    let r = h.report(FROM, TO, "2026-11-09T09:00:00Z");
    assert!(!r.badge.awarded);
    // 1 ms later the old (unanswered) request is out: rate 1/1, mean 1 min.
    let r = h.report(FROM, TO, "2026-11-09T09:00:00.001Z");
    assert!(r.badge.awarded, "{:?}", r.badge.failing);
}

fn alert_history(
    prev_requests: usize,
    prev_answered: usize,
    cur_requests: usize,
    cur_answered: usize,
    prev_delay_s: u32,
    cur_delay_s: u32,
) -> kpi::Report {
    let mut h = History::default();
    let mut add = |day: &str, n: usize, answered: usize, delay_s: u32| {
        for i in 0..n {
            let place = format!("{day}-{i}");
            h.customer(&place, &format!("{day}T09:00:00Z"));
            if i < answered {
                h.agent(
                    &place,
                    &format!("{day}T09:{:02}:{:02}Z", delay_s / 60, delay_s % 60),
                );
            }
        }
    };
    add("2026-11-02", prev_requests, prev_answered, prev_delay_s);
    add("2026-11-04", cur_requests, cur_answered, cur_delay_s);
    h.report(
        "2026-11-03T00:00:00Z",
        "2026-11-05T00:00:00Z",
        "2026-11-06T00:00:00Z",
    )
}

#[test]
fn the_load_alert_fires_at_twenty_percent_more_requests_and_five_points_less_answered() {
    // 20 → 24 requests (+20 % exactly); rate 20/20 → 23/24 (-4.17 pts): no alert on the rate,
    // same delay: no alert.
    let r = alert_history(20, 20, 24, 23, 60, 60);
    assert!(r.load_alert.is_none());
    // 20 → 24 requests; rate 1 → 22/24 (-8.3 pts): alert.
    let r = alert_history(20, 20, 24, 22, 60, 60);
    assert!(r.load_alert.is_some());
    // Rate falls exactly 5 points: 20/20 → 19/20 needs requests +20 %: 20 → 20 is not enough.
    let r = alert_history(20, 20, 20, 19, 60, 60);
    assert!(r.load_alert.is_none());
    // 19/20 = 0.95 → 0.90 (27/30): exactly 5 points with +50 % requests: alert (exact arithmetic).
    let r = alert_history(20, 19, 30, 27, 60, 60);
    assert!(r.load_alert.is_some());
}

#[test]
fn the_load_alert_fires_when_the_mean_delay_rises_twenty_percent() {
    // 10 → 12 requests (+20 %), all answered; delay 100 s → 120 s (+20 % exactly): alert.
    let r = alert_history(10, 10, 12, 12, 100, 120);
    assert!(r.load_alert.is_some());
    // 100 s → 119 s: no alert.
    let r = alert_history(10, 10, 12, 12, 100, 119);
    assert!(r.load_alert.is_none());
    // 10 → 11 requests (+10 %) with a doubled delay: no alert.
    let r = alert_history(10, 10, 11, 11, 100, 200);
    assert!(r.load_alert.is_none());
    // No previous request: never an alert.
    let r = alert_history(0, 0, 11, 0, 100, 200);
    assert!(r.load_alert.is_none());
}

#[test]
fn business_hours_delays_use_the_guild_hours() {
    let mut h = History::default();
    h.customer("a", "2026-11-06T17:00:00Z"); // Friday
    h.agent("a", "2026-11-07T09:00:00Z"); // Saturday: 16 h later, within the deadline
    let rules = GuildRules {
        business_hours: "mon-fri 09:00-18:00".parse().unwrap(),
        ..GuildRules::default()
    };
    let f = h.figures_with(&rules, FROM, TO, TO, &Scope::default());
    assert_eq!(f.response_delay.mean, Some(16.0 * 3_600_000.0));
    assert_eq!(f.business_hours_delay.mean, Some(3_600_000.0));
}

#[test]
fn a_guild_with_a_shorter_idle_splits_conversations_sooner() {
    let mut h = History::default();
    h.customer("a", "2026-11-02T09:00:00Z");
    h.customer("a", "2026-11-02T10:00:00Z");
    let rules = GuildRules {
        idle_ms: HOUR,
        ..GuildRules::default()
    };
    let f = h.figures_with(&rules, FROM, TO, TO, &Scope::default());
    assert_eq!((f.conversations, f.requests), (2, 2));
}
