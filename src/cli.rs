//! The command line: `reactif run | stats | engagement | import | export | demo | migrate | setup |
//! dashboard`.

mod engagement;
pub use engagement::{engagement, parse_import_line, EngagementArgs, EngagementOutput, ImportLine};

use crate::clock::Clock;
use crate::desk::{self, Desk, IngestSummary};
use crate::domain::kpi::{Scope, Window};
use crate::domain::{bounds, parse_time, Event, Millis, TimeSpec};
use crate::i18n;
use crate::report;
use crate::store::{self, DEFAULT_DATABASE_URL};
use anyhow::{bail, Context};
use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{BufRead, Write};
use std::path::PathBuf;

mod setup;
pub use setup::{setup, SetupArgs};

mod transcript;
pub use transcript::{escape_line, transcript, TranscriptArgs};

#[derive(Parser)]
#[command(
    name = "reactif",
    version,
    about = "Support KPIs for Discord: response rate, response delay, satisfaction",
    long_about = "reactif relays customers to your support team on Discord, times every answer on \
                  Discord's own clock, asks customers to rate each answer, and reports the KPIs \
                  of docs/kpi.md: load, response rate, response delay, CSAT, the \"Very \
                  responsive\" badge and the load alert."
)]
pub struct Cli {
    /// Database URL: sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST:PORT/DB.
    #[arg(long = "database", global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database: String,

    #[command(subcommand)]
    pub command: Command,
}

/// The database URL may carry a password: `Debug` hides it.
impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("database", &store::redact_url(&self.database))
            .field("command", &self.command)
            .finish()
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the Discord bot.
    ///
    /// Settings come from the environment (or a .env file in the working folder):
    /// DISCORD_TOKEN (required), DATABASE_URL (default sqlite://reactif.db),
    /// DISCORD_DEV_GUILD_ID (register commands in one guild), DISCORD_API_URL (a proxy in
    /// front of Discord's API), RUST_LOG (log filter, e.g. reactif=debug). See the README.
    ///
    /// Several processes can share one bot on one PostgreSQL database, each with a range of
    /// shards (--shards, --shard-count): see docs/operations.md, "Several processes".
    Run(RunArgs),
    /// Print the KPI report for a window.
    Stats(StatsArgs),
    /// Print the engagement report of the community's posts: reactions, replies and engagement
    /// rate per post and per theme (docs/engagement.md).
    ///
    /// The audience of a post is a ceiling of its reach (the members who could see it), not a
    /// count of views: Discord gives no view counts. Engaged users are a floor (those who
    /// visibly reacted or replied).
    Engagement(EngagementArgs),
    /// Import events from a JSON-lines file (docs/kpi.md and docs/engagement.md formats, mixed
    /// freely); `-` reads standard input.
    Import(ImportArgs),
    /// Export one CSV row per request (conversation, customer, start, answer, delay, agent, survey, rating).
    Export(ExportArgs),
    /// Generate several weeks of realistic support traffic, then print the report and a chart.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Remove personal data (customer ids, conversation keys, comments, transcripts) of conversations that
    /// ended before a date; anonymous counts stay, so past figures still add up.
    Purge(PurgeArgs),
    /// Print a guild's service-level settings (targets, SLA clock, auto-close, warning) and
    /// change them, as `/sla` does in Discord.
    Setup(SetupArgs),
    /// Print a conversation's stored messages (only for guilds that turned transcripts on with
    /// `/setup transcripts:True`; otherwise no content is stored).
    Transcript(TranscriptArgs),
    /// Serve the web dashboard (and /metrics, /healthz) alone, against the database: for a
    /// second machine. It writes (sessions, and the rollups it brings up to date before each
    /// report), so it needs the primary database, not a read-only replica. `reactif run` serves
    /// it too when DASHBOARD_ADDR is set.
    ///
    /// Who may see a guild is asked of Discord with the bot's token (DISCORD_TOKEN, and
    /// DISCORD_API_URL if the bot uses one). People log in with /dashboard in Discord, or with
    /// "Login with Discord" (DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET, DASHBOARD_URL). See
    /// docs/dashboard.md.
    Dashboard(DashboardArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The shards this process connects, first-last (e.g. 0-3): guilds whose events Discord
    /// sends to them, and DMs with shard 0. Needs --shard-count; a part of the shards needs
    /// PostgreSQL. Default: all shards.
    #[arg(long, env = "REACTIF_SHARDS", value_name = "A-B")]
    pub shards: Option<String>,
    /// The bot's total number of shards, the same in every process (Discord requires
    /// sharding from 2,500 guilds). Default: 1.
    #[arg(long = "shard-count", env = "REACTIF_SHARD_COUNT", value_name = "N")]
    pub shard_count: Option<String>,
}

