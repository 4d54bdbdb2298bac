//! Several `reactif run` processes, each with a range of the shards, on one PostgreSQL (issue
//! #19): process A has shards 0-1 of 4 (guilds 0 and 1 of `ids::SHARD_GUILDS`, and every DM,
//! which Discord sends to shard 0), process B shards 2-3 (guilds 2 and 3). The fake Discord
//! sends each guild's events only to the shard that owns it and records every IDENTIFY.
//!
//! Each guild `i` has a customer who writes in DM and whose only team is guild `i` (Carla for
//! guild 0, `CUSTOMERS[i]` for the others), so the DM's ticket is in guild `i`'s staff channel
//! (a DM of B's guilds arrives at A, the ticket's thread then speaks to B), and Otto, who
//! writes in guild `i`'s watched #support. Exactly once is counted at the fake: what Discord
//! shows, and the requests that reached it.

use crate::harness::*;
use crate::support;
use fake_discord::ids::{GuildIds, SHARD_GUILDS};
use fake_discord::*;
use reactif::desk::Desk;
use reactif::domain::{EventKind, GuildRules};
use reactif::store::{DiscordSetup, WatchKind, WatchedChannel};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// The customers who write in DM, by guild: each is a member of that guild only.
const CUSTOMERS: [u64; 4] = [
    ids::CARLA,
    1191169500000000001,
    1191169500000000002,
    1191169500000000003,
];
/// Four shards, an IDENTIFY takes 5 s of its bucket: starting the cluster takes 15 s and more.
const START: Duration = Duration::from_secs(90);
/// Serenity spaces one process's IDENTIFYs by 5 s counted from the previous shard's start, not
/// from its IDENTIFY: a few milliseconds of slack below Discord's 5 s (an IDENTIFY of another
/// process in the same second would still be caught).
const IDENTIFY_INTERVAL_MS: u64 = 4_500;

/// Guild `i` with its members: the staff (Olga, Alex, Ada, the bot), Otto, and the DM customer
/// of that guild only.
fn guild(i: usize) -> Value {
    let mut g = shard_guild(i);
    let staff = [ids::BOT, ids::OLGA, ids::ALEX, ids::ADA, ids::OTTO];
    let members = g["members"].as_array_mut().unwrap();
    members.retain(|m| {
        let id: u64 = m["user"]["id"].as_str().unwrap().parse().unwrap();
        staff.contains(&id)
    });
    members.push(member_json(CUSTOMERS[i], &[]));
    g["member_count"] = json!(members.len());
    g
}

fn fake_config() -> FakeConfig {
    FakeConfig {
        guilds: (0..4).map(guild).collect(),
        echo_bot_events: true,
        shards: 4,
        max_concurrency: 1,
        identify_interval_ms: IDENTIFY_INTERVAL_MS,
        ..FakeConfig::default()
    }
}

/// Guild `g` set up like the default one: #staff for tickets, the agent role, #support watched,
/// a 1 s survey delay.
async fn configure(desk: &Desk, g: &GuildIds) {
    let guild = g.guild.to_string();
    let setup = DiscordSetup {
        staff_channel_id: Some(g.staff.to_string()),
        alert_channel_id: Some(g.alerts.to_string()),
        show_agent_names: false,
        transcripts: false,
        agent_roles: vec![ids::AGENT_ROLE.to_string()],
        watched: vec![WatchedChannel {
            channel_id: g.support.to_string(),
            kind: WatchKind::Text,
        }],
    };
    desk.store()
        .save_discord_setup(&guild, &setup)
        .await
        .unwrap();
    let rules = GuildRules {
        survey_delay_ms: 1_000,
        ..GuildRules::default()
    };
    desk.store().save_guild_rules(&guild, &rules).await.unwrap();
}

