//! The `reactif` binary: parse the command line, set up logs, dispatch. Errors end here, as one
//! readable message and a non-zero exit code.

use anyhow::Context;
use clap::Parser;
use reactif::cli::{self, Cli, Command};
use reactif::clock::{Clock, SystemClock};
use reactif::demo;
use reactif::domain::kpi::{Scope, Window};
use reactif::domain::Locale;
use reactif::web;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,reactif=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// glibc gives each thread that contends for memory an arena of its own (up to 8 per core),
/// and keeps what each arena once held: the bot's peak memory while ingesting was about 12 %
/// lower with two (measured: 102 MB → 90 MB in the end-to-end benchmark).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "mallopt is C: the crate's only unsafe code")]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only changes allocator settings; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(async_main()),
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn async_main() -> ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("warning: .env could not be read: {e}");
        }
    }
    init_logs();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // `reactif export | head`: the reader went away, which is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; the ones with more to say than one line have their own function.
async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock = SystemClock;
    match &cli.command {
        Command::Migrate => {
            let desk = cli::open_desk(&cli.database).await?;
            println!(
                "database {} ({}) is up to date",
                reactif::store::redact_url(&cli.database),
                desk.store().backend()
            );
        }
        Command::Stats(args) => stats_command(&cli.database, args, &clock).await?,
        Command::Engagement(args) => engagement_command(&cli.database, args, &clock).await?,
        Command::Import(args) => import_command(&cli.database, args, &clock).await?,
        Command::Export(args) => {
            let desk = cli::open_desk(&cli.database).await?;
            cli::export(&desk, args, &clock).await?;
        }
        Command::Purge(args) => {
            let desk = cli::open_desk(&cli.database).await?;
            println!("{}", cli::purge(&desk, args, &clock).await?);
        }
        Command::Transcript(args) => {
            let desk = cli::open_desk(&cli.database).await?;
            match cli::transcript(&desk, args).await? {
                Ok(lines) => print!("{lines}"),
                Err(none) => eprintln!("{none}"),
            }
        }
        Command::Setup(args) => {
            let desk = cli::open_desk(&cli.database).await?;
            print!("{}", cli::setup(&desk, args).await?);
        }
        Command::Demo(args) => demo_command(&cli.database, args, &clock).await?,
        Command::Run(args) => run_bot(&cli.database, args).await?,
        Command::Dashboard(args) => dashboard_command(&cli.database, args).await?,
    }
    Ok(())
}

