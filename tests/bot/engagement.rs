//! Engagement tracking (docs/engagement.md, "In Discord"): posts of a tracked channel, the
//! reactions and replies they get live and while the bot is away, `/engagement`, and the
//! `/setup` options that choose what is tracked.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::domain::engagement::{EngagementEvent, EngagementKind, Filters, Report};
use reactif::domain::kpi::Window;
use reactif::domain::HOUR;
use reactif::store::{TrackingSetup, WatchKind, WatchedChannel};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// #alerts tracked as the community's announcements channel.
async fn track_alerts(bot: &TestBot, community_role: Option<u64>) {
    bot.store()
        .save_tracking_setup(
            GUILD,
            &TrackingSetup {
                channels: vec![WatchedChannel {
                    channel_id: ids::ALERTS.to_string(),
                    kind: WatchKind::Text,
                }],
                community_role: community_role.map(|r| r.to_string()),
            },
        )
        .await
        .unwrap();
}

fn alerts() -> Place {
    Place::guild(ids::ALERTS)
}

/// Every stored post of the last day, of any guild, and the reactions and replies on them.
async fn stored(bot: &TestBot) -> Vec<EngagementEvent> {
    let now = now_ms() + HOUR;
    bot.store()
        .engagement_events(None, now - 30 * HOUR, now, now)
        .await
        .unwrap()
}

fn about(events: &[EngagementEvent], post: u64) -> Vec<EngagementEvent> {
    let post = post.to_string();
    events
        .iter()
        .filter(|e| e.kind.post_id() == Some(post.as_str()))
        .cloned()
        .collect()
}

fn is_reaction(e: &EngagementEvent) -> bool {
    matches!(
        e.kind,
        EngagementKind::ReactionAdd { .. } | EngagementKind::ReactionRemove { .. }
    )
}

/// The `(user, emoji)` reactions the stored events leave on `post`, worked out here apart from
/// the bot's code: events in time then id order, an add puts, a remove takes off.
fn present(events: &[EngagementEvent], post: u64) -> BTreeSet<(u64, String)> {
    let mut on_post: Vec<&EngagementEvent> = events
        .iter()
        .filter(|e| is_reaction(e) && e.kind.post_id() == Some(post.to_string().as_str()))
        .collect();
    on_post.sort_by_key(|e| (e.at, e.id.parse::<u128>().unwrap()));
    let mut set = BTreeSet::new();
    for e in on_post {
        let who: u64 = e.author_id.parse().unwrap();
        match &e.kind {
            EngagementKind::ReactionAdd { emoji, .. } => set.insert((who, emoji.clone())),
            EngagementKind::ReactionRemove { emoji, .. } => set.remove(&(who, emoji.clone())),
            _ => unreachable!(),
        };
    }
    set
}

/// Waits until the stored events leave exactly `reactions` on the post and `replies` distinct
/// replies. (A catch-up running at the same time may store a reaction twice, which changes
/// nothing: the waits look at what the events mean, not at how many there are.)
async fn wait_stored(bot: &TestBot, post: u64, reactions: &[(u64, &str)], replies: usize) {
    let expected: BTreeSet<(u64, String)> = reactions
        .iter()
        .map(|(who, e)| (*who, e.to_string()))
        .collect();
    eventually(
        &format!("reactions {expected:?} and {replies} replies on {post}"),
        WAIT,
        || async {
            let events = about(&stored(bot).await, post);
            let answers: BTreeSet<&str> = events
                .iter()
                .filter(|e| matches!(e.kind, EngagementKind::Reply { .. }))
                .map(|e| e.id.as_str())
                .collect();
            (present(&events, post) == expected && answers.len() == replies).then_some(())
        },
    )
    .await
}

/// The engagement report of the last day, evaluated now.
async fn report(bot: &TestBot) -> Report {
    let now = now_ms() + 1_000;
    let filters = Filters {
        guild_id: Some(GUILD.to_string()),
        theme: None,
    };
    let window = Window {
        from: now - 24 * HOUR,
        to: now,
        now,
    };
    bot.desk.engagement_report(&filters, window).await.unwrap()
}