/// The fake, one PostgreSQL database with the four guilds set up, and the processes' logs.
struct Cluster {
    fake: FakeDiscord,
    db: support::db::TestDb,
    desk: Desk,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn new() -> Cluster {
        init_tracing();
        let fake = FakeDiscord::start_with(fake_config()).await;
        for &c in &CUSTOMERS[1..] {
            fake.add_user(user_json(c));
        }
        let db = support::db::postgres().await;
        let desk = Desk::new(db.store.clone());
        for g in &SHARD_GUILDS {
            configure(&desk, g).await;
        }
        Cluster {
            fake,
            db,
            desk,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// Process A (shards 0-1 of 4) or B (2-3).
    fn start(&self, name: &str) -> BotProcess {
        let shards = if name == "a" { 0..=1 } else { 2..=3 };
        BotProcess::start_shards(&self.fake, &self.db.url, &self.log(name), shards, 4)
    }

    /// A process's log without its colours (tracing writes ANSI escapes around field names).
    fn log_text(&self, name: &str) -> String {
        let raw = std::fs::read_to_string(self.log(name)).unwrap_or_default();
        let mut plain = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(ch) = chars.next() {
            if ch == '\u{1b}' {
                // `ESC [ ... m`: skip to the `m`.
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                plain.push(ch);
            }
        }
        plain
    }

    /// [`eventually`] for [`START`], failing with the processes' logs and the requests made.
    async fn eventually<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + START;
        loop {
            if let Some(found) = check().await {
                return found;
            }
            if tokio::time::Instant::now() >= deadline {
                let made: Vec<String> = self
                    .fake
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} {} {:?}", r.method, r.path, r.status, r.content()))
                    .collect();
                panic!(
                    "waited {START:?} for {what}; made: {made:#?}\nlogs:\n{}",
                    self.logs()
                );
            }
            // The database and the logs tell nobody when they change: read them again soon.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn logs(&self) -> String {
        ["a", "b"]
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(self.log(n)).unwrap_or_default();
                format!("--- process {n} ---\n{text}")
            })
            .collect()
    }

    /// Waits until `shards` have IDENTIFYed after IDENTIFY number `since`, and `processes` more
    /// processes registered their commands after request `requests_before` (poise's setup has
    /// run: from then on events are handled).
    async fn wait_up(
        &self,
        shards: &[u64],
        since: usize,
        requests_before: usize,
        processes: usize,
    ) {
        let identified = self.fake.wait_shards_identified(shards, since, START).await;
        assert!(
            identified.is_some(),
            "shards {shards:?} identified; logs:\n{}",
            self.logs()
        );
        let registered = self
            .fake
            .wait_for_requests(
                |r| r.seq >= requests_before && r.is("PUT", "/applications/*/commands"),
                processes,
                START,
            )
            .await;
        assert!(
            registered.len() >= processes,
            "commands registered; logs:\n{}",
            self.logs()
        );
    }

    /// The first request (made or coming) satisfying `pred`, or the test fails with the logs.
    async fn request(
        &self,
        what: &str,
        pred: impl Fn(&RecordedRequest) -> bool,
    ) -> RecordedRequest {
        let found = self.fake.wait_for_request(pred, START).await;
        found.unwrap_or_else(|| {
            let made: Vec<String> = self
                .fake
                .requests()
                .iter()
                .map(|r| format!("{} {} {} {:?}", r.method, r.path, r.status, r.content()))
                .collect();
            panic!("{what}: not made; made: {made:#?}\nlogs:\n{}", self.logs())
        })
    }

    /// The customer of guild `i` writes in DM; returns the ticket thread it was relayed to.
    async fn customer_writes(&self, i: usize, text: &str) -> u64 {
        let dm = self.fake.dm_channel_id(CUSTOMERS[i]);
        let msg = message_create(CUSTOMERS[i], Place::dm(dm), text, now_ms());
        assert_eq!(
            self.fake.dispatch("MESSAGE_CREATE", msg).await,
            1,
            "shard 0 is up"
        );
        let relayed = self
            .request(&format!("the relay of {text:?}"), |r| {
                r.is("POST", "/channels/*/messages")
                    && r.status == 200
                    && r.content().is_some_and(|c| c.contains(text))
            })
            .await;
        relayed.segment_id(1).unwrap()
    }

    /// Alex writes in `channel` of guild `i` (a ticket thread or #support), replying to
    /// `to` if given; returns how many sockets the event reached.
    async fn alex_writes(&self, i: usize, channel: u64, text: &str, to: Option<&Value>) -> usize {
        let g = SHARD_GUILDS[i].guild;
        let place = Place::Guild {
            guild_id: g,
            channel_id: channel,
        };
        let mut msg = message_create(ids::ALEX, place, text, now_ms());
        if let Some(to) = to {
            msg["message_reference"] = json!({
                "message_id": to["id"],
                "channel_id": channel.to_string(),
                "guild_id": g.to_string(),
            });
            msg["referenced_message"] = to.clone();
            msg["type"] = json!(19);
        }
        self.fake.dispatch("MESSAGE_CREATE", msg).await
    }

    /// Otto writes in guild `i`'s #support; returns the message and the sockets it reached.
    async fn otto_writes(&self, i: usize, text: &str) -> (Value, usize) {
        let g = &SHARD_GUILDS[i];
        let place = Place::Guild {
            guild_id: g.guild,
            channel_id: g.support,
        };
        let msg = message_create(ids::OTTO, place, text, now_ms());
        let sent = self.fake.dispatch("MESSAGE_CREATE", msg.clone()).await;
        (msg, sent)
    }

    /// Olga closes the ticket of `thread` in guild `i`.
    async fn olga_closes(&self, i: usize, thread: u64) {
        let place = Place::Guild {
            guild_id: SHARD_GUILDS[i].guild,
            channel_id: thread,
        };
        let it = slash_command("close", vec![], ids::OLGA, place);
        let id = it["id"].as_str().unwrap().to_string();
        assert_eq!(self.fake.dispatch("INTERACTION_CREATE", it).await, 1);
        self.request("the /close answer", |r| {
            r.is("POST", "/interactions/*/*/callback") && r.segment(1) == Some(id.as_str())
        })
        .await;
    }

    /// Waits until a survey (a message with `survey:` buttons) is shown in `channel`.
    async fn survey_in(&self, channel: u64) {
        self.request(&format!("a survey in {channel}"), |r| {
            r.is("POST", &format!("/channels/{channel}/messages"))
                && r.status == 200
                && is_survey(&r.custom_ids())
        })
        .await;
    }

    async fn cleanup(self) {
        self.db.cleanup().await;
    }
}