#[derive(Args, Debug)]
pub struct DashboardArgs {
    /// Where to listen.
    #[arg(long, env = "DASHBOARD_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Generate the demo's data into the database and serve it without Discord: prints a link
    /// that opens it.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: the demo guild's language, en or fr (its pages are in it).
    #[arg(long, default_value = "en", requires = "demo")]
    pub lang: String,
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Anonymise conversations whose last event is before this day (midnight UTC) or RFC 3339 time.
    #[arg(long)]
    pub before: String,
    /// Only say what would be anonymised: conversations, and people's ids on community posts.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Args, Debug, Clone)]
pub struct WindowArgs {
    /// Only this guild (its time zone is used for dates, and for the daily series of `stats`).
    #[arg(long)]
    pub guild: Option<String>,
    /// Only this agent's answers.
    #[arg(long)]
    pub agent: Option<String>,
    /// Start of the window: 7d, 30d, 90d (any Nd), today, a day (2026-11-01, midnight in the
    /// guild's time zone) or an RFC 3339 time. Default: 7d.
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// End of the window (exclusive): a day (its midnight) or an RFC 3339 time. Default: now.
    #[arg(long)]
    pub until: Option<String>,
    /// Evaluation time, RFC 3339 (events after it are ignored). Default: the current time.
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the chart (daily requests, median delay, CSAT) to this PNG file.
    #[arg(long, value_name = "FILE.png")]
    pub chart: Option<PathBuf>,
    /// Also write the heatmap (requests by weekday and hour in the guild's time zone, UTC over
    /// several guilds, with the median response delay by hour) to this PNG file.
    #[arg(long, value_name = "FILE.png")]
    pub heatmap: Option<PathBuf>,
    /// Language of the text report and chart: en or fr (default: the guild's locale).
    #[arg(long)]
    pub lang: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The JSON-lines file, or `-` for standard input.
    pub file: String,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Output format: CSV, the only one (kept so that scripts can say it).
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Weeks of history to generate.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=52))]
    pub weeks: u32,
    /// Seed of the generator: the same seed gives the same traffic shape.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the chart.
    #[arg(long, default_value = "reactif-demo.png", value_name = "FILE.png")]
    pub chart: PathBuf,
    /// Language of the report and chart: en or fr.
    #[arg(long, default_value = "en")]
    pub lang: String,
}

/// Turns the window options into a scope and a window.
pub fn resolve_window(
    args: &WindowArgs,
    tz: &Tz,
    clock: &dyn Clock,
) -> anyhow::Result<(Scope, Window)> {
    let now = match &args.now {
        Some(s) => parse_time(s).with_context(|| {
            format!("--now `{s}` is not an RFC 3339 time (e.g. 2026-11-05T10:00:00Z)")
        })?,
        None => clock.now(),
    };
    // The limits are about the machine's time, whatever `--now` pretends.
    let today = clock.now();
    let bounded = |what: &str, at| bounds::check_time(what, at, today);
    bounded("--now", now)?;
    let to = match &args.until {
        Some(s) => {
            let spec: TimeSpec = s.parse().map_err(|e| anyhow::anyhow!("--until: {e}"))?;
            if matches!(spec, TimeSpec::DaysBefore(_)) {
                bail!("--until `{s}`: use a day or a time; `Nd` only makes sense for --since");
            }
            spec.resolve(tz, now, now)
        }
        None => now,
    };
    let since: TimeSpec = args
        .since
        .parse()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let from = since.resolve(tz, to, now);
    bounded("--until", to)?;
    bounded("--since", from)?;
    if from >= to {
        bail!("the window is empty: --since must be before --until");
    }
    bounds::check_window(from, to)?;
    Ok((
        Scope {
            guild_id: args.guild.clone(),
            agent_id: args.agent.clone(),
            conversations: None,
        },
        Window { from, to, now },
    ))
}

