//! The communication half end to end (docs/engagement.md): `reactif import` and `reactif
//! engagement` as a user runs them, pinned by the hand-worked example; and the figures the
//! store gives compared with the independent oracle (tests/support/engagement_oracle.rs) on
//! random histories, on SQLite and PostgreSQL.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod cli {
    use super::*;
    use serde_json::Value;

    pub struct Cli {
        pub dir: tempfile::TempDir,
        pub database: String,
    }

    impl Cli {
        pub fn sqlite() -> Cli {
            let dir = tempfile::tempdir().unwrap();
            let database = format!("sqlite://{}", dir.path().join("t.db").display());
            Cli { dir, database }
        }

        pub fn run(&self, args: &[&str]) -> Output {
            Command::new(env!("CARGO_BIN_EXE_reactif"))
                .args(args)
                .current_dir(self.dir.path())
                .env("DATABASE_URL", &self.database)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .output()
                .expect("the reactif binary runs")
        }

        fn file(&self, name: &str, content: &str) -> PathBuf {
            let p = self.dir.path().join(name);
            std::fs::write(&p, content).unwrap();
            p
        }
    }

    pub fn stdout(o: &Output) -> String {
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn stderr(o: &Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    pub fn examples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
    }

    /// The window of docs/examples/engagement-example.md.
    const EXAMPLE: [&str; 6] = [
        "--since",
        "2026-11-09T00:00:00Z",
        "--until",
        "2026-11-16T00:00:00Z",
        "--now",
        "2026-11-16T12:00:00Z",
    ];

    pub fn engagement(cli: &Cli, extra: &[&str]) -> Output {
        let mut args = vec!["engagement"];
        args.extend(EXAMPLE);
        args.extend(extra);
        cli.run(&args)
    }

    fn engagement_json(cli: &Cli) -> Value {
        let out = engagement(cli, &["--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).expect("engagement prints JSON")
    }

    fn expected() -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(examples().join("engagement-example.expected.json")).unwrap(),
        )
        .unwrap()
    }

    pub fn import_then_engagement_match_the_hand_worked_example(cli: &Cli) {
        let file = examples().join("engagement-example.jsonl");
        let out = cli.run(&["import", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("imported 24 new events"),
            "{}",
            stderr(&out)
        );
        let first = engagement_json(cli);
        // All of it, both ways: no field missing, none extra.
        support::json::assert_subset(&expected(), &first);
        support::json::assert_subset(&first, &expected());
        // The same file again changes nothing.
        let out = cli.run(&["import", file.to_str().unwrap()]);
        assert!(
            stderr(&out).contains("0 new events, 24 already stored"),
            "{}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
        assert_eq!(engagement_json(cli), first);
        // A line reusing a stored reaction id with other content is reported; the stored one stays.
        let changed = cli.file(
            "changed.jsonl",
            "\n{\"kind\": \"reaction_add\", \"id\": \"1571872466534400025\", \"at\": \"2026-11-16T13:00:00.000Z\", \"guild_id\": \"1000000000000000001\", \"post_id\": \"1570453114060800018\", \"author_id\": \"1500000000000000005\", \"emoji\": \"🦀\"}\n",
        );
        let out = cli.run(&["import", changed.to_str().unwrap()]);
        assert!(out.status.success());
        assert!(
            stderr(&out).contains(
                "warning: line 2: event 1571872466534400025 is already stored with different content"
            ),
            "{}",
            stderr(&out)
        );
        assert_eq!(engagement_json(cli), first);
    }

    #[test]
    fn import_then_engagement_match_the_hand_worked_example_on_sqlite() {
        import_then_engagement_match_the_hand_worked_example(&Cli::sqlite());
    }

    #[tokio::test]
    #[cfg_attr(
        not(reactif_pg),
        ignore = "PostgreSQL suite skipped: set REACTIF_TEST_POSTGRES_URL (see .ci/run)"
    )]
    async fn import_then_engagement_match_the_hand_worked_example_on_postgres() {
        let db = support::db::postgres().await;
        let cli = Cli {
            dir: tempfile::tempdir().unwrap(),
            database: db.url.clone(),
        };
        tokio::task::spawn_blocking(move || {
            import_then_engagement_match_the_hand_worked_example(&cli)
        })
        .await
        .unwrap();
        db.cleanup().await;
    }

    #[test]
    fn support_and_engagement_lines_mix_and_bad_ones_are_reported_by_number() {
        let cli = Cli::sqlite();
        let mut lines: Vec<String> =
            std::fs::read_to_string(examples().join("engagement-example.jsonl"))
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
        let worked = std::fs::read_to_string(examples().join("worked-example.jsonl")).unwrap();
        lines.insert(0, worked.lines().next().unwrap().to_string());
        lines.insert(2, r#"{"kind":"post","id":"5","at":"2026-11-10T09:00:00Z","guild_id":"1","channel_id":"2","author_id":"3","themes":["ok"],"audience":-4}"#.into());
        lines.insert(4, r#"{"kind":"reaction_add","id":"6","at":"2026-11-10T09:00:00Z","guild_id":"1","post_id":"2","author_id":"3"}"#.into());
        lines.insert(
            6,
            r#"{"kind":"repost","id":"7","at":"2026-11-10T09:00:00Z"}"#.into(),
        );
        let file = cli.file("mixed.jsonl", &lines.join("\n"));
        let out = cli.run(&["import", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("line 3: `audience` must be an integer >= 0"),
            "{err}"
        );
        assert!(err.contains("line 5: missing field `emoji`"), "{err}");
        // An unknown kind names the kinds of both formats.
        assert!(
            err.contains("line 7: unknown kind `repost`") && err.contains("reaction_add"),
            "{err}"
        );
        assert!(err.contains("customer_message"), "{err}");
        assert!(
            err.contains("imported 25 new events, 0 already stored, 3 bad lines skipped"),
            "{err}"
        );
        support::json::assert_subset(&expected(), &engagement_json(&cli));
    }

    #[test]
    fn text_csv_and_chart_say_the_audience_is_a_ceiling_of_the_reach() {
        let cli = Cli::sqlite();
        let file = examples().join("engagement-example.jsonl");
        assert!(cli
            .run(&["import", file.to_str().unwrap()])
            .status
            .success());
        let chart = cli.dir.path().join("e.png");
        let out = engagement(&cli, &["--chart", chart.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("not a count of views"), "{text}");
        assert!(text.contains("Audience (ceiling of reach)"), "{text}");
        assert!(text.contains("(2 still maturing)"), "{text}");
        let png = std::fs::read(&chart).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let out = engagement(&cli, &["--lang", "fr"]);
        assert!(
            stdout(&out).contains("pas un nombre de vues"),
            "{}",
            stdout(&out)
        );
        // CSV and JSON are formats for programs: the note goes to standard error.
        let out = engagement(&cli, &["--format", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("theme,figure,current,previous\n"));
        assert!(
            stdout(&out).contains(",engagements,7,2\n"),
            "{}",
            stdout(&out)
        );
        assert!(
            stderr(&out).contains("not a count of views"),
            "{}",
            stderr(&out)
        );
        // A theme keeps its posts in both windows.
        let out = engagement(&cli, &["--format", "json", "--theme", "release"]);
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(
            (v["posts"].as_u64(), v["engagements"].as_u64()),
            (Some(1), Some(4))
        );
        assert_eq!(v["previous"]["engagements"], 2);
        // Another guild's report is empty, and says why.
        let out = engagement(&cli, &["--guild", "42"]);
        assert!(out.status.success());
        assert!(
            stderr(&out).contains("no posts stored for guild 42"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).contains("No post in this window."));
    }

    #[tokio::test]
    async fn purge_takes_the_people_off_old_posts_and_keeps_the_report() {
        let cli = Cli::sqlite();
        let file = examples().join("engagement-example.jsonl");
        assert!(cli
            .run(&["import", file.to_str().unwrap()])
            .status
            .success());
        let before = engagement_json(&cli);
        // Every post's window ended before 11-30: the dry run counts all 24 rows of the file
        // (4 posts, 11 + 3 reaction events, 6 replies) and its 7 people, and changes nothing.
        let out = cli.run(&["purge", "--before", "2026-11-30", "--dry-run"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(
                "7 people's ids would be taken off 4 posts, 14 reaction events and 6 replies"
            ),
            "{}",
            stdout(&out)
        );
        let out = cli.run(&["purge", "--before", "2026-11-30"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("7 people's ids taken off"),
            "{}",
            stdout(&out)
        );
        assert_eq!(engagement_json(&cli), before);
        let store = reactif::store::open(&cli.database).await.unwrap();
        let ids: Vec<String> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| {
                reactif::domain::engagement::EngagementEvent::parse_line(l)
                    .unwrap()
                    .id
            })
            .collect();
        let stored = store.engagement_by_ids(&ids).await.unwrap();
        assert_eq!(stored.len(), 24);
        assert!(stored.iter().all(|e| e.author_id.starts_with("anon-")));
        store.close().await;
        // Nothing is left to anonymise.
        let out = cli.run(&["purge", "--before", "2026-11-30", "--dry-run"]);
        assert!(
            stdout(&out).contains(
                "0 people's ids would be taken off 0 posts, 0 reaction events and 0 replies"
            ),
            "{}",
            stdout(&out)
        );
    }

    #[test]
    fn the_demo_shows_both_halves() {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_reactif"))
            .args(["demo", "--weeks", "3"])
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        let support = text.find("Load is rising").expect("the support report");
        let community = text
            .find("Engagement report")
            .expect("the engagement report");
        assert!(support < community, "{text}");
        assert!(text.contains("not a count of views"), "{text}");
        for theme in ["release", "events", "tips"] {
            assert!(text.contains(&format!("  {theme} ")), "{theme} in {text}");
        }
        let png = std::fs::read(dir.path().join("reactif-demo-engagement.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn engagement_has_help_and_bad_options_say_what_to_write() {
        let cli = Cli::sqlite();
        let out = cli.run(&["engagement", "--help"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let help = stdout(&out);
        for option in [
            "--guild", "--theme", "--since", "--until", "--now", "--format", "--chart",
        ] {
            assert!(help.contains(option), "{option} in {help}");
        }
        assert!(help.contains("not a count of views"), "{help}");
        let out = cli.run(&["engagement", "--since", "last week"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
        let out = cli.run(&["engagement", "--format", "xml"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("json"), "{}", stderr(&out));
    }
}

#[path = "engagement/oracle.rs"]
mod oracle;
