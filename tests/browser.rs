//! The dashboard in a real browser: Debian's headless `chromium` driven through `chromedriver`
//! (WebDriver, with fantoccini). A team lead logs in through the fake Discord's OAuth2, opens
//! the overview, changes the period, opens an agent, the lowest rating's conversation,
//! downloads the CSV, reads the charts and the engagement page. Screenshots are kept under
//! `target/browser/` (look at them).
//!
//! Without chromium and chromedriver this suite FAILS (`.ci/run` installs them); set
//! `REACTIF_BROWSER_TESTS=skip` to skip it, which it then says.

mod support;

use fake_discord::{ids, snowflake_at, FakeDiscord};
use fantoccini::{Client, ClientBuilder, Locator};
use reactif::clock::SystemClock;
use reactif::desk::Desk;
use reactif::domain::{Event, EventKind, Rating, DAY, MINUTE};
use reactif::settings::Secret;
use reactif::store::DiscordSetup;
use reactif::web::{self, Web, WebSettings};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const GUILD: &str = "1191168956170371082";
const WAIT: Duration = Duration::from_secs(20);

/// chromedriver, ended when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Starts chromedriver; `None` (after saying so) only when skipping was asked for.
async fn chromedriver() -> Option<(Driver, u16)> {
    let (Some(driver), Some(_)) = (which("chromedriver"), which("chromium")) else {
        if std::env::var("REACTIF_BROWSER_TESTS").as_deref() == Ok("skip") {
            // Written to the stderr handle itself: libtest captures what `eprintln!` says in a
            // passing test, and a skip nobody sees would read as a pass.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the browser tests (chromium or chromedriver missing, REACTIF_BROWSER_TESTS=skip)"
            );
            return None;
        }
        panic!(
            "chromium and chromedriver are needed: apt-get install chromium chromium-driver \
             (.ci/run installs them), or set REACTIF_BROWSER_TESTS=skip"
        );
    };
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    // Ready when it accepts connections.
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some((driver, port))
}

async fn browser(port: u16, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": which("chromium").unwrap(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,1000", "--lang=en-US"],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false},
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session")
}

/// Three conversations of the last week answered by Alex (one rated 2, one rated 5), one the
/// week before, and one of the last week answered by Ada (rated 3). CSAT (ratings of 4 or 5):
/// Alex 1 of 2 = 50 %, Ada 0 of 1 = 0 %: Ada is the agent with the lowest CSAT.
async fn history(desk: &Desk, now: i64) {
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
    let mut events = Vec::new();
    for (i, (place, day, delay, rating, agent)) in [
        ("h0", 10, 30, None, ids::ALEX),
        ("h1", 3, 2, Some(2), ids::ALEX),
        ("h2", 2, 10, Some(5), ids::ALEX),
        ("h3", 1, 4, None, ids::ALEX),
        ("h4", 4, 6, Some(3), ids::ADA),
    ]
    .into_iter()
    .enumerate()
    {
        let start = now - day * DAY;
        events.push(ev(place, ids::CODY, start, EventKind::CustomerMessage));
        let answer = ev(
            place,
            agent,
            start + delay * MINUTE,
            EventKind::AgentMessage,
        );
        let answer_id = answer.id.clone();
        events.push(answer);
        if let Some(r) = rating {
            let survey_id = format!("s{i}");
            events.push(ev(
                place,
                ids::BOT,
                start + 20 * MINUTE,
                EventKind::SurveySent {
                    survey_id: survey_id.clone(),
                    answer_message_id: answer_id,
                },
            ));
            events.push(ev(
                place,
                ids::CODY,
                start + 25 * MINUTE,
                EventKind::Rating {
                    survey_id: survey_id.clone(),
                    rating: Rating::parse(r).unwrap(),
                },
            ));
            events.push(ev(
                place,
                ids::CODY,
                start + 26 * MINUTE,
                EventKind::Comment {
                    survey_id,
                    text: format!("rated {r}"),
                },
            ));
        }
    }
    desk.ingest(&events).await.unwrap();
}

