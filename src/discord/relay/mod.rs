//! The DM relay (modmail): a customer's DM goes to a thread in the guild's staff channel; agents'
//! messages in that thread go back to the customer's DM. Nothing pings anyone: every relayed
//! message is sent with no allowed mentions. The relay also performs the follow-ups of the
//! messages it queued: a ticket thread that is gone, a customer whose DMs are closed.

mod team;
mod text;
mod thread;

pub use team::on_team_choice;

use crate::desk::{LivePlace, SurveyTarget};
use crate::discord::access::speaks_for_support;
use crate::discord::bot::Bot;
use crate::discord::live::{agent_kind, commit_live, event, lock_conversation, relayed_body};
use crate::discord::outbox::{FollowUp, Refusal};
use crate::domain::EventKind;
use crate::store::{Commit, OutboxItem, OutboxOp, Ticket};
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use text::{delay_mark, display_name, relay_items};

/// What became of a customer's DM.
pub enum Dm {
    /// Relayed (or already relayed), or answered (the customer shares no team with the bot).
    Relayed,
    /// The customer was asked which team they mean: it waits for their choice.
    WaitingForTeam,
}

/// A customer's DM: stored as a customer message of the DM conversation, relayed to the staff
/// thread (opened with the conversation), acknowledged once per conversation. `chosen` is the
/// guild the customer picked in the team menu.
pub async fn customer_dm(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    chosen: Option<String>,
    delayed: bool,
) -> anyhow::Result<Dm> {
    let guild = match chosen {
        Some(g) => g,
        None => match team::guild_for(ctx, bot, msg).await? {
            team::Team::Guild(g) => g,
            team::Team::Answered => return Ok(Dm::Relayed),
            team::Team::Asked => return Ok(Dm::WaitingForTeam),
        },
    };
    let setup = bot.setup(&guild).await?;
    let Some(staff) = setup.staff_channel_id.clone() else {
        tracing::warn!(guild = %guild, "DM for a guild without a staff channel");
        return Ok(Dm::Relayed);
    };
    let conversation = format!("dm-{}", msg.channel_id);
    let ev = event(
        msg.id.get(),
        &guild,
        &conversation,
        msg.author.id.get(),
        EventKind::CustomerMessage,
    );
    let _conversation = lock_conversation(bot, &guild, &conversation).await;
    let place = bot.desk.replay_live(&ev).await?;
    if !place.new {
        return Ok(Dm::Relayed);
    }
    bot.desk
        .store()
        .set_conversation_channel(&guild, &conversation, &staff)
        .await?;
    let ticket = match ticket_for(&ctx.http, bot, msg, &place, &staff).await {
        Ok(ticket) => ticket,
        Err(e) if e.is::<thread::StaffChannelLost>() => {
            return staff_channel_lost(bot, &ctx.http, msg, &place, &staff).await;
        }
        Err(e) => return Err(e),
    };
    let body = relayed_body(msg);
    let items = dm_items(bot, msg, &ticket, &place, &body, delayed);
    let target = dm_target(&ticket.dm_channel_id);
    let kept = setup.transcripts.then_some(body.as_str());
    let follow_ups = commit_live(bot, &place, Some(target), items, kept).await?;
    perform(bot, &ctx.http, follow_ups).await;
    Ok(Dm::Relayed)
}

/// Discord refuses ticket threads in the staff channel (deleted, or closed to the bot): the
/// message is stored (the request counts) and the customer told, once per DM channel, that it
/// could not reach the team; it is not retried in a loop. `/setup` and the log say why.
async fn staff_channel_lost(
    bot: &Bot,
    http: &serenity::Http,
    msg: &serenity::Message,
    place: &LivePlace,
    staff: &str,
) -> anyhow::Result<Dm> {
    let t = crate::i18n::texts(place.rules.locale);
    let notice = OutboxItem::post_text(
        format!("staff-lost:{}:{staff}", msg.channel_id),
        &msg.channel_id.to_string(),
        t.team_unreachable,
        bot.now(),
    );
    let follow_ups = commit_live(bot, place, None, vec![notice], None).await?;
    perform(bot, http, follow_ups).await;
    Ok(Dm::Relayed)
}

