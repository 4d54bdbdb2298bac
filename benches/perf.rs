//! reactif's performance figures, each next to a baseline measured in the same run:
//!
//! - ingest: events per second through the ingest path (`Desk::ingest`, what `reactif import`
//!   and the bot use) against the simplest batched `INSERT` of the same rows (the ceiling);
//! - end to end: MESSAGE_CREATE events per second from a fake Discord's gateway into a running
//!   `reactif run` process until stored, and that process's peak memory (RSS); then
//!   (`e2e-shards`) the same into one and into two processes of two shards each on PostgreSQL,
//!   their ratio and each process's peak RSS (`perf/shards.rs`);
//! - `/stats`: p50 and p95 latency of the full report for 7, 30 and 90 days, for a guild and for
//!   an agent, over a large store, against the time to read the raw rows such a report covers;
//! - `reactif demo`'s run time;
//! - `/engagement`: p50 and p95 of the engagement report over 90 days of a large guild, next to
//!   the time to read its raw rows (`perf/engagement.rs`);
//! - live: the time to handle one message of a DM channel with 10, 1,000 and 100,000 earlier
//!   events, and its ratio to the first (`perf/live.rs`);
//! - the dashboard: p95 of the overview page of 90 days on the largest guild, server-side (the
//!   whole request through the router: session, access check, report, HTML), against 100 ms.
//!
//! It prints figures; it asserts nothing (targets are read, not enforced). Run it with
//! `cargo bench --bench perf -- --help`.

use reactif::desk::Desk;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::{Event, EventKind, Millis, Rating, DAY, HOUR, MINUTE, SECOND};
use reactif::store;
use std::time::{Duration, Instant};

#[path = "perf/engagement.rs"]
mod engagement;
#[path = "perf/live.rs"]
mod live;
#[path = "perf/shards.rs"]
mod shards;

struct Options {
    backends: Vec<String>,
    pg_url: String,
    ingest_messages: u64,
    store_messages: u64,
    big_guild_requests: u64,
    guilds: u64,
    e2e_messages: u64,
    e2e_ahead: u64,
    samples: usize,
    baseline_samples: usize,
    parts: Vec<String>,
    keep: bool,
    eng_posts: u64,
    eng_reactions: u64,
    eng_days: i64,
}

const HELP: &str = "reactif benchmark: prints figures with their ratio to a baseline of the same run.

