//! The dashboard's trust boundary, route by route, over HTTP with the real bot and the fake
//! Discord (the helpers are `dashboard.rs`'s): who gets which answer on every guild route,
//! addresses of one guild that name another guild's conversation or agent, a conversation's
//! text only while its guild keeps transcripts, and the agents' table's orders that lead to the
//! agent with the lowest CSAT.
//!
//! "Another guild" is a second guild the fake Discord really knows, with an agent role and an
//! agent of its own, whose agent is also a plain member of the default guild: a refusal there
//! comes from the access rule, not from Discord not knowing the guild or the member. Expected
//! figures are worked by hand from the scripted histories, never read from the code under test.

use crate::dashboard::{
    dashboard, get, logged_in, page_figures, session_cookie, spend, token_of, Answer, BASE,
};
use crate::harness::*;
use crate::steps::*;
use axum::http::StatusCode;
use fake_discord::*;
use reactif::clock::{FixedClock, SystemClock};
use reactif::domain::{Event, EventKind, Rating, HOUR, MINUTE};
use reactif::store::DiscordSetup;
use reactif::web::Web;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The second guild's ids (a guild built like the default one, with its own channels).
const B: ids::GuildIds = ids::SHARD_GUILDS[1];
/// The second guild's agent role (its `/setup`) and the bot's role there.
const B_AGENT_ROLE: u64 = 1191169375604838411;
const B_BOT_ROLE: u64 = 1191169375604838412;
/// Bea: agent of the second guild, member of the default guild without any role.
const BEA: u64 = 1191169375604838421;
/// Bruno: a customer of the second guild.
const BRUNO: u64 = 1191169375604838422;

fn b() -> String {
    B.guild.to_string()
}

/// The second guild as Discord describes it: roles @everyone (no Manage Server), "Other
/// Support" and the bot's; members the bot, Olga (owner), Bea (Other Support), and Alex and Ada
/// without roles (staff of the default guild, plain members here).
fn second_guild() -> Value {
    let mut g = guild_like_default(&B, "Other Shop");
    let roles = g["roles"].as_array().unwrap().clone();
    let role = |from: u64, id: u64, name: &str| {
        let mut r = roles
            .iter()
            .find(|r| id_of(&r["id"]) == Some(from))
            .unwrap()
            .clone();
        r["id"] = json!(id.to_string());
        r["name"] = json!(name);
        r
    };
    g["roles"] = json!([
        role(ids::EVERYONE_ROLE, B.guild, "@everyone"),
        role(ids::AGENT_ROLE, B_AGENT_ROLE, "Other Support"),
        role(ids::BOT_ROLE, B_BOT_ROLE, "reactif"),
    ]);
    g["members"] = json!([
        member_json(ids::BOT, &[B_BOT_ROLE]),
        member_json(ids::OLGA, &[]),
        member_json(BEA, &[B_AGENT_ROLE]),
        member_json(ids::ALEX, &[]),
        member_json(ids::ADA, &[]),
    ]);
    g["member_count"] = json!(5);
    g
}

/// The bot in both guilds; the second guild's `/setup` names its agent role; Bea joins the
/// default guild without a role.
async fn spawn_two_guilds() -> TestBot {
    let config = FakeConfig {
        guilds: vec![default_guild(), second_guild()],
        echo_bot_events: true,
        ..FakeConfig::default()
    };
    let bot = spawn_with(config, &[]).await;
    bot.fake.add_member(ids::GUILD, member_json(BEA, &[]));
    let setup = DiscordSetup {
        agent_roles: vec![B_AGENT_ROLE.to_string()],
        ..DiscordSetup::default()
    };
    bot.store().save_discord_setup(&b(), &setup).await.unwrap();
    bot
}

/// Logs `user` in through a link made in `guild` (where they ran `/dashboard`).
async fn session_from(web: &Arc<Web>, user: u64, guild: &str) -> String {
    let now = web.clock.now();
    let link = web
        .desk
        .dashboard_link(BASE, &user.to_string(), guild, now)
        .await
        .unwrap();
    let answer = spend(web, &token_of(&link)).await;
    assert_eq!(answer.location, Some(format!("/g/{guild}")));
    session_cookie(&answer)
}

