//! The `reactif` binary as a user runs it: import, stats, export, demo, migrate, help.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Cli {
    dir: tempfile::TempDir,
    database: String,
}

impl Cli {
    fn sqlite() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("t.db").display());
        Cli { dir, database }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reactif"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", &self.database)
            .env("RUST_LOG", "warn")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the reactif binary runs");
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

const WORKED: [&str; 8] = [
    "--since",
    "2026-11-02T00:00:00Z",
    "--until",
    "2026-11-05T00:00:00Z",
    "--now",
    "2026-11-05T10:00:00Z",
    "--format",
    "json",
];

fn stats_json(cli: &Cli) -> serde_json::Value {
    let mut args = vec!["stats"];
    args.extend(WORKED);
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("stats prints JSON")
}

fn expected() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(examples().join("worked-example.expected.json")).unwrap(),
    )
    .unwrap()
}

fn import_then_stats_match_the_worked_example(cli: &Cli) {
    let file = examples().join("worked-example.jsonl");
    let out = cli.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 21 new events"),
        "{}",
        stderr(&out)
    );
    let first = stats_json(cli);
    support::json::assert_subset(&expected(), &first);
    // Importing the same file again changes nothing.
    let out = cli.run(&["import", file.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("0 new events, 21 already stored"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert_eq!(stats_json(cli), first);
    // A line reusing a stored id with other content is reported; the stored event stays.
    let changed = cli.file(
        "changed.jsonl",
        "\n{\"kind\": \"customer_message\", \"id\": \"1566738638438400001\", \"guild_id\": \"1000000000000000001\", \"conversation\": \"dm-100\", \"author_id\": \"5000000000000000001\", \"at\": \"2026-11-02T09:30:00.000Z\"}\n",
    );
    let out = cli.run(&["import", changed.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains(
            "warning: line 2: event 1566738638438400001 is already stored with different content"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(stats_json(cli), first);
}

#[test]
fn import_then_stats_match_the_worked_example_on_sqlite() {
    import_then_stats_match_the_worked_example(&Cli::sqlite());
}

#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn import_then_stats_match_the_worked_example_on_postgres() {
    let db = support::db::postgres().await;
    let cli = Cli {
        dir: tempfile::tempdir().unwrap(),
        database: db.url.clone(),
    };
    tokio::task::spawn_blocking(move || import_then_stats_match_the_worked_example(&cli))
        .await
        .unwrap();
    db.cleanup().await;
}

#[test]
fn bad_lines_are_reported_by_number_and_the_rest_is_imported() {
    let cli = Cli::sqlite();
    let good = std::fs::read_to_string(examples().join("worked-example.jsonl")).unwrap();
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    lines.insert(2, "this is not json".into());
    lines.insert(5, r#"{"kind":"rating","id":"99","guild_id":"1","conversation":"c","author_id":"5","at":"2026-11-02T09:06:00.000Z","survey_id":"s1","rating":9}"#.into());
    lines.insert(7, r#"{"kind":"wave","id":"98","guild_id":"1","conversation":"c","author_id":"5","at":"2026-11-02T09:06:00.000Z"}"#.into());
    lines.insert(9, r#"{"kind":"note","id":"97","guild_id":"1","conversation":"c","author_id":"5","at":"Monday"}"#.into());
    lines.insert(11, String::new());
    // A truncated last line, as a crash of the writer would leave it.
    lines.push(r#"{"kind": "customer_message", "id": "15678560010"#.into());
    let file = cli.file("bad.jsonl", &lines.join("\n"));
    let out = cli.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 3: not valid JSON"), "{err}");
    assert!(err.contains("line 6: rating 9 is outside 1..5"), "{err}");
    assert!(err.contains("line 8: unknown kind `wave`"), "{err}");
    assert!(err.contains("line 10: bad time `Monday`"), "{err}");
    assert!(
        err.contains(&format!("line {}: not valid JSON", lines.len())),
        "{err}"
    );
    assert!(
        err.contains("imported 21 new events, 0 already stored, 5 bad lines skipped"),
        "{err}"
    );
    support::json::assert_subset(&expected(), &stats_json(&cli));
}

#[test]
fn an_imported_time_before_2015_or_in_the_future_is_a_bad_line_with_its_number() {
    let cli = Cli::sqlite();
    let good = std::fs::read_to_string(examples().join("worked-example.jsonl")).unwrap();
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    let future = chrono::Utc::now() + chrono::Duration::days(30);
    let line = |id: &str, at: &str| {
        format!(
            r#"{{"kind":"customer_message","id":"{id}","guild_id":"1000000000000000001","conversation":"dm-999","author_id":"5","at":"{at}"}}"#
        )
    };
    lines.insert(1, line("f1", &future.to_rfc3339()));
    lines.insert(4, line("f2", "2009-06-01T00:00:00Z"));
    let file = cli.file("dated.jsonl", &lines.join("\n"));
    let out = cli.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 2: `at` "), "{err}");
    assert!(err.contains("is in the future"), "{err}");
    assert!(
        err.contains("line 5: `at` 2009-06-01T00:00:00.000Z is outside the years 2015 to"),
        "{err}"
    );
    assert!(err.contains("imported 21 new events"), "{err}");
    support::json::assert_subset(&expected(), &stats_json(&cli));
}

/// A single future-dated event in an import would stand after the `now` of every later report
/// of its guild and send each down the slow path (a replay of every event): it is refused, so
/// the report keeps coming from the rollups.
#[tokio::test]
async fn a_future_dated_import_line_cannot_slow_later_reports() {
    let db = support::db::sqlite().await;
    let desk = reactif::desk::Desk::new(db.store.clone());
    let mut text = std::fs::read_to_string(examples().join("worked-example.jsonl")).unwrap();
    text.push_str(r#"{"kind":"customer_message","id":"f1","guild_id":"1000000000000000001","conversation":"dm-999","author_id":"5","at":"2026-12-20T00:00:00Z"}"#);
    // The day after the example's last event.
    let now = reactif::domain::parse_time("2026-11-06T00:00:00Z").unwrap();
    let out = reactif::cli::import_lines(
        &desk,
        std::io::Cursor::new(text),
        now,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .unwrap();
    assert_eq!(out.bad.len(), 1, "{:?}", out.bad);
    assert_eq!(out.bad[0].0, 22);
    let scope = reactif::domain::kpi::Scope {
        guild_id: Some("1000000000000000001".into()),
        ..Default::default()
    };
    let window = reactif::domain::kpi::Window {
        from: reactif::domain::parse_time("2026-11-02T00:00:00Z").unwrap(),
        to: reactif::domain::parse_time("2026-11-05T00:00:00Z").unwrap(),
        now,
    };
    assert!(
        desk.rollup_report(&scope, window).await.unwrap().is_some(),
        "the report comes from the rollups"
    );
    db.cleanup().await;
}

#[test]
fn stats_for_a_guild_without_events_warns_and_one_with_events_does_not() {
    let cli = Cli::sqlite();
    let file = examples().join("worked-example.jsonl");
    assert!(cli
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    let out = cli.run(&["stats", "--guild", "42"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: no events stored for guild 42"),
        "{}",
        stderr(&out)
    );
    let out = cli.run(&["stats", "--guild", "1000000000000000001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn standard_input_can_be_imported() {
    let cli = Cli::sqlite();
    let good = std::fs::read_to_string(examples().join("worked-example.jsonl")).unwrap();
    let out = cli.run_with_stdin(&["import", "-"], Some(&good));
    assert!(out.status.success(), "{}", stderr(&out));
    support::json::assert_subset(&expected(), &stats_json(&cli));
}

#[test]
fn export_writes_one_row_per_request() {
    let cli = Cli::sqlite();
    let file = examples().join("worked-example.jsonl");
    assert!(cli
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    let mut args = vec!["export"];
    args.extend(&WORKED[..6]);
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "guild_id,conversation,customer_id,start,answer_at,delay_ms,status,agent_id,survey_id,rating");
    assert_eq!(rows.len(), 1 + 5, "{csv}");
    assert!(rows.contains(&"1000000000000000001,dm-100,5000000000000000001,2026-11-02T09:00:00.000Z,2026-11-02T09:04:00.250Z,240250,answered,9010000000000000001,s1,5"), "{csv}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("1000000000000000001,dm-400,") && r.contains(",pending,")),
        "{csv}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("1000000000000000001,dm-200,") && r.contains(",unanswered,")),
        "{csv}"
    );
}

#[test]
fn stats_text_and_csv_show_the_same_figures() {
    let cli = Cli::sqlite();
    let file = examples().join("worked-example.jsonl");
    assert!(cli
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    let mut args = vec!["stats"];
    args.extend(&WORKED[..6]);
    let chart = cli.dir.path().join("chart.png");
    args.extend(["--chart", chart.to_str().unwrap()]);
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Response rate"), "{text}");
    assert!(text.contains("75.0 %"), "{text}");
    assert!(text.contains("Very responsive: not awarded"), "{text}");
    assert!(text.contains("9010000000000000001"), "{text}");
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let mut args = vec!["stats", "--lang", "fr"];
    args.extend(&WORKED[..6]);
    let text = stdout(&cli.run(&args));
    assert!(text.contains("Taux de réponse"), "{text}");

    let mut args = vec!["stats", "--format", "csv"];
    args.extend(&WORKED[..6]);
    let csv = stdout(&cli.run(&args));
    assert!(csv.contains("response_rate,0.75,"), "{csv}");
    assert!(csv.contains("response_delay_ms_median,240250,"), "{csv}");
}

#[test]
fn stats_writes_the_heatmap_and_reports_how_conversations_ended() {
    let cli = Cli::sqlite();
    let file = examples().join("worked-example.jsonl");
    assert!(cli
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    // A one-guild report comes from the rollups, which carry the heatmap.
    let heatmap = cli.dir.path().join("heatmap.png");
    let mut args = vec!["stats", "--guild", "1000000000000000001"];
    args.extend(&WORKED[..6]);
    args.extend(["--heatmap", heatmap.to_str().unwrap()]);
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let png = std::fs::read(&heatmap).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width then height, big-endian.
    assert_eq!(&png[16..24], &[0, 0, 3, 232, 0, 0, 2, 148]);

    // Over all guilds the report is replayed and carries them (see worked-example.md): dm-100
    // closed at 10:01, an hour and a minute after it opened; dm-200 lapsed; thread-300 and
    // dm-400 open at now. Requests by UTC weekday and hour: Monday 09, 10 and 11, Tuesday 12,
    // Wednesday 20.
    let json = stats_json(&cli);
    assert_eq!(
        (&json["resolved"], &json["lapsed"], &json["open"]),
        (&1.into(), &1.into(), &2.into())
    );
    assert_eq!(json["resolution_ms"]["median"], 3_660_000);
    assert_eq!(
        json["sla"]["first_response"]["target_ms"],
        serde_json::Value::Null
    );
    let cells: Vec<(usize, usize)> = (0..7)
        .flat_map(|d| (0..24).map(move |h| (d, h)))
        .filter(|&(d, h)| json["heatmap"]["requests"][d][h] != 0)
        .collect();
    assert_eq!(cells, [(0, 9), (0, 10), (0, 11), (1, 12), (2, 20)]);
}

/// The service-level settings `reactif setup` prints, as (name, value) pairs.
fn sla_settings(cli: &Cli, guild: &str) -> Vec<(String, String)> {
    let out = cli.run(&["setup", "--guild", guild]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn setup_prints_a_guilds_service_levels_and_changes_them() {
    let cli = Cli::sqlite();
    // KPI.md's defaults: every target and auto-close off, warning at 20 % of the target.
    let defaults = [
        ("timezone", "UTC"),
        ("business_hours", "always"),
        ("first_response", "off"),
        ("next_response", "off"),
        ("resolution", "off"),
        ("sla_clock", "calendar"),
        ("auto_close", "off"),
        ("sla_warning", "20%"),
    ];
    assert_eq!(sla_settings(&cli, "7"), pairs(&defaults));
    let out = cli.run(&[
        "setup",
        "--guild",
        "7",
        "--first-response",
        "15m",
        "--next-response",
        "4h",
        "--resolution",
        "2d",
        "--sla-clock",
        "business",
        "--auto-close",
        "12h",
        "--sla-warning",
        "10m",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("Saved: first_response 15m, next_response 4h, resolution 2d"),
        "{}",
        stdout(&out)
    );
    let set = [
        ("timezone", "UTC"),
        ("business_hours", "always"),
        ("first_response", "15m"),
        ("next_response", "4h"),
        ("resolution", "2d"),
        ("sla_clock", "business"),
        ("auto_close", "12h"),
        ("sla_warning", "10m"),
    ];
    assert_eq!(sla_settings(&cli, "7"), pairs(&set));
    // Another guild keeps its own; `off` turns one off.
    assert_eq!(sla_settings(&cli, "8"), pairs(&defaults));
    let out = cli.run(&["setup", "--guild", "7", "--resolution", "off"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        sla_settings(&cli, "7")[4],
        pairs(&[("resolution", "off")])[0]
    );
}

#[test]
fn setup_refuses_bad_values_by_name_with_an_example_and_changes_nothing() {
    let cli = Cli::sqlite();
    let before = sla_settings(&cli, "7");
    for (args, says) in [
        (
            ["--next-response", "1h", "--first-response", "soon"],
            "first_response: `soon` is not a duration",
        ),
        (
            ["--next-response", "1h", "--sla-clock", "lunar"],
            "sla_clock: `lunar` is not an SLA clock: use calendar or business",
        ),
        (
            ["--next-response", "1h", "--auto-close", "3d"],
            "auto_close: 3d is not shorter than idle (1d)",
        ),
        (
            ["--next-response", "1h", "--sla-warning", "120%"],
            "sla_warning: `120%` is not a percentage from 1% to 99% of the target",
        ),
        (
            ["--next-response", "10m", "--sla-warning", "10m"],
            "sla_warning: 10m is not shorter than the next_response target (10m)",
        ),
        (
            ["--next-response", "1h", "--timezone", "Mars/Olympus"],
            "timezone: `Mars/Olympus` is not an IANA time zone: use a name like Europe/Paris",
        ),
    ] {
        let mut all = vec!["setup", "--guild", "7"];
        all.extend(args);
        let out = cli.run(&all);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = stderr(&out);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            err.contains("e.g. ") || err.contains("like "),
            "{args:?}: no example: {err}"
        );
        assert!(err.contains("nothing was changed"), "{err}");
        // The valid option given with the bad one is not applied either.
        assert_eq!(sla_settings(&cli, "7"), before, "{args:?}");
    }
    let out = cli.run(&["setup", "--help"]);
    assert!(out.status.success());
    for option in [
        "--first-response",
        "--next-response",
        "--resolution",
        "--sla-clock",
        "--auto-close",
        "--sla-warning",
        "--timezone",
        "--business-hours",
        "15m, 4h, 2d",
    ] {
        assert!(stdout(&out).contains(option), "{option}: {}", stdout(&out));
    }
}

/// docs/examples/sla-example.*: the history imported, the guild's settings set with `reactif
/// setup` as an operator would, and `reactif stats` (a one-guild report: from the rollups)
/// gives the figures worked by hand.
fn the_sla_example_through_the_command_line(cli: &Cli) {
    const GUILD: &str = "1000000000000000001";
    let file = examples().join("sla-example.jsonl");
    let out = cli.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli.run(&[
        "setup",
        "--guild",
        GUILD,
        "--timezone",
        "Europe/Paris",
        "--business-hours",
        "mon-fri 09:00-18:00",
        "--first-response",
        "15m",
        "--next-response",
        "1h",
        "--resolution",
        "4h",
        "--sla-clock",
        "business",
        "--auto-close",
        "2h",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats = |extra: &[&str]| {
        let mut args = vec![
            "stats",
            "--guild",
            GUILD,
            "--format",
            "json",
            "--since",
            "2026-11-02",
            "--until",
            "2026-11-07",
            "--now",
            "2026-11-06T16:00:00Z",
        ];
        args.extend(extra);
        let out = cli.run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(examples().join("sla-example.expected.json")).unwrap(),
    )
    .unwrap();
    support::json::assert_subset(&expected, &stats(&[]));
    // An agent's own report: C (903…) answered dm-7 late, a first response missed.
    let c = stats(&["--agent", "9030000000000000003"]);
    assert_eq!(c["agents"][0]["sla"]["first_response"]["missed"], 1);
    assert_eq!(c["sla"]["first_response"]["missed"], 1);
    // Changing a target re-derives, and the figures follow it: with 20 min for the first
    // response, thread-3's 20 min answer (business time) meets it as well.
    let out = cli.run(&["setup", "--guild", GUILD, "--first-response", "20m"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let changed = stats(&[]);
    assert_eq!(changed["sla"]["first_response"]["met"], 3);
    assert_eq!(changed["sla"]["first_response"]["missed"], 2);
}

#[test]
fn the_sla_example_through_the_command_line_on_sqlite() {
    the_sla_example_through_the_command_line(&Cli::sqlite());
}

#[tokio::test]
#[cfg_attr(
    not(reactif_pg),
    ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
)]
async fn the_sla_example_through_the_command_line_on_postgres() {
    let db = support::db::postgres().await;
    let cli = Cli {
        dir: tempfile::tempdir().unwrap(),
        database: db.url.clone(),
    };
    tokio::task::spawn_blocking(move || the_sla_example_through_the_command_line(&cli))
        .await
        .unwrap();
    db.cleanup().await;
}

#[test]
fn the_demo_runs_with_no_configuration_and_writes_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reactif"))
        .arg("demo")
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Load is rising while responsiveness falls"),
        "{text}"
    );
    assert!(text.contains("Chart: "), "{text}");
    assert!(dir.path().join("reactif.db").exists());
    let png = std::fs::read(dir.path().join("reactif-demo.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000);
}

#[test]
fn the_french_demo_has_no_english_fragment() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reactif"))
        .args(["demo", "--lang", "fr"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // The demo's last week always raises the load alert, whose detail was English before.
    assert!(
        text.contains("par rapport à la période précédente"),
        "{text}"
    );
    assert!(text.contains("événements générés"), "{text}");
    for english in [
        "Generated",
        "Guild",
        "requests",
        "response rate",
        "mean",
        "median",
        "previous",
        " vs ",
        "n/a",
        "Chart",
        "Try",
        "Dashboard",
        "needed",
    ] {
        assert!(
            !text.contains(english),
            "{english:?} in the French demo:\n{text}"
        );
    }
}

#[test]
fn every_command_has_help() {
    let cli = Cli::sqlite();
    for cmd in [
        "stats", "import", "export", "demo", "migrate", "run", "setup",
    ] {
        let out = cli.run(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage: reactif"), "{cmd}");
    }
}

#[test]
fn a_bad_option_or_database_url_says_what_to_write() {
    let cli = Cli::sqlite();
    let out = cli.run(&["stats", "--since", "last week"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
    assert!(stderr(&out).contains("2026-11-01"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_reactif"))
        .args(["migrate"])
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("DATABASE_URL"), "{}", stderr(&out));
    assert!(stderr(&out).contains("sqlite://"), "{}", stderr(&out));
}

#[test]
fn run_without_a_token_names_the_variable_and_fails() {
    let cli = Cli::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_reactif"))
        .arg("run")
        .current_dir(cli.dir.path())
        .env_remove("DISCORD_TOKEN")
        .env("DATABASE_URL", &cli.database)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("DISCORD_TOKEN is not set"), "{err}");
    assert!(err.contains("example: DISCORD_TOKEN="), "{err}");
}

/// Shard settings are checked before anything connects: each error names its setting, and
/// SQLite (one process's database) refuses a part of the shards.
#[test]
fn run_with_bad_shards_or_part_of_them_on_sqlite_says_why_and_fails() {
    let cli = Cli::sqlite();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reactif"));
        cmd.arg("run")
            .args(args)
            .current_dir(cli.dir.path())
            .env("DISCORD_TOKEN", "fake-token-0123456789abcdefghij")
            // Nothing listens there: a run that got past the checks would fail differently.
            .env("DISCORD_API_URL", "http://127.0.0.1:9")
            .env("DATABASE_URL", &cli.database)
            .env_remove("REACTIF_SHARDS")
            .env_remove("REACTIF_SHARD_COUNT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        stderr(&out)
    };
    let err = run(&["--shards", "1-1", "--shard-count", "2"], &[]);
    assert!(
        err.contains("REACTIF_SHARDS=1-1 of REACTIF_SHARD_COUNT=2"),
        "{err}"
    );
    assert!(err.contains("SQLite is a single-process database"), "{err}");
    let err = run(&["--shards", "2-4", "--shard-count", "4"], &[]);
    assert!(err.contains("REACTIF_SHARDS is malformed"), "{err}");
    assert!(err.contains("numbered 0 to 3"), "{err}");
    let err = run(
        &[],
        &[("REACTIF_SHARDS", "first"), ("REACTIF_SHARD_COUNT", "4")],
    );
    assert!(
        err.contains("REACTIF_SHARDS is malformed: it must look like 0-3"),
        "{err}"
    );
    // The flag wins over the environment: the range is whole, so SQLite takes it and the run
    // gets as far as Discord (which does not answer here).
    let err = run(
        &["--shards", "0-1"],
        &[("REACTIF_SHARDS", "1-1"), ("REACTIF_SHARD_COUNT", "2")],
    );
    assert!(!err.contains("single-process"), "{err}");
    assert!(err.contains("cannot reach Discord"), "{err}");
}

#[test]
fn purge_anonymises_old_conversations_and_keeps_the_report() {
    let cli = Cli::sqlite();
    let file = examples().join("worked-example.jsonl");
    assert!(cli
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    let before = stats_json(&cli);
    let out = cli.run(&["purge", "--before", "2026-11-06", "--dry-run"]);
    assert!(
        stdout(&out)
            .contains("4 conversations ended before 2026-11-06T00:00:00.000Z would be anonymised"),
        "{}",
        stdout(&out)
    );
    let out = cli.run(&["purge", "--before", "2026-11-06"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("4 conversations"), "{}", stdout(&out));
    let mut after = stats_json(&cli);
    // The agents' list and every figure are the same.
    after["window"] = before["window"].clone();
    assert_eq!(after, before);
    let out = cli.run(&["purge", "--before", "7d"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--before"), "{}", stderr(&out));
}

#[test]
fn a_file_with_no_valid_line_fails() {
    let cli = Cli::sqlite();
    let file = cli.file("junk.jsonl", "garbage\nmore garbage\n");
    let out = cli.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 2: not valid JSON"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn transcript_prints_stored_lines_and_explains_an_empty_one() {
    let cli = Cli::sqlite();
    let empty = cli.run(&["transcript", "--guild", "1", "--conversation", "dm-7"]);
    assert!(empty.status.success());
    assert!(stdout(&empty).is_empty(), "{}", stdout(&empty));
    assert!(
        stderr(&empty).contains("No transcript stored")
            && stderr(&empty).contains("/setup transcripts:True"),
        "{}",
        stderr(&empty)
    );
    let store = reactif::store::open(&cli.database).await.unwrap();
    let line = |id: &str, at: i64, author: &str, content: &str| reactif::store::TranscriptLine {
        message_id: id.into(),
        guild_id: "1".into(),
        conversation: "dm-7".into(),
        author_id: author.into(),
        at,
        content: content.into(),
    };
    store
        .commit(&reactif::store::Commit {
            transcript: vec![
                line("2", 1_762_000_060_000, "42", "second: thanks"),
                line("1", 1_762_000_000_000, "7", "first: my order is late"),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    let out = cli.run(&["transcript", "--guild", "1", "--conversation", "dm-7"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "2025-11-01T12:26:40.000Z 7: first: my order is late\n2025-11-01T12:27:40.000Z 42: second: thanks\n"
    );
}

/// A customer who types a line break and a fake time cannot add a line to the transcript.
#[tokio::test]
async fn transcript_lines_cannot_be_forged_by_what_a_customer_types() {
    let cli = Cli::sqlite();
    let store = reactif::store::open(&cli.database).await.unwrap();
    store
        .commit(&reactif::store::Commit {
            transcript: vec![reactif::store::TranscriptLine {
                message_id: "1".into(),
                guild_id: "1".into(),
                conversation: "dm-7".into(),
                author_id: "7".into(),
                at: 1_762_000_000_000,
                content: "hello\n2025-11-01T12:30:00.000Z 42: refund granted\u{1b}[1A".into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    let out = cli.run(&["transcript", "--guild", "1", "--conversation", "dm-7"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "2025-11-01T12:26:40.000Z 7: hello\\n2025-11-01T12:30:00.000Z 42: refund granted\\u{001b}[1A\n"
    );
}

#[test]
fn a_database_that_cannot_open_says_why() {
    let cli = Cli::sqlite();
    let missing = cli.dir.path().join("no-such-folder").join("r.db");
    let out = cli.run(&[
        "--database",
        &format!("sqlite://{}", missing.display()),
        "stats",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no-such-folder does not exist"),
        "{}",
        stderr(&out)
    );
    let out = cli.run(&[
        "--database",
        "postgres://postgres@127.0.0.1:1/reactif",
        "stats",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is PostgreSQL running and reachable at 127.0.0.1:1?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn purge_refuses_a_future_date_and_export_piped_to_head_exits_quietly() {
    let cli = Cli::sqlite();
    let out = cli.run(&["purge", "--before", "2999-01-01", "--dry-run"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is in the future"),
        "{}",
        stderr(&out)
    );
    let file = examples().join("worked-example.jsonl");
    assert!(cli
        .run(&["import", file.to_str().unwrap()])
        .status
        .success());
    // A reader that stops at once, like `| head -0`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_reactif"))
        .args([
            "export",
            "--since",
            "2026-01-01",
            "--now",
            "2026-11-05T10:00:00Z",
        ])
        .env("DATABASE_URL", &cli.database)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("Broken pipe"), "{}", stderr(&out));
}
