//! Several bot processes on one database (issue #19): each reads, claims and releases only
//! the work of its shards' guilds (both backends); IDENTIFY turns never overlap, and two
//! refreshes at once derive each dirty mark once and sum up what one refresh would
//! (PostgreSQL, the database several processes share).

use reactif::desk::Desk;
use reactif::domain::shards::Shards;
use reactif::domain::{Event, EventKind};
use reactif::store::{
    Commit, DynStore, OutboxItem, OutboxOp, SlaTimerRow, SurveyJob, SurveyOp, SurveyStatus, TimerOp,
};
use std::time::{Duration, Instant};

/// Guild ids whose shard of 2 is known by hand: `(n << 22) >> 22 = n`, and n % 2 is the shard.
fn guild_of_shard(n: u64) -> String {
    ((n << 22) | 0x2a).to_string()
}

fn survey(id: &str, guild: &str) -> SurveyJob {
    SurveyJob {
        survey_id: id.into(),
        guild_id: guild.into(),
        conversation: "p".into(),
        customer_id: "c".into(),
        agent_id: "a".into(),
        answer_message_id: id.into(),
        channel_id: "dm".into(),
        reply_to: None,
        due_at: 1_000,
        status: SurveyStatus::Scheduled,
        message_id: None,
        sent_at: None,
        rating: None,
    }
}

fn timer(guild: &str) -> SlaTimerRow {
    SlaTimerRow {
        guild_id: guild.into(),
        conversation: "p".into(),
        kind: "warning:first_response".into(),
        subject: "m1".into(),
        due_at: 100,
        done: false,
    }
}

async fn keys(store: &DynStore, shards: &Shards) -> Vec<String> {
    let mut keys: Vec<String> = store
        .due_outbox(5_000, 50, shards)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.dedupe_key)
        .collect();
    keys.sort();
    keys
}

