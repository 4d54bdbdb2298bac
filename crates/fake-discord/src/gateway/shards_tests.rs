//! The fake's sharding through real websockets: READY and GUILD_CREATEs per shard, each event
//! to the shard that owns its guild (DMs to shard 0), unsharded clients as before, the
//! IDENTIFY log and its overlap flag, and `GET /gateway/bot`.

use crate::ids::{self, SHARD_GUILDS};
use crate::{message_create, shard_guild, slash_command, FakeConfig, FakeDiscord, Place};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(5);

fn four_guilds(identify_interval_ms: u64, max_concurrency: u64) -> FakeConfig {
    FakeConfig {
        guilds: (0..4).map(shard_guild).collect(),
        shards: 4,
        max_concurrency,
        identify_interval_ms,
        ..FakeConfig::default()
    }
}

/// Connects and IDENTIFYs (as `shard`, or without a shard); returns the socket after HELLO.
async fn identify(fake: &FakeDiscord, shard: Option<[u64; 2]>) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}?v=10", fake.gateway_url()))
        .await
        .unwrap();
    let hello = next_frame(&mut ws).await;
    assert_eq!(hello["op"], 10);
    let mut d = json!({"token": "t", "intents": 0, "properties": {}});
    if let Some(s) = shard {
        d["shard"] = json!(s);
    }
    let frame = json!({"op": 2, "d": d});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    ws
}