fn texts_for(
    lang: Option<&str>,
    guild_locale: crate::domain::Locale,
) -> anyhow::Result<&'static i18n::Texts> {
    let locale = match lang {
        Some(l) => l
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--lang: {e}"))?,
        None => guild_locale,
    };
    Ok(i18n::texts(locale))
}

pub async fn open_desk(url: &str) -> anyhow::Result<Desk> {
    let store = store::open(url).await.with_context(|| {
        format!(
            "cannot open the database {}{} (set DATABASE_URL or --database, e.g. sqlite://reactif.db or postgres://postgres@127.0.0.1/reactif)",
            store::redact_url(url),
            open_hint(url)
        )
    })?;
    Ok(Desk::new(store))
}

/// The likely cause of a database that does not open, in words.
fn open_hint(url: &str) -> String {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        let parent = std::path::Path::new(path).parent();
        if let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            return format!(": the folder {} does not exist", dir.display());
        }
        return String::new();
    }
    if url.starts_with("postgres") {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(|a| a.rsplit('@').next().unwrap_or(a))
            .unwrap_or("?");
        return format!(": is PostgreSQL running and reachable at {host}?");
    }
    String::new()
}

pub async fn stats(desk: &Desk, args: &StatsArgs, clock: &dyn Clock) -> anyhow::Result<String> {
    let guild_rules = match &args.window.guild {
        Some(g) => desk.store().guild_rules(g).await?,
        None => Default::default(),
    };
    let (scope, window) = resolve_window(&args.window, &guild_rules.timezone, clock)?;
    let report = desk.report(&scope, window).await?;
    let texts = texts_for(args.lang.as_deref(), guild_rules.locale)?;
    if let Some(path) = &args.chart {
        let png = report::chart::render_png(&report, texts)?;
        std::fs::write(path, png)
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
    }
    if let Some(path) = &args.heatmap {
        let png = report::chart::render_heatmap_png(&report, texts)?;
        std::fs::write(path, png)
            .with_context(|| format!("cannot write the heatmap to {}", path.display()))?;
    }
    Ok(match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report::json::report(&report))?;
            s.push('\n');
            s
        }
        Format::Csv => report::csv::report(&report),
        Format::Text => report::text::render(&report, texts),
    })
}

/// Problems found in an import file, one per bad line.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    pub lines: u64,
    pub summary: IngestSummary,
    pub bad: Vec<(u64, String)>,
    /// Lines whose id is already stored with other content: (line, id). The stored event is
    /// kept (ingest is idempotent by id), but the file disagrees with the database.
    pub conflicting: Vec<(u64, String)>,
}

const IMPORT_BATCH: usize = 5_000;