/// (reactions, replies, engaged users, audience) of one post in the report.
fn figures_of(r: &Report, post: u64) -> (u64, u64, u64, u64) {
    let p = r
        .current
        .top_posts
        .iter()
        .find(|p| p.post.id == post.to_string())
        .unwrap_or_else(|| panic!("post {post} not in the report: {r:#?}"));
    (p.reactions, p.replies, p.engaged_users(), p.post.audience)
}

async fn post(bot: &TestBot, author: u64, text: &str) -> u64 {
    let msg = message_create(author, alerts(), text, now_ms());
    let id = id_of(&msg["id"]).unwrap();
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    id
}

async fn react(bot: &TestBot, who: u64, place: Place, message: u64, emoji: &str, add: bool) {
    let e = unicode_emoji(emoji);
    let d = match add {
        true => reaction_add(who, place, message, e),
        false => reaction_remove(who, place, message, e),
    };
    let name = match add {
        true => "MESSAGE_REACTION_ADD",
        false => "MESSAGE_REACTION_REMOVE",
    };
    bot.fake.dispatch(name, d).await;
}

/// An inline reply to `to` in #alerts.
fn inline_reply(author: u64, to: u64, text: &str) -> Value {
    let mut reply = message_create(author, alerts(), text, now_ms());
    reply["type"] = json!(19);
    reply["message_reference"] = json!({
        "message_id": to.to_string(),
        "channel_id": ids::ALERTS.to_string(),
        "guild_id": GUILD,
    });
    reply
}