cargo bench --bench perf -- [options]
  --backend sqlite|postgres|both   (default both when REACTIF_TEST_POSTGRES_URL is set, else sqlite)
  --pg-url URL                     admin URL of a PostgreSQL server (default $REACTIF_TEST_POSTGRES_URL);
                                   the benchmark creates and drops its own databases there
  --parts ingest,e2e,e2e-shards,stats,demo,engagement,live,dashboard
                                   which parts to run (default all; e2e-shards needs PostgreSQL:
                                   1 process with shards 0-3 of 4, then 2 with 0-1 and 2-3;
                                   dashboard times the overview page on the /stats store)
  --ingest-messages N              sizes the ingest part: N/10 conversations of 5 requests, about
                                   1.25 x N messages (default 1000000)
  --store-messages N               sizes the /stats store the same way (default 10000000)
  --big-guild-requests N           requests of the largest guild (default 1000000)
  --guilds N                       guilds in the /stats store (default 1000)
  --e2e-messages N                 gateway messages for the end-to-end part (default 20000)
  --e2e-ahead N                    how far the gateway may run ahead of what is stored (default 1000)
  --samples N                      reports per figure for p50/p95 (default 20)
  --baseline-samples N             replays from raw rows per figure (default 1: each takes seconds;
                                   0 skips the baseline, to time the reports alone)
  --eng-posts N                    posts of the /engagement guild (default 100000)
  --eng-reactions N                its reaction events (default 10000000)
  --eng-days N                     the days its posts are spread over, up to now (default 90: the
                                   report's window; 180 fills the previous window too)
  --keep                           keeps the /stats and /engagement stores for the next run with the same sizes
                                   (SQLite under target/, PostgreSQL as database reactif_bench_keep_*)
";

fn parse_options() -> Options {
    let pg = std::env::var("REACTIF_TEST_POSTGRES_URL").ok();
    let mut o = Options {
        backends: if pg.is_some() {
            vec!["sqlite".into(), "postgres".into()]
        } else {
            vec!["sqlite".into()]
        },
        pg_url: pg.unwrap_or_default(),
        ingest_messages: 1_000_000,
        store_messages: 10_000_000,
        big_guild_requests: 1_000_000,
        guilds: 1_000,
        e2e_messages: 20_000,
        e2e_ahead: 1_000,
        samples: 20,
        baseline_samples: 1,
        parts: vec![
            "ingest".into(),
            "e2e".into(),
            "e2e-shards".into(),
            "stats".into(),
            "demo".into(),
            "engagement".into(),
            "live".into(),
            "dashboard".into(),
        ],
        keep: false,
        eng_posts: 100_000,
        eng_reactions: 10_000_000,
        eng_days: 90,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let number = |v: Option<&String>, name: &str| -> u64 {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a whole number, e.g. {name} 1000000"))
    };
    while i < args.len() {
        let v = args.get(i + 1);
        match args[i].as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--bench" => {
                i += 1;
                continue;
            }
            "--keep" => {
                o.keep = true;
                i += 1;
                continue;
            }
            "--backend" => {
                o.backends = match v.map(String::as_str) {
                    Some("both") => vec!["sqlite".into(), "postgres".into()],
                    Some(b @ ("sqlite" | "postgres")) => vec![b.to_string()],
                    _ => panic!("--backend is sqlite, postgres or both"),
                }
            }
            "--pg-url" => o.pg_url = v.cloned().expect("--pg-url needs a URL"),
            "--parts" => {
                o.parts = v
                    .expect("--parts needs a list, e.g. ingest,stats")
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--ingest-messages" => o.ingest_messages = number(v, "--ingest-messages"),
            "--store-messages" => o.store_messages = number(v, "--store-messages"),
            "--big-guild-requests" => o.big_guild_requests = number(v, "--big-guild-requests"),
            "--guilds" => o.guilds = number(v, "--guilds").max(1),
            "--e2e-messages" => o.e2e_messages = number(v, "--e2e-messages"),
            "--e2e-ahead" => o.e2e_ahead = number(v, "--e2e-ahead"),
            "--eng-posts" => o.eng_posts = number(v, "--eng-posts").max(1),
            "--eng-reactions" => o.eng_reactions = number(v, "--eng-reactions"),
            "--eng-days" => o.eng_days = number(v, "--eng-days").max(1) as i64,
            "--samples" => o.samples = number(v, "--samples").max(1) as usize,
            "--baseline-samples" => o.baseline_samples = number(v, "--baseline-samples") as usize,
            other => panic!("unknown option {other}; see --help"),
        }
        i += 2;
    }
    if o.backends.iter().any(|b| b == "postgres") && o.pg_url.is_empty() {
        panic!("PostgreSQL needs --pg-url or REACTIF_TEST_POSTGRES_URL");
    }
    o
}

/// A kept database named `name` on `backend` (SQLite under target/), created if missing.
async fn kept_store(backend: &str, o: &Options, name: &str) -> (String, Option<tempfile::TempDir>) {
    if backend == "sqlite" {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(format!("{name}.db"));
        return (format!("sqlite://{}", path.display()), None);
    }
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(&o.pg_url)
        .await
        .expect("PostgreSQL answers");
    let _ = admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await;
    let base = o.pg_url.split('?').next().unwrap_or(&o.pg_url);
    let i = base.rfind('/').unwrap();
    (format!("{}/{name}", &base[..i]), None)
}

/// A fresh database on `backend`, and what to drop afterwards.
async fn fresh(backend: &str, o: &Options, name: &str) -> (String, Option<tempfile::TempDir>) {
    if backend == "sqlite" {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.db")).display()
        );
        return (url, Some(dir));
    }
    use sqlx::{Connection, Executor};
    let db = format!("reactif_bench_{name}_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&o.pg_url)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
        )))
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await
        .unwrap();
    let base = o.pg_url.split('?').next().unwrap_or(&o.pg_url);
    let i = base.rfind('/').unwrap();
    (format!("{}/{db}", &base[..i]), None)
}