/// Reads JSON lines and feeds them through the ingest path in batches. A bad line is recorded
/// with its number and skipped; an I/O error stops the import (what was read before is kept).
/// An event whose `at` is outside the limits of `domain::bounds` (before 2015, or after `now`)
/// is a bad line too.
pub async fn import_lines<R: BufRead>(
    desk: &Desk,
    reader: R,
    now: Millis,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<ImportOutcome> {
    let mut out = ImportOutcome::default();
    let mut batch: Vec<Event> = Vec::with_capacity(IMPORT_BATCH);
    let mut numbers: Vec<u64> = Vec::with_capacity(IMPORT_BATCH);
    let mut posts: Vec<crate::domain::engagement::EngagementEvent> = Vec::new();
    let mut post_numbers: Vec<u64> = Vec::new();
    for (i, line) in reader.split(b'\n').enumerate() {
        let number = i as u64 + 1;
        let bytes = line.with_context(|| format!("reading line {number}"))?;
        progress.inc(bytes.len() as u64 + 1);
        out.lines = number;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t.trim(),
            Err(_) => {
                out.bad.push((number, "not valid UTF-8".into()));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        let line = parse_import_line(text).and_then(|line| {
            bounds::check_imported(line.at(), now)
                .map(|_| line)
                .map_err(|why| why.to_string())
        });
        match line {
            Ok(ImportLine::Support(e)) => {
                batch.push(e);
                numbers.push(number);
            }
            Ok(ImportLine::Engagement(e)) => {
                posts.push(e);
                post_numbers.push(number);
            }
            Err(why) => out.bad.push((number, why)),
        }
        if batch.len() >= IMPORT_BATCH {
            ingest_batch(desk, &batch, &numbers, &mut out).await?;
            batch.clear();
            numbers.clear();
        }
        if posts.len() >= IMPORT_BATCH {
            engagement::ingest_batch(desk, &posts, &post_numbers, &mut out).await?;
            posts.clear();
            post_numbers.clear();
        }
    }
    if !batch.is_empty() {
        ingest_batch(desk, &batch, &numbers, &mut out).await?;
    }
    if !posts.is_empty() {
        engagement::ingest_batch(desk, &posts, &post_numbers, &mut out).await?;
    }
    Ok(out)
}

async fn ingest_batch(
    desk: &Desk,
    batch: &[Event],
    numbers: &[u64],
    out: &mut ImportOutcome,
) -> anyhow::Result<()> {
    let inserted = desk.store().insert_events(batch).await?;
    let duplicates: Vec<usize> = (0..batch.len())
        .filter(|&i| inserted[i] == store::Inserted::Duplicate)
        .collect();
    out.summary.add(IngestSummary {
        new: (batch.len() - duplicates.len()) as u64,
        duplicates: duplicates.len() as u64,
    });
    if duplicates.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = duplicates.iter().map(|&i| batch[i].id.clone()).collect();
    let stored: std::collections::HashMap<String, Event> = desk
        .store()
        .events_by_ids(&ids)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    for i in duplicates {
        if stored.get(&batch[i].id).is_some_and(|s| s != &batch[i]) {
            out.conflicting.push((numbers[i], batch[i].id.clone()));
        }
    }
    Ok(())
}

pub async fn import(
    desk: &Desk,
    args: &ImportArgs,
    clock: &dyn Clock,
) -> anyhow::Result<ImportOutcome> {
    let (reader, size): (Box<dyn BufRead>, u64) = if args.file == "-" {
        (Box::new(std::io::BufReader::new(std::io::stdin())), 0)
    } else {
        let f = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(std::io::BufReader::new(f)), size)
    };
    let progress = if size > 1 << 20 {
        let pb = indicatif::ProgressBar::new(size);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    let out = import_lines(desk, reader, clock.now(), &progress).await?;
    progress.finish_and_clear();
    // Sum the new events up for reports now, rather than in the first `stats` after.
    let spinner = if size > 1 << 20 {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    desk.refresh(None, &|s| {
        spinner.set_message(format!(
            "summing up for reports: {} conversations, {} days",
            s.places, s.days
        ))
    })
    .await?;
    desk.refresh_engagement().await?;
    spinner.finish_and_clear();
    Ok(out)
}

pub async fn export(desk: &Desk, args: &ExportArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    let tz = match &args.window.guild {
        Some(g) => desk.store().guild_rules(g).await?.timezone,
        None => Tz::UTC,
    };
    let (scope, window) = resolve_window(&args.window, &tz, clock)?;
    let events = desk
        .store()
        .events_until(scope.guild_id.as_deref(), window.now)
        .await?;
    let (all, _) = desk.report_rules(&scope).await?;
    let rows = desk::export_rows(&events, &all, &scope, window);
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    out.write_all(report::csv::EXPORT_HEADER.as_bytes())?;
    for r in &rows {
        out.write_all(report::csv::export_row(r).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// `reactif purge`: returns the message to print.
pub async fn purge(desk: &Desk, args: &PurgeArgs, clock: &dyn Clock) -> anyhow::Result<String> {
    let fixed_only = "--before takes a day (2026-01-01) or an RFC 3339 time (2026-01-01T00:00:00Z)";
    let spec: TimeSpec = args
        .before
        .parse()
        .map_err(|_| anyhow::anyhow!("`{}` is not a date: {fixed_only}", args.before))?;
    if matches!(spec, TimeSpec::DaysBefore(_) | TimeSpec::Today) {
        bail!("{fixed_only}");
    }
    let before = spec.resolve(&Tz::UTC, clock.now(), clock.now());
    if before > clock.now() {
        bail!(
            "--before {} is in the future: conversations still going on would be anonymised; use a past date",
            args.before
        );
    }
    bounds::check_time("--before", before, clock.now())?;
    if args.dry_run {
        let n = desk.store().places_ended_before(before).await?.len();
        let engagement = engagement::purge_preview(desk, before).await?;
        return Ok(format!(
            "{n} conversations ended before {} would be anonymised; {engagement}",
            crate::domain::format_time(before)
        ));
    }
    let n = desk.purge_before(before).await?;
    let people = desk.purge_engagement_before(before).await?;
    Ok(format!(
        "{n} conversations ended before {} anonymised; {people} people's ids taken off the community posts whose engagement window ended by then, with their reactions and replies; figures unchanged",
        crate::domain::format_time(before),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn args(since: &str, until: Option<&str>, now: Option<&str>) -> WindowArgs {
        WindowArgs {
            guild: None,
            agent: None,
            since: since.into(),
            until: until.map(Into::into),
            now: now.map(Into::into),
        }
    }

    #[test]
    fn a_day_means_midnight_in_the_guild_time_zone() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let clock = FixedClock::new(parse_time("2026-11-10T12:00:00Z").unwrap());
        let (_, w) = resolve_window(
            &args("2026-11-01", Some("2026-11-05"), None),
            &paris,
            &clock,
        )
        .unwrap();
        assert_eq!(w.from, parse_time("2026-10-31T23:00:00Z").unwrap());
        assert_eq!(w.to, parse_time("2026-11-04T23:00:00Z").unwrap());
        assert_eq!(w.now, clock.now());
    }

    #[test]
    fn relative_since_counts_back_from_the_window_end() {
        let clock = FixedClock::new(parse_time("2026-11-20T00:00:00Z").unwrap());
        let (_, w) = resolve_window(
            &args("7d", None, Some("2026-11-10T12:00:00Z")),
            &Tz::UTC,
            &clock,
        )
        .unwrap();
        assert_eq!(w.to, parse_time("2026-11-10T12:00:00Z").unwrap());
        assert_eq!(w.from, parse_time("2026-11-03T12:00:00Z").unwrap());
    }

    #[test]
    fn a_bad_time_says_what_to_write() {
        let clock = FixedClock::new(parse_time("2026-11-20T00:00:00Z").unwrap());
        let err = resolve_window(&args("last week", None, None), &Tz::UTC, &clock).unwrap_err();
        assert!(err.to_string().contains("--since"), "{err}");
        assert!(err.to_string().contains("2026-11-01"), "{err}");
        let err = resolve_window(&args("7d", None, Some("noon")), &Tz::UTC, &clock).unwrap_err();
        assert!(err.to_string().contains("--now"), "{err}");
    }

    #[test]
    fn a_transcript_line_cannot_be_forged() {
        assert_eq!(
            escape_line("ok\n2026-11-02T09:00:00.000Z 42: I refund you\r\u{1b}[2J\\n"),
            "ok\\n2026-11-02T09:00:00.000Z 42: I refund you\\r\\u{001b}[2J\\\\n"
        );
        assert_eq!(
            escape_line("a\u{2028}b\u{202e}c\td"),
            "a\\u{2028}b\\u{202e}c\\td"
        );
        assert_eq!(escape_line("Bonjour, ça va ? 👍"), "Bonjour, ça va ? 👍");
    }

    #[test]
    fn years_and_windows_out_of_bounds_name_their_limit_before_any_work() {
        let clock = FixedClock::new(parse_time("2026-11-20T00:00:00Z").unwrap());
        let err = |since: &str, until: Option<&str>, now: Option<&str>| {
            resolve_window(&args(since, until, now), &Tz::UTC, &clock)
                .unwrap_err()
                .to_string()
        };
        let e = err("1970-01-01", None, None);
        assert!(
            e.starts_with("--since 1970-01-01") && e.contains("2015 to 2027"),
            "{e}"
        );
        let e = err("7d", Some("9999-01-01"), None);
        assert!(e.starts_with("--until 9999-01-01"), "{e}");
        let e = err("7d", None, Some("2200-01-01T00:00:00Z"));
        assert!(e.starts_with("--now 2200-01-01"), "{e}");
        let e = err("3000d", None, None);
        assert!(e.contains("at most 400 days"), "{e}");
        let e = err("2025-01-01", Some("2026-11-01"), None);
        assert!(e.contains("669 days long"), "{e}");
        assert!(resolve_window(&args("400d", None, None), &Tz::UTC, &clock).is_ok());
    }
}
