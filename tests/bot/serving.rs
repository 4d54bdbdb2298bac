//! The dashboard and the operators' endpoints as the binary serves them: `reactif run` with
//! `DASHBOARD_ADDR` and `METRICS_ADDR`, `reactif dashboard --demo` (no Discord), `reactif
//! dashboard` without a token, and `/healthz` while the database is unreachable. The pages'
//! contents and who may see them are tested on the router itself (`dashboard*.rs`).

use crate::dashboard::sample;
use crate::harness::*;
use crate::support;
use fake_discord::*;
use reactif::clock::SystemClock;
use reactif::desk::Desk;
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;

/// An address whose port is free now (the process binds it a moment later).
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `/healthz` at `addr`, once it answers (a process still starting refuses the connection).
async fn health(addr: &str) -> (u16, serde_json::Value) {
    eventually(&format!("{addr}/healthz to answer"), WAIT, || async {
        let r = client()
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.ok()?))
    })
    .await
}

async fn scrape(addr: &str) -> prometheus_parse::Scrape {
    let text = client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("valid Prometheus exposition text")
}

#[tokio::test]
async fn reactif_run_serves_the_dashboard_and_the_metrics_on_their_own_addresses() {
    init_tracing();
    // Heartbeats every half second, so that the gateway's latency is known within the test.
    let fake = FakeDiscord::start_with(FakeConfig {
        heartbeat_interval_ms: 500,
        ..FakeConfig::default()
    })
    .await;
    let db = support::db::sqlite().await;
    configure_default_guild(&Desk::new(db.store.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bot.log");
    let (dashboard, metrics) = (free_addr(), free_addr());
    let env = [
        ("DASHBOARD_ADDR", dashboard.as_str()),
        ("METRICS_ADDR", metrics.as_str()),
    ];
    let process = BotProcess::start_with_env(&fake, &db.url, &log, &[], &env);
    wait_ready(&fake, 0).await;
    let (status, body) = eventually("/healthz to see the gateway", WAIT, || async {
        let (status, body) = health(&metrics).await;
        (body["gateway"] == "connected").then_some((status, body))
    })
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "reachable");

    let before = scrape(&metrics).await;
    assert_eq!(sample(&before, "reactif_gateway_connected", None), 1.0);
    assert!(sample(&before, "reactif_gateway_sessions_total", None) >= 1.0);
    // A customer's DM flows through the process: its counter moves.
    fake.dispatch(
        "MESSAGE_CREATE",
        message_create(ids::CARLA, Place::dm(ids::CARLA_DM), "Hello?", now_ms()),
    )
    .await;
    let kind = Some(("kind", "customer_message"));
    let was = sample(&before, "reactif_events_ingested_total", kind);
    eventually("the DM to be counted", WAIT, || async {
        (sample(
            &scrape(&metrics).await,
            "reactif_events_ingested_total",
            kind,
        ) > was)
            .then_some(())
    })
    .await;
    // Relaying it to the staff calls Discord's REST API.
    let ok = Some(("status", "200"));
    eventually("the relay's REST calls to be counted", WAIT, || async {
        (sample(
            &scrape(&metrics).await,
            "reactif_discord_rest_calls_total",
            ok,
        ) >= 1.0)
            .then_some(())
    })
    .await;
    let after = scrape(&metrics).await;
    for family in [
        "reactif_handler_queue",
        "reactif_holes",
        "reactif_outbox_backlog",
        "reactif_outbox_oldest_age_seconds",
    ] {
        assert!(
            after.samples.iter().any(|s| s.metric == family),
            "{family} is exposed"
        );
    }

    eventually("the gateway's latency to be measured", WAIT, || async {
        let latency = scrape(&metrics)
            .await
            .samples
            .into_iter()
            .find_map(|s| (s.metric == "reactif_gateway_latency_seconds").then_some(s.value));
        match latency? {
            prometheus_parse::Value::Gauge(v) if (0.0..5.0).contains(&v) => Some(()),
            other => panic!("gateway latency {other:?}"),
        }
    })
    .await;

    // The dashboard is on its own address, without the operators' routes.
    let home = client()
        .get(format!("http://{dashboard}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("/dashboard"));
    let page = format!("http://{dashboard}/g/{}", ids::GUILD);
    let logged_out = client().get(page).send().await.unwrap();
    assert!(logged_out.status().is_redirection(), "{logged_out:?}");
    for path in ["/metrics", "/healthz"] {
        let r = client()
            .get(format!("http://{dashboard}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path} is served apart, on METRICS_ADDR");
    }
    process.stop(&log).await;
}

/// `reactif dashboard ARGS` on `database`, its standard output read line by line.
fn dashboard_process(database: &str, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_reactif"))
        .arg("dashboard")
        .args(args)
        .env("DATABASE_URL", database)
        .env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_CLIENT_ID")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("reactif dashboard starts")
}

/// `reactif dashboard --demo ARGS` on `database`, and the link it prints.
async fn demo_link(database: &str, args: &[&str]) -> (std::process::Child, String) {
    let mut child = dashboard_process(database, &[&["--demo"], args].concat());
    // The link is the last thing it prints: read until it comes (or the process ends).
    let stdout = child.stdout.take().unwrap();
    let link = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.find("http://").map(|i| line[i..].trim().to_string()))
    })
    .await
    .unwrap()
    .unwrap_or_else(|| {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
        panic!("no link printed; stderr:\n{err}")
    });
    (child, link)
}

/// Spends a one-time link's token at `addr`, as its page's button does.
async fn spend(addr: &str, token: &str) -> reqwest::Response {
    client()
        .post(format!("http://{addr}/login/link"))
        .form(&[("t", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn reactif_dashboard_demo_serves_the_demo_with_no_discord_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("demo.db").display());
    let addr = free_addr();
    let (mut child, link) = demo_link(&database, &["--addr", &addr]).await;
    assert!(
        link.starts_with(&format!("http://{addr}/login/link?t=")),
        "{link}"
    );
    let token = link.split("t=").nth(1).unwrap();
    // Spending the link (the button of its page) opens a session.
    let spent = spend(&addr, token).await;
    assert_eq!(spent.status(), 303);
    let cookie = spent.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let page = client()
        .get(format!(
            "http://{addr}/g/{}?period=30d",
            reactif::demo::DEMO_GUILD
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // Five weeks of demo traffic: the 30 days received messages.
    let received = html
        .split("data-figure=\"messages_received\"")
        .nth(1)
        .and_then(|rest| rest.split("data-value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no messages_received figure in:\n{html}"));
    assert!(received > 100.0, "{received}");
    // No bot in this process: /healthz says so and is not failing for it.
    let (status, body) = health(&addr).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["gateway"], "not run by this process");
    // The link worked once.
    let again = spend(&addr, token).await;
    assert_ne!(again.status(), 303);

    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = eventually("reactif dashboard to exit", WAIT, || {
        let exited = child.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn reactif_dashboard_demo_in_french_serves_french_pages() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("demo.db").display());
    let addr = free_addr();
    let (mut child, link) = demo_link(&database, &["--addr", &addr, "--lang", "fr"]).await;
    let page = client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"fr\""), "{html}");
    child.kill().unwrap();
    child.wait().unwrap();
    // A language it does not have is refused by name.
    let out = dashboard_process(
        &database,
        &["--demo", "--lang", "de", "--addr", &free_addr()],
    )
    .wait_with_output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--lang"), "{err}");
}

#[test]
fn reactif_dashboard_without_a_token_names_it_and_points_to_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("r.db").display());
    let out = dashboard_process(&database, &["--addr", &free_addr()])
        .wait_with_output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DISCORD_TOKEN") && err.contains("--demo"),
        "{err}"
    );
}