async fn drop_pg(url: &str, o: &Options) {
    if !url.starts_with("postgres") {
        return;
    }
    use sqlx::{Connection, Executor};
    let db = url.rsplit('/').next().unwrap_or_default().to_string();
    if let Ok(mut admin) = sqlx::PgConnection::connect(&o.pg_url).await {
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
            )))
            .await;
    }
}

/// The end of the generated history: every report is evaluated here.
const NOW: Millis = 1_793_000_000_000; // 2026-10-26
const SPAN: Millis = 180 * DAY;

/// Synthetic support traffic: conversation `c` of guild `g` holds `requests` requests, each a
/// customer message or two and an agent's answer a few minutes to a few hours later; one survey
/// after the last answer, rated about half the time. Ids are snowflakes of the event times.
struct Traffic {
    seq: u64,
    rng: u64,
}

impl Traffic {
    fn new() -> Traffic {
        Traffic {
            seq: 0,
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*: reproducible, fast, no dependency on the generator's version.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn id(&mut self, at: Millis) -> String {
        self.seq += 1;
        ((((at - reactif::domain::DISCORD_EPOCH_MS) as u64) << 22) | (self.seq & 0x3f_ffff))
            .to_string()
    }

    /// Appends one conversation's events to `out`; returns how many were messages.
    fn conversation(
        &mut self,
        guild: u64,
        index: u64,
        requests: u64,
        agents: u64,
        out: &mut Vec<Event>,
    ) -> u64 {
        let guild_id = format!("{}", 1_300_000_000_000_000_000u64 + guild);
        let conversation = format!("c{index}");
        let customer = format!("{}", 1_400_000_000_000_000_000u64 + index);
        let mut at = NOW - SPAN + self.below(SPAN as u64 - 2 * DAY as u64) as Millis;
        let mut messages = 0;
        let mut last_answer = None;
        let mut agent = String::new();
        for _ in 0..requests {
            let burst = 1 + self.below(2);
            for _ in 0..burst {
                let id = self.id(at);
                out.push(event(
                    id,
                    &guild_id,
                    &conversation,
                    &customer,
                    at,
                    EventKind::CustomerMessage,
                ));
                messages += 1;
                at += SECOND + self.below(60_000) as Millis;
            }
            // Mostly minutes, sometimes hours.
            let delay = if self.below(10) == 0 {
                HOUR + self.below(6 * HOUR as u64) as Millis
            } else {
                20 * SECOND + self.below(15 * MINUTE as u64) as Millis
            };
            at += delay;
            agent = format!(
                "{}",
                1_500_000_000_000_000_000u64 + guild * 100 + self.below(agents)
            );
            let id = self.id(at);
            last_answer = Some(id.clone());
            out.push(event(
                id,
                &guild_id,
                &conversation,
                &agent,
                at,
                EventKind::AgentMessage,
            ));
            messages += 1;
            at += MINUTE + self.below(20 * MINUTE as u64) as Millis;
        }
        if let Some(answer) = last_answer {
            let sent = at;
            let survey_id = answer.clone();
            let id = self.id(sent);
            out.push(event(
                id,
                &guild_id,
                &conversation,
                "1100000000000000001",
                sent,
                EventKind::SurveySent {
                    survey_id: survey_id.clone(),
                    answer_message_id: answer,
                },
            ));
            if self.below(2) == 0 {
                let rated = sent + MINUTE + self.below(HOUR as u64) as Millis;
                let rating = Rating::parse(1 + self.below(5) as i64).expect("1 to 5");
                let id = self.id(rated);
                out.push(event(
                    id,
                    &guild_id,
                    &conversation,
                    &customer,
                    rated,
                    EventKind::Rating { survey_id, rating },
                ));
            }
        }
        let _ = agent;
        messages
    }
}

fn event(
    id: String,
    guild: &str,
    conversation: &str,
    author: &str,
    at: Millis,
    kind: EventKind,
) -> Event {
    Event {
        id,
        guild_id: guild.to_string(),
        place: conversation.to_string(),
        author_id: author.to_string(),
        at,
        kind,
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Ingest through the ingest path, then the same rows with plain multi-row INSERTs.
async fn bench_ingest(backend: &str, o: &Options) {
    let (url, _dir) = fresh(backend, o, "ingest").await;
    let store = store::open(&url).await.expect("the database opens");
    let desk = Desk::new(store.clone());
    // 1M messages over 100k conversations: 5 requests of ~2 messages each.
    let conversations = (o.ingest_messages / 10).max(1);
    let mut traffic = Traffic::new();
    let mut batches: Vec<Vec<Event>> = Vec::new();
    let mut batch = Vec::new();
    let mut messages = 0;
    for c in 0..conversations {
        messages += traffic.conversation(c % 100, c, 5, 10, &mut batch);
        if batch.len() >= 5_000 {
            batches.push(std::mem::take(&mut batch));
        }
    }
    batches.push(batch);
    let events: u64 = batches.iter().map(|b| b.len() as u64).sum();

    let started = Instant::now();
    for b in &batches {
        desk.ingest(b).await.expect("ingest");
    }
    let stored = started.elapsed();
    // What `reactif import` does next, and the bot every second: sum the events up for reports.
    let summed = desk.refresh(None, &|_| {}).await.expect("refresh");
    let ours = started.elapsed();

    // The ceiling: the same rows, same table shape and unique id, plain batched INSERT.
    let ceiling = ceiling_insert(&url, &batches).await;
    println!(
        "[{backend}] ingest: {events} events ({messages} messages, {conversations} conversations): \
         {:.0} events/s through the ingest path with its rollups ({:.0} events/s storing the events, \
         then {:.1} s summing up {} places and {} days), {:.0} events/s with plain batched INSERT; \
         ratio {:.2} ({:.2} without the rollups)",
        rate(events, ours),
        rate(events, stored),
        (ours - stored).as_secs_f64(),
        summed.places,
        summed.days,
        rate(events, ceiling),
        ceiling.as_secs_f64() / ours.as_secs_f64(),
        ceiling.as_secs_f64() / stored.as_secs_f64()
    );
    store.close().await;
    drop_pg(&url, o).await;
}

async fn ceiling_insert(url: &str, batches: &[Vec<Event>]) -> Duration {
    const COLUMNS: &str = "id, guild_id, conversation, kind, author_id, at_ms, survey_id, rating, answer_message_id, body";
    let create = "CREATE TABLE ceiling_events (seq BIGINT, id TEXT NOT NULL UNIQUE, guild_id TEXT NOT NULL, \
        conversation TEXT NOT NULL, kind TEXT NOT NULL, author_id TEXT NOT NULL, at_ms BIGINT NOT NULL, \
        survey_id TEXT, rating INTEGER, answer_message_id TEXT, body TEXT)";
    let index = "CREATE INDEX ceiling_place ON ceiling_events (guild_id, conversation)";
    let index2 = "CREATE INDEX ceiling_time ON ceiling_events (guild_id, at_ms)";
    macro_rules! run {
        ($pool:expr, $db:ty) => {{
            let pool = $pool;
            for sql in [create, index, index2] {
                sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .expect("ceiling table");
            }
            let started = Instant::now();
            for b in batches {
                let mut tx = pool.begin().await.unwrap();
                for chunk in b.chunks(1000) {
                    let mut qb: sqlx::QueryBuilder<$db> =
                        sqlx::QueryBuilder::new(format!("INSERT INTO ceiling_events ({COLUMNS}) "));
                    qb.push_values(chunk, |mut row, e| {
                        let (survey, rating, answer) = match &e.kind {
                            EventKind::SurveySent {
                                survey_id,
                                answer_message_id,
                            } => (
                                Some(survey_id.clone()),
                                None,
                                Some(answer_message_id.clone()),
                            ),
                            EventKind::Rating { survey_id, rating } => {
                                (Some(survey_id.clone()), Some(rating.get() as i32), None)
                            }
                            _ => (None, None, None),
                        };
                        row.push_bind(e.id.clone())
                            .push_bind(e.guild_id.clone())
                            .push_bind(e.place.clone())
                            .push_bind(e.kind.name())
                            .push_bind(e.author_id.clone())
                            .push_bind(e.at)
                            .push_bind(survey)
                            .push_bind(rating)
                            .push_bind(answer)
                            .push_bind(None::<String>);
                    });
                    qb.build().execute(&mut *tx).await.unwrap();
                }
                tx.commit().await.unwrap();
            }
            let took = started.elapsed();
            pool.close().await;
            took
        }};
    }
    if url.starts_with("sqlite") {
        use std::str::FromStr;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .unwrap()
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            // The store's own settings, so that the ceiling is the same database's.
            .pragma(
                "wal_autocheckpoint",
                reactif::store::sqlite::WAL_AUTOCHECKPOINT,
            );
        run!(
            sqlx::SqlitePool::connect_with(options).await.unwrap(),
            sqlx::Sqlite
        )
    } else {
        run!(sqlx::PgPool::connect(url).await.unwrap(), sqlx::Postgres)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Fills a store with `store_messages` messages across `guilds` guilds, the first one holding
/// `big_guild_requests` requests, then times full reports against reading their raw rows.
async fn bench_stats(backend: &str, o: &Options) {
    let big_conversations = (o.big_guild_requests / 5).max(1);
    let total_conversations = (o.store_messages / 10).max(big_conversations + 1);
    let kept = format!(
        "reactif_bench_keep_{}_{}_{}",
        o.store_messages, o.big_guild_requests, o.guilds
    );
    let (url, _dir) = if o.keep {
        kept_store(backend, o, &kept).await
    } else {
        fresh(backend, o, "stats").await
    };
    let store = store::open(&url).await.expect("the database opens");
    let desk = Desk::new(store.clone());
    let guild = format!("{}", 1_300_000_000_000_000_000u64);
    // The largest guild sets every service-level target, so that its reports compute them
    // (on a kept store made without them, its facts are derived again once).
    let mut rules = store.guild_rules(&guild).await.expect("rules");
    rules.sla.first_response = Some(3_600_000);
    rules.sla.next_response = Some(4 * 3_600_000);
    rules.sla.resolution = Some(24 * 3_600_000);
    store
        .save_guild_rules(&guild, &rules)
        .await
        .expect("save rules");
    let reuse = o.keep && store.count_events(None).await.expect("count") > 0;
    let mut traffic = Traffic::new();
    let mut batch = Vec::with_capacity(6_000);
    let started = Instant::now();
    let (mut events, mut messages) = (0u64, 0u64);
    let mut last_print = Instant::now();
    for c in 0..total_conversations {
        if reuse {
            eprintln!("[{backend}] reusing the kept /stats store {url}");
            events = store.count_events(None).await.expect("count");
            break;
        }
        let guild = if c < big_conversations {
            0
        } else {
            1 + c % (o.guilds - 1).max(1)
        };
        let agents = if guild == 0 { 50 } else { 10 };
        messages += traffic.conversation(guild, c, 5, agents, &mut batch);
        if batch.len() >= 5_000 {
            events += batch.len() as u64;
            desk.ingest(&batch).await.expect("ingest");
            batch.clear();
            if last_print.elapsed() > Duration::from_secs(30) {
                last_print = Instant::now();
                eprintln!(
                    "[{backend}] loading the /stats store: {messages} of ~{} messages ({:.0} s)",
                    o.store_messages,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    events += batch.len() as u64;
    if !batch.is_empty() {
        desk.ingest(&batch).await.expect("ingest");
    }
    let loaded = started.elapsed();
    let summing = Instant::now();
    let summed = desk
        .refresh(None, &|s| {
            if s.places % 100_000 < 500 {
                eprintln!(
                    "[{backend}] summing up: {} places, {} days",
                    s.places, s.days
                );
            }
        })
        .await
        .expect("refresh");
    println!(
        "[{backend}] /stats store: {events} events, {messages} messages, {total_conversations} conversations, \
         {total_conversations} surveys, {} guilds; the largest guild has {} requests (stored in {:.0} s, \
         summed up in {:.0} s: {} places, {} days)",
        o.guilds,
        big_conversations * 5,
        loaded.as_secs_f64(),
        summing.elapsed().as_secs_f64(),
        summed.places,
        summed.days
    );
    let agent = format!("{}", 1_500_000_000_000_000_000u64);
    let stats_part = o.parts.iter().any(|p| p == "stats");
    for (who, scope) in [
        (
            "guild",
            Scope {
                guild_id: Some(guild.clone()),
                ..Scope::default()
            },
        ),
        (
            "agent",
            Scope {
                guild_id: Some(guild.clone()),
                agent_id: Some(agent.clone()),
                ..Scope::default()
            },
        ),
    ] {
        for days in [7, 30, 90].into_iter().filter(|_| stats_part) {
            let window = Window::last_days(NOW, days);
            let fast = desk
                .rollup_report(&scope, window)
                .await
                .expect("report")
                .expect("this guild is reported from its rollups");
            let mut report_times = Vec::new();
            for _ in 0..o.samples {
                let t = Instant::now();
                let report = desk.report(&scope, window).await.expect("report");
                report_times.push(t.elapsed());
                std::hint::black_box(report);
            }
            // The baseline: the same report recomputed from the raw rows (every event of the
            // guild up to now, replayed), which must give the same figures.
            let mut raw_times = Vec::new();
            for _ in 0..o.baseline_samples {
                let t = Instant::now();
                let replayed = desk.replay_report(&scope, window).await.expect("replay");
                raw_times.push(t.elapsed());
                assert_eq!(fast, replayed, "rollups and raw rows disagree");
            }
            report_times.sort();
            raw_times.sort();
            if raw_times.is_empty() {
                println!(
                    "[{backend}] /stats {who} {days}d: report p50 {} p95 {}; baseline skipped",
                    ms(percentile(&report_times, 50.0)),
                    ms(percentile(&report_times, 95.0))
                );
                continue;
            }
            let (p50, p95) = (
                percentile(&report_times, 50.0),
                percentile(&report_times, 95.0),
            );
            let (r50, r95) = (percentile(&raw_times, 50.0), percentile(&raw_times, 95.0));
            println!(
                "[{backend}] /stats {who} {days}d: report p50 {} p95 {}; from raw rows p50 {} p95 {} (same figures); \
                 ratio p95 {:.4} ({:.0}x faster)",
                ms(p50),
                ms(p95),
                ms(r50),
                ms(r95),
                p95.as_secs_f64() / r95.as_secs_f64().max(1e-9),
                r95.as_secs_f64() / p95.as_secs_f64().max(1e-9)
            );
        }
    }
    if o.parts.iter().any(|p| p == "dashboard") {
        bench_dashboard(backend, &desk, &guild, o).await;
    }
    store.close().await;
    if !o.keep {
        drop_pg(&url, o).await;
    }
}

/// Lets everyone in as an admin: the benchmark times the dashboard, not Discord.
struct EveryoneAdmin;

#[async_trait::async_trait]
impl reactif::web::Members for EveryoneAdmin {
    async fn member(&self, _: &str, _: &str) -> anyhow::Result<Option<reactif::web::Membership>> {
        Ok(Some(reactif::web::Membership {
            roles: Vec::new(),
            manage_server: true,
        }))
    }
}

/// The overview of 90 days on the largest guild, through the router, p50 and p95.
async fn bench_dashboard(backend: &str, desk: &Desk, guild: &str, o: &Options) {
    use tower::ServiceExt;
    let web = reactif::web::Web::new(
        desk.clone(),
        std::sync::Arc::new(reactif::clock::FixedClock::new(NOW)),
        std::sync::Arc::new(EveryoneAdmin),
        reactif::web::WebSettings::default(),
        None,
    )
    .await
    .expect("the dashboard starts");
    // A kept store holds the sessions of earlier runs: each run has its own.
    let token = format!("bench{:x}", rand::random::<u64>());
    let cookie = format!("reactif_session={token}");
    desk.store()
        .create_session(&reactif::store::WebSession {
            token_hash: reactif::domain::access_link::token_hash(&token),
            user_id: "1".into(),
            home_guild: None,
            created_ms: NOW,
            expires_ms: NOW + DAY,
        })
        .await
        .expect("a session");
    let router = reactif::web::router(web);
    // The baseline: the report alone (what /stats costs), then the delay charts alone (what
    // the page adds to it besides HTML), over the same window.
    let scope = Scope {
        guild_id: Some(guild.to_string()),
        ..Scope::default()
    };
    let window = Window::last_days(NOW, 90);
    let mut report_times = Vec::new();
    let mut chart_times = Vec::new();
    for _ in 0..o.samples.max(1) {
        let t = Instant::now();
        std::hint::black_box(desk.report(&scope, window).await.expect("report"));
        report_times.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(desk.delay_charts(&scope, window).await.expect("charts"));
        chart_times.push(t.elapsed());
    }
    report_times.sort();
    chart_times.sort();
    let mut times = Vec::new();
    for _ in 0..o.samples.max(1) {
        let request = axum::http::Request::get(format!("/g/{guild}?period=90d"))
            .header("cookie", &cookie)
            .body(axum::body::Body::empty())
            .expect("a request");
        let t = Instant::now();
        let response = router.clone().oneshot(request).await.expect("an answer");
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("the page");
        times.push(t.elapsed());
        assert!(body.len() > 1_000, "a whole page");
    }
    times.sort();
    let p95 = percentile(&times, 95.0);
    println!(
        "[{backend}] dashboard overview 90d, largest guild: p50 {} p95 {} (target p95 < 100 ms: {}); \
         baseline: the report alone p50 {} p95 {}, the delay charts alone p50 {} p95 {}; page / report p95 {:.2}",
        ms(percentile(&times, 50.0)),
        ms(p95),
        if p95 < Duration::from_millis(100) { "met" } else { "MISSED" },
        ms(percentile(&report_times, 50.0)),
        ms(percentile(&report_times, 95.0)),
        ms(percentile(&chart_times, 50.0)),
        ms(percentile(&chart_times, 95.0)),
        p95.as_secs_f64() / percentile(&report_times, 95.0).as_secs_f64().max(1e-9)
    );
}

/// MESSAGE_CREATE events from a fake Discord into `reactif run`, until stored.
async fn bench_e2e(o: &Options) {
    use fake_discord::*;
    let fake = FakeDiscord::start_with(FakeConfig::default()).await;
    let (url, _dir) = fresh("sqlite", o, "e2e").await;
    let store = store::open(&url).await.expect("the database opens");
    store
        .save_discord_setup(
            &ids::GUILD.to_string(),
            &store::DiscordSetup {
                staff_channel_id: Some(ids::STAFF.to_string()),
                agent_roles: vec![ids::AGENT_ROLE.to_string()],
                watched: vec![store::WatchedChannel {
                    channel_id: ids::SUPPORT.to_string(),
                    kind: store::WatchKind::Text,
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reactif"))
        .arg("run")
        .env("DISCORD_TOKEN", "fake-token-0123456789abcdefghij")
        .env("DISCORD_API_URL", fake.base_url())
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("reactif run starts");
    assert!(
        fake.wait_identified(Duration::from_secs(30)).await,
        "the bot identified"
    );
    // Commands registered: poise's setup has run, so the bot handles events from now on.
    assert!(
        fake.wait_for_request(
            |r| r.is("PUT", "/applications/*/commands"),
            Duration::from_secs(30)
        )
        .await
        .is_some(),
        "the bot registered its commands"
    );
    let base = store.count_events(None).await.unwrap();
    let n = o.e2e_messages;
    let started = Instant::now();
    let mut peak_kb = 0u64;
    for i in 0..n {
        // 1,000 customers writing in the watched support channel.
        let author = 1_600_000_000_000_000_000u64 + i % 1_000;
        let mut msg = message_create(author, Place::guild(ids::SUPPORT), "help please", now_ms());
        msg["guild_id"] = serde_json::json!(ids::GUILD.to_string());
        fake.dispatch("MESSAGE_CREATE", msg).await;
        if i % 100 == 0 {
            peak_kb = peak_kb.max(rss_peak_kb(child.id()));
            // Never more than `e2e_ahead` messages ahead of the bot: beyond 10,000 waiting it
            // leaves messages to the catch-up, which this fake's history cannot serve.
            while i.saturating_sub(store.count_events(None).await.unwrap() - base) > o.e2e_ahead {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        peak_kb = peak_kb.max(rss_peak_kb(child.id()));
        let stored = store.count_events(None).await.unwrap() - base;
        if stored >= n || Instant::now() > deadline {
            let took = started.elapsed();
            println!(
                "[sqlite] end to end: {stored} of {n} gateway messages stored in {:.1} s: {:.0} messages/s; \
                 bot peak RSS {:.1} MB",
                took.as_secs_f64(),
                rate(stored, took),
                peak_kb as f64 / 1024.0
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    store.close().await;
}

/// The process's peak resident set (VmHWM), in KiB.
fn rss_peak_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn bench_demo() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reactif"))
        .arg("demo")
        .current_dir(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("demo.db").display()),
        )
        .env("RUST_LOG", "error")
        .output()
        .expect("reactif demo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "demo: `reactif demo` ran in {:.2} s (fresh database); target under 5 s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    // RUST_LOG=reactif::desk=debug shows where each report's time goes.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let o = parse_options();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "reactif benchmark on {} ({cpus} cores), backends {:?}",
        std::env::consts::ARCH,
        o.backends
    );
    let part = |p: &str| o.parts.iter().any(|x| x == p);
    if part("demo") {
        bench_demo();
    }
    if part("ingest") {
        for b in &o.backends {
            bench_ingest(b, &o).await;
        }
    }
    if part("e2e") {
        bench_e2e(&o).await;
    }
    if part("e2e-shards") {
        shards::bench_e2e_shards(&o).await;
    }
    if part("stats") || part("dashboard") {
        for b in &o.backends {
            bench_stats(b, &o).await;
        }
    }
    if part("engagement") {
        for b in &o.backends {
            engagement::bench_engagement(b, &o).await;
        }
    }
    if part("live") {
        for b in &o.backends {
            for url in live::bench_live(b, async |name: &str| fresh(b, &o, name).await).await {
                drop_pg(&url, &o).await;
            }
        }
    }
}
