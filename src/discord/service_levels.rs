//! Service levels on Discord (docs/operations.md, "Service-level timers"): the warning before a
//! breach, the breach line and the auto-close, from the timers each live event plans
//! (`desk::plan_place`). A due timer is checked again against the place as stored, then marked
//! done in the same transaction as what it sends and records, so it acts once: a restart
//! neither loses nor repeats it, and an answer or a customer message that came first (even one
//! read back by the catch-up) cancels it.

use super::bot::Bot;
use super::live::lock_conversation;
use crate::desk::DueTimer;
use crate::domain::settings::format_duration;
use crate::domain::sla_timers::{TargetKind, TimerAction};
use crate::domain::{Event, EventKind};
use crate::i18n::Texts;
use crate::store::{Commit, DiscordSetup, OutboxItem, OutboxOp, SlaTimerRow, TimerOp};

/// How many due timers one tick takes.
const BATCH: i64 = 50;

/// Acts on the timers that are due. Waits for the first catch-up since start, so that what
/// was posted meanwhile is stored before a timer decides.
pub async fn act_on_due(bot: &Bot) -> anyhow::Result<()> {
    if !bot.lifecycle.caught_up() {
        return Ok(());
    }
    let now = bot.now();
    for row in bot
        .desk
        .store()
        .due_sla_timers(now, BATCH, &bot.shards)
        .await?
    {
        let _place = lock_conversation(bot, &row.guild_id, &row.conversation).await;
        let mut commit = Commit {
            timers: vec![TimerOp::Done(row.clone())],
            ..Commit::default()
        };
        match bot.desk.check_timer(&row, now).await? {
            Some(due) => act(bot, &due, &mut commit).await?,
            None => {
                tracing::debug!(kind = %row.kind, place = %row.conversation, "timer no longer due")
            }
        }
        let sent = bot.outbox.commit_and_send(commit).await?;
        bot.outbox.leave(sent.follow_ups);
    }
    Ok(())
}

/// Adds to `commit` what a due timer sends and records.
async fn act(bot: &Bot, due: &DueTimer, commit: &mut Commit) -> anyhow::Result<()> {
    let setup = bot.setup(&due.row.guild_id).await?;
    let t = crate::i18n::texts(due.rules.locale);
    let item = match due.timer.action {
        TimerAction::Warning => warning(bot, due, &setup, t).await?,
        TimerAction::Breach => breach(bot, due, &setup, t),
        TimerAction::AutoClose => return auto_close(bot, due, t, commit).await,
    };
    match item {
        Some(item) => commit.outbox.push(OutboxOp::enqueue(item)),
        None => tracing::info!(
            guild = %due.row.guild_id,
            kind = %due.row.kind,
            "no channel for a service-level notice: set an alert channel with /setup"
        ),
    }
    Ok(())
}

/// The key of what a timer sends: one message per timer, whoever sends it.
fn key(row: &SlaTimerRow, what: &str) -> String {
    format!(
        "sla:{what}:{}:{}:{}:{}",
        row.guild_id, row.conversation, row.kind, row.subject
    )
}

fn target_name(t: &Texts, target: Option<TargetKind>) -> String {
    match target {
        Some(TargetKind::FirstResponse) => t.sla_first_response,
        Some(TargetKind::NextResponse) => t.sla_next_response,
        Some(TargetKind::Resolution) | None => t.sla_resolution,
    }
    .to_lowercase()
}

/// The channel a conversation's messages are in, as a mention: a forum post is its thread, a
/// support channel's conversation `channel:customer` is the channel.
fn channel_mention(conversation: &str) -> String {
    let channel = conversation.split(':').next().unwrap_or(conversation);
    format!("<#{channel}>")
}

fn is_dm(conversation: &str) -> bool {
    conversation.starts_with("dm-")
}

/// The ticket thread of a DM conversation, if it still has one.
async fn ticket_thread(bot: &Bot, due: &DueTimer) -> anyhow::Result<Option<String>> {
    let ticket = bot
        .desk
        .store()
        .ticket(&due.row.guild_id, &due.conversation.customer_id)
        .await?;
    Ok(ticket
        .filter(|t| t.conversation == due.row.conversation)
        .and_then(|t| t.thread_id))
}

/// Where the agents read notices when the conversation has no thread of theirs: the alert
/// channel, else the staff channel.
fn agents_channel(setup: &DiscordSetup) -> Option<String> {
    setup
        .alert_channel_id
        .clone()
        .or_else(|| setup.staff_channel_id.clone())
}