fn is_survey(custom_ids: &[String]) -> bool {
    custom_ids.iter().any(|c| c.starts_with("survey:"))
}

/// How many messages `channel` shows whose content contains `text`.
fn shown(fake: &FakeDiscord, channel: u64, text: &str) -> usize {
    crate::steps::shown(fake, channel, text)
}

/// How many surveys (messages with `survey:` buttons) `channel` shows.
fn surveys_shown(fake: &FakeDiscord, channel: u64) -> usize {
    fake.messages_in(channel)
        .iter()
        .filter(|m| {
            let mut ids = Vec::new();
            for row in m["components"].as_array().into_iter().flatten() {
                for c in row["components"].as_array().into_iter().flatten() {
                    if let Some(id) = c["custom_id"].as_str() {
                        ids.push(id.to_string());
                    }
                }
            }
            is_survey(&ids)
        })
        .count()
}

/// Successful `POST /channels/{channel}/messages` whose content contains `text`.
fn posts(fake: &FakeDiscord, channel: u64, text: &str) -> usize {
    fake.requests_matching("POST", &format!("/channels/{channel}/messages"))
        .iter()
        .filter(|r| r.status == 200 && r.content().is_some_and(|c| c.contains(text)))
        .count()
}

/// The channels whose traffic is guild `i`'s work: its staff channel, #support, and the
/// ticket thread and DM of its customer.
fn channels_of(fake: &FakeDiscord, i: usize, thread: u64) -> Vec<u64> {
    let g = &SHARD_GUILDS[i];
    vec![
        g.staff,
        g.support,
        g.alerts,
        thread,
        fake.dm_channel_id(CUSTOMERS[i]),
    ]
}