pub async fn each_process_takes_only_the_work_of_its_shards(store: DynStore) {
    // 1000 is even: shard 0 of 2; 1001 is odd: shard 1. A DM's item, and a guild id that is
    // no snowflake, are shard 0's.
    let (even, odd) = (guild_of_shard(1000), guild_of_shard(1001));
    let low = Shards::new(0, 0, 2).unwrap();
    let high = Shards::new(1, 1, 2).unwrap();
    let item = |key: &str, guild: Option<&str>| {
        let mut item = OutboxItem::post_text(key.into(), "c", "hi", 0);
        item.guild_id = guild.map(str::to_string);
        OutboxOp::enqueue(item)
    };
    // Today's guild ids have 19 digits: 1191168956174565386 >> 22 = 283_996_810_001, odd.
    let today = "1191168956174565386";
    let commit = Commit {
        outbox: vec![
            item("even", Some(&even)),
            item("odd", Some(&odd)),
            item("dm", None),
            item("demo", Some("demo")),
            item("today", Some(today)),
        ],
        surveys: vec![
            SurveyOp::Schedule(survey("s-even", &even)),
            SurveyOp::Schedule(survey("s-odd", &odd)),
        ],
        timers: [&even, &odd]
            .into_iter()
            .map(|g| TimerOp::Plan {
                guild_id: g.clone(),
                conversation: "p".into(),
                timers: vec![timer(g)],
            })
            .collect(),
        ..Commit::default()
    };
    assert!(store.commit(&commit).await.unwrap().committed());

    // The outbox: each process sees and claims its own items only.
    assert_eq!(keys(&store, &low).await, ["demo", "dm", "even"]);
    assert_eq!(keys(&store, &high).await, ["odd", "today"]);
    assert_eq!(
        keys(&store, &Shards::ALL).await,
        ["demo", "dm", "even", "odd", "today"]
    );
    let all = store.due_outbox(5_000, 50, &Shards::ALL).await.unwrap();
    let id = |key: &str| all.iter().find(|i| i.dedupe_key == key).unwrap().id;
    assert!(
        !store
            .claim_outbox(id("odd"), 5_000, 65_000, &low)
            .await
            .unwrap(),
        "shard 0's process never claims shard 1's item"
    );
    assert!(store
        .claim_outbox(id("odd"), 5_000, 65_000, &high)
        .await
        .unwrap());
    assert!(store
        .claim_outbox(id("even"), 5_000, 65_000, &low)
        .await
        .unwrap());
    let by_keys: Vec<String> = store
        .outbox_by_keys(&["odd".into(), "dm".into(), "even".into()], &low)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.dedupe_key)
        .collect();
    assert_eq!(by_keys, ["dm", "even"]);

    // Shard 0's process restarts: it frees its own lease, never the one of shard 1's
    // process, which may be sending that item right now.
    assert_eq!(store.release_outbox_leases(&low).await.unwrap(), 1);
    assert_eq!(keys(&store, &low).await, ["demo", "dm", "even"]);
    assert_eq!(keys(&store, &high).await, ["today"], "odd is still leased");
    assert!(!store
        .claim_outbox(id("odd"), 5_000, 65_000, &high)
        .await
        .unwrap());
    assert_eq!(store.release_outbox_leases(&high).await.unwrap(), 1);
    assert_eq!(keys(&store, &high).await, ["odd", "today"]);

    // Survey timers, service-level timers and catch-up cursors.
    let surveys = |shards: Shards| {
        let store = store.clone();
        async move {
            let due = store.due_surveys(5_000, 50, &shards).await.unwrap();
            due.into_iter().map(|s| s.survey_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(surveys(low).await, ["s-even"]);
    assert_eq!(surveys(high).await, ["s-odd"]);
    assert_eq!(surveys(Shards::ALL).await.len(), 2);
    let timers = store.due_sla_timers(5_000, 50, &high).await.unwrap();
    assert_eq!(timers, vec![timer(&odd)]);
    let timers = store.due_sla_timers(5_000, 50, &low).await.unwrap();
    assert_eq!(timers, vec![timer(&even)]);
    store
        .advance_cursor("c-even", Some(&even), 7, 1_000)
        .await
        .unwrap();
    store
        .advance_cursor("c-odd", Some(&odd), 8, 1_000)
        .await
        .unwrap();
    store.advance_cursor("c-dm", None, 9, 1_000).await.unwrap();
    let cursors = |shards: Shards| {
        let store = store.clone();
        async move {
            let mut c: Vec<String> = store
                .recent_cursors(0, &shards)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.channel_id)
                .collect();
            c.sort();
            c
        }
    };
    assert_eq!(cursors(low).await, ["c-dm", "c-even"]);
    assert_eq!(cursors(high).await, ["c-odd"]);
    assert_eq!(cursors(Shards::ALL).await.len(), 3);

    // Four shards over two processes: 1000 % 4 = 0, 1001 % 4 = 1, 1003 % 4 = 3.
    let (zero_one, two_three) = (Shards::new(0, 1, 4).unwrap(), Shards::new(2, 3, 4).unwrap());
    let three = guild_of_shard(1003);
    let late = Commit {
        surveys: vec![SurveyOp::Schedule(survey("s-three", &three))],
        ..Commit::default()
    };
    assert!(store.commit(&late).await.unwrap().committed());
    assert_eq!(surveys(zero_one).await, ["s-even", "s-odd"]);
    assert_eq!(surveys(two_three).await, ["s-three"]);
}

/// The database's shard of a guild (in SQL, both backends) is Discord's: `(id >> 22) % count`
/// worked in Rust's u64 arithmetic, over ids of every length up to today's 19 digits.
pub async fn the_database_finds_the_shard_discord_sends_a_guild_to(store: DynStore) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut guilds = Vec::new();
    for i in 0..60u32 {
        // xorshift: ids spread over 2^40 .. 2^63, and a few small ones.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let id = match i % 3 {
            0 => x >> 1,
            1 => x >> 20,
            _ => x >> 44,
        };
        guilds.push(id);
    }
    let commit = Commit {
        surveys: guilds
            .iter()
            .map(|g| SurveyOp::Schedule(survey(&format!("s{g}"), &g.to_string())))
            .collect(),
        ..Commit::default()
    };
    assert!(store.commit(&commit).await.unwrap().committed());
    let count = 7;
    for shard in 0..count {
        let mut got: Vec<String> = store
            .due_surveys(5_000, 100, &Shards::new(shard, shard, count).unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.guild_id)
            .collect();
        got.sort();
        let mut expected: Vec<String> = guilds
            .iter()
            .filter(|g| (**g >> 22) % u64::from(count) == u64::from(shard))
            .map(|g| g.to_string())
            .collect();
        expected.sort();
        assert_eq!(got, expected, "shard {shard} of {count}");
    }
}

contract!(
    each_process_takes_only_the_work_of_its_shards,
    the_database_finds_the_shard_discord_sends_a_guild_to,
);

#[tokio::test]
async fn sqlite_has_no_identify_turns_to_take() {
    let db = crate::support::db::sqlite().await;
    assert!(db.store.identify_turn(0).await.unwrap().is_none());
    db.cleanup().await;
}

