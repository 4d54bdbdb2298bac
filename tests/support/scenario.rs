//! Random support histories for property tests. Times are drawn so that they often fall
//! exactly on the idle, deadline, survey-close and window boundaries, where implementations
//! disagree first.

use proptest::prelude::*;
use reactif::domain::{Event, Millis, DAY, HOUR, MINUTE};

pub const BASE: Millis = 1_793_577_600_000; // 2026-11-02T00:00:00Z

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
pub enum Step {
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

pub fn step() -> impl Strategy<Value = Step> {
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
pub type PlaceSteps = (u8, Millis, Vec<(usize, Step)>);

#[derive(Debug, Clone)]
pub struct Scenario {
    /// Per place: (guild, start offset, steps with their gap index).
    pub places: Vec<PlaceSteps>,
    pub window: (Millis, Millis, Millis),
    pub shuffle_seed: u64,
    /// Ratings rate a survey of their own place only (what the bot writes); otherwise any.
    pub ratings_in_place: bool,
}

pub fn scenario(ratings_in_place: bool) -> impl Strategy<Value = Scenario> {
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
        .prop_map(move |(places, (from_day, len_days, now_hours, seed))| {
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
                ratings_in_place,
            }
        })
}

/// Turns a scenario into events. Ids are unique numbers in a shuffled order, so that events at
/// the same millisecond are ordered by id and not by their place in the stream.
pub fn events(s: &Scenario) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    let mut agent_messages: Vec<Vec<String>> = vec![Vec::new(); s.places.len()];
    let mut surveys: Vec<String> = Vec::new();
    let mut place_surveys: Vec<Vec<String>> = vec![Vec::new(); s.places.len()];
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
                Step::Survey(_) | Step::Rating { .. }
                    if s.ratings_in_place
                        && match st {
                            Step::Survey(_) => agent_messages[p].is_empty(),
                            _ => place_surveys[p].is_empty(),
                        } =>
                {
                    // Nothing of this place to follow or rate: the bot would not write it.
                    line["kind"] = "bot_message".into();
                    line["author_id"] = "1".into();
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
                    place_surveys[p].push(sid.clone());
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
                    let pool = if s.ratings_in_place {
                        &place_surveys[p]
                    } else {
                        &surveys
                    };
                    let sid = if pool.is_empty() {
                        "s-none".to_string()
                    } else {
                        pool[*survey as usize % pool.len()].clone()
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