/// Two processes serve the four guilds and the DMs: every relay, survey and close happens
/// exactly once, whichever process owns it; their IDENTIFYs never overlap.
#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn two_processes_relay_survey_and_close_each_conversation_once() {
    let c = Cluster::new().await;
    let a = c.start("a");
    let b = c.start("b");
    c.wait_up(&[0, 1, 2, 3], 0, 0, 1).await;

    let mut threads = Vec::new();
    for i in 0..4 {
        threads.push(c.customer_writes(i, &format!("question {i}")).await);
    }
    for (i, &thread) in threads.iter().enumerate() {
        assert_eq!(
            c.fake.channel(thread).and_then(|t| id_of(&t["parent_id"])),
            Some(SHARD_GUILDS[i].staff),
            "the ticket of guild {i}'s customer is in guild {i}"
        );
        assert_eq!(
            c.alex_writes(i, thread, &format!("answer {i}"), None).await,
            1
        );
        let (asked, sent) = c.otto_writes(i, &format!("otto asks {i}")).await;
        assert_eq!(sent, 1);
        assert_eq!(
            c.alex_writes(
                i,
                SHARD_GUILDS[i].support,
                &format!("otto answered {i}"),
                Some(&asked)
            )
            .await,
            1
        );
    }
    for (i, &thread) in threads.iter().enumerate() {
        let dm = c.fake.dm_channel_id(CUSTOMERS[i]);
        let answer = format!("answer {i}");
        c.request(&format!("the relay of {answer:?}"), |r| {
            r.is("POST", &format!("/channels/{dm}/messages"))
                && r.status == 200
                && r.content().is_some_and(|t| t.contains(&answer))
        })
        .await;
        c.survey_in(dm).await;
        c.survey_in(SHARD_GUILDS[i].support).await;
        c.olga_closes(i, thread).await;
        c.request(&format!("guild {i}'s customer told of the close"), |r| {
            r.is("POST", &format!("/channels/{dm}/messages"))
                && r.status == 200
                && r.content().is_some_and(|t| t.contains("closed"))
        })
        .await;
    }
    // Everything queued went out: a second copy would be there now.
    wait_outbox_empty(c.desk.store(), START).await;
    for (i, &thread) in threads.iter().enumerate() {
        let g = &SHARD_GUILDS[i];
        let dm = c.fake.dm_channel_id(CUSTOMERS[i]);
        let question = format!("question {i}");
        let answer = format!("answer {i}");
        assert_eq!(
            shown(&c.fake, thread, &question),
            1,
            "guild {i}\n{}",
            c.logs()
        );
        assert_eq!(posts(&c.fake, thread, &question), 1, "guild {i}");
        assert_eq!(shown(&c.fake, dm, &answer), 1, "guild {i}");
        assert_eq!(posts(&c.fake, dm, &answer), 1, "guild {i}");
        assert_eq!(surveys_shown(&c.fake, dm), 1, "guild {i}");
        assert_eq!(surveys_shown(&c.fake, g.support), 1, "guild {i}");
        assert_eq!(shown(&c.fake, dm, "closed"), 1, "guild {i}");
        assert_eq!(
            c.fake
                .requests_matching("POST", &format!("/channels/{}/threads", g.staff))
                .len(),
            1,
            "one ticket thread in guild {i}"
        );
        let key = format!("dm-{dm}");
        let events = c
            .desk
            .store()
            .place_events(&g.guild.to_string(), &key)
            .await
            .unwrap();
        let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count();
        assert_eq!(
            count(EventKind::CustomerMessage),
            1,
            "guild {i}: {events:?}"
        );
        assert_eq!(count(EventKind::AgentMessage), 1, "guild {i}");
        assert_eq!(count(EventKind::Close), 1, "guild {i}");
    }
    assert_eq!(c.fake.identify_overlaps(), [], "IDENTIFYs overlapped");
    a.stop(&c.log("a")).await;
    b.stop(&c.log("b")).await;
    c.cleanup().await;
}