/// The warning, in the ticket thread of a DM ticket, else in the agents' channel, mentioning
/// the agent roles and nobody else.
async fn warning(
    bot: &Bot,
    due: &DueTimer,
    setup: &DiscordSetup,
    t: &Texts,
) -> anyhow::Result<Option<OutboxItem>> {
    let thread = match is_dm(&due.row.conversation) {
        true => ticket_thread(bot, due).await?,
        false => None,
    };
    let (channel, place) = match thread {
        Some(thread) => (thread, String::new()),
        None => match agents_channel(setup) {
            Some(c) => (c, where_text(t, due)),
            None => return Ok(None),
        },
    };
    let roles: Vec<String> = setup.agent_roles.clone();
    let mentions = roles
        .iter()
        .map(|r| format!("<@&{r}>"))
        .collect::<Vec<_>>()
        .join(" ");
    let template = match mentions.is_empty() {
        true => t.sla_warning.replace("{roles} ", ""),
        false => t.sla_warning.to_string(),
    };
    let text = template
        .replace("{roles}", &mentions)
        .replace("{where}", &place)
        .replace("{target}", &target_name(t, due.timer.target))
        .replace("{duration}", &format_duration(due.timer.target_ms))
        .replace(
            "{deadline}",
            &format!("<t:{}:R>", due.timer.deadline / 1000),
        );
    let body = serde_json::json!({
        "content": text,
        "allowed_mentions": {"parse": [], "roles": roles},
    });
    let item = OutboxItem::post(key(&due.row, "warning"), &channel, body, bot.now())
        .in_place(&due.row.guild_id, &due.row.conversation);
    Ok(Some(item))
}

fn where_text(t: &Texts, due: &DueTimer) -> String {
    let channel = if is_dm(&due.row.conversation) {
        format!("`{}`", due.row.conversation)
    } else {
        channel_mention(&due.row.conversation)
    };
    t.sla_where.replace("{channel}", &channel)
}

/// One line in the agents' channel, pinging nobody.
fn breach(bot: &Bot, due: &DueTimer, setup: &DiscordSetup, t: &Texts) -> Option<OutboxItem> {
    let channel = agents_channel(setup)?;
    let text = t
        .sla_breach
        .replace("{where}", &where_text(t, due))
        .replace("{target}", &target_name(t, due.timer.target))
        .replace("{duration}", &format_duration(due.timer.target_ms));
    Some(
        OutboxItem::post_text(key(&due.row, "breach"), &channel, &text, bot.now())
            .in_place(&due.row.guild_id, &due.row.conversation),
    )
}

/// The bot's close, dated when it was due (not now: after downtime it is caught up with its
/// own moment); and, while the conversation is still the customer's latest, the customer told
/// that writing again reopens it, and a DM ticket's thread told and archived.
async fn auto_close(
    bot: &Bot,
    due: &DueTimer,
    t: &Texts,
    commit: &mut Commit,
) -> anyhow::Result<()> {
    let row = &due.row;
    commit.events.push(Event {
        id: format!("auto-close-{}-{}", row.conversation, row.subject),
        guild_id: row.guild_id.clone(),
        place: row.conversation.clone(),
        author_id: bot.bot_user_id.to_string(),
        at: due.timer.due_at,
        kind: EventKind::Close,
    });
    tracing::info!(guild = %row.guild_id, place = %row.conversation, at = due.timer.due_at, "auto-closed");
    if !due.latest {
        return Ok(());
    }
    let duration = format_duration(due.timer.target_ms);
    let now = bot.now();
    let customer_channel = match row.conversation.strip_prefix("dm-") {
        Some(dm) => dm.to_string(),
        None => row
            .conversation
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let mut notice = t.auto_closed_customer.replace("{duration}", &duration);
    if row.conversation.contains(':') {
        // A support channel is shared: say whose conversation it was (a mention that pings no one).
        notice = format!("<@{}> {notice}", due.conversation.customer_id);
    }
    let mut items =
        vec![
            OutboxItem::post_text(key(row, "customer"), &customer_channel, &notice, now)
                .in_place(&row.guild_id, &row.conversation),
        ];
    if let Some(thread) = ticket_thread(bot, due)
        .await?
        .filter(|_| is_dm(&row.conversation))
    {
        let staff = t.auto_closed_staff.replace("{duration}", &duration);
        let told = OutboxItem::post_text(key(row, "staff"), &thread, &staff, now)
            .in_place(&row.guild_id, &row.conversation);
        // Posting in an archived thread would unarchive it: archive after the notice.
        let mut archive = OutboxItem::archive_thread(key(row, "archive"), &thread, now)
            .in_place(&row.guild_id, &row.conversation);
        archive.after_key = Some(told.dedupe_key.clone());
        items.push(told);
        items.push(archive);
    }
    commit
        .outbox
        .extend(items.into_iter().map(OutboxOp::enqueue));
    Ok(())
}