/// `/healthz` answers 503 with the database's error while PostgreSQL is unreachable (a proxy
/// between them cut), counts the error in `/metrics`, and 200 again once it answers.
#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn healthz_fails_while_the_database_is_unreachable_and_recovers() {
    let recorder = reactif::web::ops::recorder().expect("the recorder of this test binary");
    let db = support::db::postgres().await;
    let (proxy, url) = support::tcp_proxy::TcpProxy::before(&db.url).await;
    let desk = Desk::new(reactif::store::open(&url).await.unwrap());
    let web = reactif::web::Web::new(
        desk,
        Arc::new(SystemClock),
        Arc::new(reactif::web::DemoMembers),
        reactif::web::WebSettings::default(),
        None,
    )
    .await
    .unwrap();
    let healthz = || async {
        use tower::ServiceExt;
        let request = axum::http::Request::get("/healthz")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = reactif::web::ops_router(Arc::clone(&web))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        )
    };
    let errors = || {
        let text = recorder.render();
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .expect("valid Prometheus exposition text");
        sample(&scrape, "reactif_database_errors_total", None)
    };
    let (status, body) = healthz().await;
    assert_eq!((status, &body["database"]), (200, &"reachable".into()));
    let errors_before = errors();
    proxy.down().await;
    // The pool gives up after its acquire timeout (10 s) at most.
    let (status, body) = healthz().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "failing");
    assert_ne!(body["database"], "reachable");
    assert!(errors() > errors_before, "the failure is counted");
    proxy.up();
    let body = eventually("/healthz to recover", Duration::from_secs(30), || async {
        let (status, body) = healthz().await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(body["database"], "reachable");
    db.cleanup().await;
}