/// One request of a scripted history: the customer writes at `start`, the agent answers
/// `delay` later; with a rating, a survey goes out a minute after the answer and is rated four
/// minutes after that.
struct Conv {
    key: &'static str,
    customer: u64,
    agent: u64,
    start: i64,
    delay: i64,
    rating: Option<i64>,
}

/// Event ids unique across every history of the test binary.
static SEQ: AtomicU64 = AtomicU64::new(1);

async fn script(bot: &TestBot, guild: &str, convs: &[Conv]) {
    let ev = |place: &str, author: u64, at: i64, kind: EventKind| Event {
        id: (snowflake_at(at) + SEQ.fetch_add(1, Ordering::Relaxed)).to_string(),
        guild_id: guild.into(),
        place: place.into(),
        author_id: author.to_string(),
        at,
        kind,
    };
    let mut events = Vec::new();
    for c in convs {
        let answered = c.start + c.delay;
        let answer = ev(c.key, c.agent, answered, EventKind::AgentMessage);
        events.push(ev(c.key, c.customer, c.start, EventKind::CustomerMessage));
        if let Some(rating) = c.rating {
            let survey_id = format!("s-{}", c.key);
            let sent = EventKind::SurveySent {
                survey_id: survey_id.clone(),
                answer_message_id: answer.id.clone(),
            };
            events.push(ev(c.key, ids::BOT, answered + MINUTE, sent));
            let rated = EventKind::Rating {
                survey_id,
                rating: Rating::parse(rating).unwrap(),
            };
            events.push(ev(c.key, c.customer, answered + 5 * MINUTE, rated));
        }
        events.push(answer);
    }
    bot.desk.ingest(&events).await.unwrap();
}

/// The default guild: Cody asks 3 days ago, Alex answers in 2 min, Cody rates 2; Carla asks
/// 2 days ago, Alex answers in 10 min, Carla rates 5.
/// The second guild: Bruno asks 2 days ago, Bea answers in 4 min, he rates 1; he asks again a
/// day ago, Bea answers in 40 min, he rates 3.
async fn both_histories(bot: &TestBot, now: i64) {
    let conv = |key, customer, agent, ago: i64, delay, rating| Conv {
        key,
        customer,
        agent,
        start: now - ago * 24 * HOUR,
        delay: delay * MINUTE,
        rating: Some(rating),
    };
    let a = [
        conv("a-conv-1", ids::CODY, ids::ALEX, 3, 2, 2),
        conv("a-conv-2", ids::CARLA, ids::ALEX, 2, 10, 5),
    ];
    script(bot, GUILD, &a).await;
    let bs = [
        conv("b-conv-1", BRUNO, BEA, 2, 4, 1),
        conv("b-conv-2", BRUNO, BEA, 1, 40, 3),
    ];
    script(bot, &b(), &bs).await;
}

/// Every guild route of `guild`, each with what only an answer that lets the visitor in shows:
/// `agent` is an agent of the guild with `key` its conversation answered in `delay_ms`, rated
/// `rating`.
fn routes(guild: &str, agent: u64, key: &str, delay_ms: i64, rating: i64) -> Vec<(String, String)> {
    vec![
        (
            format!("/g/{guild}?period=30d"),
            format!("data-agent=\"{agent}\""),
        ),
        (
            format!("/g/{guild}/requests.csv?period=30d"),
            format!("\n{guild},{key},"),
        ),
        (
            format!("/g/{guild}/satisfaction?period=30d"),
            format!("data-rating=\"{rating}\""),
        ),
        (
            format!("/g/{guild}/engagement?period=30d"),
            "data-figure=\"posts\"".into(),
        ),
        (
            format!("/g/{guild}/agents/{agent}?period=30d"),
            "data-figure=\"answered\"".into(),
        ),
        (
            format!("/g/{guild}/c/{key}"),
            format!("data-delay=\"{delay_ms}\""),
        ),
    ]
}

/// What no refused answer may hold: the guild's conversation keys and agent, and any figure,
/// rating, agent row, delay or CSV header.
fn guild_data(key_prefix: &str, agent: u64) -> Vec<String> {
    let mut out: Vec<String> = [
        "data-figure",
        "data-value",
        "data-rating",
        "data-agent",
        "data-delay",
        "guild_id,conversation",
    ]
    .map(String::from)
    .to_vec();
    out.extend([key_prefix.to_string(), agent.to_string()]);
    out
}

