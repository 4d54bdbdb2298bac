//! The cost of one live message against the history of its place: a DM channel with 10, 1,000
//! and 100,000 earlier events (closed conversations of 100 messages, two days apart), then 200
//! messages of a new conversation, each handled as the bot does (replay what it needs, plan the
//! surveys, commit). Flat means within 2x of the 10-event figure.

use reactif::desk::{Desk, SurveyTarget};
use reactif::domain::{Event, EventKind, Millis, DAY, MINUTE, SECOND};
use reactif::store::{self, Commit};
use std::time::{Duration, Instant};

const PLACE: &str = "dm-1";
const GUILD: &str = "live";
const TIMED: usize = 200;

fn message(n: u64, at: Millis, customer: bool) -> Event {
    Event {
        id: (1_000_000_000_000 + n).to_string(),
        guild_id: GUILD.into(),
        place: PLACE.into(),
        author_id: if customer { "5" } else { "9" }.into(),
        at,
        kind: if customer {
            EventKind::CustomerMessage
        } else {
            EventKind::AgentMessage
        },
    }
}

/// `earlier` events of closed conversations, the last one ending two days before `now`.
fn history(earlier: u64, now: Millis) -> Vec<Event> {
    let per_conversation = 100u64.min(earlier);
    let conversations = earlier.div_ceil(per_conversation);
    let mut events = Vec::with_capacity(earlier as usize);
    for c in 0..conversations {
        let start = now - (conversations - c + 1) as i64 * 2 * DAY;
        for m in 0..per_conversation {
            let n = c * per_conversation + m;
            if n + 1 == (c + 1) * per_conversation {
                let mut close = message(n, start + m as i64 * MINUTE, false);
                close.kind = EventKind::Close;
                events.push(close);
            } else {
                events.push(message(n, start + m as i64 * MINUTE, m % 2 == 0));
            }
        }
    }
    events.truncate(earlier as usize);
    events
}

/// Time per message of `TIMED` live messages after `earlier` events in the place.
async fn per_message(url: &str, earlier: u64) -> Duration {
    let store = store::open(url).await.expect("the database opens");
    let desk = Desk::new(store.clone());
    let now = chrono::Utc::now().timestamp_millis();
    for chunk in history(earlier, now).chunks(5_000) {
        desk.ingest(chunk).await.expect("history");
    }
    let target = SurveyTarget {
        channel_id: "1".into(),
        reply_to: false,
    };
    let started = Instant::now();
    for i in 0..TIMED as u64 {
        let e = message(10_000_000 + i, now - DAY + i as i64 * SECOND, i % 2 == 0);
        let place = desk.replay_live(&e).await.expect("replay");
        let plan = desk
            .plan_surveys(&place, now, target.clone())
            .await
            .expect("plan");
        desk.commit(&Commit {
            events: vec![e],
            require_new: true,
            surveys: plan.surveys,
            outbox: plan.outbox,
            ..Commit::default()
        })
        .await
        .expect("commit");
    }
    let per = started.elapsed() / TIMED as u32;
    store.close().await;
    per
}

/// Prints the figures; returns the databases used (for the caller to drop).
pub async fn bench_live(
    backend: &str,
    fresh: impl AsyncFn(&str) -> (String, Option<tempfile::TempDir>),
) -> Vec<String> {
    let mut figures = Vec::new();
    let mut used = Vec::new();
    for earlier in [10u64, 1_000, 100_000] {
        let (url, _dir) = fresh(&format!("live{earlier}")).await;
        figures.push((earlier, per_message(&url, earlier).await));
        used.push(url);
    }
    let base = figures[0].1.as_secs_f64().max(1e-9);
    let shown: Vec<String> = figures
        .iter()
        .map(|(n, d)| {
            format!(
                "{n} earlier events {:.2} ms (ratio {:.2})",
                d.as_secs_f64() * 1e3,
                d.as_secs_f64() / base
            )
        })
        .collect();
    println!(
        "[{backend}] live message in a DM channel, per message: {} (flat is within 2x)",
        shown.join(", ")
    );
    used
}