async fn next_frame(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// READY and the GUILD_CREATEs that follow: (READY's `d`, the guild ids created).
async fn ready(ws: &mut Ws) -> (Value, Vec<u64>) {
    let ready = next_frame(ws).await;
    assert_eq!(ready["t"], "READY");
    let n = ready["d"]["guilds"].as_array().unwrap().len();
    let mut created = Vec::new();
    for _ in 0..n {
        let f = next_frame(ws).await;
        assert_eq!(f["t"], "GUILD_CREATE");
        created.push(f["d"]["id"].as_str().unwrap().parse().unwrap());
    }
    (ready["d"].clone(), created)
}

/// The `t` and `d.content` (or interaction id) of the next dispatch.
async fn next_event(ws: &mut Ws) -> (String, String) {
    let f = next_frame(ws).await;
    let d = &f["d"];
    let what = d["content"].as_str().or(d["id"].as_str()).unwrap_or("");
    (f["t"].as_str().unwrap().to_string(), what.to_string())
}

fn guild(i: usize) -> u64 {
    SHARD_GUILDS[i].guild
}

#[tokio::test]
async fn each_shard_gets_the_guilds_it_owns_and_dms_go_to_shard_zero() {
    let fake = FakeDiscord::start_with(four_guilds(0, 1)).await;
    let mut s0 = identify(&fake, Some([0, 2])).await;
    let (r0, g0) = ready(&mut s0).await;
    let mut s1 = identify(&fake, Some([1, 2])).await;
    let (r1, g1) = ready(&mut s1).await;
    assert_eq!(r0["shard"], json!([0, 2]));
    assert_eq!(r1["shard"], json!([1, 2]));
    // Guild i is on shard i % 2 of 2.
    assert_eq!(g0, [guild(0), guild(2)]);
    assert_eq!(g1, [guild(1), guild(3)]);
    assert_eq!(r1["guilds"][0]["id"], guild(1).to_string());
    assert_eq!(fake.connected_shards(), [[0, 2], [1, 2]]);

    // A message of guild 3 (its guild_id) goes to shard 1 alone.
    let in_3 = Place::Guild {
        guild_id: guild(3),
        channel_id: SHARD_GUILDS[3].support,
    };
    let msg = message_create(ids::OTTO, in_3, "in guild 3", crate::now_ms());
    assert_eq!(fake.dispatch("MESSAGE_CREATE", msg).await, 1);
    assert_eq!(
        next_event(&mut s1).await,
        ("MESSAGE_CREATE".into(), "in guild 3".into())
    );
    // Without guild_id, the channel tells the guild (guild 2 → shard 0).
    let msg = message_create(
        ids::OTTO,
        Place::dm(SHARD_GUILDS[2].support),
        "by channel",
        crate::now_ms(),
    );
    assert_eq!(fake.dispatch("MESSAGE_CREATE", msg).await, 1);
    assert_eq!(
        next_event(&mut s0).await,
        ("MESSAGE_CREATE".into(), "by channel".into())
    );
    // A DM goes to shard 0.
    let dm = message_create(
        ids::CARLA,
        Place::dm(ids::CARLA_DM),
        "a dm",
        crate::now_ms(),
    );
    assert_eq!(fake.dispatch("MESSAGE_CREATE", dm).await, 1);
    assert_eq!(
        next_event(&mut s0).await,
        ("MESSAGE_CREATE".into(), "a dm".into())
    );
    // Interactions likewise: guild 1's to shard 1, a DM's to shard 0.
    let it = slash_command(
        "stats",
        vec![],
        ids::ALEX,
        Place::Guild {
            guild_id: guild(1),
            channel_id: SHARD_GUILDS[1].staff,
        },
    );
    let id = it["id"].as_str().unwrap().to_string();
    assert_eq!(fake.dispatch("INTERACTION_CREATE", it).await, 1);
    assert_eq!(next_event(&mut s1).await, ("INTERACTION_CREATE".into(), id));
    let it = slash_command("forget-me", vec![], ids::CARLA, Place::dm(ids::CARLA_DM));
    let id = it["id"].as_str().unwrap().to_string();
    assert_eq!(fake.dispatch("INTERACTION_CREATE", it).await, 1);
    assert_eq!(next_event(&mut s0).await, ("INTERACTION_CREATE".into(), id));
    // Each socket got exactly what is checked above: the next frame of each is this marker,
    // sent to both (a guild event of each shard).
    for (i, ws) in [(0, &mut s0), (1, &mut s1)] {
        let place = Place::Guild {
            guild_id: guild(i),
            channel_id: SHARD_GUILDS[i].support,
        };
        let msg = message_create(ids::OTTO, place, "marker", crate::now_ms());
        assert_eq!(fake.dispatch("MESSAGE_CREATE", msg).await, 1);
        assert_eq!(
            next_event(ws).await,
            ("MESSAGE_CREATE".into(), "marker".into())
        );
    }
}

#[tokio::test]
async fn an_unsharded_client_gets_every_guild_and_every_event() {
    let fake = FakeDiscord::start_with(four_guilds(0, 1)).await;
    let mut ws = identify(&fake, None).await;
    let (r, created) = ready(&mut ws).await;
    assert_eq!(r["shard"], json!([0, 1]));
    assert_eq!(created, (0..4).map(guild).collect::<Vec<_>>());
    for i in [3, 1, 2] {
        let place = Place::Guild {
            guild_id: guild(i),
            channel_id: SHARD_GUILDS[i].support,
        };
        let text = format!("guild {i}");
        let msg = message_create(ids::OTTO, place, &text, crate::now_ms());
        assert_eq!(fake.dispatch("MESSAGE_CREATE", msg).await, 1);
        assert_eq!(next_event(&mut ws).await, ("MESSAGE_CREATE".into(), text));
    }
    assert_eq!(fake.identifies()[0].shard, [0, 1]);
}

#[tokio::test]
async fn a_guild_of_a_shard_nobody_connected_reaches_no_socket() {
    let fake = FakeDiscord::start_with(four_guilds(0, 1)).await;
    let mut s2 = identify(&fake, Some([2, 4])).await;
    let (_, created) = ready(&mut s2).await;
    assert_eq!(created, [guild(2)]);
    let place = Place::Guild {
        guild_id: guild(1),
        channel_id: SHARD_GUILDS[1].support,
    };
    let msg = message_create(ids::OTTO, place, "nobody", crate::now_ms());
    assert_eq!(fake.dispatch("MESSAGE_CREATE", msg).await, 0);
    let dm = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "dm", crate::now_ms());
    assert_eq!(
        fake.dispatch("MESSAGE_CREATE", dm).await,
        0,
        "DMs are shard 0's"
    );
}