/// The final answer of a deferred command (its embed), or fails.
async fn deferred_answer(bot: &TestBot, id: &str) -> Value {
    let path = format!("/webhooks/{}/tok_{id}", ids::APP);
    let reply = bot
        .request(|r| {
            r.path.starts_with(&path) && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    let names: Vec<&str> = reply
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    let mut body = reply.body.clone().unwrap();
    body["attached"] = json!(names);
    body
}

#[tokio::test]
async fn posts_reactions_and_replies_of_a_tracked_channel_give_the_figures_worked_by_hand() {
    let mut bot = spawn_bot().await;
    track_alerts(&bot, Some(ids::ADMIN_ROLE + 7)).await;
    let p = post(&bot, ids::OLGA, "Release day! #Launch, #news and C# <#123>").await;
    let stored_post = eventually("the post stored", WAIT, || async {
        stored(&bot)
            .await
            .into_iter()
            .find(|e| e.id == p.to_string())
    })
    .await;
    // Everyone may view #alerts: the six people of the guild, the bot left out.
    assert_eq!(
        stored_post.kind,
        EngagementKind::Post {
            channel_id: ids::ALERTS.to_string(),
            themes: vec!["launch".into(), "news".into()],
            audience: 6,
        }
    );
    assert_eq!(stored_post.at, snowflake_ms(p));

    // Reactions: Carla 👍, Cody 👍 and 🎉, Alex 👍 (then removed), Olga 👍 on her own post.
    for (who, emoji) in [
        (ids::CARLA, "👍"),
        (ids::CODY, "👍"),
        (ids::CODY, "🎉"),
        (ids::ALEX, "👍"),
        (ids::OLGA, "👍"),
    ] {
        react(&bot, who, alerts(), p, emoji, true).await;
    }
    wait_stored(
        &bot,
        p,
        &[
            (ids::CARLA, "👍"),
            (ids::CODY, "👍"),
            (ids::CODY, "🎉"),
            (ids::ALEX, "👍"),
            (ids::OLGA, "👍"),
        ],
        0,
    )
    .await;
    react(&bot, ids::ALEX, alerts(), p, "👍", false).await;
    wait_stored(
        &bot,
        p,
        &[
            (ids::CARLA, "👍"),
            (ids::CODY, "👍"),
            (ids::CODY, "🎉"),
            (ids::OLGA, "👍"),
        ],
        0,
    )
    .await;

    // Replies: Carla's inline reply; Otto's and Olga's (the author) in the post's thread.
    bot.fake
        .dispatch("MESSAGE_CREATE", inline_reply(ids::CARLA, p, "Congrats"))
        .await;
    let mut thread = thread_json(ids::GUILD, ids::ALERTS, p, "Release day", ids::OLGA);
    thread["newly_created"] = json!(true);
    bot.fake.dispatch("THREAD_CREATE", thread).await;
    for who in [ids::OTTO, ids::OLGA] {
        let msg = message_create(who, Place::guild(p), "In the thread", now_ms());
        bot.fake.dispatch("MESSAGE_CREATE", msg).await;
    }
    wait_stored(
        &bot,
        p,
        &[
            (ids::CARLA, "👍"),
            (ids::CODY, "👍"),
            (ids::CODY, "🎉"),
            (ids::OLGA, "👍"),
        ],
        3,
    )
    .await;

    // 🎉 taken off the post by a moderator: Cody's 🎉 is removed.
    let d = reaction_remove_emoji(alerts(), p, unicode_emoji("🎉"));
    bot.fake.dispatch("MESSAGE_REACTION_REMOVE_EMOJI", d).await;
    wait_stored(
        &bot,
        p,
        &[(ids::CARLA, "👍"), (ids::CODY, "👍"), (ids::OLGA, "👍")],
        3,
    )
    .await;

    // A second post loses all its reactions at once; a reaction in an untracked channel is
    // dispatched before, and must leave nothing.
    let q = post(&bot, ids::ADA, "Maintenance tonight").await;
    eventually("the second post", WAIT, || async {
        stored(&bot)
            .await
            .iter()
            .any(|e| e.id == q.to_string())
            .then_some(())
    })
    .await;
    // A post known to the store (an import of another guild's, say) whose id is a message of
    // #support: the bot must not record reactions on it, #support is not tracked.
    let elsewhere = snowflake_at(now_ms() - 1_000);
    bot.desk
        .ingest_engagement(&[EngagementEvent {
            id: elsewhere.to_string(),
            guild_id: "42".into(),
            author_id: ids::CARLA.to_string(),
            at: snowflake_ms(elsewhere),
            kind: EngagementKind::Post {
                channel_id: ids::SUPPORT.to_string(),
                themes: vec![],
                audience: 3,
            },
        }])
        .await
        .unwrap();
    react(
        &bot,
        ids::CODY,
        Place::guild(ids::SUPPORT),
        elsewhere,
        "👍",
        true,
    )
    .await;
    react(&bot, ids::CARLA, alerts(), q, "👍", true).await;
    react(&bot, ids::CODY, alerts(), q, "❤️", true).await;
    wait_stored(&bot, q, &[(ids::CARLA, "👍"), (ids::CODY, "❤️")], 0).await;
    let d = reaction_remove_all(alerts(), q);
    bot.fake.dispatch("MESSAGE_REACTION_REMOVE_ALL", d).await;
    wait_stored(&bot, q, &[], 0).await;

    // By hand, post p: reactions Carla 👍 and Cody 👍 (Cody's 🎉 and Alex's 👍 removed, Olga's
    // own does not count) = 2; replies Carla and Otto (Olga's own does not count) = 2; engaged
    // users Carla, Cody, Otto = 3; audience 6. Post q: nothing left, audience 6.
    let r = report(&bot).await;
    assert_eq!(figures_of(&r, p), (2, 2, 3, 6));
    assert_eq!(figures_of(&r, q), (0, 0, 0, 6));
    let f = &r.current.figures;
    assert_eq!((f.posts, f.engagements(), f.audience), (2, 4, 12));

    // /engagement by an agent: the same figures, privately, with the chart.
    let id = bot
        .slash("engagement", vec![], ids::ALEX, Place::guild(ids::STAFF))
        .await;
    assert!(bot.interaction_reply(&id).await.is_ephemeral());
    let answer = deferred_answer(&bot, &id).await;
    let text = answer["embeds"][0]["description"].as_str().unwrap();
    // By hand: reactions 2 + 0, replies 2 + 0, engagements 4, unique engaged users 3,
    // audience 6 + 6, rate 4 / 12; nothing in the previous day.
    for line in [
        "**Posts**: 2 (previous 0",
        "**Reactions**: 2 (",
        "**Replies**: 2 (",
        "**Engagements**: 4 (",
        "**Unique engaged users**: 3 (",
        "**Audience (ceiling of reach)**: 12 (",
        "**Engagement rate**: 33.3 %",
        "not a count of views",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    let top = answer["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Top posts")
        .expect("the top posts")["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        top.starts_with("1. ")
            && top.contains(&format!(
                "https://discord.com/channels/{GUILD}/{}/{p}",
                ids::ALERTS
            )),
        "{top}"
    );
    assert_eq!(answer["attached"], json!(["reactif-engagement.png"]));

    // Refused to a member without a role; answered to one with the community role.
    let id = bot
        .slash("engagement", vec![], ids::OTTO, Place::guild(ids::ALERTS))
        .await;
    let refused = bot.interaction_reply(&id).await;
    assert!(refused.is_ephemeral());
    assert!(
        refused
            .content()
            .unwrap()
            .contains("Only agents, the community role"),
        "{:?}",
        refused.content()
    );
    let mut it = slash_command("engagement", vec![], ids::CODY, alerts());
    it["member"]["roles"] = json!([(ids::ADMIN_ROLE + 7).to_string()]);
    let id = it["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", it).await;
    let answer = deferred_answer(&bot, &id).await;
    assert!(answer["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .contains("**Engagements**: 4"));

    // Once every event in hand is handled, the untracked channel's reaction left nothing.
    bot.halt().await;
    let all = stored(&bot).await;
    assert!(about(&all, elsewhere).is_empty(), "{all:#?}");
    bot.stop().await;
}

/// `/setup` with options that name channels and roles, resolved as Discord sends them.
fn setup_command(options: Vec<Value>, channels: &[(u64, u8)], role: Option<u64>) -> Value {
    let mut it = slash_command("setup", options, ids::ADA, Place::guild(ids::STAFF));
    let mut resolved = json!({"channels": {}, "roles": {}});
    for (id, kind) in channels {
        resolved["channels"][id.to_string()] = json!({
            "id": id.to_string(),
            "name": format!("channel-{id}"),
            "type": kind,
            "permissions": "0",
        });
    }
    if let Some(r) = role {
        resolved["roles"][r.to_string()] = json!({
            "id": r.to_string(),
            "name": "Community",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": 4,
            "permissions": "0",
            "managed": false,
            "mentionable": false,
            "flags": 0,
        });
    }
    it["data"]["resolved"] = resolved;
    it
}

fn channel_option(name: &str, id: u64) -> Value {
    json!({"name": name, "type": 7, "value": id.to_string()})
}

/// Sends `/setup` and returns its (ephemeral) answer's text.
async fn setup(bot: &TestBot, it: Value) -> String {
    let id = it["id"].as_str().unwrap().to_string();
    assert_eq!(bot.fake.dispatch("INTERACTION_CREATE", it).await, 1);
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    reply.content().unwrap().to_string()
}

#[tokio::test]
async fn setup_tracks_and_untracks_engagement_channels_and_sets_the_community_role() {
    const COMMUNITY: u64 = 1191169052639363105;
    const VOICE: u64 = 1191169056833667106;
    let bot = spawn_bot().await;
    let store = bot.store();
    let text = setup(
        &bot,
        setup_command(
            vec![
                channel_option("engagement_channel", ids::ALERTS),
                json!({"name": "community_role", "type": 8, "value": COMMUNITY.to_string()}),
            ],
            &[(ids::ALERTS, 5)],
            Some(COMMUNITY),
        ),
    )
    .await;
    assert!(
        text.contains(&format!("engagement tracked in <#{}> (text)", ids::ALERTS)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "engagement channels: <#{}> (text)\ncommunity role (may use /engagement): <@&{COMMUNITY}>",
            ids::ALERTS
        )),
        "{text}"
    );
    assert_eq!(
        store.tracking_setup(GUILD).await.unwrap(),
        TrackingSetup {
            channels: vec![WatchedChannel {
                channel_id: ids::ALERTS.to_string(),
                kind: WatchKind::Text,
            }],
            community_role: Some(COMMUNITY.to_string()),
        }
    );

    // A voice channel holds no posts: refused, nothing changes.
    let text = setup(
        &bot,
        setup_command(
            vec![channel_option("engagement_channel", VOICE)],
            &[(VOICE, 2)],
            None,
        ),
    )
    .await;
    assert!(
        text.contains(&format!("<#{VOICE}> cannot hold posts")),
        "{text}"
    );
    assert_eq!(store.tracking_setup(GUILD).await.unwrap().channels.len(), 1);

    // A forum is tracked as one.
    let text = setup(
        &bot,
        setup_command(
            vec![channel_option("engagement_channel", ids::HELP_FORUM)],
            &[(ids::HELP_FORUM, 15)],
            None,
        ),
    )
    .await;
    assert!(
        text.contains(&format!("<#{}> (forum)", ids::HELP_FORUM)),
        "{text}"
    );

    let text = setup(
        &bot,
        setup_command(
            vec![
                channel_option("remove_engagement_channel", ids::ALERTS),
                option("clear_community_role", true),
            ],
            &[(ids::ALERTS, 5)],
            None,
        ),
    )
    .await;
    assert!(text.contains("community role: none"), "{text}");
    assert_eq!(
        store.tracking_setup(GUILD).await.unwrap(),
        TrackingSetup {
            channels: vec![WatchedChannel {
                channel_id: ids::HELP_FORUM.to_string(),
                kind: WatchKind::Forum,
            }],
            community_role: None,
        }
    );

    // Removing a channel that is not tracked says so.
    let text = setup(
        &bot,
        setup_command(
            vec![channel_option("remove_engagement_channel", ids::ALERTS)],
            &[(ids::ALERTS, 5)],
            None,
        ),
    )
    .await;
    assert!(
        text.contains(&format!("<#{}> is not tracked", ids::ALERTS)),
        "{text}"
    );
    bot.stop().await;
}

#[tokio::test]
async fn reactions_and_replies_while_the_bot_was_away_are_caught_up_exactly_and_once() {
    let mut bot = spawn_bot().await;
    track_alerts(&bot, None).await;
    let p = post(&bot, ids::OLGA, "Big news #launch").await;
    react(&bot, ids::CARLA, alerts(), p, "👍", true).await;
    react(&bot, ids::CODY, alerts(), p, "👍", true).await;
    wait_stored(&bot, p, &[(ids::CARLA, "👍"), (ids::CODY, "👍")], 0).await;
    bot.halt().await;

    // While the bot is away: Cody takes his 👍 back, Otto adds 🎉, Carla replies; Ada posts
    // again and Carla reacts to it.
    react(&bot, ids::CODY, alerts(), p, "👍", false).await;
    react(&bot, ids::OTTO, alerts(), p, "🎉", true).await;
    a_moment_later().await;
    let reply = inline_reply(ids::CARLA, p, "Finally!");
    let reply_id = id_of(&reply["id"]).unwrap();
    assert_eq!(bot.fake.dispatch("MESSAGE_CREATE", reply).await, 0);
    let q = post(&bot, ids::ADA, "And a fix #patch").await;
    react(&bot, ids::CARLA, alerts(), q, "👍", true).await;

    let before_restart = now_ms();
    bot.resume().await;
    wait_stored(&bot, p, &[(ids::CARLA, "👍"), (ids::OTTO, "🎉")], 1).await;
    wait_stored(&bot, q, &[(ids::CARLA, "👍")], 0).await;
    // Every event in hand (the catch-up included) is handled once the bot has stopped.
    bot.halt().await;
    let all = stored(&bot).await;
    let on_p = about(&all, p);
    let caught: Vec<&EngagementEvent> = on_p
        .iter()
        .filter(|e| is_reaction(e) && e.at >= before_restart)
        .collect();
    // Cody's removal and Otto's add carry the catch-up's time; the reply its own snowflake's.
    assert_eq!(caught.len(), 2, "{on_p:#?}");
    assert!(caught.iter().any(|e| e.author_id == ids::CODY.to_string()
        && matches!(&e.kind, EngagementKind::ReactionRemove { emoji, .. } if emoji == "👍")));
    assert!(caught.iter().any(|e| e.author_id == ids::OTTO.to_string()
        && matches!(&e.kind, EngagementKind::ReactionAdd { emoji, .. } if emoji == "🎉")));
    let reply = on_p
        .iter()
        .find(|e| e.id == reply_id.to_string())
        .expect("the reply");
    assert_eq!(reply.at, snowflake_ms(reply_id));
    let q_post = all
        .iter()
        .find(|e| e.id == q.to_string())
        .expect("q stored");
    assert!(
        matches!(&q_post.kind, EngagementKind::Post { themes, audience: 6, .. } if themes == &["patch"])
    );

    // By hand: p has Carla 👍 and Otto 🎉 (Cody's removed), Carla's reply: 2 + 1, engaged
    // users Carla and Otto; q has Carla 👍.
    let r = report(&bot).await;
    assert_eq!(figures_of(&r, p), (2, 1, 2, 6));
    assert_eq!(figures_of(&r, q), (1, 0, 1, 6));

    // A second restart finds Discord and the store agreeing: nothing more is written.
    let reads = bot
        .fake
        .requests_matching("GET", &format!("/channels/{}/messages/{q}", ids::ALERTS))
        .len();
    bot.resume().await;
    let q_path = format!("/channels/{}/messages/{q}", ids::ALERTS);
    bot.fake
        .wait_until(WAIT, || {
            (bot.fake.requests_matching("GET", &q_path).len() > reads).then_some(())
        })
        .await
        .expect("the second catch-up read q");
    bot.halt().await;
    assert_eq!(stored(&bot).await.len(), all.len());
    assert_eq!(figures_of(&report(&bot).await, p), (2, 1, 2, 6));
    bot.stop().await;
}

#[tokio::test]
async fn the_audience_is_who_can_view_the_channel_and_forum_tags_are_themes() {
    const NEWS: u64 = 1191169061027971107;
    const TAG: u64 = 1191169065222275108;
    // #news: hidden from @everyone, shown to the agents. #help-forum has a "Release" tag.
    let mut guild = default_guild();
    let mut news = guild_channel_json(ids::GUILD, NEWS, 5, "news", 4);
    news["permission_overwrites"] = json!([
        {"id": ids::EVERYONE_ROLE.to_string(), "type": 0, "allow": "0", "deny": "1024"},
        {"id": ids::AGENT_ROLE.to_string(), "type": 0, "allow": "1024", "deny": "0"},
    ]);
    guild["channels"].as_array_mut().unwrap().push(news);
    for c in guild["channels"].as_array_mut().unwrap() {
        if id_of(&c["id"]) == Some(ids::HELP_FORUM) {
            c["available_tags"] = json!([{
                "id": TAG.to_string(), "name": "Release", "moderated": false,
            }]);
        }
    }
    let config = FakeConfig {
        guilds: vec![guild],
        echo_bot_events: true,
        ..FakeConfig::default()
    };
    let bot = spawn_with(config, &[]).await;
    bot.store()
        .save_tracking_setup(
            GUILD,
            &TrackingSetup {
                channels: vec![
                    WatchedChannel {
                        channel_id: NEWS.to_string(),
                        kind: WatchKind::Text,
                    },
                    WatchedChannel {
                        channel_id: ids::HELP_FORUM.to_string(),
                        kind: WatchKind::Forum,
                    },
                ],
                community_role: None,
            },
        )
        .await
        .unwrap();

    let msg = message_create(ids::ALEX, Place::guild(NEWS), "Agents only", now_ms());
    let news_post = id_of(&msg["id"]).unwrap();
    bot.fake.dispatch("MESSAGE_CREATE", msg).await;

    // A forum post: its thread (tagged "Release"), then its first message, with the thread's id.
    let at = now_ms();
    let mut thread = thread_create(ids::GUILD, ids::HELP_FORUM, "v2 is out", ids::CARLA, at);
    thread["applied_tags"] = json!([TAG.to_string()]);
    let forum_post = id_of(&thread["id"]).unwrap();
    bot.fake.dispatch("THREAD_CREATE", thread).await;
    let mut first = message_create(ids::CARLA, Place::guild(forum_post), "v2 #Fix", at);
    first["id"] = json!(forum_post.to_string());
    bot.fake.dispatch("MESSAGE_CREATE", first).await;
    let reply = message_create(ids::CODY, Place::guild(forum_post), "Thanks", now_ms() + 5);
    bot.fake.dispatch("MESSAGE_CREATE", reply).await;
    wait_stored(&bot, forum_post, &[], 1).await;
    // The two channels are handled side by side: #news's post may come after the forum's.
    for post in [news_post, forum_post] {
        eventually(&format!("post {post} stored"), WAIT, || async {
            let all = stored(&bot).await;
            all.iter().any(|e| e.id == post.to_string()).then_some(())
        })
        .await;
    }

    let all = stored(&bot).await;
    let kind_of = |id: u64| {
        all.iter()
            .find(|e| e.id == id.to_string())
            .unwrap_or_else(|| panic!("{id} stored: {all:#?}"))
            .kind
            .clone()
    };
    // #news by hand: Olga (the owner sees everything) and Alex (agent role allowed); Carla,
    // Cody, Otto and Ada (Manage Server is not Administrator) are denied; the bot is a bot.
    assert_eq!(
        kind_of(news_post),
        EngagementKind::Post {
            channel_id: NEWS.to_string(),
            themes: vec!["untagged".into()],
            audience: 2,
        }
    );
    // The forum post: its tag's name as shown, then its hashtag lower-cased; everyone sees the
    // forum; its channel is its thread, where the message lives.
    assert_eq!(
        kind_of(forum_post),
        EngagementKind::Post {
            channel_id: forum_post.to_string(),
            themes: vec!["Release".into(), "fix".into()],
            audience: 6,
        }
    );
    bot.stop().await;
}

/// Another process holds the SQLite file's write lock longer than the bot's busy timeout (10 s)
/// while a reply and reactions arrive on a tracked post: they wait for the database, as support
/// messages do, and are all stored once the lock goes (none is left to a later catch-up).
#[tokio::test]
async fn reactions_and_replies_wait_while_the_database_is_locked() {
    let bot = spawn_bot().await;
    track_alerts(&bot, None).await;
    let p = post(&bot, ids::OLGA, "Maintenance tonight #ops").await;
    eventually("the post stored", WAIT, || async {
        stored(&bot)
            .await
            .iter()
            .any(|e| e.id == p.to_string())
            .then_some(())
    })
    .await;
    let url = bot.db_url().to_string();
    let mut locker = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    react(&bot, ids::CARLA, alerts(), p, "👍", true).await;
    react(&bot, ids::CODY, alerts(), p, "🎉", true).await;
    react(&bot, ids::CODY, alerts(), p, "🎉", false).await;
    let reply = inline_reply(ids::CODY, p, "Thanks!");
    bot.fake.dispatch("MESSAGE_CREATE", reply).await;
    // How long the lock is held (longer than the bot's busy timeout), not a wait for an event.
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    drop(locker);
    // Each waits on its own backoff: wait for the four events, in whatever order they land.
    let events = eventually("the four events stored", WAIT, || async {
        let events = about(&stored(&bot).await, p);
        (events.len() >= 4).then_some(events)
    })
    .await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds.len(), 4, "each event stored once: {events:#?}");
    for kind in ["reaction_add", "reaction_remove", "reply"] {
        let want = if kind == "reaction_add" { 2 } else { 1 };
        assert_eq!(kinds.iter().filter(|k| **k == kind).count(), want, "{kind}");
    }
    // Their times are those of their arrival, so 🎉 was added, then removed.
    wait_stored(&bot, p, &[(ids::CARLA, "👍")], 1).await;
    bot.stop().await;
}
