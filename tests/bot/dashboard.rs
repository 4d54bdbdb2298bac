//! The web dashboard and the operators' endpoints, over HTTP (axum's router called as a tower
//! service), with the real bot and the fake Discord: who may see what (asked of the fake with
//! the bot's token), the one-time links of `/dashboard`, the figures against `reactif stats
//! --format json`, the CSV, `/metrics` and `/healthz`.

use crate::harness::*;
use crate::steps::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use fake_discord::*;
use reactif::clock::{Clock, FixedClock, SystemClock};
use reactif::desk::dashboard::LINK_LIFETIME;
use reactif::domain::{format_time, Event, EventKind, DAY, HOUR, MINUTE};
use reactif::settings::Secret;
use reactif::web::{self, Web, WebSettings};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) const BASE: &str = "http://dashboard.test";
const TOKEN: &str = "fake-token-0123456789abcdefghij";
const OTHER_GUILD: &str = "1191168956170379999";

/// The dashboard of the test's bot, asking the fake Discord who may see what.
pub(crate) async fn dashboard(bot: &TestBot, clock: Arc<dyn Clock>) -> Arc<Web> {
    let members =
        web::DiscordMembers::new(&bot.fake.base_url(), Secret::new(TOKEN.into())).unwrap();
    let settings = WebSettings {
        public_url: Some(BASE.into()),
        ..WebSettings::default()
    };
    Web::new(
        bot.desk.clone(),
        clock,
        Arc::new(members),
        settings,
        Some(Arc::clone(&bot.health)),
    )
    .await
    .unwrap()
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    cookie: Option<String>,
    content_type: String,
    pub body: String,
}

