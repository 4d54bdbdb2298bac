//! The DM relay (modmail): a customer's DM goes to a thread in the guild's staff channel; agents'
//! messages in that thread go back to the customer's DM. Nothing pings anyone: every relayed
//! message is sent with no allowed mentions. The relay also performs the follow-ups of the
//! messages it queued: a ticket thread that is gone, a customer whose DMs are closed.

mod team;
mod text;
mod thread;

pub use team::on_team_choice;

use crate::desk::{LivePlace, SurveyTarget};
use crate::discord::bot::Bot;
use crate::discord::live::{agent_kind, commit_live, event, lock_conversation, relayed_body};
use crate::discord::outbox::{FollowUp, Refusal};
use crate::domain::EventKind;
use crate::store::{OutboxItem, Ticket};
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use text::{delay_mark, display_name, relay_items};

/// A customer's DM: stored as a customer message of the DM conversation, relayed to the staff
/// thread (opened with the conversation), acknowledged once per conversation. `chosen` is the
/// guild the customer picked in the team menu.
pub async fn customer_dm(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    chosen: Option<String>,
    delayed: bool,
) -> anyhow::Result<()> {
    let guild = match chosen {
        Some(g) => g,
        None => match team::guild_for(ctx, bot, msg).await? {
            Some(g) => g,
            None => return Ok(()),
        },
    };
    let setup = bot.setup(&guild).await?;
    let Some(staff) = setup.staff_channel_id.clone() else {
        tracing::warn!(guild = %guild, "DM for a guild without a staff channel");
        return Ok(());
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
        return Ok(());
    }
    bot.desk
        .store()
        .set_conversation_channel(&guild, &conversation, &staff)
        .await?;
    let ticket = ticket_for(&ctx.http, bot, msg, &place, &staff).await?;
    let body = relayed_body(msg);
    let items = dm_items(bot, msg, &ticket, &place, &body, delayed);
    let target = dm_target(&ticket.dm_channel_id);
    let kept = setup.transcripts.then_some(body.as_str());
    let follow_ups = commit_live(bot, &place, Some(target), items, kept).await?;
    perform(bot, &ctx.http, follow_ups).await;
    Ok(())
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
        ticket.thread_id = Some(thread::open_thread(http, bot, staff, &msg.author).await?);
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
    let setup = bot.setup(&ticket.guild_id).await?;
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

/// What the agents read in the thread when their message could not reach the customer.
async fn refusal_notice(bot: &Bot, r: &Refusal, channel: &str) -> OutboxItem {
    let item = &r.item;
    let t = match &item.guild_id {
        Some(g) => bot.texts(g).await,
        None => &crate::i18n::EN,
    };
    let text = if r.status == 403 {
        t.relay_refused_dms_closed
    } else {
        t.relay_refused
    };
    // One notice per relayed message, however many pieces it had.
    let message_key = item
        .dedupe_key
        .rsplit_once(':')
        .map_or(item.dedupe_key.as_str(), |(k, _)| k);
    let mut notice =
        OutboxItem::post_text(format!("notice:{message_key}"), channel, text, bot.now());
    notice.guild_id = item.guild_id.clone();
    notice.conversation = item.conversation.clone();
    notice
}