fn assert_refused(a: &Answer, want: StatusCode, data: &[String], what: &str) {
    assert_eq!(a.status, want, "{what}: {}", a.body);
    if want == StatusCode::SEE_OTHER {
        assert_eq!(
            a.location.as_deref(),
            Some("/"),
            "{what}: to the login page"
        );
    }
    for d in data {
        assert!(
            !a.body.contains(d.as_str()),
            "{what} shows {d:?}: {}",
            a.body
        );
    }
}

#[tokio::test]
async fn every_guild_route_lets_in_only_its_agents_and_admins_and_refusals_show_no_data() {
    let bot = spawn_two_guilds().await;
    let now = now_ms();
    both_histories(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let forbidden = StatusCode::FORBIDDEN;
    let visitors = [
        ("no session", None, StatusCode::SEE_OTHER),
        (
            "member without the agent role",
            Some(logged_in(&web, ids::OTTO).await),
            forbidden,
        ),
        (
            "agent of the other guild",
            Some(session_from(&web, BEA, &b()).await),
            forbidden,
        ),
        (
            "agent",
            Some(logged_in(&web, ids::ALEX).await),
            StatusCode::OK,
        ),
        (
            "admin (Manage Server)",
            Some(logged_in(&web, ids::ADA).await),
            StatusCode::OK,
        ),
    ];
    let data = guild_data("a-conv-", ids::ALEX);
    for (uri, shown) in routes(GUILD, ids::ALEX, "a-conv-1", 2 * MINUTE, 2) {
        for (who, cookie, want) in &visitors {
            let a = get(&web, &uri, cookie.as_deref()).await;
            let what = format!("{uri} for the {who}");
            if *want == StatusCode::OK {
                assert_eq!(a.status, StatusCode::OK, "{what}: {}", a.body);
                assert!(a.body.contains(&shown), "{what} shows {shown:?}");
            } else {
                assert_refused(&a, *want, &data, &what);
                assert!(!a.body.contains(&shown), "{what} shows {shown:?}");
            }
        }
    }
    // Bea was refused by the rule: Discord said she is a member of the default guild.
    let member = format!("/guilds/{GUILD}/members/{BEA}");
    let asked = bot
        .request(|r| r.is("GET", &member) && r.status == 200)
        .await;
    assert_eq!(asked.response["roles"], json!([]));

    // The other way round: the second guild's pages are Bea's, and refused to the default
    // guild's agent and admin, who are members there without its agent role.
    let bea = session_from(&web, BEA, &b()).await;
    let alex = logged_in(&web, ids::ALEX).await;
    let ada = logged_in(&web, ids::ADA).await;
    let data = guild_data("b-conv-", BEA);
    for (uri, shown) in routes(&b(), BEA, "b-conv-1", 4 * MINUTE, 1) {
        let a = get(&web, &uri, Some(&bea)).await;
        assert_eq!(a.status, StatusCode::OK, "{uri} for Bea: {}", a.body);
        assert!(a.body.contains(&shown), "{uri} for Bea shows {shown:?}");
        for (who, cookie) in [("agent", &alex), ("admin", &ada)] {
            let a = get(&web, &uri, Some(cookie)).await;
            let what = format!("{uri} for the default guild's {who}");
            assert_refused(&a, forbidden, &data, &what);
        }
    }
    bot.stop().await;
}

/// The rows of a CSV answer (header left out), split on commas (no field here has one).
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut lines = body.lines();
    assert_eq!(
        lines.next().map(|h| format!("{h}\n")).as_deref(),
        Some(reactif::report::csv::EXPORT_HEADER)
    );
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The values of attribute `name` of every tag of `html`, in page order.
fn attr_values(html: &str, name: &str) -> Vec<String> {
    let key = format!(" {name}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let start = i + key.len();
            let end = start + html[start..].find('"').unwrap();
            html[start..end].replace("&amp;", "&")
        })
        .collect()
}

fn figures(html: &str) -> HashMap<String, String> {
    page_figures(html).into_iter().collect()
}