/// Process B is killed (SIGKILL) with a survey of its guild 3 refused by Discord and waiting to
/// be retried. While it is down, A keeps serving its guilds and DMs and sends nothing of guilds
/// 2 and 3; B restarted with the same shards sends the survey once and reads back what its
/// guilds said meanwhile; nothing is lost or doubled.
#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn a_killed_process_leaves_its_work_to_its_restart() {
    let c = Cluster::new().await;
    let a = c.start("a");
    let b = c.start("b");
    c.wait_up(&[0, 1, 2, 3], 0, 0, 1).await;

    // Conversations in both halves: Carla's ticket (guild 0, A), the ticket of guild 2's
    // customer (B's guild), Otto in guild 2's #support (so B has read there).
    let carla_thread = c.customer_writes(0, "carla before").await;
    let thread_2 = c.customer_writes(2, "question 2").await;
    let (_, sent) = c.otto_writes(2, "otto in 2 before").await;
    assert_eq!(sent, 1);
    let support_2 = SHARD_GUILDS[2].support;
    wait_handled(&c.fake, c.desk.store(), support_2).await;
    // The customer of guild 2 was told the ticket is open: nothing of that ticket is in flight.
    let dm_2 = c.fake.dm_channel_id(CUSTOMERS[2]);
    c.request("guild 2's customer acknowledged", |r| {
        r.is("POST", &format!("/channels/{dm_2}/messages")) && r.status == 200
    })
    .await;

    // B has taken its IDENTIFY turns and let them go (it logs each shard once its turn, READY
    // and 5 s, is over): the kill below is about the work, not about a turn held by the dead.
    c.eventually("B to finish its IDENTIFY turns", || async {
        c.log_text("b")
            .contains("shard identified shard=3")
            .then_some(())
    })
    .await;

    // Guild 3's survey fails once at Discord, then B dies before its retry.
    let support_3 = SHARD_GUILDS[3].support;
    let path_3 = format!("/channels/{support_3}/messages");
    c.fake.respond_with(
        "POST",
        &path_3,
        1,
        500,
        json!({"message": "Internal Server Error", "code": 0}),
    );
    let (asked, _) = c.otto_writes(3, "otto asks 3").await;
    assert_eq!(
        c.alex_writes(3, support_3, "otto answered 3", Some(&asked))
            .await,
        1
    );
    c.request("guild 3's survey, refused", |r| {
        r.is("POST", &path_3) && r.status == 500
    })
    .await;
    b.kill();
    assert!(
        c.fake
            .wait_until(START, || (c.fake.connected_shards() == [[0, 4], [1, 4]])
                .then_some(()))
            .await
            .is_some(),
        "B's sockets closed"
    );
    let killed_at = c.fake.request_count();

    // B's guilds reach nobody; A serves its own: Carla's answer and survey, Otto's in guild 1.
    let (_, sent) = c.otto_writes(2, "otto in 2 while B is down").await;
    assert_eq!(sent, 0, "shard 2 is down");
    assert_eq!(
        c.alex_writes(0, carla_thread, "carla answered", None).await,
        1
    );
    let (asked, _) = c.otto_writes(1, "otto asks 1").await;
    assert_eq!(
        c.alex_writes(1, SHARD_GUILDS[1].support, "otto answered 1", Some(&asked))
            .await,
        1
    );
    let carla_dm = ids::CARLA_DM;
    c.request("Carla's answer relayed by A", |r| {
        r.is("POST", &format!("/channels/{carla_dm}/messages"))
            && r.status == 200
            && r.content().is_some_and(|t| t.contains("carla answered"))
    })
    .await;
    c.survey_in(carla_dm).await;
    c.survey_in(SHARD_GUILDS[1].support).await;
    let restarted_at = c.fake.request_count();
    let dead: Vec<u64> = [(2, thread_2), (3, 0)]
        .iter()
        .flat_map(|&(i, t)| channels_of(&c.fake, i, t))
        .collect();
    let sent_for_b: Vec<String> = c.fake.requests()[killed_at..restarted_at]
        .iter()
        .filter(|r| {
            r.segment(0) == Some("channels") && r.segment_id(1).is_some_and(|ch| dead.contains(&ch))
        })
        .map(|r| format!("{} {} {:?}", r.method, r.path, r.content()))
        .collect();
    assert_eq!(
        sent_for_b,
        Vec::<String>::new(),
        "A sent work of B's guilds\n{}",
        c.logs()
    );

    // B again, same shards: the survey goes once, Otto's message while down is read back.
    let since = c.fake.identifies().len();
    let b = c.start("b");
    c.wait_up(&[2, 3], since, restarted_at, 0).await;
    c.survey_in(support_3).await;
    let guild_2 = SHARD_GUILDS[2].guild.to_string();
    let otto_place = format!("{support_2}:{}", ids::OTTO);
    let store = c.desk.store();
    c.eventually("Otto's message of guild 2 read back", || {
        let (g, p) = (guild_2.clone(), otto_place.clone());
        async move {
            let events = store.place_events(&g, &p).await.unwrap();
            (events.len() == 2).then_some(())
        }
    })
    .await;

    // The rest of the conversations, across both processes, then everything is counted.
    assert_eq!(c.alex_writes(2, thread_2, "answer 2", None).await, 1);
    c.survey_in(dm_2).await;
    c.olga_closes(0, carla_thread).await;
    c.olga_closes(2, thread_2).await;
    for dm in [carla_dm, dm_2] {
        c.request("the customer told of the close", |r| {
            r.is("POST", &format!("/channels/{dm}/messages"))
                && r.status == 200
                && r.content().is_some_and(|t| t.contains("closed"))
        })
        .await;
    }
    wait_outbox_empty(store, START).await;
    let logs = c.logs();
    assert_eq!(surveys_shown(&c.fake, support_3), 1, "{logs}");
    assert_eq!(surveys_shown(&c.fake, SHARD_GUILDS[1].support), 1);
    assert_eq!(surveys_shown(&c.fake, carla_dm), 1);
    assert_eq!(surveys_shown(&c.fake, dm_2), 1);
    assert_eq!(shown(&c.fake, carla_thread, "carla before"), 1);
    assert_eq!(shown(&c.fake, carla_dm, "carla answered"), 1);
    assert_eq!(shown(&c.fake, thread_2, "question 2"), 1);
    assert_eq!(shown(&c.fake, dm_2, "answer 2"), 1);
    assert_eq!(shown(&c.fake, carla_dm, "closed"), 1);
    assert_eq!(shown(&c.fake, dm_2, "closed"), 1);
    let events = store.place_events(&guild_2, &otto_place).await.unwrap();
    assert_eq!(
        events.len(),
        2,
        "each of Otto's messages in guild 2 stored once: {events:?}"
    );
    assert_eq!(c.fake.identify_overlaps(), [], "IDENTIFYs overlapped");
    a.stop(&c.log("a")).await;
    b.stop(&c.log("b")).await;
    c.cleanup().await;
}

