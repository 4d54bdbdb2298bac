//! Slash commands: `/stats`, `/setup`, `/sla`, `/close`, their registration, and who may use
//! what.

use crate::harness::*;
use crate::steps::*;
use fake_discord::*;
use reactif::desk::Desk;
use reactif::domain::timeline::Timeline;
use reactif::domain::{Event, EventKind, GuildRules, DAY, MINUTE};
use serde_json::{json, Value};

/// Stores a scripted history directly (as an import would), relative to now.
async fn scripted_history(desk: &Desk) -> i64 {
    let now = now_ms();
    let mut n = 0u64;
    let mut ev = |place: &str, author: u64, at: i64, kind: EventKind| {
        n += 1;
        Event {
            id: (snowflake_at(at) + n).to_string(),
            guild_id: GUILD.into(),
            place: place.into(),
            author_id: author.to_string(),
            at,
            kind,
        }
    };
    let events = vec![
        ev("h1", ids::CODY, now - 3 * DAY, EventKind::CustomerMessage),
        ev(
            "h1",
            ids::ALEX,
            now - 3 * DAY + 2 * MINUTE,
            EventKind::AgentMessage,
        ),
        ev("h2", ids::CODY, now - 2 * DAY, EventKind::CustomerMessage),
        ev(
            "h2",
            ids::ALEX,
            now - 2 * DAY + 10 * MINUTE,
            EventKind::AgentMessage,
        ),
        ev(
            "h3",
            ids::CODY,
            now - 60 * MINUTE,
            EventKind::CustomerMessage,
        ),
    ];
    desk.ingest(&events).await.unwrap();
    now
}

