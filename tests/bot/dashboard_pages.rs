//! The dashboard's charts, its engagement page, agents' names and its French, over HTTP with
//! the real bot and the fake Discord (the helpers are `dashboard.rs`'s). Expected values come
//! from `reactif stats --format json` / `reactif engagement --format json` for the same window,
//! or are worked by hand from the scripted history.

use crate::dashboard::{dashboard, get, history, json_at, logged_in, page_figures};
use crate::harness::*;
use axum::http::StatusCode;
use fake_discord::*;
use reactif::clock::FixedClock;
use reactif::domain::engagement::{EngagementEvent, EngagementKind};
use reactif::domain::{format_time, Event, EventKind, DAY, HOUR, MINUTE};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The opening tags of `html` that contain `needle`.
fn tags<'a>(html: &'a str, needle: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(needle) {
        let at = from + i;
        let start = html[..at].rfind('<').unwrap_or(0);
        let end = at + html[at..].find('>').unwrap_or(0);
        out.push(&html[start..=end]);
        from = end + 1;
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// `data-value` of every element carrying `needle` (e.g. `class="bar current"`).
fn values(html: &str, needle: &str) -> Vec<f64> {
    tags(html, needle)
        .iter()
        .filter_map(|t| attr(t, "data-value"))
        .map(|v| v.parse().unwrap())
        .collect()
}

/// The section of a page with this id, to its end.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).expect(id);
    let end = html[start..].find("</section>").unwrap() + start;
    &html[start..end]
}

