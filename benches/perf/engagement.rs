//! The `engagement` part: `/engagement` over 90 days of one guild with `eng_posts` posts (over
//! `eng_days` days up to `now`, 90 by default: 180 fills the previous window too) and
//! `eng_reactions` reaction events (a tenth of them removals) and a reply for every twentieth
//! reaction, from 50,000 members; p50 and p95 of the full report next to the time to read the
//! raw rows it covers.
//!
//! The report reads the engagement rollups (refreshed once after the ingest, timed apart);
//! the baseline replays the same report from the raw rows (`engagement_replay_report`), and
//! both must agree. Interactions come up to `now` and not after: a live report's `now` is the
//! present (a report at a past `now` replays the posts with events after it).

use super::{drop_pg, fresh, ms, percentile, Options};
use reactif::desk::Desk;
use reactif::domain::engagement::{EngagementEvent, EngagementKind, Filters};
use reactif::domain::kpi::Window;
use reactif::domain::{Millis, DAY, MINUTE};
use std::time::Instant;

const GUILD: &str = "1100000000000000777";
const MEMBERS: u64 = 50_000;
const THEMES: [&str; 6] = ["release", "events", "tips", "community", "survey", "faq"];

/// Reproducible numbers without a dependency on a generator's version (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One post and its interactions, `per_post` reaction events, none after `now`.
fn post(
    rng: &mut Rng,
    n: u64,
    at: Millis,
    now: Millis,
    per_post: u64,
    seq: &mut u64,
) -> Vec<EngagementEvent> {
    let id = ((n + 1) << 22).to_string();
    let themes: Vec<String> = (0..rng.below(3))
        .map(|_| THEMES[rng.below(THEMES.len() as u64) as usize].to_string())
        .collect();
    let mut out = vec![EngagementEvent {
        id: id.clone(),
        guild_id: GUILD.into(),
        author_id: "1400000000000000001".into(),
        at,
        kind: EngagementKind::Post {
            channel_id: "1300000000000000001".into(),
            themes,
            audience: 20_000 + rng.below(30_000),
        },
    }];
    let mut push = |rng: &mut Rng, kind: EngagementKind, seq: &mut u64| {
        *seq += 1;
        out.push(EngagementEvent {
            id: seq.to_string(),
            guild_id: GUILD.into(),
            author_id: (1_500_000_000_000_000_000 + rng.below(MEMBERS)).to_string(),
            at: (at + MINUTE + rng.below(9 * DAY as u64) as Millis).min(now),
            kind,
        });
    };
    for i in 0..per_post {
        let (post_id, emoji) = (id.clone(), ["👍", "🎉", "❤️"][(i % 3) as usize].to_string());
        let kind = if i % 10 == 9 {
            EngagementKind::ReactionRemove { post_id, emoji }
        } else {
            EngagementKind::ReactionAdd { post_id, emoji }
        };
        push(rng, kind, seq);
        if i % 20 == 0 {
            push(
                rng,
                EngagementKind::Reply {
                    post_id: id.clone(),
                },
                seq,
            );
        }
    }
    out
}

pub async fn bench_engagement(backend: &str, o: &Options) {
    let kept = format!(
        "reactif_bench_keep_eng_{}_{}{}",
        o.eng_posts,
        o.eng_reactions,
        if o.eng_days == 90 {
            String::new()
        } else {
            format!("_{}d", o.eng_days)
        }
    );
    let (url, _dir) = if o.keep {
        super::kept_store(backend, o, &kept).await
    } else {
        fresh(backend, o, "engagement").await
    };
    // A kept store is complete once its marker exists (an interrupted ingest is done again:
    // storing an event twice changes nothing).
    let marker = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("{kept}.{backend}.done"));
    let reuse = o.keep && marker.exists();
    let desk = Desk::new(reactif::store::open(&url).await.expect("the store opens"));
    let now: Millis = super::NOW;
    let from = now - o.eng_days * DAY;
    let window = Window::last_days(now, 90);
    let mut in_window = 0;
    let per_post = (o.eng_reactions / o.eng_posts.max(1)).max(1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut seq, mut stored) = (10_000_000_000u64, 0usize);
    if reuse {
        eprintln!("[{backend}] reusing the kept /engagement store {url}");
    }
    let started = Instant::now();
    let mut batch = Vec::new();
    for n in 0..o.eng_posts {
        let at = from + (n as i64 * o.eng_days * DAY) / o.eng_posts as i64;
        in_window += u64::from(at >= window.from);
        batch.extend(post(&mut rng, n, at, now, per_post, &mut seq));
        if batch.len() >= 20_000 || n + 1 == o.eng_posts {
            // A kept store only counts the events it holds.
            if !reuse {
                desk.ingest_engagement(&batch).await.expect("ingest");
            }
            stored += batch.len();
            batch.clear();
        }
    }
    if o.keep {
        std::fs::write(&marker, b"").expect("the marker is written");
    }
    println!(
        "engagement ({backend}): stored {} posts and {stored} events in {:.1} s",
        o.eng_posts,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let refreshed = desk.refresh_engagement().await.expect("refresh");
    println!(
        "engagement ({backend}): rollups of {} posts and {} days derived in {:.1} s",
        refreshed.posts,
        refreshed.days,
        started.elapsed().as_secs_f64()
    );
    let filters = Filters {
        guild_id: Some(GUILD.into()),
        theme: None,
    };
    let mut times = Vec::new();
    for _ in 0..o.samples {
        let t = Instant::now();
        let r = desk
            .engagement_report(&filters, window)
            .await
            .expect("report");
        times.push(t.elapsed());
        assert_eq!(r.current.figures.posts, in_window);
    }
    times.sort();
    let mut raw = Vec::new();
    let mut read = Vec::new();
    let mut last = None;
    for _ in 0..o.baseline_samples.max(1) {
        let t = Instant::now();
        let rows = desk
            .store()
            .engagement_events(Some(GUILD), window.previous().from, window.to, now)
            .await
            .expect("raw rows");
        read.push(t.elapsed());
        assert_eq!(rows.len(), stored);
        drop(rows);
        let t = Instant::now();
        let r = desk
            .engagement_replay_report(&filters, window)
            .await
            .expect("replay");
        raw.push(t.elapsed());
        last = Some(r);
    }
    let rollup = desk
        .engagement_report(&filters, window)
        .await
        .expect("report");
    assert!(
        last == Some(rollup),
        "the rollups' report differs from the replay"
    );
    raw.sort();
    read.sort();
    let (p50, p95) = (percentile(&times, 50.0), percentile(&times, 95.0));
    let (b50, b95) = (percentile(&raw, 50.0), percentile(&raw, 95.0));
    println!(
        "engagement ({backend}): /engagement 90 days, {in_window} posts ({} over {} days), {} \
         reaction events: rollups p50 {} \
         p95 {} (target p95 < 50 ms); replay from raw rows p50 {} p95 {} ({:.0}x the rollups' \
         p95; reading the rows alone p50 {}); same figures",
        o.eng_posts,
        o.eng_days,
        o.eng_posts * per_post,
        ms(p50),
        ms(p95),
        ms(b50),
        ms(b95),
        b95.as_secs_f64() / p95.as_secs_f64().max(1e-9),
        ms(percentile(&read, 50.0)),
    );
    desk.store().close().await;
    if !o.keep {
        drop_pg(&url, o).await;
    }
}