pub(crate) async fn call(
    web: &Arc<Web>,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<String>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f)
        }
        None => Body::empty(),
    };
    let response = web::router(Arc::clone(web))
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let h = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let (location, cookie) = (h(header::LOCATION), h(header::SET_COOKIE));
    let content_type = h(header::CONTENT_TYPE).unwrap_or_default();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    Answer {
        status,
        location,
        cookie,
        content_type,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub(crate) async fn get(web: &Arc<Web>, uri: &str, cookie: Option<&str>) -> Answer {
    call(web, "GET", uri, cookie, None).await
}

/// The token of a one-time link (`…/login/link?t=TOKEN`).
pub(crate) fn token_of(link: &str) -> String {
    let start = link.find("/login/link?t=").expect("a dashboard link") + "/login/link?t=".len();
    link[start..]
        .split(|c: char| c.is_whitespace() || c == ')' || c == '>')
        .next()
        .unwrap()
        .to_string()
}

/// Spends a link; returns the answer (with the session cookie when it worked).
pub(crate) async fn spend(web: &Arc<Web>, token: &str) -> Answer {
    call(web, "POST", "/login/link", None, Some(format!("t={token}"))).await
}

/// Logs in through a fresh link for `user`, as `/dashboard` would make it; returns the cookie.
pub(crate) async fn logged_in(web: &Arc<Web>, user: u64) -> String {
    let link = web
        .desk
        .dashboard_link(BASE, &user.to_string(), GUILD, web.clock.now())
        .await
        .unwrap();
    let answer = spend(web, &token_of(&link)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    session_cookie(&answer)
}

pub(crate) fn session_cookie(a: &Answer) -> String {
    let set = a.cookie.as_deref().expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn the_dashboard_command_gives_an_agent_a_link_that_works_once() {
    let bot = spawn_with(
        FakeConfig {
            echo_bot_events: true,
            ..FakeConfig::default()
        },
        &[("DASHBOARD_URL", BASE)],
    )
    .await;
    let web = dashboard(&bot, Arc::new(SystemClock)).await;
    let id = bot
        .slash("dashboard", vec![], ids::ALEX, Place::guild(ids::STAFF))
        .await;
    let reply = bot.interaction_reply(&id).await;
    let body = reply.body.clone().unwrap();
    assert_eq!(body["data"]["flags"], 64, "ephemeral: {body}");
    let content = body["data"]["content"].as_str().unwrap().to_string();
    assert!(
        content.contains(&format!("{BASE}/login/link?t=")),
        "{content}"
    );
    let token = token_of(&content);

    // Opening the link (or a preview of it) spends nothing: its button does.
    let page = get(&web, &format!("/login/link?t={token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"method="post""#), "{}", page.body);
    let first = spend(&web, &token).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.location.as_deref(),
        Some(format!("/g/{GUILD}").as_str())
    );
    let cookie = session_cookie(&first);
    let again = spend(&web, &token).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already used"), "{}", again.body);
    assert!(again.cookie.is_none());

    let overview = get(&web, &format!("/g/{GUILD}"), Some(&cookie)).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert!(overview.content_type.starts_with("text/html"));
    bot.stop().await;
}

#[tokio::test]
async fn a_customer_cannot_get_a_dashboard_link() {
    let bot = spawn_with(FakeConfig::default(), &[("DASHBOARD_URL", BASE)]).await;
    let id = bot
        .slash("dashboard", vec![], ids::CODY, Place::guild(ids::STAFF))
        .await;
    let reply = bot.interaction_reply(&id).await;
    let text = reply.body.unwrap().to_string();
    assert!(!text.contains("/login/link"), "{text}");
    bot.stop().await;
}

#[tokio::test]
async fn who_sees_a_guild_is_decided_on_every_request_by_the_stats_rule() {
    let bot = spawn_bot().await;
    let web = dashboard(&bot, Arc::new(SystemClock)).await;
    let page = format!("/g/{GUILD}");
    let csv = format!("/g/{GUILD}/requests.csv?period=30d");

    // No session: to the login page, for pages and files alike.
    for uri in [&page, &csv] {
        let a = get(&web, uri, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(a.location.as_deref(), Some("/"));
    }
    let a = get(&web, &page, Some("reactif_session=forged")).await;
    assert_eq!(
        a.status,
        StatusCode::SEE_OTHER,
        "a made-up cookie opens nothing"
    );

    // An agent (role of the setup) and an admin (Manage Server) see it; a member without
    // either does not; nobody sees a guild they are not staff of.
    let alex = logged_in(&web, ids::ALEX).await;
    let ada = logged_in(&web, ids::ADA).await;
    let cody = logged_in(&web, ids::CODY).await;
    assert_eq!(get(&web, &page, Some(&alex)).await.status, StatusCode::OK);
    assert_eq!(get(&web, &page, Some(&ada)).await.status, StatusCode::OK);
    assert_eq!(
        get(&web, &page, Some(&cody)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&web, &csv, Some(&cody)).await.status,
        StatusCode::FORBIDDEN
    );
    let other = format!("/g/{OTHER_GUILD}");
    assert_eq!(
        get(&web, &other, Some(&alex)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&web, &other, Some(&ada)).await.status,
        StatusCode::FORBIDDEN
    );
    let csv_answer = get(&web, &csv, Some(&alex)).await;
    assert_eq!(csv_answer.status, StatusCode::OK);
    assert!(csv_answer.content_type.starts_with("text/csv"));
    assert!(csv_answer
        .body
        .starts_with(reactif::report::csv::EXPORT_HEADER));

    // The agent role is taken off in /setup: the next request is refused, session or not.
    let mut setup = bot.store().discord_setup(GUILD).await.unwrap();
    setup.agent_roles.clear();
    bot.store().save_discord_setup(GUILD, &setup).await.unwrap();
    assert_eq!(
        get(&web, &page, Some(&alex)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(get(&web, &page, Some(&ada)).await.status, StatusCode::OK);

    // Logging out revokes the session in the database.
    let out = call(&web, "POST", "/logout", Some(&ada), None).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(
        get(&web, &page, Some(&ada)).await.status,
        StatusCode::SEE_OTHER
    );
    bot.stop().await;
}

#[tokio::test]
async fn expired_changed_and_reused_links_open_nothing() {
    let bot = spawn_bot().await;
    let web = dashboard(&bot, Arc::new(SystemClock)).await;
    let now = web.clock.now();
    let old = web
        .desk
        .dashboard_link(BASE, &ids::ALEX.to_string(), GUILD, now - LINK_LIFETIME - 1)
        .await
        .unwrap();
    let a = spend(&web, &token_of(&old)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("expired"), "{}", a.body);
    assert!(a.cookie.is_none());

    let fresh = token_of(
        &web.desk
            .dashboard_link(BASE, &ids::CODY.to_string(), GUILD, now)
            .await
            .unwrap(),
    );
    // Cody's link made out to Ada, the admin: the signature no longer holds.
    let changed = fresh.replacen(&ids::CODY.to_string(), &ids::ADA.to_string(), 1);
    let a = spend(&web, &changed).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.cookie.is_none());
    assert_eq!(spend(&web, &fresh).await.status, StatusCode::SEE_OTHER);
    assert_eq!(spend(&web, &fresh).await.status, StatusCode::BAD_REQUEST);
    bot.stop().await;
}

/// A scripted history relative to `now`: answers of 2 and 10 minutes and an open request in
/// the last 7 days, an answer of 30 minutes in the 7 days before.
pub(crate) async fn history(bot: &TestBot, now: i64) {
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
    let mut events = vec![
        ev("h0", ids::CODY, now - 10 * DAY, EventKind::CustomerMessage),
        ev(
            "h0",
            ids::ALEX,
            now - 10 * DAY + 30 * MINUTE,
            EventKind::AgentMessage,
        ),
        ev("h1", ids::CODY, now - 3 * DAY, EventKind::CustomerMessage),
        ev(
            "h1",
            ids::ALEX,
            now - 3 * DAY + 2 * MINUTE,
            EventKind::AgentMessage,
        ),
        ev("h2", ids::CARLA, now - 2 * DAY, EventKind::CustomerMessage),
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
    // Each answer of the last 7 days is surveyed: Cody rates 2, Carla 5.
    for (answer, customer, rating) in [(3, ids::CODY, 2), (5, ids::CARLA, 5)] {
        let (place, at, answer_id) = {
            let a: &Event = &events[answer];
            (a.place.clone(), a.at, a.id.clone())
        };
        let survey_id = format!("s{answer}");
        let sent = ev(
            &place,
            ids::BOT,
            at + MINUTE,
            EventKind::SurveySent {
                survey_id: survey_id.clone(),
                answer_message_id: answer_id,
            },
        );
        let mut rated = ev(
            &place,
            customer,
            at + 5 * MINUTE,
            EventKind::Rating {
                survey_id,
                rating: reactif::domain::Rating::parse(rating).unwrap(),
            },
        );
        rated.author_id = customer.to_string();
        events.extend([sent, rated]);
    }
    bot.desk.ingest(&events).await.unwrap();
}

/// `data-figure` → `data-value` of every figure row on a page.
pub(crate) fn page_figures(html: &str) -> Vec<(String, String)> {
    let attr = |s: &str, name: &str| -> Option<(String, usize)> {
        let start = s.find(&format!("{name}=\""))? + name.len() + 2;
        let end = s[start..].find('"')? + start;
        Some((s[start..end].to_string(), end))
    };
    let mut out = Vec::new();
    let mut rest = html;
    while let Some((key, end)) = attr(rest, "data-figure") {
        rest = &rest[end..];
        let (value, end) = attr(rest, "data-value").expect("a value for each figure");
        rest = &rest[end..];
        out.push((key, value));
    }
    out
}

/// Each figure's previous-period value on the page (`data-figure` rows with `data-previous`).
fn page_previous(html: &str) -> Vec<(String, String)> {
    html.split("data-figure=\"")
        .skip(1)
        .filter_map(|row| {
            let key = row.split('"').next()?;
            let previous = row.split("data-previous=\"").nth(1)?.split('"').next()?;
            Some((key.to_string(), previous.to_string()))
        })
        .collect()
}

/// The JSON report's value at a dotted path, as the page writes it (`null` → empty).
pub(crate) fn json_at(report: &Value, path: &str) -> Option<f64> {
    let mut v = report;
    for part in path.split('.') {
        v = v
            .get(part)
            .unwrap_or_else(|| panic!("{path} is not in the JSON report"));
    }
    v.as_f64()
}

/// Asserts the page of `query` shows the CLI's figures for `cli_window`; returns how many
/// reasons the badge is not awarded it lists.
async fn assert_page_matches_cli(
    web: &Arc<Web>,
    cookie: &str,
    query: &str,
    cli_window: reactif::cli::WindowArgs,
) -> usize {
    let clock = FixedClock::new(web.clock.now());
    let args = reactif::cli::StatsArgs {
        window: cli_window,
        format: reactif::cli::Format::Json,
        chart: None,
        heatmap: None,
        lang: None,
    };
    let json: Value =
        serde_json::from_str(&reactif::cli::stats(&web.desk, &args, &clock).await.unwrap())
            .unwrap();
    let page = get(web, &format!("/g/{GUILD}?{query}"), Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let figures = page_figures(&page.body);
    // Each figure's label starts its row with a capital.
    for row in page.body.split("<tr data-figure=\"").skip(1) {
        let label = row.split("<td>").nth(1).unwrap_or_default();
        assert!(
            label.chars().next().is_some_and(char::is_uppercase),
            "{}",
            &label[..label.len().min(40)]
        );
    }
    assert!(
        figures.len() >= 18,
        "every figure is on the page: {figures:?}"
    );
    let keys = figures.len();
    for (key, shown) in figures {
        let on_page: Option<f64> = (!shown.is_empty()).then(|| shown.parse().unwrap());
        assert_eq!(on_page, json_at(&json, &key), "{key} for {query}");
    }
    // The previous period's column, each figure of it.
    let previous = page_previous(&page.body);
    assert_eq!(previous.len(), keys, "a previous value for each figure");
    for (key, shown) in previous {
        let on_page: Option<f64> = (!shown.is_empty()).then(|| shown.parse().unwrap());
        let path = format!("previous.{key}");
        assert_eq!(on_page, json_at(&json, &path), "{path} for {query}");
    }
    let alert = if json["load_alert"] == true {
        "true"
    } else {
        "false"
    };
    assert!(page.body.contains(&format!("data-load-alert=\"{alert}\"")));
    // The badge, and each reason it is not awarded.
    let awarded = json["badge"]["awarded"] == true;
    assert_eq!(page.body.contains("class=\"badge ok\""), awarded, "{query}");
    let failing = json["badge"]["failing"].as_array().unwrap().len();
    let listed = page
        .body
        .split("<ul class=\"failing\">")
        .nth(1)
        .map_or(0, |rest| {
            rest.split("</ul>").next().unwrap().matches("<li>").count()
        });
    assert_eq!(listed, failing, "the badge's failures for {query}");
    failing
}

#[tokio::test]
async fn the_overview_shows_the_figures_of_reactif_stats_json_for_the_same_window() {
    let bot = spawn_bot().await;
    // Service-level targets, so that their section is on the page and checked too.
    let mut rules = bot.store().guild_rules(GUILD).await.unwrap();
    rules.sla.first_response = Some(5 * MINUTE);
    rules.sla.next_response = Some(HOUR);
    rules.sla.resolution = Some(DAY);
    bot.store().save_guild_rules(GUILD, &rules).await.unwrap();
    let now = now_ms();
    history(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ALEX).await;
    let sla = get(&web, &format!("/g/{GUILD}?period=30d"), Some(&cookie)).await;
    assert!(
        sla.body
            .contains("data-figure=\"sla.first_response.attainment\""),
        "the service levels are shown"
    );
    let window = |since: &str, until: Option<&str>| reactif::cli::WindowArgs {
        guild: Some(GUILD.into()),
        agent: None,
        since: since.into(),
        until: until.map(str::to_string),
        now: Some(format_time(now)),
    };
    let mut failures =
        assert_page_matches_cli(&web, &cookie, "period=7d", window("7d", None)).await;
    failures += assert_page_matches_cli(&web, &cookie, "period=30d", window("30d", None)).await;
    // Dates: both days included on the page; `--until` is exclusive.
    let day = |ms: i64| reactif::domain::kpi::local_day(&chrono_tz::Tz::UTC, ms);
    let (from, to) = (day(now - 12 * DAY), day(now - 2 * DAY));
    let until = to.succ_opt().unwrap();
    assert_page_matches_cli(
        &web,
        &cookie,
        &format!("from={from}&to={to}"),
        window(&from.to_string(), Some(&until.to_string())),
    )
    .await;
    assert!(failures > 0, "a badge not awarded was compared");
    // A period that cannot be read is explained, not guessed.
    let bad = get(&web, &format!("/g/{GUILD}?from=yesterday"), Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("2026-11-01"), "{}", bad.body);
    bot.stop().await;
}

/// The sum of a metric's samples with `label` (all of them without).
pub(crate) fn sample(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    label: Option<(&str, &str)>,
) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

async fn scrape(web: &Arc<Web>) -> prometheus_parse::Scrape {
    let a = get(web, "/metrics", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.content_type.starts_with("text/plain"),
        "{}",
        a.content_type
    );
    prometheus_parse::Scrape::parse(a.body.lines().map(|l| Ok(l.to_string())))
        .expect("valid Prometheus exposition text")
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count_the_messages_that_flow() {
    web::ops::recorder().expect("the recorder of this test binary");
    let bot = spawn_bot().await;
    let web = dashboard(&bot, Arc::new(SystemClock)).await;
    let before = scrape(&web).await;
    let kind = Some(("kind", "customer_message"));
    let ingested = sample(&before, "reactif_events_ingested_total", kind);

    let (_, thread) = carla_writes(&bot, "Where is my order?").await;
    alex_answers(&bot, thread, "On its way").await;
    bot.wait_handled(thread).await;
    bot.wait_outbox_empty().await;
    let cookie = logged_in(&web, ids::ALEX).await;
    assert_eq!(
        get(&web, &format!("/g/{GUILD}"), Some(&cookie))
            .await
            .status,
        StatusCode::OK
    );

    let after = scrape(&web).await;
    assert!(
        sample(&after, "reactif_events_ingested_total", kind) >= ingested + 1.0,
        "Carla's message is counted"
    );
    assert!(
        sample(
            &after,
            "reactif_events_ingested_total",
            Some(("kind", "agent_message"))
        ) >= 1.0
    );
    assert!(
        sample(
            &after,
            "reactif_discord_rest_calls_total",
            Some(("status", "200"))
        ) >= 1.0
    );
    assert!(sample(&after, "reactif_report_seconds_count", None) >= 1.0);
    assert!(
        sample(
            &after,
            "reactif_gateway_sessions_total",
            Some(("kind", "ready"))
        ) >= 1.0
    );
    for name in [
        "reactif_outbox_backlog",
        "reactif_outbox_oldest_age_seconds",
    ] {
        assert!(
            after.samples.iter().any(|s| s.metric == name),
            "{name} is exposed"
        );
    }

    // Healthy once the bot says its gateway is connected.
    eventually("the gateway connected in /healthz", WAIT, || async {
        let a = get(&web, "/healthz", None).await;
        (a.status == StatusCode::OK && a.body.contains("\"connected\"")).then_some(())
    })
    .await;
    bot.stop().await;
    let a = get(&web, "/healthz", None).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert!(a.body.contains("disconnected"), "{}", a.body);
}

/// The dashboard with "Login with Discord" on, against the fake's OAuth2.
async fn with_oauth(bot: &TestBot) -> Arc<Web> {
    let members =
        web::DiscordMembers::new(&bot.fake.base_url(), Secret::new(TOKEN.into())).unwrap();
    let settings = WebSettings {
        public_url: Some(BASE.into()),
        oauth: Some(web::settings::OAuthApp {
            client_id: ids::APP.to_string(),
            client_secret: Secret::new("client-secret".into()),
        }),
        discord_url: Some(bot.fake.base_url()),
        ..WebSettings::default()
    };
    Web::new(
        bot.desk.clone(),
        Arc::new(SystemClock),
        Arc::new(members),
        settings,
        None,
    )
    .await
    .unwrap()
}

/// Follows `/login/discord` to the fake's consent page; returns the callback path and the
/// state cookie.
async fn to_discord_and_back(web: &Arc<Web>, fake: &FakeDiscord) -> (String, String) {
    let start = get(web, "/login/discord", None).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let authorize = start.location.unwrap();
    assert!(authorize.starts_with(&format!("{}/oauth2/authorize?", fake.base_url())));
    assert!(authorize.contains("scope=identify%20guilds"), "{authorize}");
    let state_cookie = start.cookie.unwrap().split(';').next().unwrap().to_string();
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let approved = http.get(&authorize).send().await.unwrap();
    assert_eq!(approved.status().as_u16(), 302);
    let back = approved.headers()["location"].to_str().unwrap().to_string();
    let path = back
        .strip_prefix(BASE)
        .expect("back to the dashboard")
        .to_string();
    (path, state_cookie)
}

#[tokio::test]
async fn login_with_discord_lets_an_agent_in_and_a_state_works_once() {
    let bot = spawn_bot().await;
    let web = with_oauth(&bot).await;
    bot.fake.set_oauth_user(Some(ids::ALEX));
    let home = get(&web, "/", None).await;
    assert!(
        home.body.contains("/login/discord"),
        "the login page offers it"
    );

    let (callback, state) = to_discord_and_back(&web, &bot.fake).await;
    let done = get(&web, &callback, Some(&state)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/g/{GUILD}").as_str())
    );
    let cookie = session_cookie(&done);
    assert_eq!(
        get(&web, &format!("/g/{GUILD}"), Some(&cookie))
            .await
            .status,
        StatusCode::OK
    );
    // The token was asked with the client secret; the code cannot be traded twice.
    let trade = bot.request(|r| r.is("POST", "/oauth2/token")).await;
    assert!(trade
        .body
        .unwrap()
        .as_str()
        .unwrap()
        .contains("client_secret=client-secret"));
    let replayed = get(&web, &callback, Some(&state)).await;
    assert_eq!(
        replayed.status,
        StatusCode::BAD_REQUEST,
        "a state is good once"
    );

    // A callback this browser did not start (no state cookie: login CSRF) is refused.
    let (callback, _) = to_discord_and_back(&web, &bot.fake).await;
    assert_eq!(
        get(&web, &callback, None).await.status,
        StatusCode::BAD_REQUEST
    );

    // Cody is logged in by Discord but is staff nowhere: no guild opens for him.
    bot.fake.set_oauth_user(Some(ids::CODY));
    let (callback, state) = to_discord_and_back(&web, &bot.fake).await;
    let done = get(&web, &callback, Some(&state)).await;
    assert_eq!(done.location.as_deref(), Some("/"));
    let cody = session_cookie(&done);
    assert_eq!(
        get(&web, &format!("/g/{GUILD}"), Some(&cody)).await.status,
        StatusCode::FORBIDDEN
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_low_rating_leads_to_its_conversation_and_its_agent() {
    let bot = spawn_bot().await;
    let now = now_ms();
    history(&bot, now).await;
    let web = dashboard(&bot, Arc::new(FixedClock::new(now))).await;
    let cookie = logged_in(&web, ids::ADA).await;

    // Ratings lowest first, each with a link to its conversation.
    let page = get(
        &web,
        &format!("/g/{GUILD}/satisfaction?period=7d"),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let first = page.body.find(r#"data-rating="2""#).expect("Cody's 2");
    let second = page.body.find(r#"data-rating="5""#).expect("Carla's 5");
    assert!(first < second, "lowest first");
    let link = format!("/g/{GUILD}/c/h1");
    let at = page.body.find(&link).expect("a link to the conversation");
    assert!(first < at && at < second, "the 2 links to h1");

    // The conversation: who wrote when, the request's delay (2 min), the rating; no text, as
    // the guild keeps no transcripts.
    let c = get(&web, &link, Some(&cookie)).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert!(c.body.contains(r#"data-delay="120000""#), "{}", c.body);
    assert!(c.body.contains("2 / 5"));
    assert!(c.body.contains("transcripts"), "says why there is no text");
    let missing = get(&web, &format!("/g/{GUILD}/c/nowhere"), Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Alex's page shows the figures of `reactif stats --agent`.
    let page = get(
        &web,
        &format!("/g/{GUILD}/agents/{}?period=7d", ids::ALEX),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let args = reactif::cli::StatsArgs {
        window: reactif::cli::WindowArgs {
            guild: Some(GUILD.into()),
            agent: Some(ids::ALEX.to_string()),
            since: "7d".into(),
            until: None,
            now: Some(format_time(now)),
        },
        format: reactif::cli::Format::Json,
        chart: None,
        heatmap: None,
        lang: None,
    };
    let json: Value = serde_json::from_str(
        &reactif::cli::stats(&web.desk, &args, &FixedClock::new(now))
            .await
            .unwrap(),
    )
    .unwrap();
    for (key, shown) in page_figures(&page.body) {
        let on_page: Option<f64> = (!shown.is_empty()).then(|| shown.parse().unwrap());
        assert_eq!(on_page, json_at(&json, &key), "{key}");
    }
    // Another guild's conversation is not reachable through this one.
    let cody = logged_in(&web, ids::CODY).await;
    assert_eq!(
        get(&web, &link, Some(&cody)).await.status,
        StatusCode::FORBIDDEN
    );
    bot.stop().await;
}