#[tokio::test]
async fn identifies_are_logged_and_early_ones_in_a_bucket_flagged() {
    // One bucket: the second IDENTIFY right after the first is too soon.
    let fake = FakeDiscord::start_with(four_guilds(60_000, 1)).await;
    let mut a = identify(&fake, Some([0, 4])).await;
    ready(&mut a).await;
    let mut b = identify(&fake, Some([2, 4])).await;
    ready(&mut b).await;
    let log = fake.identifies();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].shard, log[0].bucket, log[0].too_soon),
        ([0, 4], 0, false)
    );
    assert_eq!(log[0].after_previous_ms, None);
    assert_eq!(
        (log[1].shard, log[1].bucket, log[1].too_soon),
        ([2, 4], 0, true)
    );
    assert!(log[1].after_previous_ms.is_some_and(|ms| ms < 60_000));
    assert_ne!(log[0].conn, log[1].conn);
    assert_eq!(fake.identify_overlaps(), [log[1].clone()]);

    // max_concurrency 2: shards 0 and 1 are in buckets 0 and 1, at once is allowed; shard 2
    // is bucket 0 again.
    let fake = FakeDiscord::start_with(four_guilds(60_000, 2)).await;
    let since = fake.identifies().len();
    let mut a = identify(&fake, Some([0, 4])).await;
    ready(&mut a).await;
    let mut b = identify(&fake, Some([1, 4])).await;
    ready(&mut b).await;
    assert!(fake.identify_overlaps().is_empty());
    let mut c = identify(&fake, Some([2, 4])).await;
    ready(&mut c).await;
    let found = fake
        .wait_shards_identified(&[0, 1, 2], since, WAIT)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|r| r.bucket).collect::<Vec<_>>(),
        [0, 1, 0]
    );
    let overlaps = fake.identify_overlaps();
    assert_eq!(overlaps.len(), 1);
    assert_eq!(overlaps[0].shard, [2, 4]);

    // Far enough apart (the interval set to 0 ms here): nothing flagged.
    let fake = FakeDiscord::start_with(four_guilds(0, 1)).await;
    let mut a = identify(&fake, Some([0, 2])).await;
    ready(&mut a).await;
    let mut b = identify(&fake, Some([1, 2])).await;
    ready(&mut b).await;
    assert!(fake.identify_overlaps().is_empty());
}

#[tokio::test]
async fn a_new_identify_keeps_the_other_shards_sessions() {
    let fake = FakeDiscord::start_with(four_guilds(0, 1)).await;
    let mut s0 = identify(&fake, Some([0, 2])).await;
    ready(&mut s0).await;
    let mut s1 = identify(&fake, Some([1, 2])).await;
    ready(&mut s1).await;
    drop(s1);
    assert!(fake
        .wait_until(WAIT, || (fake.connected_shards() == [[0, 2]]).then_some(()))
        .await
        .is_some());
    // Shard 0 identifies again (a restart): shard 1's session stays, to be resumed.
    drop(s0);
    let mut again = identify(&fake, Some([0, 2])).await;
    ready(&mut again).await;
    let shards: Vec<[u64; 2]> = {
        let state = fake.shared.state();
        let mut s: Vec<[u64; 2]> = state.gateway.sessions.values().map(|s| s.shard).collect();
        s.sort_unstable();
        s
    };
    assert_eq!(shards, [[0, 2], [1, 2]]);
}

/// `GET /gateway/bot` over a plain HTTP/1.1 socket (the crate has no HTTP client).
#[tokio::test]
async fn gateway_bot_tells_the_configured_shards_and_concurrency() {
    let fake = FakeDiscord::start_with(FakeConfig {
        shards: 4,
        max_concurrency: 2,
        ..FakeConfig::default()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", fake.port()))
        .await
        .unwrap();
    let request = "GET /api/v10/gateway/bot HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["shards"], 4);
    assert_eq!(body["session_start_limit"]["max_concurrency"], 2);
    assert_eq!(body["url"], fake.gateway_url());
}