async fn stats_command(
    database: &str,
    args: &cli::StatsArgs,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let desk = cli::open_desk(database).await?;
    if let Some(g) = &args.window.guild {
        // One index lookup: counting a large guild's events took 40 ms on 3M events.
        if !desk.store().guild_has_events(g).await? {
            eprintln!("warning: no events stored for guild {g}: the report is empty");
        }
    }
    let out = cli::stats(&desk, args, clock).await?;
    print!("{out}");
    if let Some(path) = &args.chart {
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

async fn engagement_command(
    database: &str,
    args: &cli::EngagementArgs,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let desk = cli::open_desk(database).await?;
    if let Some(g) = &args.guild {
        if desk.store().count_posts(Some(g)).await? == 0 {
            eprintln!("warning: no posts stored for guild {g}: the report is empty");
        }
    }
    let out = cli::engagement(&desk, args, clock).await?;
    print!("{}", out.stdout);
    if let Some(note) = out.note {
        eprintln!("note: {note}");
    }
    if let Some(path) = &args.chart {
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

/// Imports, then says what was skipped and why; exits with 2 when not one line was valid.
async fn import_command(
    database: &str,
    args: &cli::ImportArgs,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let desk = cli::open_desk(database).await?;
    let out = cli::import(&desk, args, clock).await?;
    for (line, why) in &out.bad {
        eprintln!("line {line}: {why} (skipped)");
    }
    for (line, id) in &out.conflicting {
        eprintln!(
            "warning: line {line}: event {id} is already stored with different content; the stored event is kept"
        );
    }
    eprintln!(
        "imported {} new events, {} already stored, {} bad lines skipped ({} lines read)",
        out.summary.new,
        out.summary.duplicates,
        out.bad.len(),
        out.lines
    );
    if !out.bad.is_empty() && out.summary.new + out.summary.duplicates == 0 {
        eprintln!(
            "error: not one line of {} is a valid event (see docs/kpi.md and docs/engagement.md for the formats)",
            args.file
        );
        std::process::exit(2);
    }
    Ok(())
}

/// `reactif run`: the bot, with its settings from the environment, until SIGINT or SIGTERM;
/// and the dashboard and the operators' endpoints when their addresses are set.
async fn run_bot(database: &str, args: &cli::RunArgs) -> anyhow::Result<()> {
    // The shard flags win over the environment: clap has read both into `args`.
    let mut settings = reactif::settings::BotSettings::from_lookup(|k| match k {
        "REACTIF_SHARDS" => args.shards.clone(),
        "REACTIF_SHARD_COUNT" => args.shard_count.clone(),
        _ => std::env::var(k).ok(),
    })?;
    settings.database_url = database.to_string();
    let desk = cli::open_desk(&settings.database_url).await?;
    tracing::info!(database = %reactif::store::redact_url(&settings.database_url), api = ?settings.api_url.as_deref().map(reactif::store::redact_url), shards = %settings.shards, "starting the bot");
    let stop = Stop::on_signal();
    let health = Arc::new(reactif::observe::Health::default());
    let config = reactif::discord::DiscordConfig::from(settings.clone());
    let members = Arc::new(web::DiscordMembers::new(
        &config.api_base(),
        settings.token.clone(),
    )?);
    serve_web(
        &desk,
        &settings.web,
        members,
        Some(Arc::clone(&health)),
        &stop,
    )
    .await?;
    reactif::discord::run_observed(
        config,
        desk,
        Arc::new(SystemClock),
        reactif::discord::BotOptions::default(),
        health,
        stop.wait(),
    )
    .await
}

/// Starts the dashboard (on `DASHBOARD_ADDR`) and `/metrics` with `/healthz` (on
/// `METRICS_ADDR`, else with the dashboard), each until `stop`.
async fn serve_web(
    desk: &reactif::desk::Desk,
    settings: &web::WebSettings,
    members: Arc<dyn web::Members>,
    health: Option<Arc<reactif::observe::Health>>,
    stop: &Stop,
) -> anyhow::Result<Option<Arc<web::Web>>> {
    if settings.dashboard_addr.is_none() && settings.metrics_addr.is_none() {
        return Ok(None);
    }
    web::ops::recorder();
    let shared = web::Web::new(
        desk.clone(),
        Arc::new(SystemClock),
        members,
        settings.clone(),
        health,
    )
    .await?;
    let mut servers = Vec::new();
    if let Some(addr) = settings.dashboard_addr {
        servers.push((addr, web::router(Arc::clone(&shared))));
    }
    if let Some(addr) = settings.metrics_addr {
        servers.push((addr, web::ops_router(Arc::clone(&shared))));
    }
    for (addr, router) in servers {
        // Bind now, so that a taken port stops the start with a clear message.
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (DASHBOARD_ADDR or METRICS_ADDR)"))?;
        eprintln!("serving http://{addr}");
        let stop = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.wait().await })
                .await;
            if let Err(e) = served {
                tracing::error!(%addr, error = %e, "the web server stopped");
            }
        });
    }
    Ok(Some(shared))
}

/// `reactif dashboard`: the dashboard alone, against the database.
async fn dashboard_command(database: &str, args: &cli::DashboardArgs) -> anyhow::Result<()> {
    let mut settings = web::WebSettings::from_env()?;
    let addr: std::net::SocketAddr = args.addr.parse().map_err(|_| {
        anyhow::anyhow!(
            "--addr (DASHBOARD_ADDR) `{}` is not an address and port (example: 127.0.0.1:8080)",
            args.addr
        )
    })?;
    settings.dashboard_addr = Some(addr);
    let public_url = settings
        .public_url
        .get_or_insert_with(|| format!("http://{addr}"))
        .clone();
    let desk = cli::open_desk(database).await?;
    let clock = SystemClock;
    let members: Arc<dyn web::Members> = if args.demo {
        let locale: Locale = args
            .lang
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--lang: {e}"))?;
        load_demo(&desk, clock.now(), locale).await?;
        Arc::new(web::DemoMembers)
    } else {
        let bot = reactif::settings::BotSettings::from_env().map_err(|e| {
            anyhow::anyhow!("{e}\n(the dashboard asks Discord, with the bot's token, who may see each server; `reactif dashboard --demo` needs no Discord)")
        })?;
        let api = reactif::discord::DiscordConfig::from(bot.clone()).api_base();
        Arc::new(web::DiscordMembers::new(&api, bot.token)?)
    };
    let stop = Stop::on_signal();
    serve_web(&desk, &settings, members, None, &stop).await?;
    if args.demo {
        let link = desk
            .dashboard_link(
                &public_url,
                web::access::DEMO_USER,
                demo::DEMO_GUILD,
                clock.now(),
            )
            .await?;
        println!("Open the demo's dashboard (this link works once, for 10 minutes):\n{link}");
    }
    stop.wait().await;
    Ok(())
}