/// The customer's ticket in the place's guild, saved with its DM channel, conversation and a
/// thread (opened now when the message opens a conversation or the ticket has none).
async fn ticket_for(
    http: &serenity::Http,
    bot: &Bot,
    msg: &serenity::Message,
    place: &LivePlace,
    staff: &str,
) -> anyhow::Result<Ticket> {
    let store = bot.desk.store();
    let (guild, conversation) = (&place.event.guild_id, &place.event.place);
    let customer = msg.author.id.to_string();
    let mut ticket = store.ticket(guild, &customer).await?.unwrap_or(Ticket {
        guild_id: guild.clone(),
        customer_id: customer.clone(),
        dm_channel_id: msg.channel_id.to_string(),
        thread_id: None,
        conversation: conversation.clone(),
    });
    ticket.dm_channel_id = msg.channel_id.to_string();
    ticket.conversation = conversation.clone();
    // A thread created after this message was opened for it by an earlier try that did not
    // commit: use it rather than open a second one.
    let opened_for_it = ticket
        .thread_id
        .as_deref()
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t > msg.id.get());
    // The first ticket always opens (and counts); a new conversation opens another one unless
    // the customer opened too many this hour.
    let first = ticket.thread_id.is_none();
    let wants_thread = first || (place.opened_conversation && !opened_for_it);
    if wants_thread && (new_ticket_allowed(bot, msg, guild).await? || first) {
        ticket.thread_id = Some(thread::open_thread(http, bot, guild, staff, &msg.author).await?);
    }
    store.save_ticket(&ticket).await?;
    Ok(ticket)
}

/// Whether the customer may open one more ticket (a thread) this hour: at most the guild's
/// `tickets_per_hour`, on Discord's clock. Beyond, their DM joins their latest ticket: it is
/// relayed there, nothing is lost and nothing new is opened.
async fn new_ticket_allowed(
    bot: &Bot,
    msg: &serenity::Message,
    guild: &str,
) -> anyhow::Result<bool> {
    let limit = bot.desk.store().ticket_limit(guild).await?;
    let what = format!("ticket:{guild}");
    let at = crate::discord::live::discord_time(msg.id.get());
    let allowed = bot
        .limits
        .take(&what, msg.author.id.get(), at, limit, crate::domain::HOUR)
        .is_ok();
    if !allowed {
        tracing::info!(customer = %msg.author.id, limit, "ticket limit reached: the DM joins the customer's latest ticket");
    }
    Ok(allowed)
}

/// The messages a customer's DM causes: its relay to the ticket thread and, when it opens a
/// conversation, the acknowledgement in the DM.
fn dm_items(
    bot: &Bot,
    msg: &serenity::Message,
    ticket: &Ticket,
    place: &LivePlace,
    body: &str,
    delayed: bool,
) -> Vec<OutboxItem> {
    let customer = msg.author.id;
    let header = format!(
        "{}**{}** (`{}`): ",
        delay_mark(msg, delayed),
        display_name(&msg.author),
        customer
    );
    let thread = ticket.thread_id.clone().unwrap_or_default();
    let mut items = relay_items(
        bot.now(),
        &thread,
        &header,
        body,
        &format!("relay:{}", msg.id),
    );
    for item in &mut items {
        item.guild_id = Some(ticket.guild_id.clone());
        item.ticket_customer_id = Some(customer.to_string());
        // Refused for good (and no thread to reopen): the customer is told in their DM.
        item.notify_channel_id = Some(msg.channel_id.to_string());
    }
    if place.opened_conversation {
        let texts = crate::i18n::texts(place.rules.locale);
        items.extend(relay_items(
            bot.now(),
            &msg.channel_id.to_string(),
            "",
            texts.ticket_ack,
            &format!("ack:{}", msg.id),
        ));
    }
    items
}

fn dm_target(dm: &str) -> SurveyTarget {
    SurveyTarget {
        channel_id: dm.to_string(),
        reply_to: false,
    }
}

/// An agent's message in a ticket thread: stored, relayed to the customer's DM unless it is a
/// note, and followed by a survey when it answers a request.
pub async fn staff_message(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    ticket: Ticket,
    delayed: bool,
) -> anyhow::Result<()> {
    let setup = bot.setup(&ticket.guild_id).await?;
    if !speaks_for_support(ctx, msg, &setup).await? {
        return not_an_agent(bot, &ctx.http, msg, &ticket).await;
    }
    let rules = bot.rules(&ticket.guild_id).await?;
    let kind = agent_kind(&msg.content, &rules.note_prefix);
    let is_note = kind == EventKind::Note;
    let ev = event(
        msg.id.get(),
        &ticket.guild_id,
        &ticket.conversation,
        msg.author.id.get(),
        kind,
    );
    let _conversation = lock_conversation(bot, &ticket.guild_id, &ticket.conversation).await;
    let place = bot.desk.replay_live(&ev).await?;
    if !place.new {
        return Ok(());
    }
    let body = relayed_body(msg);
    let kept = setup.transcripts.then_some(body.as_str());
    if is_note {
        let follow_ups = commit_live(bot, &place, None, Vec::new(), kept).await?;
        perform(bot, &ctx.http, follow_ups).await;
        return Ok(());
    }
    let signature = if setup.show_agent_names {
        format!("**{}:** ", display_name(&msg.author))
    } else {
        match rules.locale {
            crate::domain::Locale::Fr => "**Support :** ".to_string(),
            crate::domain::Locale::En => "**Support:** ".to_string(),
        }
    };
    let header = format!("{}{signature}", delay_mark(msg, delayed));
    let mut items = relay_items(
        bot.now(),
        &ticket.dm_channel_id,
        &header,
        &body,
        &format!("relay:{}", msg.id),
    );
    for item in &mut items {
        // A customer whose DMs are closed: the agents are told in the thread.
        item.notify_channel_id = Some(msg.channel_id.to_string());
        item.guild_id = Some(ticket.guild_id.clone());
    }
    let target = dm_target(&ticket.dm_channel_id);
    let follow_ups = commit_live(bot, &place, Some(target), items, kept).await?;
    perform(bot, &ctx.http, follow_ups).await;
    Ok(())
}

