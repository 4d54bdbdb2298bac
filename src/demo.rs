//! Realistic support traffic for `reactif demo`: agents of different speeds, a day/night and
//! weekday rhythm, ratings that fall as delays grow, and a last week where load rises and answers
//! slow down, so that the load alert fires. It produces ordinary events for the ingest path.

use crate::domain::hours::BusinessHours;
use crate::domain::{
    snowflake_at, Event, EventKind, GuildRules, Locale, Millis, Rating, DAY, HOUR, MINUTE, SECOND,
};
use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub mod engagement;

pub const DEMO_GUILD: &str = "1100000000000000042";
pub const DEMO_BOT: &str = "1100000000000000001";

/// The demo guild's rules: Paris time, office hours on weekdays, French-speaking team leads
/// would switch `locale`.
pub fn demo_rules(locale: Locale) -> GuildRules {
    GuildRules {
        timezone: chrono_tz::Europe::Paris,
        business_hours: "mon-fri 09:00-18:00"
            .parse::<BusinessHours>()
            .unwrap_or_else(|_| BusinessHours::always()),
        locale,
        ..GuildRules::default()
    }
}

struct Agent {
    id: &'static str,
    /// Typical (median) delay in minutes when on shift.
    median_minutes: f64,
    weight: f64,
}

const AGENTS: [Agent; 4] = [
    Agent {
        id: "1200000000000000001",
        median_minutes: 1.5,
        weight: 3.0,
    },
    Agent {
        id: "1200000000000000002",
        median_minutes: 4.0,
        weight: 3.0,
    },
    Agent {
        id: "1200000000000000003",
        median_minutes: 9.0,
        weight: 2.0,
    },
    Agent {
        id: "1200000000000000004",
        median_minutes: 20.0,
        weight: 1.0,
    },
];

struct Gen {
    rng: SmallRng,
    events: Vec<Event>,
    counter: u64,
    now: Millis,
}

impl Gen {
    /// A snowflake of time `at`, unique within the run (the low bits hold a counter).
    fn id(&mut self, at: Millis) -> String {
        self.counter += 1;
        (snowflake_at(at) | (self.counter & 0x3F_FFFF)).to_string()
    }

    fn push(
        &mut self,
        at: Millis,
        conversation: &str,
        author: &str,
        kind: EventKind,
    ) -> Option<String> {
        if at > self.now {
            return None;
        }
        let id = self.id(at);
        self.events.push(Event {
            id: id.clone(),
            guild_id: DEMO_GUILD.to_string(),
            place: conversation.to_string(),
            author_id: author.to_string(),
            at,
            kind,
        });
        Some(id)
    }

    fn poisson(&mut self, lambda: f64) -> u32 {
        let l = (-lambda).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= self.rng.gen::<f64>();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }

    /// A log-normal factor around 1: most answers near the agent's typical time, a long tail.
    fn spread(&mut self) -> f64 {
        let u1: f64 = self.rng.gen_range(1e-9..1.0);
        let u2: f64 = self.rng.gen();
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        (normal * 0.8).exp()
    }

    fn pick_agent(&mut self) -> &'static Agent {
        let total: f64 = AGENTS.iter().map(|a| a.weight).sum();
        let mut x = self.rng.gen_range(0.0..total);
        for a in &AGENTS {
            if x < a.weight {
                return a;
            }
            x -= a.weight;
        }
        &AGENTS[0]
    }

    fn rating_for(&mut self, delay: Millis) -> Rating {
        let choices: [i64; 6] = if delay < 5 * MINUTE {
            [5, 5, 5, 4, 4, 3]
        } else if delay < 30 * MINUTE {
            [5, 4, 4, 4, 3, 2]
        } else if delay < 2 * HOUR {
            [4, 4, 3, 2, 2, 1]
        } else {
            [3, 2, 2, 1, 1, 1]
        };
        let v = choices[self.rng.gen_range(0..choices.len())];
        Rating::parse(v).unwrap_or(Rating::NEUTRAL)
    }
}

fn local(tz: &Tz, t: Millis) -> chrono::DateTime<Tz> {
    chrono::DateTime::from_timestamp_millis(t)
        .unwrap_or_default()
        .with_timezone(tz)
}

/// When an agent on the day shift (08:00-20:00 local) would first look at a message sent at `t`.
fn next_on_shift(tz: &Tz, t: Millis) -> Millis {
    let mut probe = t;
    for _ in 0..48 {
        let h = local(tz, probe).hour();
        if (8..20).contains(&h) {
            return probe;
        }
        let l = local(tz, probe);
        probe += (60 - l.minute() as i64) * MINUTE - l.second() as i64 * SECOND;
    }
    t
}