async fn stats_json(web: &Arc<reactif::web::Web>, since: &str, agent: Option<String>) -> Value {
    let clock = FixedClock::new(web.clock.now());
    let args = reactif::cli::StatsArgs {
        window: reactif::cli::WindowArgs {
            guild: Some(GUILD.into()),
            agent,
            since: since.into(),
            until: None,
            now: Some(format_time(web.clock.now())),
        },
        format: reactif::cli::Format::Json,
        chart: None,
        heatmap: None,
        lang: None,
    };
    serde_json::from_str(&reactif::cli::stats(&web.desk, &args, &clock).await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_charts_draw_both_periods_with_the_figures_of_the_report() {
    let bot = spawn_bot().await;
    let now = now_ms();
    history(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ALEX).await;
    let json = stats_json(&web, "7d", None).await;
    let page = get(&web, &format!("/g/{GUILD}?period=7d"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;

    // Requests: this period's bars add up to the report's requests (3), the previous
    // period's dashed points to its one request.
    let requests = section(html, "requests-chart");
    let bars: f64 = values(requests, "class=\"bar current\"").iter().sum();
    assert_eq!(Some(bars), json_at(&json, "requests"));
    assert_eq!(bars, 3.0);
    let before: f64 = values(requests, "class=\"previous\"").iter().sum();
    assert_eq!(Some(before), json_at(&json, "previous.requests"));

    // Delays in minutes: answers of 2 and 10 minutes this period, 30 the period before; one
    // answer a day, so each day's median and p90 are that answer.
    let delays = section(html, "delay-chart");
    let set = |v: Vec<f64>| {
        v.into_iter()
            .map(|x| (x * 1000.0).round() as i64)
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        set(values(delays, "class=\"current median\"")),
        BTreeSet::from([2000, 10000])
    );
    assert_eq!(
        set(values(delays, "class=\"current p90\"")),
        BTreeSet::from([2000, 10000])
    );
    assert_eq!(
        set(values(delays, "class=\"previous median\"")),
        BTreeSet::from([30000])
    );
    assert!(delays.contains(">min<"), "the unit is written");

    // CSAT per day: Cody rated 2 (not satisfied), Carla 5, on two days.
    let csat = section(html, "csat-chart");
    assert_eq!(
        set(values(csat, "class=\"current\"")),
        BTreeSet::from([0, 100_000])
    );

    // The heatmap's cells are the JSON's `heatmap.requests`, cell by cell.
    let heat = section(html, "heatmap");
    let cells = tags(heat, "class=\"cell\"");
    assert_eq!(cells.len(), 7 * 24);
    for c in cells {
        let (d, h) = (
            attr(c, "data-weekday").unwrap(),
            attr(c, "data-hour").unwrap(),
        );
        let v: f64 = attr(c, "data-value").unwrap().parse().unwrap();
        let (d, h): (usize, usize) = (d.parse().unwrap(), h.parse().unwrap());
        assert_eq!(
            Some(v),
            json["heatmap"]["requests"][d][h].as_f64(),
            "{d} {h}"
        );
    }

    // The distribution: 2 min in the second bucket (59 s – 4 min 55 s), 10 min in the third;
    // the previous period's 30 min in the fourth. As many delays as answered requests.
    let dist = section(html, "distribution");
    let rows: Vec<f64> = values(dist, "class=\"num value\"");
    assert_eq!(rows, [0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(Some(rows.iter().sum()), json_at(&json, "answered"));
    assert!(dist.contains("59 s – 4 min 55 s"), "the buckets are stated");
    let before: Vec<f64> = values(dist, "class=\"bar previous\"");
    assert_eq!(before, [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);

    // An agent's page draws the same charts over the agent's answers.
    let agent = get(
        &web,
        &format!("/g/{GUILD}/agents/{}?period=7d", ids::ALEX),
        Some(&cookie),
    )
    .await;
    assert_eq!(agent.status, StatusCode::OK);
    let bars: f64 = values(
        section(&agent.body, "requests-chart"),
        "class=\"bar current\"",
    )
    .iter()
    .sum();
    let agent_json = stats_json(&web, "7d", Some(ids::ALEX.to_string())).await;
    assert_eq!(Some(bars), json_at(&agent_json, "requests"));
    bot.stop().await;
}

#[tokio::test]
async fn a_period_without_data_says_so_instead_of_drawing_flat_lines() {
    let bot = spawn_bot().await;
    let now = now_ms();
    history(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;
    let page = get(
        &web,
        &format!("/g/{GUILD}?from=2020-03-01&to=2020-03-07"),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for id in [
        "requests-chart",
        "delay-chart",
        "csat-chart",
        "heatmap",
        "distribution",
    ] {
        let s = section(&page.body, id);
        assert!(s.contains("No data for this period."), "{id}: {s}");
        assert!(
            !s.contains("<polyline") && !s.contains("class=\"bar"),
            "{id} draws nothing"
        );
    }
    bot.stop().await;
}

/// Two posts this week (one tagged `release`, with two reactions and a reply), one the week
/// before; audience 100 each.
async fn posts(bot: &TestBot, now: i64) {
    let ev = |id: u64, author: u64, at: i64, kind: EngagementKind| EngagementEvent {
        id: (snowflake_at(at) + id).to_string(),
        guild_id: GUILD.into(),
        author_id: author.to_string(),
        at,
        kind,
    };
    let post = |id: u64, at: i64, themes: &[&str]| {
        ev(
            id,
            ids::OLGA,
            at,
            EngagementKind::Post {
                channel_id: ids::SUPPORT.to_string(),
                themes: themes.iter().map(|t| t.to_string()).collect(),
                audience: 100,
            },
        )
    };
    let p1 = post(1, now - 3 * DAY, &["release"]);
    let p2 = post(2, now - 2 * DAY, &[]);
    let p0 = post(3, now - 10 * DAY, &["release"]);
    let react = |id: u64, who: u64, p: &EngagementEvent, after: i64| {
        ev(
            id,
            who,
            p.at + after,
            EngagementKind::ReactionAdd {
                post_id: p.id.clone(),
                emoji: "👍".into(),
            },
        )
    };
    let events = vec![
        react(10, ids::CARLA, &p1, HOUR),
        react(11, ids::CODY, &p1, 2 * HOUR),
        ev(
            12,
            ids::CODY,
            p1.at + 3 * HOUR,
            EngagementKind::Reply {
                post_id: p1.id.clone(),
            },
        ),
        react(13, ids::CARLA, &p0, MINUTE),
        p1,
        p2,
        p0,
    ];
    bot.desk.ingest_engagement(&events).await.unwrap();
}

#[tokio::test]
async fn the_engagement_page_shows_the_figures_of_reactif_engagement_to_staff_and_community() {
    let bot = spawn_bot().await;
    let now = now_ms();
    posts(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let uri = format!("/g/{GUILD}/engagement?period=7d");

    // Who may see it: the rule of `/engagement` (staff, or the community role below).
    assert_eq!(get(&web, &uri, None).await.status, StatusCode::SEE_OTHER);
    for (user, status) in [
        (ids::OTTO, StatusCode::FORBIDDEN),
        (ids::CARLA, StatusCode::FORBIDDEN),
        (ids::ALEX, StatusCode::OK),
        (ids::ADA, StatusCode::OK),
        (ids::OLGA, StatusCode::OK),
    ] {
        let cookie = logged_in(&web, user).await;
        assert_eq!(
            get(&web, &uri, Some(&cookie)).await.status,
            status,
            "user {user}"
        );
    }
    // The community role (`/setup community_role`) opens this page, as it opens `/engagement`,
    // and none of the support pages.
    const CORA: u64 = 1191169056833667106;
    const COMMUNITY: u64 = 1191169061027971107;
    bot.fake.add_member(
        ids::GUILD,
        serde_json::json!({
            "user": {"id": CORA.to_string(), "username": "cora-community"},
            "roles": [COMMUNITY.to_string()],
        }),
    );
    let cora = logged_in(&web, CORA).await;
    assert_eq!(
        get(&web, &uri, Some(&cora)).await.status,
        StatusCode::FORBIDDEN,
        "no community role set yet"
    );
    bot.store()
        .save_tracking_setup(
            GUILD,
            &reactif::store::TrackingSetup {
                channels: Vec::new(),
                community_role: Some(COMMUNITY.to_string()),
            },
        )
        .await
        .unwrap();
    assert_eq!(get(&web, &uri, Some(&cora)).await.status, StatusCode::OK);
    for support_page in [
        format!("/g/{GUILD}?period=7d"),
        format!("/g/{GUILD}/satisfaction"),
        format!("/g/{GUILD}/requests.csv"),
    ] {
        assert_eq!(
            get(&web, &support_page, Some(&cora)).await.status,
            StatusCode::FORBIDDEN,
            "{support_page}"
        );
    }

    let cookie = logged_in(&web, ids::ALEX).await;
    let other = format!("/g/{}/engagement", OTHER_GUILD_ID);
    assert_eq!(
        get(&web, &other, Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );

    // The figures are the CLI's for the same window.
    let args = reactif::cli::EngagementArgs {
        guild: Some(GUILD.into()),
        theme: None,
        since: "7d".into(),
        until: None,
        now: Some(format_time(now)),
        format: reactif::cli::Format::Json,
        chart: None,
        lang: None,
    };
    let out = reactif::cli::engagement(&web.desk, &args, &FixedClock::new(now))
        .await
        .unwrap();
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let page = get(&web, &uri, Some(&cookie)).await;
    let figures = page_figures(&page.body);
    assert_eq!(figures.len(), 9, "{figures:?}");
    for (key, shown) in figures {
        let on_page: Option<f64> = (!shown.is_empty()).then(|| shown.parse().unwrap());
        assert_eq!(on_page, json_at(&json, &key), "{key}");
    }
    // By hand: 2 posts, 2 reactions and a reply, audience 200.
    assert_eq!(json_at(&json, "posts"), Some(2.0));
    assert_eq!(json_at(&json, "engagements"), Some(3.0));
    assert_eq!(json_at(&json, "audience"), Some(200.0));
    // Themes and top posts: `release` with its 3 engagements, the first post on top.
    let release = tags(&page.body, "data-theme=\"release\"");
    assert_eq!(release.len(), 1);
    let top = tags(&page.body, "data-post=");
    assert_eq!(top.len(), 2);
    assert_eq!(
        Some(attr(top[0], "data-post").unwrap()),
        json["top_posts"][0]["id"].as_str()
    );
    assert!(
        page.body.contains("not a count of views"),
        "the audience is a ceiling"
    );
    bot.stop().await;
}

#[tokio::test]
async fn agents_are_shown_by_their_name_in_discord() {
    let bot = spawn_bot().await;
    let now = now_ms();
    history(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;
    for uri in [
        format!("/g/{GUILD}?period=7d"),
        format!("/g/{GUILD}/satisfaction?period=7d"),
        format!("/g/{GUILD}/agents/{}?period=7d", ids::ALEX),
    ] {
        let page = get(&web, &uri, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(page.body.contains(">Alex-Agent<"), "{uri}: {}", page.body);
    }
    bot.stop().await;
}

/// The words of a page's text (not its tags or attributes, nor `<code>`: values to type): runs
/// of letters and digits holding a letter, of any length, so that `7d` or `a` are words and
/// `2026-11-01` is none.
fn words(html: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = html;
    while let Some(end) = rest.find('<') {
        // Entities (`&lt;`) are characters, not words.
        let text: String = rest[..end]
            .split('&')
            .enumerate()
            .map(|(i, part)| match i {
                0 => part,
                _ => part.split_once(';').map_or(part, |(_, after)| after),
            })
            .collect::<Vec<_>>()
            .join(" ");
        for w in text.split(|c: char| !c.is_alphanumeric()) {
            if w.chars().any(char::is_alphabetic) {
                out.insert(w.to_string());
            }
        }
        let Some(close) = rest[end..].find('>') else {
            break;
        };
        let tag = &rest[end..end + close];
        rest = &rest[end + close + 1..];
        // A stylesheet inline would be words of no language; code is typed as it is.
        for (open, shut) in [("<style", "</style>"), ("<code", "</code>")] {
            if tag.starts_with(open) {
                rest = &rest[rest.find(shut).unwrap_or(0)..];
            }
        }
    }
    out
}

/// The internal links of a page (`<a href="/…">`) that do not keep `lang=LANG`.
fn links_without_lang<'a>(html: &'a str, lang: &str) -> Vec<&'a str> {
    tags(html, "href=\"/")
        .into_iter()
        .filter(|t| t.starts_with("<a "))
        .filter_map(|t| attr(t, "href"))
        .filter(|href| {
            let query = href.split_once('?').map_or("", |(_, q)| q);
            let query = query.split('#').next().unwrap_or_default();
            !query.split("&amp;").any(|kv| kv == format!("lang={lang}"))
        })
        .collect()
}

/// Words English and French share on these pages: names, units, acronyms, ids.
const SHARED: &[&str] = &[
    "CSAT",
    "CSV",
    "min",
    "s",
    "h",
    "p90",
    "UTC",
    "reactif",
    "Discord",
    "Engagement",
    "Engagements",
    "Satisfaction",
    "Conversation",
    "Conversations",
    "Agent",
    "Agents",
    "Alex",
    "release",
    "Messages",
    // Words French writes the same: "agent", "audience", "date", "page", "support"…
    "agent",
    "agents",
    "admin",
    "admins",
    // "the bot answers" / "le bot répond" (the login page, the forbidden page).
    "bot",
    "Audience",
    "audience",
    "engagement",
    "engagements",
    "conversation",
    "date",
    "dates",
    "page",
    "minutes",
    "support",
    "pts",
    // The English article and the French verb ("il a été modifié").
    "a",
    // A command to type: `/setup transcripts:True`.
    "setup",
    "transcripts",
    "True",
    // The operator's variables' names and where they are explained.
    "DISCORD",
    "CLIENT",
    "ID",
    "SECRET",
    "DASHBOARD",
    "URL",
    "docs",
    "dashboard",
    "md",
];

#[tokio::test]
async fn the_french_pages_have_no_english_fragment() {
    let bot = spawn_bot().await;
    let now = now_ms();
    history(&bot, now).await;
    posts(&bot, now).await;
    chatter(&bot, now, "👍 5/5").await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;
    let pages = [
        format!("/g/{GUILD}?period=7d"),
        format!("/g/{GUILD}?from=2020-03-01&to=2020-03-07"),
        format!("/g/{GUILD}/satisfaction?period=7d"),
        format!("/g/{GUILD}/agents/{}?period=7d", ids::ALEX),
        format!("/g/{GUILD}/engagement?period=7d"),
        format!("/g/{GUILD}/c/h1"),
        format!("/g/{GUILD}?from=yesterday"),
        format!("/g/{GUILD}?from=2020-03-01&to=soon"),
        format!("/g/{GUILD}?period=1y"),
        format!("/g/{GUILD}/agents/nobody"),
        format!("/g/{}", OTHER_GUILD_ID),
        "/login/discord".to_string(),
        "/login/link?t=forged".to_string(),
        // Logged out: the login page.
        "/".to_string(),
    ];
    let mut found = Vec::new();
    for uri in pages {
        let sep = if uri.contains('?') { '&' } else { '?' };
        let cookie = (uri != "/").then_some(cookie.as_str());
        let en = get(&web, &format!("{uri}{sep}lang=en"), cookie).await;
        let fr = get(&web, &format!("{uri}{sep}lang=fr"), cookie).await;
        assert_eq!(en.status, fr.status, "{uri}");
        assert!(fr.body.contains("lang=\"fr\""), "{uri}: {}", fr.body);
        let (e, f) = (words(&en.body), words(&fr.body));
        let english: Vec<&String> = e
            .intersection(&f)
            .filter(|w| !SHARED.contains(&w.as_str()))
            .collect();
        if !english.is_empty() {
            found.push(format!("{uri}: {english:?}"));
        }
        let unkept = links_without_lang(&fr.body, "fr");
        if !unkept.is_empty() {
            found.push(format!("{uri}: links without lang=fr: {unkept:?}"));
        }
    }
    assert!(
        found.is_empty(),
        "English words in French pages, or links back to English: {found:#?}"
    );
    bot.stop().await;
}

/// A bot's message and Cody's comment in conversation `h1` (its survey is `s3`).
async fn chatter(bot: &TestBot, now: i64, comment: &str) {
    let ev = |n: u64, author: u64, at: i64, kind: EventKind| Event {
        id: (snowflake_at(at) + n).to_string(),
        guild_id: GUILD.into(),
        place: "h1".into(),
        author_id: author.to_string(),
        at,
        kind,
    };
    let at = now - 3 * DAY + 10 * MINUTE;
    let events = [
        ev(1, ids::BOT, at, EventKind::BotMessage),
        ev(
            2,
            ids::CODY,
            at + MINUTE,
            EventKind::Comment {
                survey_id: "s3".into(),
                text: comment.into(),
            },
        ),
    ];
    bot.desk.ingest(&events).await.unwrap();
}

#[tokio::test]
async fn the_conversation_is_punctuated_in_the_visitors_language() {
    let bot = spawn_bot().await;
    let now = now_ms();
    history(&bot, now).await;
    chatter(&bot, now, "too slow").await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;
    let uri = format!("/g/{GUILD}/c/h1");
    let en = get(&web, &format!("{uri}?lang=en"), Some(&cookie)).await;
    let fr = get(&web, &format!("{uri}?lang=fr"), Some(&cookie)).await;
    assert_eq!(en.status, StatusCode::OK, "{}", en.body);
    assert!(en.body.contains("Comment: “too slow”"), "{}", en.body);
    assert!(
        !en.body.contains('«') && !en.body.contains(" :"),
        "{}",
        en.body
    );
    assert!(
        fr.body.contains("Commentaire : « too slow »"),
        "{}",
        fr.body
    );
    // The bot's message is named through the texts, in each language.
    assert!(en.body.contains(" · Bot message<"), "{}", en.body);
    assert!(fr.body.contains(" · Message du bot<"), "{}", fr.body);
    bot.stop().await;
}

#[tokio::test]
async fn the_period_is_shown_in_the_guild_time_zone_in_both_languages() {
    let bot = spawn_bot().await;
    let mut rules = bot.store().guild_rules(GUILD).await.unwrap();
    rules.timezone = chrono_tz::Asia::Tokyo;
    bot.store().save_guild_rules(GUILD, &rules).await.unwrap();
    let now = now_ms();
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;
    let tokyo = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let week = format!("{} – {} (Asia/Tokyo)", tokyo(now - 7 * DAY), tokyo(now));
    for (query, line) in [
        ("period=7d", week.as_str()),
        // Whole days in Tokyo, the last one included: up to the next midnight.
        (
            "from=2020-03-01&to=2020-03-07",
            "2020-03-01 00:00 – 2020-03-08 00:00 (Asia/Tokyo)",
        ),
    ] {
        for page in ["", "/engagement"] {
            for lang in ["en", "fr"] {
                let uri = format!("/g/{GUILD}{page}?{query}&lang={lang}");
                let p = get(&web, &uri, Some(&cookie)).await;
                assert_eq!(p.status, StatusCode::OK, "{uri}: {}", p.body);
                assert!(p.body.contains(line), "{uri}: {line} in {}", p.body);
                assert!(!p.body.contains("Z (Asia"), "{uri}: no UTC timestamp");
            }
        }
    }
    // The presets' words and colon in each language; the address keeps `period=7d`.
    let en = get(&web, &format!("/g/{GUILD}?lang=en"), Some(&cookie)).await;
    let fr = get(&web, &format!("/g/{GUILD}?lang=fr"), Some(&cookie)).await;
    assert!(en.body.contains("Period:") && !en.body.contains("Period :"));
    assert!(fr.body.contains("Période :"), "{}", fr.body);
    for (body, label) in [(&en.body, ">7d<"), (&fr.body, ">7 j<")] {
        let preset = tags(body, "class=\"preset")
            .into_iter()
            .find(|t| attr(t, "href").is_some_and(|h| h.contains("?period=7d&amp;lang=")))
            .expect("the 7d preset");
        let after = &body[body.find(preset).unwrap() + preset.len()..];
        assert!(
            after.starts_with(&label[1..]),
            "{label}: {preset}{after:.40}"
        );
    }
    bot.stop().await;
}

const OTHER_GUILD_ID: &str = "1191168956170379999";