/// Someone who is neither agent nor admin wrote in a ticket thread (anyone who can see the
/// staff channel can): the message is not stored, not relayed and not counted; the thread is
/// told why, once per author and thread (the notice's key makes a second one a no-op).
async fn not_an_agent(
    bot: &Bot,
    http: &serenity::Http,
    msg: &serenity::Message,
    ticket: &Ticket,
) -> anyhow::Result<()> {
    tracing::info!(author = %msg.author.id, "message in a ticket thread by someone who is not an agent: not relayed");
    let t = bot.texts(&ticket.guild_id).await;
    let thread = msg.channel_id.to_string();
    let notice = OutboxItem::post_text(
        format!("not-agent:{thread}:{}", msg.author.id),
        &thread,
        t.not_an_agent,
        bot.now(),
    )
    .in_place(&ticket.guild_id, &ticket.conversation);
    let commit = Commit {
        outbox: vec![OutboxOp::enqueue(notice)],
        ..Commit::default()
    };
    let sent = bot.outbox.commit_and_send(commit).await?;
    perform(bot, http, sent.follow_ups).await;
    Ok(())
}

/// Performs the follow-ups of the relay's own messages; any other is left to the timers.
async fn perform(bot: &Bot, http: &serenity::Http, follow_ups: Vec<FollowUp>) {
    for f in follow_ups {
        match f {
            FollowUp::ReopenTicket(r) | FollowUp::NotifyRefusal(r) => refused(bot, http, r).await,
            other => bot.outbox.leave(vec![other]),
        }
    }
}

/// A relayed message Discord refused for good. A ticket thread that is gone is opened again
/// and the message tried there; otherwise the message is given up, and the agents told in the
/// thread when it was theirs. A failure is logged: the item is tried again after its lease.
pub async fn refused(bot: &Bot, http: &serenity::Http, r: Refusal) {
    if let Err(e) = try_refused(bot, http, &r).await {
        tracing::warn!(key = %r.item.dedupe_key, error = %format!("{e:#}"), "delivery not recorded; will retry");
    }
}

async fn try_refused(bot: &Bot, http: &serenity::Http, r: &Refusal) -> anyhow::Result<()> {
    let item = &r.item;
    if r.status == 404
        && item.ticket_customer_id.is_some()
        && thread::reopen_ticket_thread(bot, http, item).await?
    {
        // The ticket thread was deleted; the item now points to a new one.
        return bot.outbox.retry_now(r).await;
    }
    let notice = match &item.notify_channel_id {
        Some(channel) => Some(refusal_notice(bot, r, channel).await),
        None => None,
    };
    bot.outbox.give_up(r, notice).await
}

/// What the other side reads when a relayed message could not be delivered: the agents in
/// the thread (their answer did not reach the customer), or the customer in their DM (their
/// message did not reach the team). The notice quotes the text, which is kept (in the notice)
/// until the notice is delivered.
async fn refusal_notice(bot: &Bot, r: &Refusal, channel: &str) -> OutboxItem {
    let item = &r.item;
    let t = match &item.guild_id {
        Some(g) => bot.texts(g).await,
        None => &crate::i18n::EN,
    };
    let text = if item.ticket_customer_id.is_some() {
        t.relay_refused_customer
    } else if r.status == 403 {
        t.relay_refused_dms_closed
    } else {
        t.relay_refused
    };
    let sent: serde_json::Value = serde_json::from_str(&item.body).unwrap_or_default();
    let quoted = quote(sent["content"].as_str().unwrap_or_default());
    // One notice per relayed message and piece (each piece's text is quoted once).
    let mut notice = OutboxItem::post_text(
        format!("notice:{}", item.dedupe_key),
        channel,
        &format!("{text}\n{quoted}"),
        bot.now(),
    );
    notice.guild_id = item.guild_id.clone();
    notice.conversation = item.conversation.clone();
    notice
}

/// `text` as a Markdown quote, cut so that the notice stays under Discord's 2,000 characters.
fn quote(text: &str) -> String {
    const KEPT: usize = 1_700;
    let mut cut: String = text.chars().take(KEPT).collect();
    if text.chars().count() > KEPT {
        cut.push('…');
    }
    cut.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