#[tokio::test]
async fn a_guilds_addresses_never_reach_another_guilds_conversations_agents_or_rows() {
    let bot = spawn_two_guilds().await;
    let now = now_ms();
    both_histories(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let (a, b) = (GUILD, b());
    for user in [ids::ALEX, ids::ADA] {
        let cookie = logged_in(&web, user).await;
        let open = |uri: String| {
            let (web, cookie) = (&web, cookie.clone());
            async move { get(web, &uri, Some(&cookie)).await }
        };
        // The second guild's conversation named under the default guild: not found there.
        let c = open(format!("/g/{a}/c/b-conv-1")).await;
        assert_eq!(c.status, StatusCode::NOT_FOUND, "{user}: {}", c.body);
        assert!(!c.body.contains("data-delay") && !c.body.contains(&BEA.to_string()));

        // The second guild's agent named under the default guild: nothing of what Bea did in
        // the second guild (2 answers, rated 1 and 3) is counted here.
        let p = open(format!("/g/{a}/agents/{BEA}?period=30d")).await;
        assert_eq!(p.status, StatusCode::OK, "{user}: {}", p.body);
        let f = figures(&p.body);
        for key in ["requests", "answered", "surveys_sent", "ratings"] {
            assert_eq!(f.get(key).map(String::as_str), Some("0"), "{user}: {key}");
        }
        for key in ["average_rating", "csat", "response_delay_ms.median"] {
            assert_eq!(f.get(key).map(String::as_str), Some(""), "{user}: {key}");
        }
        assert!(!p.body.contains("b-conv-") && !p.body.contains(&format!("/g/{b}")));

        // The CSV: the default guild's two requests, by hand (guild, conversation, delay,
        // agent, rating), and not one of the second guild's.
        let csv = open(format!("/g/{a}/requests.csv?period=30d")).await;
        assert_eq!(csv.status, StatusCode::OK);
        let mut rows: Vec<[String; 5]> = csv_rows(&csv.body)
            .into_iter()
            .map(|r| [0, 1, 5, 7, 9].map(|i| r[i].clone()))
            .collect();
        rows.sort();
        let alex = ids::ALEX.to_string();
        let row = |key: &str, delay: &str, rating: &str| {
            [a, key, delay, alex.as_str(), rating].map(str::to_string)
        };
        assert_eq!(
            rows,
            [
                row("a-conv-1", "120000", "2"),
                row("a-conv-2", "600000", "5")
            ],
            "{user}: {}",
            csv.body
        );

        // The satisfaction page: Cody's 2 then Carla's 5, nothing rated in the second guild
        // (1 and 3), and links to the default guild's conversations only.
        let s = open(format!("/g/{a}/satisfaction?period=30d")).await;
        assert_eq!(s.status, StatusCode::OK);
        assert_eq!(attr_values(&s.body, "data-rating"), ["2", "5"], "{user}");
        let conversations: Vec<String> = attr_values(&s.body, "href")
            .into_iter()
            .filter(|h| h.contains("/c/"))
            .collect();
        let to = |key: &str| format!("/g/{a}/c/{key}");
        assert_eq!(conversations, [to("a-conv-1"), to("a-conv-2")], "{user}");
        assert!(!s.body.contains(&BEA.to_string()) && !s.body.contains(&format!("/g/{b}")));

        // The overview's agents: Alex alone.
        let o = open(format!("/g/{a}?period=30d")).await;
        assert_eq!(
            attr_values(&o.body, "data-agent"),
            std::slice::from_ref(&alex),
            "{user}"
        );
    }

    // What was asked for above exists: in the second guild, Bea sees her conversation (4 min)
    // and her figures (2 answered, ratings 1 and 3: average 2, none satisfied).
    let bea = session_from(&web, BEA, &b).await;
    let c = get(&web, &format!("/g/{b}/c/b-conv-1"), Some(&bea)).await;
    assert!(c.body.contains("data-delay=\"240000\""), "{}", c.body);
    let p = get(&web, &format!("/g/{b}/agents/{BEA}?period=30d"), Some(&bea)).await;
    let f = figures(&p.body);
    for (key, value) in [("answered", "2"), ("average_rating", "2"), ("csat", "0")] {
        assert_eq!(f.get(key).map(String::as_str), Some(value), "{key}");
    }
    bot.stop().await;
}

#[tokio::test]
async fn a_conversation_shows_its_text_only_while_its_guild_keeps_transcripts() {
    let bot = spawn_two_guilds().await;
    let store = bot.store();
    let mut setup = store.discord_setup(GUILD).await.unwrap();
    setup.transcripts = true;
    store.save_discord_setup(GUILD, &setup).await.unwrap();
    let asked = "Is <b>this</b> kept?";
    let answer = "kept-answer-from-alex";
    let (_, thread) = carla_writes(&bot, asked).await;
    alex_answers(&bot, thread, answer).await;
    let place = &dm_key();
    eventually("both transcript lines", WAIT, move || async move {
        (store.transcript(GUILD, place).await.unwrap().len() == 2).then_some(())
    })
    .await;
    let web = dashboard(&bot, Arc::new(SystemClock)).await;
    let alex = logged_in(&web, ids::ALEX).await;
    let uri = format!("/g/{GUILD}/c/{}", dm_key());
    let no_transcript = "does not keep transcripts";

    // Kept: both messages' text, Carla's as text and not as markup.
    let page = get(&web, &uri, Some(&alex)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let escaped = "Is &lt;b&gt;this&lt;/b&gt; kept?";
    assert!(page.body.contains(escaped), "{}", page.body);
    assert!(!page.body.contains("<b>this</b>"), "{}", page.body);
    assert!(page.body.contains(answer), "{}", page.body);
    assert!(!page.body.contains(no_transcript));

    // Neither a member without the role nor the other guild (the same DM key, its own
    // guild's address) gets the text.
    let otto = logged_in(&web, ids::OTTO).await;
    let bea = session_from(&web, BEA, &b()).await;
    let refused = [
        (&otto, uri.clone(), StatusCode::FORBIDDEN),
        (&bea, uri.clone(), StatusCode::FORBIDDEN),
        (
            &bea,
            format!("/g/{}/c/{}", b(), dm_key()),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (cookie, uri, status) in refused {
        let a = get(&web, &uri, Some(cookie)).await;
        assert_eq!(a.status, status, "{uri}: {}", a.body);
        let text = [escaped, "<b>this</b>", answer];
        assert!(!text.iter().any(|t| a.body.contains(t)), "{uri}");
    }

    // The guild stops keeping transcripts: the lines stay stored, the page shows them no more
    // and says why.
    setup.transcripts = false;
    store.save_discord_setup(GUILD, &setup).await.unwrap();
    assert_eq!(store.transcript(GUILD, &dm_key()).await.unwrap().len(), 2);
    let page = get(&web, &uri, Some(&alex)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains(escaped) && !page.body.contains(answer));
    assert!(page.body.contains(no_transcript), "{}", page.body);
    bot.stop().await;
}

/// An agent's answers: (delay in minutes, rating).
type Answers = &'static [(i64, Option<i64>)];

/// The agents of the sort test, over the last 7 days (hand-worked figures):
///
/// | agent | delays (min) | median | ratings | average | CSAT  |
/// |-------|--------------|--------|---------|---------|-------|
/// | Alex  | 4, 6, 20     | 6      | 5, 5, 1 | 3.67    | 2 / 3 |
/// | Ada   | 1, 30        | 1      | 3, 3    | 3.00    | 0 / 2 |
/// | Olga  | 15, 16, 17   | 16     | 5, 1, 1 | 2.33    | 1 / 3 |
/// | Otto  | 10, 12       | 10     | none    | —       | —     |
///
/// The median is the nearest rank, `ceil(n / 2)`: the smaller of two. CSAT counts ratings of 4
/// and 5.
async fn four_agents(bot: &TestBot, now: i64) {
    let table: [(u64, Answers); 4] = [
        (ids::ALEX, &[(4, Some(5)), (6, Some(5)), (20, Some(1))]),
        (ids::ADA, &[(1, Some(3)), (30, Some(3))]),
        (ids::OLGA, &[(15, Some(5)), (16, Some(1)), (17, Some(1))]),
        (ids::OTTO, &[(10, None), (12, None)]),
    ];
    const KEYS: [&str; 10] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"];
    let mut convs = Vec::new();
    for (agent, answers) in table {
        for &(delay, rating) in answers {
            let n = convs.len();
            convs.push(Conv {
                key: KEYS[n],
                customer: ids::CARLA,
                agent,
                // One request every 5 hours, the oldest 50 hours ago.
                start: now - (n as i64 + 1) * 5 * HOUR,
                delay: delay * MINUTE,
                rating,
            });
        }
    }
    script(bot, GUILD, &convs).await;
}

#[tokio::test]
async fn the_agents_table_sorts_by_csat_rating_and_delay_and_leads_to_the_lowest_csat_agent() {
    let bot = spawn_bot().await;
    let now = now_ms();
    four_agents(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;
    let (alex, ada, olga, otto) = (ids::ALEX, ids::ADA, ids::OLGA, ids::OTTO);
    // Expected orders, by hand from the table of `four_agents`:
    // - by answered (the default): 3, 3, 2, 2, ties by id (Olga's < Alex's, Ada's < Otto's);
    // - csat, lowest first: 0 %, 33 %, 67 %, then no rating;
    // - rating, lowest first: 2.33, 3.00, 3.67, then no rating;
    // - delay, slowest median first: 16, 10, 6, 1 min.
    let cases: [(&str, [u64; 4]); 5] = [
        ("", [olga, alex, ada, otto]),
        ("&sort=answered", [olga, alex, ada, otto]),
        ("&sort=csat", [ada, olga, alex, otto]),
        ("&sort=rating", [olga, ada, alex, otto]),
        ("&sort=delay", [olga, otto, alex, ada]),
    ];
    for (sort, order) in cases {
        let page = get(&web, &format!("/g/{GUILD}?period=7d{sort}"), Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{sort}: {}", page.body);
        let want: Vec<String> = order.iter().map(u64::to_string).collect();
        assert_eq!(attr_values(&page.body, "data-agent"), want, "{sort}");
        // The header of the column in whose order the rows are, and only it, says so.
        let (key, direction) = match sort {
            "&sort=csat" => ("csat", "ascending"),
            "&sort=rating" => ("rating", "ascending"),
            "&sort=delay" => ("delay", "descending"),
            _ => ("answered", "descending"),
        };
        let marked: Vec<&str> = page
            .body
            .split("aria-sort=\"")
            .skip(1)
            .map(|rest| rest.split("</th>").next().unwrap())
            .collect();
        assert_eq!(marked.len(), 1, "{sort}");
        assert!(
            marked[0].starts_with(direction) && marked[0].contains(&format!("sort={key}\"")),
            "{sort}: {}",
            marked[0]
        );
    }
    // Each row's average rating, as written (two decimals, a dash without ratings).
    let page = get(&web, &format!("/g/{GUILD}?period=7d"), Some(&cookie)).await;
    for (agent, average) in [(olga, "2.33"), (alex, "3.67"), (ada, "3.00"), (otto, "—")] {
        let row = row_of(&page.body, agent);
        assert!(row.contains(&format!(">{average}<")), "{agent}: {row}");
    }

    // The three clicks: the `/dashboard` link's button, the CSAT column's header, the first
    // row: Ada's page, with her figures (2 answered, median 1 min, average 3, CSAT 0).
    let link = web
        .desk
        .dashboard_link(BASE, &ada.to_string(), GUILD, now)
        .await
        .unwrap();
    let login = spend(&web, &token_of(&link)).await;
    let cookie = session_cookie(&login);
    let overview = get(&web, &login.location.unwrap(), Some(&cookie)).await;
    assert_eq!(overview.status, StatusCode::OK);
    let by_csat = attr_values(&overview.body, "href")
        .into_iter()
        .find(|h| h.ends_with("sort=csat"))
        .expect("the CSAT column sorts");
    let sorted = get(&web, &by_csat, Some(&cookie)).await;
    let first = attr_values(&sorted.body, "data-agent");
    assert_eq!(first.first(), Some(&ada.to_string()), "lowest CSAT first");
    let to_agent = attr_values(row_of(&sorted.body, ada), "href");
    assert_eq!(to_agent, [format!("/g/{GUILD}/agents/{ada}?period=7d")]);
    let page = get(&web, &to_agent[0], Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Ada-Admin<"), "{}", page.body);
    let f = figures(&page.body);
    let expected = [
        ("answered", "2"),
        ("response_delay_ms.median", "60000"),
        ("ratings", "2"),
        ("average_rating", "3"),
        ("csat", "0"),
    ];
    for (key, value) in expected {
        assert_eq!(f.get(key).map(String::as_str), Some(value), "{key}");
    }
    bot.stop().await;
}

/// The agents table's row of `agent`, to its end.
fn row_of(html: &str, agent: u64) -> &str {
    let start = html
        .find(&format!(" data-agent=\"{agent}\""))
        .unwrap_or_else(|| panic!("a row for {agent}"));
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}