/// One post of the community two days ago, with a reaction.
async fn community(desk: &Desk, now: i64) {
    use reactif::domain::engagement::{EngagementEvent, EngagementKind};
    let at = now - 2 * DAY;
    let post = EngagementEvent {
        id: snowflake_at(at).to_string(),
        guild_id: GUILD.into(),
        author_id: ids::OLGA.to_string(),
        at,
        kind: EngagementKind::Post {
            channel_id: ids::SUPPORT.to_string(),
            themes: vec!["release".into()],
            audience: 40,
        },
    };
    let reaction = EngagementEvent {
        id: (snowflake_at(at + MINUTE) + 1).to_string(),
        guild_id: GUILD.into(),
        author_id: ids::CARLA.to_string(),
        at: at + MINUTE,
        kind: EngagementKind::ReactionAdd {
            post_id: post.id.clone(),
            emoji: "🎉".into(),
        },
    };
    desk.ingest_engagement(&[post, reaction]).await.unwrap();
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

async fn path_of(c: &Client) -> String {
    let url = c.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Clicks what `by` finds, then waits for `then` (a CSS selector) on the page it leads to.
async fn follow(c: &Client, by: Locator<'_>, then: &str) -> fantoccini::elements::Element {
    c.find(by).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(then)).await.unwrap()
}

async fn figure(c: &Client, name: &str) -> String {
    c.find(Locator::Css(&format!("tr[data-figure='{name}'] td.value")))
        .await
        .unwrap()
        .attr("data-value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_lead_logs_in_with_discord_and_finds_the_conversation_behind_a_low_rating() {
    let Some((_driver, driver_port)) = chromedriver().await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    fake.set_oauth_user(Some(ids::ADA));
    let db = support::db::sqlite().await;
    let desk = Desk::new(db.store.clone());
    desk.store()
        .save_discord_setup(
            GUILD,
            &DiscordSetup {
                agent_roles: vec![ids::AGENT_ROLE.to_string()],
                ..DiscordSetup::default()
            },
        )
        .await
        .unwrap();
    let now = fake_discord::now_ms();
    history(&desk, now).await;
    community(&desk, now).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = WebSettings {
        public_url: Some(base.clone()),
        oauth: Some(web::settings::OAuthApp {
            client_id: ids::APP.to_string(),
            client_secret: Secret::new("client-secret".into()),
        }),
        discord_url: Some(fake.base_url()),
        ..WebSettings::default()
    };
    let members =
        web::DiscordMembers::new(&fake.base_url(), Secret::new("bot-token".into())).unwrap();
    let shared = Web::new(
        desk.clone(),
        Arc::new(SystemClock),
        Arc::new(members),
        settings,
        None,
    )
    .await
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, web::router(shared)).await });

    let downloads = tempfile::tempdir().unwrap();
    let c = browser(driver_port, downloads.path()).await;
    c.goto(&base).await.unwrap();
    shot(&c, "login").await;
    c.find(Locator::Css("a.button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Through the fake Discord's consent (it approves for Ada) and back: the overview.
    c.wait()
        .for_url(format!("{base}/g/{GUILD}").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(figure(&c, "requests").await, "4", "the last 7 days");
    shot(&c, "overview").await;

    c.find(Locator::Css("a.preset[href*='period=30d']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a.preset.on[href*='period=30d']"))
        .await
        .unwrap();
    assert_eq!(figure(&c, "requests").await, "5", "the last 30 days");
    shot(&c, "overview-30d").await;

    // The agents' table sorted by CSAT, lowest first: Ada (0 %) comes before Alex (50 %), who
    // answered more and leads the unsorted table. Then her page, by the name Discord gives.
    let first_row = || async {
        c.find(Locator::Css("table.agents tbody tr"))
            .await
            .unwrap()
            .attr("data-agent")
            .await
            .unwrap()
    };
    assert_eq!(first_row().await, Some(ids::ALEX.to_string()));
    follow(
        &c,
        Locator::Css("table.agents thead a[href*='sort=csat']"),
        "table.agents tbody tr",
    )
    .await;
    assert_eq!(first_row().await, Some(ids::ADA.to_string()));
    c.execute(
        "document.querySelector('table.agents').scrollIntoView()",
        Vec::new(),
    )
    .await
    .unwrap();
    shot(&c, "agents-by-csat").await;
    follow(
        &c,
        Locator::Css("table.agents tbody a"),
        "tr[data-figure='answered']",
    )
    .await;
    let title = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(title.contains("Ada"), "{title}");
    assert!(path_of(&c)
        .await
        .starts_with(&format!("/g/{GUILD}/agents/{}", ids::ADA)));
    assert_eq!(figure(&c, "answered").await, "1");
    assert_eq!(figure(&c, "csat").await, "0");
    shot(&c, "agent").await;

    // Satisfaction: the 2 comes first and leads to its conversation.
    let first = follow(
        &c,
        Locator::LinkText("Satisfaction"),
        "table.ratings tbody tr",
    )
    .await;
    assert_eq!(
        first.attr("data-rating").await.unwrap().as_deref(),
        Some("2")
    );
    shot(&c, "satisfaction").await;
    first
        .find(Locator::Css("a.conversation"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("ol.timeline"))
        .await
        .unwrap();
    assert_eq!(path_of(&c).await, format!("/g/{GUILD}/c/h1"));
    let delay = c.find(Locator::Css("tr[data-delay]")).await.unwrap();
    assert_eq!(
        delay.attr("data-delay").await.unwrap().as_deref(),
        Some("120000")
    );
    shot(&c, "conversation").await;

    // The CSV of the period, downloaded by the browser.
    c.goto(&format!("{base}/g/{GUILD}?period=30d"))
        .await
        .unwrap();
    c.find(Locator::Css("nav.pages a[download]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let csv = loop {
        let done = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "csv"));
        if let Some(p) = done {
            break std::fs::read_to_string(p).unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the CSV was not downloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(csv.starts_with(reactif::report::csv::EXPORT_HEADER));
    assert_eq!(
        csv.lines().count(),
        1 + 5,
        "a row per request of the 30 days"
    );

    // The charts of the 30 days: each drawn, both periods in each legend.
    follow(
        &c,
        Locator::LinkText("Charts"),
        "section#distribution table",
    )
    .await;
    for chart in [
        "requests-chart",
        "delay-chart",
        "csat-chart",
        "heatmap",
        "distribution",
    ] {
        let section = c
            .find(Locator::Css(&format!("section#{chart}")))
            .await
            .unwrap();
        assert!(
            section.find(Locator::Css("svg[role='img']")).await.is_ok(),
            "{chart} is drawn"
        );
    }
    let legend = c
        .find(Locator::Css("section#delay-chart p.legend"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        legend.contains("This period") && legend.contains("Previous period"),
        "{legend}"
    );
    shot(&c, "charts").await;

    // The community's engagement, from its own link.
    follow(
        &c,
        Locator::LinkText("Engagement"),
        "tr[data-figure='posts']",
    )
    .await;
    assert_eq!(figure(&c, "posts").await, "1");
    shot(&c, "engagement").await;

    // Readable on a phone: the same overview, narrow, and its charts.
    c.goto(&format!("{base}/g/{GUILD}?period=30d"))
        .await
        .unwrap();
    c.set_window_size(390, 844).await.unwrap();
    shot(&c, "overview-phone").await;
    c.goto(&format!("{base}/g/{GUILD}?period=30d#delay-chart"))
        .await
        .unwrap();
    shot(&c, "charts-phone").await;
    c.close().await.unwrap();
    db.cleanup().await;
}
