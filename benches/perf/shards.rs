//! The end-to-end part with several processes (issue #19): the same MESSAGE_CREATEs, spread over
//! four guilds (one on each shard of 4), into one `reactif run` with shards 0-3, then into two
//! with shards 0-1 and 2-3, on one PostgreSQL; messages/s of each run, their ratio, and each
//! process's peak RSS (VmHWM, read while it runs and just before it is stopped).

use super::{drop_pg, fresh, rate, rss_peak_kb, Options};
use fake_discord::ids::SHARD_GUILDS;
use fake_discord::*;
use reactif::store;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(120);

/// One run's figures.
struct Run {
    stored: u64,
    took: Duration,
    peaks_kb: Vec<u64>,
}

pub async fn bench_e2e_shards(o: &Options) {
    if o.pg_url.is_empty() {
        println!("end to end, 1 and 2 processes: skipped (needs PostgreSQL: --pg-url or REACTIF_TEST_POSTGRES_URL)");
        return;
    }
    let one = run(o, &[(0, 3)]).await;
    let two = run(o, &[(0, 1), (2, 3)]).await;
    let n = o.e2e_messages;
    for (name, r) in [("1 process ", &one), ("2 processes", &two)] {
        let peaks: Vec<String> = r
            .peaks_kb
            .iter()
            .map(|kb| format!("{:.1} MB", *kb as f64 / 1024.0))
            .collect();
        println!(
            "[postgres] end to end, {name}: {} of {n} gateway messages stored in {:.1} s: {:.0} messages/s; \
             peak RSS {} (target < 100 MB each)",
            r.stored,
            r.took.as_secs_f64(),
            rate(r.stored, r.took),
            peaks.join(", ")
        );
    }
    println!(
        "[postgres] end to end, 2 processes / 1 process: {:.2}x",
        rate(two.stored, two.took) / rate(one.stored, one.took).max(f64::MIN_POSITIVE)
    );
}

/// One run: a fresh database, the four guilds watched, one process per shard range.
async fn run(o: &Options, ranges: &[(u64, u64)]) -> Run {
    let fake = FakeDiscord::start_with(FakeConfig {
        guilds: (0..4).map(shard_guild).collect(),
        shards: 4,
        ..FakeConfig::default()
    })
    .await;
    let name = format!("e2e_shards_{}", ranges.len());
    let (url, _dir) = fresh("postgres", o, &name).await;
    let store = store::open(&url).await.expect("the database opens");
    for g in &SHARD_GUILDS {
        let setup = store::DiscordSetup {
            staff_channel_id: Some(g.staff.to_string()),
            agent_roles: vec![ids::AGENT_ROLE.to_string()],
            watched: vec![store::WatchedChannel {
                channel_id: g.support.to_string(),
                kind: store::WatchKind::Text,
            }],
            ..Default::default()
        };
        store
            .save_discord_setup(&g.guild.to_string(), &setup)
            .await
            .unwrap();
    }
    let mut children: Vec<std::process::Child> = ranges
        .iter()
        .map(|(first, last)| {
            std::process::Command::new(env!("CARGO_BIN_EXE_reactif"))
                .args(["run", "--shards", &format!("{first}-{last}")])
                .args(["--shard-count", "4"])
                .env("DISCORD_TOKEN", "fake-token-0123456789abcdefghij")
                .env("DISCORD_API_URL", fake.base_url())
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "error")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("reactif run starts")
        })
        .collect();
    // Every shard connected (poise holds the events that come before a process's setup, it
    // drops none), and the commands registered (by the process with shard 0 only).
    assert!(
        fake.wait_shards_identified(&[0, 1, 2, 3], 0, WAIT)
            .await
            .is_some(),
        "the four shards identified"
    );
    assert!(
        fake.wait_for_request(|r| r.is("PUT", "/applications/*/commands"), WAIT)
            .await
            .is_some(),
        "the process with shard 0 set up"
    );
    let base = store.count_events(None).await.unwrap();
    let n = o.e2e_messages;
    let mut peaks = vec![0u64; children.len()];
    let mut measure = |children: &[std::process::Child]| {
        for (peak, child) in peaks.iter_mut().zip(children) {
            *peak = (*peak).max(rss_peak_kb(child.id()));
        }
    };
    let started = Instant::now();
    for i in 0..n {
        // 1,000 customers, each message in the #support of guild i % 4 (shard i % 4).
        let g = &SHARD_GUILDS[(i % 4) as usize];
        let author = 1_600_000_000_000_000_000u64 + i % 1_000;
        let place = Place::Guild {
            guild_id: g.guild,
            channel_id: g.support,
        };
        fake.dispatch(
            "MESSAGE_CREATE",
            message_create(author, place, "help please", now_ms()),
        )
        .await;
        if i % 100 == 0 {
            measure(&children);
            // As in the one-process part: never more than `e2e_ahead` messages ahead.
            while i.saturating_sub(store.count_events(None).await.unwrap() - base) > o.e2e_ahead {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    let (stored, took) = loop {
        measure(&children);
        let stored = store.count_events(None).await.unwrap() - base;
        if stored >= n || Instant::now() > deadline {
            break (stored, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    measure(&children);
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    store.close().await;
    drop_pg(&url, o).await;
    Run {
        stored,
        took,
        peaks_kb: peaks,
    }
}