/// Two processes started at the same moment take turns to IDENTIFY (one bucket: Discord
/// allows one IDENTIFY per 5 s), through the database, and each connects only its shards.
#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn identify_calls_of_two_processes_take_turns() {
    let c = Cluster::new().await;
    let a = c.start("a");
    let b = c.start("b");
    c.wait_up(&[0, 1, 2, 3], 0, 0, 1).await;
    let log = c.fake.identifies();
    assert_eq!(
        log.len(),
        4,
        "one IDENTIFY per shard: {log:?}\n{}",
        c.logs()
    );
    let mut shards: Vec<ShardKey> = log.iter().map(|r| r.shard).collect();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 4], [1, 4], [2, 4], [3, 4]]);
    for pair in log.windows(2) {
        let gap = pair[1].at_ms - pair[0].at_ms;
        assert!(
            gap >= IDENTIFY_INTERVAL_MS,
            "IDENTIFYs {gap} ms apart: {log:#?}"
        );
    }
    assert_eq!(c.fake.identify_overlaps(), []);
    a.stop(&c.log("a")).await;
    b.stop(&c.log("b")).await;
    c.cleanup().await;
}

/// SQLite is one process: a shard range that is not the whole is refused at start, with a
/// message that says why, and a non-zero exit; no gateway connection is made.
#[tokio::test]
async fn sqlite_refuses_a_partial_shard_range() {
    init_tracing();
    let fake = FakeDiscord::start_with(fake_config()).await;
    let db = support::db::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bot.log");
    let mut process = BotProcess::start_shards(&fake, &db.url, &log, 0..=1, 4);
    let status = process.exited().await;
    let output = process.log_text();
    assert!(!status.success(), "{output}");
    let lower = output.to_lowercase();
    assert!(lower.contains("sqlite"), "{output}");
    assert!(
        lower.contains("postgres"),
        "says what to use instead: {output}"
    );
    assert!(lower.contains("shard"), "{output}");
    assert_eq!(fake.gateway_stats().connections_total, 0);
    db.cleanup().await;
}
