//! `reactif engagement`, and the engagement lines of `reactif import` (docs/engagement.md).

use super::{resolve_window, Format, ImportOutcome, WindowArgs};
use crate::clock::Clock;
use crate::desk::{Desk, IngestSummary};
use crate::domain::engagement::EngagementKind;
use crate::domain::engagement::{self, EngagementEvent, Filters};
use crate::domain::event::EventError;
use crate::domain::Event;
use crate::i18n;
use crate::report;
use crate::store;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EngagementArgs {
    /// Only this guild (its time zone is used for dates and for the daily series; UTC over
    /// several guilds).
    #[arg(long)]
    pub guild: Option<String>,
    /// Only the posts carrying this theme, exactly as stored (case included); `untagged` keeps
    /// the posts without one. Applies to the window and to the previous one.
    #[arg(long)]
    pub theme: Option<String>,
    /// Start of the window of posting: 7d, 30d, 90d (any Nd), today, a day (2026-11-01,
    /// midnight in the guild's time zone) or an RFC 3339 time. Default: 7d.
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// End of the window (exclusive): a day (its midnight) or an RFC 3339 time. Default: now.
    #[arg(long)]
    pub until: Option<String>,
    /// Evaluation time, RFC 3339 (reactions and replies after it do not count yet).
    /// Default: the current time.
    #[arg(long)]
    pub now: Option<String>,
    /// Output format. The audience is a ceiling of the reach (who could see a post), not a
    /// count of views: Discord gives none. With json and csv this note goes to standard error.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the chart (engagements per day of posting, engagement rate per theme) to
    /// this PNG file.
    #[arg(long, value_name = "FILE.png")]
    pub chart: Option<PathBuf>,
    /// Language of the text report and chart: en or fr (default: the guild's locale).
    #[arg(long)]
    pub lang: Option<String>,
}

/// What `reactif engagement` prints: the report on standard output, and (for json and csv,
/// whose format is a contract) the note on the audience for standard error.
pub struct EngagementOutput {
    pub stdout: String,
    pub note: Option<&'static str>,
}

pub async fn engagement(
    desk: &Desk,
    args: &EngagementArgs,
    clock: &dyn Clock,
) -> anyhow::Result<EngagementOutput> {
    let rules = match &args.guild {
        Some(g) => desk.store().guild_rules(g).await?,
        None => Default::default(),
    };
    let window_args = WindowArgs {
        guild: args.guild.clone(),
        agent: None,
        since: args.since.clone(),
        until: args.until.clone(),
        now: args.now.clone(),
    };
    let (_, window) = resolve_window(&window_args, &rules.timezone, clock)?;
    let filters = Filters {
        guild_id: args.guild.clone(),
        theme: args.theme.clone(),
    };
    let report = desk.engagement_report(&filters, window).await?;
    let locale = match &args.lang {
        Some(l) => l
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--lang: {e}"))?,
        None => rules.locale,
    };
    let texts = i18n::engagement_texts(locale);
    if let Some(path) = &args.chart {
        let png = report::engagement::chart::render_png(&report, texts)?;
        std::fs::write(path, png)
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
    }
    let stdout = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report::engagement::json(&report))?;
            s.push('\n');
            s
        }
        Format::Csv => report::engagement::csv::report(&report),
        Format::Text => report::engagement::text::render(&report, texts),
    };
    let note = (args.format != Format::Text).then_some(texts.audience_note);
    Ok(EngagementOutput { stdout, note })
}

/// One line of an import file: a support event (docs/kpi.md) or an engagement event
/// (docs/engagement.md), told apart by its `kind`.
pub enum ImportLine {
    Support(Event),
    Engagement(EngagementEvent),
}

impl ImportLine {
    /// When it happened, whichever format it is.
    pub fn at(&self) -> crate::domain::Millis {
        match self {
            ImportLine::Support(e) => e.at,
            ImportLine::Engagement(e) => e.at,
        }
    }
}

/// Parses one line of either format; the error says what is wrong with it.
pub fn parse_import_line(text: &str) -> Result<ImportLine, String> {
    match Event::parse_line(text) {
        Ok(e) => Ok(ImportLine::Support(e)),
        Err(EventError::UnknownKind(k)) if engagement::KINDS.contains(&k.as_str()) => {
            EngagementEvent::parse_line(text)
                .map(ImportLine::Engagement)
                .map_err(|e| e.to_string())
        }
        Err(EventError::UnknownKind(k)) => Err(format!(
            "unknown kind `{k}` (expected customer_message, agent_message, note, bot_message, \
             close, survey_sent, rating or comment (docs/kpi.md), or post, reaction_add, \
             reaction_remove or reply (docs/engagement.md))"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Stores a batch of engagement lines; ids stored before with other content are reported.
pub(super) async fn ingest_batch(
    desk: &Desk,
    batch: &[EngagementEvent],
    numbers: &[u64],
    out: &mut ImportOutcome,
) -> anyhow::Result<()> {
    let inserted = desk.store().insert_engagement(batch).await?;
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
    let stored = desk.store().engagement_by_ids(&ids).await?;
    for i in duplicates {
        let e = &batch[i];
        // Same id and kind of row, other content: the file disagrees with the database.
        let same_row = |s: &&EngagementEvent| s.id == e.id && row_kind(s) == row_kind(e);
        if stored.iter().filter(same_row).all(|s| s != e) {
            out.conflicting.push((numbers[i], e.id.clone()));
        }
    }
    Ok(())
}

/// Posts, reaction events and replies are three kinds of rows, each with its own ids.
fn row_kind(e: &EngagementEvent) -> u8 {
    match e.kind {
        EngagementKind::Post { .. } => 0,
        EngagementKind::ReactionAdd { .. } | EngagementKind::ReactionRemove { .. } => 1,
        EngagementKind::Reply { .. } => 2,
    }
}

/// What `reactif purge --dry-run` says of the engagement rows it would anonymise.
pub(super) async fn purge_preview(
    desk: &Desk,
    before: crate::domain::Millis,
) -> anyhow::Result<String> {
    let e = desk.store().purge_engagement_preview(before).await?;
    Ok(format!(
        "on the community posts whose engagement window ended by then, {} people's ids would be \
         taken off {} posts, {} reaction events and {} replies",
        e.people, e.posts, e.reactions, e.replies
    ))
}
