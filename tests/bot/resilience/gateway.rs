//! Discord misbehaves: a rejected token, payloads serenity cannot read, reconnects and
//! invalid sessions.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::desk::Desk;
use reactif::domain::EventKind;
use serde_json::json;

#[tokio::test]
async fn a_token_that_discord_rejects_stops_the_bot_with_a_clear_message() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    fake.respond_with(
        "GET",
        "/users/@me",
        1,
        401,
        json!({"message": "401: Unauthorized", "code": 0}),
    );
    let db = crate::support::db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    let (_tx, handle) = start_task(&fake, &desk, &db.url);
    let result = tokio::time::timeout(WAIT, handle)
        .await
        .expect("the bot stops by itself")
        .unwrap();
    let err = result
        .expect_err("a rejected token is an error")
        .to_string();
    assert!(err.contains("rejected DISCORD_TOKEN"), "{err}");
    assert!(
        fake.gateway_stats().connections_total == 0,
        "no gateway connection with a bad token"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn malformed_gateway_payloads_are_dropped_and_the_bot_carries_on() {
    let bot = spawn_bot().await;
    let mut broken = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "broken", now_ms());
    broken["author"] = json!("not a user");
    bot.fake.dispatch("MESSAGE_CREATE", broken).await;
    bot.fake
        .dispatch("MESSAGE_CREATE", json!({"id": "0", "channel_id": null}))
        .await;
    bot.fake
        .dispatch(
            "INTERACTION_CREATE",
            json!({"type": 3, "data": {"custom_id": 7}}),
        )
        .await;
    bot.fake
        .dispatch("TOTALLY_UNKNOWN_EVENT", json!({"x": [1, 2, 3]}))
        .await;
    bot.fake
        .send_raw(json!({"op": 0, "s": 999, "t": "MESSAGE_CREATE", "d": "just a string"}));
    // Empty, very long, attachment-only and sticker-only messages, and mentions: no panic, all
    // stored, nothing pings.
    let (_, thread) = carla_writes(&bot, "@everyone <@&1191169040056451102> hello").await;
    let long = "x".repeat(4_000);
    bot.fake
        .dispatch(
            "MESSAGE_CREATE",
            message_create(ids::CARLA, Place::dm(ids::CARLA_DM), &long, now_ms()),
        )
        .await;
    let mut files = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "", now_ms());
    files["attachments"] = json!([{"id": "1191169174274179199", "filename": "receipt.pdf", "size": 1234, "url": "https://cdn.example/receipt.pdf", "proxy_url": "https://cdn.example/receipt.pdf"}]);
    bot.fake.dispatch("MESSAGE_CREATE", files).await;
    let mut sticker = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "", now_ms());
    sticker["sticker_items"] =
        json!([{"id": "1191169174274179198", "name": "wave", "format_type": 1}]);
    bot.fake.dispatch("MESSAGE_CREATE", sticker).await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content().is_some_and(|c| c.contains("receipt.pdf"))
    })
    .await;
    bot.request(|r| {
        r.is("POST", &format!("/channels/{thread}/messages"))
            && r.content().is_some_and(|c| c.contains("[sticker: wave]"))
    })
    .await;
    let bot_ref = &bot;
    eventually("4 customer messages stored", WAIT, move || async move {
        let n = bot_ref
            .events(&dm_key())
            .await
            .iter()
            .filter(|e| e.kind == EventKind::CustomerMessage)
            .count();
        (n == 4).then_some(())
    })
    .await;
    // Every message handled and everything it queued sent: all the relays are in.
    bot.wait_handled(ids::CARLA_DM).await;
    bot.wait_outbox_empty().await;
    let long_posts: Vec<RecordedRequest> = bot
        .fake
        .requests_matching("POST", &format!("/channels/{thread}/messages"))
        .into_iter()
        .filter(|r| r.content().is_some_and(|c| c.contains("xxxx")))
        .collect();
    assert!(
        long_posts.len() >= 2,
        "a 4,000-character message is relayed in pieces under Discord's limit"
    );
    assert!(long_posts
        .iter()
        .all(|r| r.content().unwrap().chars().count() <= 2_000));
    for r in bot.fake.requests_matching("POST", "/channels/*/messages") {
        assert_eq!(
            r.body.as_ref().unwrap()["allowed_mentions"]["parse"],
            json!([]),
            "{:?}",
            r.body
        );
    }
    bot.stop().await;
}

/// The gateway misbehaves the ways Discord's does: RECONNECT (op 7), a dropped websocket, and
/// INVALID_SESSION (op 9). Messages around and during each are stored and relayed once.
#[tokio::test]
async fn reconnects_and_invalid_sessions_lose_and_duplicate_nothing() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Message one").await;
    let wait_sessions = |before: GatewayStats| {
        let fake = &bot.fake;
        async move {
            let back = fake
                .wait_for_gateway(
                    |now| {
                        now.connected >= 1
                            && now.identifies + now.resumes > before.identifies + before.resumes
                    },
                    WAIT,
                )
                .await;
            assert!(back, "the bot came back: {:?}", fake.gateway_stats());
        }
    };
    let send = |text: &str| {
        let msg = message_create(ids::CARLA, Place::dm(ids::CARLA_DM), text, now_ms());
        bot.fake.dispatch("MESSAGE_CREATE", msg)
    };

    let before = bot.fake.gateway_stats();
    bot.fake.send_reconnect();
    wait_sessions(before).await;
    send("Message two").await;

    let before = bot.fake.gateway_stats();
    bot.fake.drop_connections();
    // Posted while nobody is connected: only the catch-up can find it.
    send("Message three").await;
    wait_sessions(before).await;

    let before = bot.fake.gateway_stats();
    bot.fake.send_invalid_session(false);
    wait_sessions(before).await;
    send("Message four").await;

    let texts = [
        "Message one",
        "Message two",
        "Message three",
        "Message four",
    ];
    let relayed = bot
        .fake
        .wait_until(WAIT, || {
            texts
                .iter()
                .all(|t| shown(&bot.fake, thread, t) >= 1)
                .then_some(())
        })
        .await;
    assert!(
        relayed.is_some(),
        "relayed: {:?}",
        texts.map(|t| shown(&bot.fake, thread, t))
    );
    // Every message handled and everything it queued sent: a second copy would show now.
    bot.wait_handled(ids::CARLA_DM).await;
    bot.wait_outbox_empty().await;
    for t in texts {
        assert_eq!(shown(&bot.fake, thread, t), 1, "{t} relayed once");
    }
    let customer = bot
        .events(&dm_key())
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::CustomerMessage)
        .count();
    assert_eq!(customer, 4);
    bot.stop().await;
}
