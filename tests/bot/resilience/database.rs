//! The database goes away while messages arrive: a SQLite file locked by another process, a
//! PostgreSQL server that cannot be reached.

use crate::harness::*;
use crate::steps::*;
use crate::support;
use fake_discord::*;
use reactif::clock::SystemClock;
use reactif::desk::Desk;
use reactif::domain::EventKind;
use std::sync::Arc;
use std::time::Duration;

/// Carla's DMs and the relays they caused, counted once the database is back: every message
/// stored once and relayed once.
async fn assert_each_stored_and_relayed_once(bot: &TestBot, thread: u64, texts: &[String]) {
    let what = format!("{} messages stored and relayed", texts.len() + 1);
    eventually(&what, Duration::from_secs(40), move || async move {
        let stored = bot
            .events(&dm_key())
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::CustomerMessage)
            .count();
        let relayed = texts.iter().all(|t| shown(&bot.fake, thread, t) >= 1);
        (stored > texts.len() && relayed).then_some(())
    })
    .await;
    // Every message handled and everything it queued sent: a second copy would show now.
    bot.wait_handled(ids::CARLA_DM).await;
    bot.wait_outbox_empty().await;
    for t in texts {
        assert_eq!(shown(&bot.fake, thread, t), 1, "{t} relayed once");
    }
    let events = bot.events(&dm_key()).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::CustomerMessage)
            .count(),
        texts.len() + 1
    );
}

/// Every request the bot made with `text` in its content came at or after request `mark`.
fn assert_none_sent_before(fake: &FakeDiscord, mark: usize, text: &str) {
    let early: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.seq < mark && r.content().is_some_and(|c| c.contains(text)))
        .map(|r| format!("{} {} {:?}", r.method, r.path, r.content()))
        .collect();
    assert!(
        early.is_empty(),
        "sent before it could be stored: {early:#?}"
    );
}

/// Carla writes each text in DM (a few milliseconds apart, so that they are in order).
async fn carla_sends(bot: &TestBot, texts: &[String]) {
    for t in texts {
        let msg = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), t, now_ms());
        assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", msg).await, 1);
        a_moment_later().await;
    }
}

/// Another process holds the SQLite file's write lock longer than the bot's busy timeout (10 s):
/// the messages that arrive meanwhile wait in memory, are retried, and are all stored and
/// relayed once the lock goes.
#[tokio::test]
async fn messages_wait_while_the_sqlite_file_is_locked() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Before the lock").await;
    let url = bot.db_url().to_string();
    let mut locker = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    let texts: Vec<String> = (1..=3).map(|i| format!("During the lock #{i}")).collect();
    carla_sends(&bot, &texts).await;
    // How long the lock is held (longer than the bot's busy timeout), not a wait for an event.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        shown(&bot.fake, thread, "During the lock"),
        0,
        "nothing relayed before it is stored"
    );
    let released = bot.fake.request_count();
    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    drop(locker);
    assert_each_stored_and_relayed_once(&bot, thread, &texts).await;
    // Over the whole lock, not only at its end: nothing was even tried before it went.
    assert_none_sent_before(&bot.fake, released, "During the lock");
    bot.stop().await;
}

/// PostgreSQL becomes unreachable for several seconds (every connection cut and refused, by a
/// proxy between the bot and the server) while messages arrive: they are all stored and relayed
/// once it answers again.
#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn messages_wait_while_postgres_is_unreachable() {
    let db = support::db::postgres().await;
    let (proxy, through_proxy) = support::tcp_proxy::TcpProxy::before(&db.url).await;
    let bot_store = reactif::store::open(&through_proxy).await.unwrap();
    let bot = spawn_on(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[],
        Arc::new(SystemClock),
        db,
        Desk::new(bot_store),
    )
    .await;
    let (_, thread) = carla_writes(&bot, "Before the outage").await;
    proxy.down().await;
    let texts: Vec<String> = (1..=3).map(|i| format!("During the outage #{i}")).collect();
    carla_sends(&bot, &texts).await;
    // How long the outage lasts (the bot retries after 0.25, 0.5, 1 and 2 s: four tries fail),
    // not a wait for an event.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(shown(&bot.fake, thread, "During the outage"), 0);
    let back = bot.fake.request_count();
    proxy.up();
    assert_each_stored_and_relayed_once(&bot, thread, &texts).await;
    // Over the whole outage, not only at its end: nothing was even tried before it ended.
    assert_none_sent_before(&bot.fake, back, "During the outage");
    bot.stop().await;
}