/// The demo's traffic, afresh, for `reactif dashboard --demo`.
async fn load_demo(desk: &reactif::desk::Desk, now: i64, locale: Locale) -> anyhow::Result<()> {
    let events = demo::generate(now, 5, 42);
    desk.store().delete_guild_events(demo::DEMO_GUILD).await?;
    desk.store()
        .save_guild_rules(demo::DEMO_GUILD, &demo::demo_rules(locale))
        .await?;
    for chunk in events.chunks(2_000) {
        desk.ingest(chunk).await?;
    }
    eprintln!(
        "generated {} demo events for guild {}",
        events.len(),
        demo::DEMO_GUILD
    );
    Ok(())
}

/// Resolves for everyone once SIGINT or SIGTERM came.
#[derive(Clone)]
struct Stop(tokio::sync::watch::Receiver<bool>);

impl Stop {
    fn on_signal() -> Stop {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = tx.send(true);
        });
        Stop(rx)
    }

    async fn wait(self) {
        let mut rx = self.0;
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn demo_command(
    database: &str,
    args: &cli::DemoArgs,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let locale: Locale = args
        .lang
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--lang: {e}"))?;
    let desk = cli::open_desk(database).await?;
    let now = clock.now();
    let events = demo::generate(now, args.weeks, args.seed);
    // The demo guild starts afresh on each run, so running it twice shows the same kind of report.
    desk.store().delete_guild_events(demo::DEMO_GUILD).await?;
    desk.store()
        .save_guild_rules(demo::DEMO_GUILD, &demo::demo_rules(locale))
        .await?;
    let bar = indicatif::ProgressBar::new(events.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} ingesting demo events [{bar:40}] {pos}/{len}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for chunk in events.chunks(2_000) {
        desk.ingest(chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let scope = Scope {
        guild_id: Some(demo::DEMO_GUILD.to_string()),
        ..Scope::default()
    };
    let report = desk.report(&scope, Window::last_days(now, 7)).await?;
    let texts = reactif::i18n::texts(locale);
    let png = reactif::report::chart::render_png(&report, texts)?;
    std::fs::write(&args.chart, png)
        .with_context(|| format!("cannot write the chart to {}", args.chart.display()))?;
    let mut out = std::io::stdout().lock();
    let generated = texts
        .demo_generated
        .replace("{events}", &events.len().to_string())
        .replace("{weeks}", &args.weeks.to_string())
        .replace("{guild}", demo::DEMO_GUILD)
        .replace("{database}", &reactif::store::redact_url(database))
        .replace(
            "{seconds}",
            &format!("{:.1}", started.elapsed().as_secs_f64()),
        );
    writeln!(out, "{generated}\n")?;
    write!(out, "{}", reactif::report::text::render(&report, texts))?;
    let chart = std::fs::canonicalize(&args.chart).unwrap_or(args.chart.clone());
    writeln!(out, "\n{}: {}", texts.demo_chart, chart.display())?;
    writeln!(
        out,
        "{}: reactif stats --guild {} --since 30d --format json",
        texts.demo_try,
        demo::DEMO_GUILD
    )?;
    demo_engagement(&desk, args, locale, now, &mut out).await?;
    Ok(())
}

/// The community half of the demo: posts with themes, reactions and replies, and their report.
async fn demo_engagement(
    desk: &reactif::desk::Desk,
    args: &cli::DemoArgs,
    locale: Locale,
    now: i64,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let events = demo::engagement::generate(now, args.weeks, args.seed);
    desk.store()
        .delete_guild_engagement(demo::DEMO_GUILD)
        .await?;
    for chunk in events.chunks(5_000) {
        desk.ingest_engagement(chunk).await?;
    }
    let filters = reactif::domain::engagement::Filters {
        guild_id: Some(demo::DEMO_GUILD.to_string()),
        theme: None,
    };
    let report = desk
        .engagement_report(&filters, Window::last_days(now, 7))
        .await?;
    let texts = reactif::i18n::engagement_texts(locale);
    let chart = args.chart.with_file_name(format!(
        "{}-engagement.png",
        args.chart
            .file_stem()
            .map_or("reactif-demo".into(), |s| s.to_string_lossy())
    ));
    let png = reactif::report::engagement::chart::render_png(&report, texts)?;
    std::fs::write(&chart, png)
        .with_context(|| format!("cannot write the chart to {}", chart.display()))?;
    let intro = texts
        .demo_intro
        .replace("{events}", &events.len().to_string())
        .replace("{weeks}", &args.weeks.to_string());
    writeln!(out, "\n{intro}\n")?;
    write!(
        out,
        "{}",
        reactif::report::engagement::text::render(&report, texts)
    )?;
    let shown = std::fs::canonicalize(&chart).unwrap_or(chart);
    writeln!(out, "\n{}: {}", texts.common.demo_chart, shown.display())?;
    writeln!(
        out,
        "{}: reactif engagement --guild {} --since 30d --theme release",
        texts.common.demo_try,
        demo::DEMO_GUILD
    )?;
    writeln!(out, "{}", texts.common.demo_dashboard)?;
    Ok(())
}