fn embed_field(body: &Value, name: &str) -> String {
    body["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| f["value"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
}

/// The interaction token of the fake's payloads is `tok_{id}`: webhook paths contain it.
fn id_token_path(interaction_id: &str) -> String {
    format!("tok_{interaction_id}")
}

#[tokio::test]
async fn stats_by_an_agent_shows_the_figures_of_the_history_with_a_chart() {
    let bot = spawn_bot().await;
    scripted_history(&bot.desk).await;
    let store = bot.desk.store();
    let rules = store
        .guild_rules(GUILD)
        .await
        .unwrap()
        .with_sla_settings(&[("first_response", "5m")])
        .unwrap();
    store.save_guild_rules(GUILD, &rules).await.unwrap();
    let period = bot.choice("stats", "period", "7d");
    let id = bot
        .slash(
            "stats",
            vec![period, option("export", true)],
            ids::ALEX,
            Place::guild(ids::STAFF),
        )
        .await;
    let deferred = bot.interaction_reply(&id).await;
    assert_eq!(deferred.body.as_ref().unwrap()["type"], 5, "deferred first");
    assert!(deferred.is_ephemeral());
    let reply = bot
        .request(|r| {
            r.path.starts_with("/webhooks/")
                && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    let body = reply.body.as_ref().unwrap();
    // By hand: 3 requests, 2 answered (2 min and 10 min), 1 pending; rate 2/2.
    assert!(embed_field(body, "Requests").starts_with("3 "), "{body}");
    assert!(
        embed_field(body, "Requests").contains("2 answered · 0 unanswered · 1 pending"),
        "{body}"
    );
    assert!(
        embed_field(body, "Response rate").starts_with("100.0 %"),
        "{body}"
    );
    assert!(
        embed_field(body, "Response delay")
            .contains("mean 6 min 00 s · median 2 min 00 s · p90 10 min 00 s"),
        "{body}"
    );
    assert!(
        embed_field(body, "Agents").contains(&format!("<@{}> · 2 answered", ids::ALEX)),
        "{body}"
    );
    // With a 5 min first-response target: h1 answered in 2 min (met), h2 in 10 min (missed),
    // h3 unanswered for 60 min (missed). h1 and h2 lapsed (24 h of silence), h3 is open.
    let sla = embed_field(body, "Service levels");
    assert!(
        sla.contains("First response: target 5m · met 1 · missed 2 · in progress 0 · 33.3 %"),
        "{sla}"
    );
    assert!(sla.contains("Next response: no target"), "{sla}");
    assert!(sla.contains("0 resolved"), "{sla}");
    assert!(sla.contains("2 lapsed · 1 open"), "{sla}");
    let names: Vec<&str> = reply
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert!(names.contains(&"reactif-stats.png"), "{names:?}");
    let heatmap = reply
        .attachments
        .iter()
        .find(|a| a.filename == "reactif-heatmap.png")
        .expect("the heatmap beside the chart");
    assert_eq!(&heatmap.bytes[..4], b"\x89PNG");
    let png = reply
        .attachments
        .iter()
        .find(|a| a.filename == "reactif-stats.png")
        .unwrap();
    assert_eq!(&png.bytes[..4], b"\x89PNG");
    let csv = reply
        .attachments
        .iter()
        .find(|a| a.filename == "reactif-requests.csv")
        .expect("the CSV export");
    assert_eq!(String::from_utf8_lossy(&csv.bytes).lines().count(), 1 + 3);
    bot.stop().await;
}

#[tokio::test]
async fn stats_by_a_non_agent_and_setup_by_a_non_admin_are_refused() {
    let bot = spawn_bot().await;
    let id = bot
        .slash("stats", vec![], ids::OTTO, Place::guild(ids::SUPPORT))
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("Only agents"),
        "{:?}",
        reply.content()
    );

    let id = bot
        .slash(
            "setup",
            vec![option("timezone", "Europe/Paris")],
            ids::ALEX,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("Manage Server"),
        "{:?}",
        reply.content()
    );
    assert_eq!(
        bot.desk.store().guild_rules(GUILD).await.unwrap().timezone,
        chrono_tz::UTC
    );

    // With no option, /setup shows the settings.
    let id = bot
        .slash("setup", vec![], ids::ADA, Place::guild(ids::STAFF))
        .await;
    let reply = bot.interaction_reply(&id).await;
    let shown = reply.content().unwrap();
    assert!(
        shown.contains(&format!("staff channel: <#{}>", ids::STAFF)),
        "{shown}"
    );
    assert!(shown.contains("survey delay: 1 s"), "{shown}");

    // An admin may, and a bad value gets an explanation with an example.
    let id = bot
        .slash(
            "setup",
            vec![option("timezone", "Mars/Olympus")],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(reply.is_ephemeral());
    assert!(
        reply.content().unwrap().contains("Europe/Paris"),
        "{:?}",
        reply.content()
    );
    let id = bot
        .slash(
            "setup",
            vec![
                option("timezone", "Europe/Paris"),
                option("business_hours", "mon-fri 09:00-18:00"),
                bot.choice("setup", "locale", "fr"),
            ],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let reply = bot.interaction_reply(&id).await;
    assert!(
        reply.content().unwrap().contains("Saved"),
        "{:?}",
        reply.content()
    );
    let rules = bot.desk.store().guild_rules(GUILD).await.unwrap();
    assert_eq!(rules.timezone, chrono_tz::Europe::Paris);
    assert_eq!(
        rules.business_hours.to_string(),
        "mon 09:00-18:00; tue 09:00-18:00; wed 09:00-18:00; thu 09:00-18:00; fri 09:00-18:00"
    );
    assert_eq!(rules.locale, reactif::domain::Locale::Fr);

    bot.stop().await;
}

/// `/sla` as an admin uses it: shows the settings, changes them all at once or none, says what
/// is wrong with a bad value (naming the setting, with an example) in the guild's language;
/// an agent without Manage Server changes nothing.
#[tokio::test]
async fn sla_shows_and_changes_the_service_levels_in_the_guilds_language() {
    use reactif::domain::settings::{SlaClock, SlaWarning};
    async fn sla_by(bot: &TestBot, options: Vec<Value>, user: u64) -> String {
        let id = bot
            .slash("sla", options, user, Place::guild(ids::STAFF))
            .await;
        let reply = bot.interaction_reply(&id).await;
        assert!(reply.is_ephemeral(), "/sla answers privately");
        reply.content().unwrap().to_string()
    }
    let bot = spawn_bot().await;
    let sla = |options: Vec<Value>, user: u64| sla_by(&bot, options, user);
    // With no option: KPI.md's defaults.
    let shown = sla(vec![], ids::ADA).await;
    for line in [
        "**Service levels**",
        "first_response: `off`",
        "sla_clock: `calendar`",
        "sla_warning: `20%`",
        "a duration like 15m, 4h, 2d, or off",
    ] {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    // An agent without Manage Server is refused, and nothing changes.
    let refused = sla(vec![option("first_response", "15m")], ids::ALEX).await;
    assert!(refused.contains("Manage Server"), "{refused}");
    let store = bot.desk.store();
    assert_eq!(
        store.guild_rules(GUILD).await.unwrap().sla.first_response,
        None
    );
    // An admin sets them.
    let saved = sla(
        vec![
            option("first_response", "15m"),
            option("next_response", "4h"),
            option("resolution", "2d"),
            bot.choice("sla", "sla_clock", "business"),
            option("auto_close", "12h"),
            option("sla_warning", "10m"),
        ],
        ids::ADA,
    )
    .await;
    assert!(
        saved.starts_with("**Saved:** first_response 15m, next_response 4h, resolution 2d, sla_clock business, auto_close 12h, sla_warning 10m"),
        "{saved}"
    );
    assert!(saved.contains("auto_close: `12h`"), "{saved}");
    let rules = store.guild_rules(GUILD).await.unwrap();
    assert_eq!(rules.sla.first_response, Some(15 * MINUTE));
    assert_eq!(rules.sla.resolution, Some(2 * DAY));
    assert_eq!(rules.sla.clock, SlaClock::Business);
    assert_eq!(rules.sla.auto_close, Some(12 * 60 * MINUTE));
    assert_eq!(rules.sla.warning, SlaWarning::Before(10 * MINUTE));
    // A bad value: named, with an example; the good value given with it is not applied.
    let bad = sla(
        vec![option("first_response", "1h"), option("auto_close", "3d")],
        ids::ADA,
    )
    .await;
    assert_eq!(
        bad,
        "auto_close: 3d is not shorter than idle (1d): the conversation would have lapsed first (e.g. auto_close 12h) Nothing was changed."
    );
    assert_eq!(store.guild_rules(GUILD).await.unwrap(), rules);
    // In French for a French guild, the same check.
    let mut fr = rules.clone();
    fr.locale = reactif::domain::Locale::Fr;
    store.save_guild_rules(GUILD, &fr).await.unwrap();
    let bad = sla(vec![option("next_response", "bientôt")], ids::ADA).await;
    assert!(
        bad.starts_with("next_response : `bientôt` n'est pas une durée ; écrivez un nombre"),
        "{bad}"
    );
    assert!(
        bad.ends_with("(p. ex. next_response 1h) Rien n'a été modifié."),
        "{bad}"
    );
    let shown = sla(vec![option("resolution", "off")], ids::ADA).await;
    assert!(
        shown.starts_with("**Enregistré :** resolution off"),
        "{shown}"
    );
    assert!(shown.contains("**Niveaux de service**"), "{shown}");
    assert!(shown.contains("Horloge : calendar"), "{shown}");
    assert_eq!(store.guild_rules(GUILD).await.unwrap().sla.resolution, None);
    bot.stop().await;
}

/// Once the guild speaks French, /setup answers in French, errors and settings alike.
#[tokio::test]
async fn setup_answers_in_the_guilds_language() {
    let bot = spawn_bot().await;
    let id = bot
        .slash(
            "setup",
            vec![bot.choice("setup", "locale", "fr")],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let saved = bot.interaction_reply(&id).await;
    // Answered in the language the admin typed in; everything after is French.
    assert!(
        saved.content().unwrap().starts_with("**Saved:** locale fr"),
        "{:?}",
        saved.content()
    );
    let id = bot
        .slash(
            "setup",
            vec![option("survey_delay", -5)],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let refused = bot.interaction_reply(&id).await;
    assert_eq!(
        refused.content(),
        Some("survey_delay est en secondes, de 0 à 86400 (par exemple 60).")
    );
    // The hours parser's own words are English: the French answer says what to write instead.
    let id = bot
        .slash(
            "setup",
            vec![option("business_hours", "someday")],
            ids::ADA,
            Place::guild(ids::STAFF),
        )
        .await;
    let refused = bot.interaction_reply(&id).await;
    let refused = refused.content().unwrap();
    assert!(
        refused.starts_with("business_hours : `someday` n'est pas compris ; écrivez par exemple"),
        "{refused}"
    );
    let id = bot
        .slash("setup", vec![], ids::ADA, Place::guild(ids::STAFF))
        .await;
    let shown = bot.interaction_reply(&id).await;
    let shown = shown.content().unwrap();
    assert!(shown.starts_with("**Réglages de reactif**"), "{shown}");
    assert!(shown.contains("délai avant l'enquête : 1 s"), "{shown}");
    assert!(shown.contains("délai (moyenne) < 300 s"), "{shown}");
    assert!(shown.contains("transcriptions conservées : non"), "{shown}");
    for english in ["staff channel", "survey delay", "mean", "false", "not set"] {
        assert!(!shown.contains(english), "{english:?} in {shown}");
    }
    bot.stop().await;
}

#[tokio::test]
async fn close_ends_the_conversation_and_both_sides_are_told() {
    let bot = spawn_bot().await;
    let (_, thread) = carla_writes(&bot, "Thanks, all good").await;
    let id = bot
        .slash("close", vec![], ids::ALEX, Place::guild(thread))
        .await;
    bot.interaction_reply(&id).await;
    bot.wait_event(&dm_key(), |e| e.kind == EventKind::Close)
        .await;
    let told = bot
        .request(|r| {
            r.is("POST", &format!("/channels/{}/messages", ids::CARLA_DM))
                && r.content().is_some_and(|c| c.contains("closed"))
        })
        .await;
    assert!(told.content().unwrap().contains("open a new one"));
    // The next DM opens a new conversation, in a new thread.
    let (_, next) = carla_writes(&bot, "One more question").await;
    assert_ne!(next, thread);
    let events = bot.events(&dm_key()).await;
    let rules = GuildRules::default();
    let tl = Timeline::build(&events, None, &|_| &rules);
    assert_eq!(tl.conversations.len(), 2);
    bot.stop().await;
}

#[tokio::test]
async fn a_dev_guild_gets_its_commands_registered_there() {
    let bot = spawn_with(FakeConfig::default(), &[("DISCORD_DEV_GUILD_ID", GUILD)]).await;
    let put = bot
        .request(|r| r.is("PUT", "/applications/*/guilds/*/commands"))
        .await;
    assert_eq!(put.segment_id(3), Some(ids::GUILD));
    let names: Vec<String> = put
        .body
        .as_ref()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "setup",
            "sla",
            "stats",
            "engagement",
            "close",
            "dashboard",
            "forget-me"
        ]
    );
    assert!(bot
        .fake
        .requests_matching("PUT", "/applications/*/commands")
        .is_empty());
    bot.stop().await;
}

/// Who may do what: every command and button, by a customer, an agent, an admin, and a member
/// of another guild. `true` means the action is carried out, `false` that it is refused with an
/// ephemeral explanation.
#[tokio::test]
async fn the_permission_matrix_holds_for_every_command_and_button() {
    const OTHER_GUILD: u64 = 1191168956170373000;
    const OTHER_ADMIN: u64 = 1191168956170373005;
    let mut second = default_guild();
    second["id"] = json!(OTHER_GUILD.to_string());
    second["name"] = json!("Other Guild");
    for c in second["channels"].as_array_mut().unwrap() {
        c["guild_id"] = json!(OTHER_GUILD.to_string());
        let id = id_of(&c["id"]).unwrap();
        c["id"] = json!((id + 1_000).to_string());
    }
    let config = FakeConfig {
        guilds: vec![default_guild(), second],
        echo_bot_events: true,
        ..FakeConfig::default()
    };
    let bot = spawn_with(config, &[]).await;
    scripted_history(&bot.desk).await;

    async fn run(
        bot: &TestBot,
        name: &str,
        options: Vec<Value>,
        user: u64,
        place: Place,
    ) -> RecordedRequest {
        let id = bot.slash(name, options, user, place).await;
        bot.interaction_reply(&id).await
    }
    let staff = Place::guild(ids::STAFF);
    // (command, user, allowed)
    let cases = [
        ("stats", ids::CARLA, false),
        ("stats", ids::OTTO, false),
        ("stats", ids::ALEX, true),
        ("stats", ids::ADA, true),
        ("stats", ids::OLGA, true),
        ("setup", ids::CARLA, false),
        ("setup", ids::ALEX, false),
        ("setup", ids::ADA, true),
        ("setup", ids::OLGA, true),
        ("sla", ids::CARLA, false),
        ("sla", ids::ALEX, false),
        ("sla", ids::ADA, true),
        ("sla", ids::OLGA, true),
    ];
    for (command, user, allowed) in cases {
        let reply = run(&bot, command, vec![], user, staff).await;
        let body = reply.body.as_ref().unwrap();
        let refused = body["type"] == 4 && reply.content().is_some_and(|c| c.contains("Only"));
        assert_eq!(!refused, allowed, "/{command} by {user}: {body}");
        assert!(
            reply.is_ephemeral(),
            "/{command} by {user} answers privately"
        );
    }
    // A member of another guild sees only their own guild: the owner of the other guild (all
    // permissions) gets a report of an empty guild, never this guild's figures.
    let mut it = slash_command(
        "stats",
        vec![],
        OTHER_ADMIN,
        Place::guild(ids::STAFF + 1_000),
    );
    it["guild_id"] = json!(OTHER_GUILD.to_string());
    it["member"]["permissions"] = json!("8");
    let id = it["id"].as_str().unwrap().to_string();
    bot.fake.dispatch("INTERACTION_CREATE", it).await;
    bot.interaction_reply(&id).await;
    let reply = bot
        .request(|r| {
            r.path.contains(&id_token_path(&id))
                && r.body.as_ref().is_some_and(|b| b["embeds"].is_array())
        })
        .await;
    assert!(
        embed_field(reply.body.as_ref().unwrap(), "Requests").starts_with("0 "),
        "{:?}",
        reply.body
    );

    // /close in a ticket thread: agents yes, a customer who somehow writes there no.
    let (_, thread) = carla_writes(&bot, "Hello").await;
    let reply = run(&bot, "close", vec![], ids::OTTO, Place::guild(thread)).await;
    assert!(
        reply.content().unwrap().contains("Only agents"),
        "{:?}",
        reply.content()
    );
    let reply = run(&bot, "close", vec![], ids::ALEX, Place::guild(thread)).await;
    assert!(
        !reply.is_ephemeral(),
        "the close is announced in the thread"
    );

    // Survey buttons (only the conversation's customer) are covered by
    // the_survey_arrives_after_the_survey_delay_and_only_the_customer_can_rate.
    bot.stop().await;
}