/// The content of the next reply to a `/stats` by Alex that mentions `needle`.
async fn stats_saying(bot: &TestBot, needle: &str) -> String {
    let n = bot.fake.request_count();
    bot.slash("stats", vec![], ids::ALEX, Place::guild(ids::STAFF))
        .await;
    let reply = bot
        .request(|r| {
            r.seq >= n
                && r.path.starts_with("/webhooks/")
                && r.content().is_some_and(|c| c.contains(needle))
        })
        .await;
    reply.content().unwrap().to_string()
}

/// Fills the SQLite file at `url` up to `limit` pages, as a full disk would, with a table of
/// blobs (big ones first, then small ones to take the last room); returns the connection that
/// holds them, to free the room again.
async fn fill_up(url: &str, limit: i64) -> sqlx::SqliteConnection {
    let mut filler = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA max_page_count = {limit}"
    )))
    .execute(&mut filler)
    .await
    .unwrap();
    sqlx::query("CREATE TABLE filler (b BLOB)")
        .execute(&mut filler)
        .await
        .unwrap();
    for size in [8_000, 1_000, 100, 10] {
        // Each insert takes room until the file is full (SQLITE_FULL).
        while sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO filler VALUES (zeroblob({size}))"
        )))
        .execute(&mut filler)
        .await
        .is_ok()
        {}
    }
    filler
}

/// The SQLite file fills up (its size limit reached, as on a full disk) while Carla writes:
/// her messages wait instead of being skipped, `/stats` tells the agents, and once room is
/// freed every message is stored and relayed exactly once.
#[tokio::test]
async fn messages_wait_while_the_sqlite_file_is_full() {
    use reactif::store::sqlite::SqliteStore;
    let db = support::db::sqlite().await;
    let url = db.url.clone();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    // Room for the start; the test takes the rest.
    let limit = pages + 64;
    let bot_store =
        SqliteStore::connect_with(&url, move |o| o.pragma("max_page_count", limit.to_string()))
            .await
            .unwrap();
    let bot = spawn_on(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[],
        Arc::new(SystemClock),
        db,
        Desk::new(Arc::new(bot_store)),
    )
    .await;
    let (_, thread) = carla_writes(&bot, "Before the disk filled").await;
    bot.wait_outbox_empty().await;
    let mut filler = fill_up(&url, limit).await;
    // Each message is relayed in three pieces: more than a page of the file, so it cannot fit
    // in room left in pages the file already has.
    let long = "x".repeat(5_000);
    let texts: Vec<String> = (1..=3).map(|i| format!("While full #{i}")).collect();
    let sent: Vec<String> = texts.iter().map(|t| format!("{t} {long}")).collect();
    carla_sends(&bot, &sent).await;
    let note = stats_saying(&bot, "waiting for the database").await;
    assert!(
        note.contains("message(s) waiting for the database"),
        "{note}"
    );
    assert_eq!(shown(&bot.fake, thread, "While full"), 0);
    let freed = bot.fake.request_count();
    sqlx::query("DELETE FROM filler")
        .execute(&mut filler)
        .await
        .unwrap();
    drop(filler);
    assert_each_stored_and_relayed_once(&bot, thread, &texts).await;
    assert_none_sent_before(&bot.fake, freed, "While full");
    bot.stop().await;
}