/// Generates `weeks` weeks of traffic ending at `now`.
pub fn generate(now: Millis, weeks: u32, seed: u64) -> Vec<Event> {
    let tz = chrono_tz::Europe::Paris;
    let mut g = Gen {
        rng: SmallRng::seed_from_u64(seed),
        events: Vec::new(),
        counter: 0,
        now,
    };
    let start = now - weeks as i64 * 7 * DAY;
    let surge_from = now - 7 * DAY;
    let mut conversation_no = 0u64;
    let mut slot = start - start.rem_euclid(HOUR);
    while slot < now {
        let l = local(&tz, slot);
        let weekend = l.weekday().number_from_monday() >= 6;
        let hour = l.hour();
        let mut lambda = match hour {
            9..=12 | 14..=17 => 3.2,
            8 | 13 | 18..=20 => 2.0,
            21..=23 => 0.8,
            _ => 0.25,
        };
        if weekend {
            lambda *= 0.45;
        }
        let surge = slot >= surge_from;
        if surge {
            lambda *= 1.5;
        }
        for _ in 0..g.poisson(lambda) {
            conversation_no += 1;
            let key = format!("demo-dm-{conversation_no}");
            let customer = format!("13{:017}", conversation_no % 900 + 1);
            let t0 = slot + g.rng.gen_range(0..HOUR);
            conversation(&mut g, &tz, &key, &customer, t0, surge);
        }
        slot += HOUR;
    }
    g.events
}

fn conversation(g: &mut Gen, tz: &Tz, key: &str, customer: &str, t0: Millis, surge: bool) {
    let agent = g.pick_agent();
    let mut t = t0;
    let requests = if g.rng.gen_bool(0.25) { 2 } else { 1 };
    for n in 0..requests {
        g.push(t, key, customer, EventKind::CustomerMessage);
        let mut last_customer = t;
        if g.rng.gen_bool(0.3) {
            last_customer = t + g.rng.gen_range(20..120) * SECOND;
            g.push(last_customer, key, customer, EventKind::CustomerMessage);
        }
        if g.rng.gen_bool(if surge { 0.12 } else { 0.03 }) {
            return; // never answered: counts as unanswered once its deadline passes
        }
        // In the surge week the team is swamped: each agent is slower and a queue builds up.
        let (slowness, queue) = if surge {
            (4.0, g.rng.gen_range(15.0..45.0))
        } else {
            (1.0, 0.0)
        };
        let minutes = agent.median_minutes * g.spread() * slowness + queue;
        let answer_at = (next_on_shift(tz, t) + (minutes * MINUTE as f64) as Millis)
            .max(last_customer + 5 * SECOND);
        if g.rng.gen_bool(0.1) {
            g.push(answer_at - 30 * SECOND, key, agent.id, EventKind::Note);
        }
        let Some(answer_id) = g.push(answer_at, key, agent.id, EventKind::AgentMessage) else {
            return;
        };
        let mut silent_from = answer_at;
        if g.rng.gen_bool(0.2) {
            silent_from = answer_at + 20 * SECOND;
            g.push(silent_from, key, agent.id, EventKind::AgentMessage);
        }
        let survey_at = silent_from + 60 * SECOND;
        let survey_id = format!("demo-survey-{key}-{n}");
        if g.push(
            survey_at,
            key,
            DEMO_BOT,
            EventKind::SurveySent {
                survey_id: survey_id.clone(),
                answer_message_id: answer_id,
            },
        )
        .is_none()
        {
            return;
        }
        if g.rng.gen_bool(0.65) {
            let rating = g.rating_for(answer_at - t);
            let rated_at = survey_at + g.rng.gen_range(1..30) * MINUTE;
            g.push(
                rated_at,
                key,
                customer,
                EventKind::Rating { survey_id, rating },
            );
        }
        t = answer_at + g.rng.gen_range(40..120) * MINUTE;
    }
    if g.rng.gen_bool(0.5) {
        let close_at = t.min(g.now);
        g.push(close_at, key, agent.id, EventKind::Close);
    }
    if g.rng.gen_bool(0.01) {
        let later = t + 3 * DAY;
        g.push(later, key, agent.id, EventKind::AgentMessage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::build_report;
    use crate::domain::kpi::{Scope, Window};
    use std::collections::HashMap;

    #[test]
    fn the_demo_history_makes_the_load_alert_fire_and_ratings_fall_with_delays() {
        let now = crate::domain::parse_time("2026-11-26T10:00:00Z").unwrap();
        let events = generate(now, 5, 42);
        assert!(events.len() > 3_000, "only {} events", events.len());
        assert!(events.iter().all(|e| e.at <= now));
        let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), events.len(), "event ids must be unique");
        let rules: HashMap<String, GuildRules> =
            [(DEMO_GUILD.to_string(), demo_rules(Locale::En))].into();
        let report = build_report(
            &events,
            &rules,
            &rules[DEMO_GUILD],
            &Scope::default(),
            Window {
                from: now - 7 * DAY,
                to: now,
                now,
            },
        );
        assert!(
            report.load_alert.is_some(),
            "{:#?} vs {:#?}",
            report.current,
            report.previous
        );
        assert!(report.agents.len() >= 3);
        let csat_now = report.current.csat().unwrap().value();
        let csat_before = report.previous.csat().unwrap().value();
        assert!(
            csat_now < csat_before,
            "{csat_now} should be below {csat_before}"
        );
    }
}