/// Three "processes" (stores with pools of their own) take bucket 0 three times each: no two
/// turns overlap. Another bucket is free meanwhile, and a dropped turn (a process that died)
/// frees its bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn identify_turns_of_several_processes_never_overlap() {
    let db = crate::support::db::postgres().await;
    let base = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let store = reactif::store::open(&db.url).await.unwrap();
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            for _ in 0..3 {
                let turn = store.identify_turn(0).await.unwrap().expect("a turn");
                let start = base.elapsed();
                // Long enough that an overlapping turn would show.
                tokio::time::sleep(Duration::from_millis(40)).await;
                held.push((start, base.elapsed()));
                turn.release().await.unwrap();
            }
            store.close().await;
            held
        }));
    }
    let mut turns = Vec::new();
    for t in tasks {
        turns.extend(t.await.unwrap());
    }
    turns.sort();
    assert_eq!(turns.len(), 9);
    for pair in turns.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "turns overlap: {pair:?}");
    }

    let other = reactif::store::open(&db.url).await.unwrap();
    let zero = db.store.identify_turn(0).await.unwrap().unwrap();
    let one = tokio::time::timeout(Duration::from_secs(10), other.identify_turn(1))
        .await
        .expect("bucket 1 is free while bucket 0 is held")
        .unwrap();
    drop(one);
    // Dropped without a release, as by a process that died: its session ends, the bucket is
    // free.
    drop(zero);
    let again = tokio::time::timeout(Duration::from_secs(10), other.identify_turn(0))
        .await
        .expect("a dropped turn frees its bucket")
        .unwrap()
        .unwrap();
    again.release().await.unwrap();
    other.close().await;
    db.cleanup().await;
}

/// Events of `places` places over a few guilds and days: a customer asks, an agent answers.
fn traffic(places: usize) -> Vec<Event> {
    let day = 86_400_000;
    let start = reactif::domain::parse_time("2026-10-01T08:00:00Z").unwrap();
    let mut events = Vec::new();
    for p in 0..places {
        let guild = guild_of_shard(2000 + (p % 7) as u64);
        let at = start + (p % 20) as i64 * day + (p as i64 * 61_000) % (8 * 3_600_000);
        let kinds = [
            (EventKind::CustomerMessage, "c", 0),
            (
                EventKind::AgentMessage,
                "a",
                60_000 + (p as i64 % 13) * 30_000,
            ),
            (EventKind::CustomerMessage, "c", 3_600_000),
        ];
        for (i, (kind, who, after)) in kinds.into_iter().enumerate() {
            events.push(Event {
                id: format!("{}", 10_000_000 + p * 10 + i),
                guild_id: guild.clone(),
                place: format!("place-{p}"),
                author_id: format!("{who}{}", p % 5),
                at: at + after,
                kind,
            });
        }
    }
    events
}

/// What the rollups hold, table by table, as one text per table.
async fn rollups_digest(url: &str) -> Vec<(String, String)> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let mut out = Vec::new();
    for table in [
        "kpi_conversations",
        "kpi_messages",
        "kpi_requests",
        "kpi_conv_agents",
        "kpi_surveys",
        "kpi_irregular",
        "kpi_days",
        "kpi_delay_blocks",
        "kpi_dirty_places",
        "kpi_dirty_days",
    ] {
        let (rows, digest): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        out.push((table.to_string(), format!("{rows} rows, {digest}")));
    }
    let _ = conn.close().await;
    out
}

/// Two refreshes at once (two processes, each with its own pool) derive each dirty place
/// once between them, and leave the rollups one refresh leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn two_processes_refreshing_at_once_share_the_marks_and_sum_up_the_same() {
    const PLACES: usize = 2_400;
    let events = traffic(PLACES);
    let alone = crate::support::db::postgres().await;
    let shared = crate::support::db::postgres().await;
    for db in [&alone, &shared] {
        let desk = Desk::new(db.store.clone());
        for chunk in events.chunks(2_000) {
            desk.ingest(chunk).await.unwrap();
        }
    }
    let one = Desk::new(alone.store.clone())
        .refresh(None, &|_| {})
        .await
        .unwrap();
    assert_eq!(one.places_derived, PLACES as u64);

    let first = Desk::new(reactif::store::open(&shared.url).await.unwrap());
    let second = Desk::new(reactif::store::open(&shared.url).await.unwrap());
    let (a, b) = tokio::join!(first.refresh(None, &|_| {}), second.refresh(None, &|_| {}));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.places_derived + b.places_derived,
        PLACES as u64,
        "each dirty place derived by one process: {a:?} {b:?}"
    );
    assert_eq!(a.places + b.places, PLACES as u64, "{a:?} {b:?}");

    let (expected, got) = (
        rollups_digest(&alone.url).await,
        rollups_digest(&shared.url).await,
    );
    assert_eq!(got, expected);
    assert!(
        expected
            .iter()
            .any(|(t, d)| t == "kpi_days" && !d.starts_with("0 rows")),
        "{expected:?}"
    );
    for (table, digest) in &got {
        if table.starts_with("kpi_dirty") {
            assert!(digest.starts_with("0 rows"), "{table}: {digest}");
        }
    }
    first.store().close().await;
    second.store().close().await;
    alone.cleanup().await;
    shared.cleanup().await;
}
