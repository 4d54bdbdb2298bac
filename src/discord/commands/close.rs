//! `/close`: ends a conversation. Who may depends on where: a customer closes their own DM
//! ticket; in a ticket thread only staff; in a watched channel staff, or the post's author.

use crate::discord::access::{caller, Caller};
use crate::discord::bot::{Context, Error};
use crate::discord::channels::thread_info;
use crate::discord::live::event;
use crate::discord::replies::{say, user_error, user_texts};
use crate::domain::{Event, EventKind};
use crate::i18n;
use crate::store::{Commit, OutboxItem, OutboxOp, Ticket, WatchKind};
use poise::serenity_prelude as serenity;

/// End this conversation (ticket thread, forum post, support channel, or your DM ticket).
#[poise::command(slash_command)]
pub async fn close(
    ctx: Context<'_>,
    #[description = "In a watched text channel: whose conversation"] customer: Option<
        serenity::User,
    >,
) -> Result<(), Error> {
    if ctx.guild_id().is_none() {
        return close_own_tickets(ctx).await;
    }
    let bot = ctx.data();
    let who = caller(ctx).await?;
    let here = ctx.channel_id().to_string();
    if let Some(ticket) = bot.desk.store().ticket_by_thread(&here).await? {
        return close_ticket(ctx, &who, ticket).await;
    }
    let conversation = watched_conversation(ctx, &who, customer).await?;
    bot.desk
        .ingest_live(&close_event(ctx, &who.guild, &conversation))
        .await?;
    let t = bot.texts(&who.guild).await;
    ctx.send(poise::CreateReply::default().content(t.ticket_closed_staff))
        .await?;
    Ok(())
}

fn close_event(ctx: Context<'_>, guild: &str, conversation: &str) -> Event {
    event(
        ctx.id(),
        guild,
        conversation,
        ctx.author().id.get(),
        EventKind::Close,
    )
}

/// In a DM: a customer closing their own ticket(s) of this DM channel, in every guild; the
/// agents are told in each ticket thread.
async fn close_own_tickets(ctx: Context<'_>) -> Result<(), Error> {
    let bot = ctx.data();
    let store = bot.desk.store();
    let user = ctx.author().id.to_string();
    let here = ctx.channel_id().to_string();
    let mut closed = 0;
    for g in store.guilds_with_staff_channel().await? {
        let Some(ticket) = store.ticket(&g, &user).await? else {
            continue;
        };
        if ticket.dm_channel_id != here {
            continue;
        }
        let ev = close_event(ctx, &g, &ticket.conversation);
        let t = bot.texts(&g).await;
        let notice = ticket.thread_id.as_ref().map(|thread| {
            OutboxOp::enqueue(
                OutboxItem::post_text(
                    format!("closed:{}", ev.id),
                    thread,
                    &format!("{} {}", t.ticket_closed_staff, t.cmd.closed_by_customer),
                    bot.now(),
                )
                .in_place(&g, &ticket.conversation),
            )
        });
        let commit = Commit {
            events: vec![ev],
            require_new: true,
            outbox: notice.into_iter().collect(),
            ..Commit::default()
        };
        let sent = bot.outbox.commit_and_send(commit).await?;
        bot.outbox.leave(sent.follow_ups);
        if sent.outcome.committed() {
            closed += 1;
        }
    }
    // In a DM no guild says which language: the customer's own Discord client does.
    let t = user_texts(ctx);
    let text = if closed > 0 {
        t.ticket_closed_customer
    } else {
        t.cmd.no_open_conversation
    };
    say(ctx, text).await
}

/// In a ticket thread: staff close it, and the customer is told in their DM.
async fn close_ticket(ctx: Context<'_>, who: &Caller, ticket: Ticket) -> Result<(), Error> {
    if !who.is_staff() {
        let t = ctx.data().texts(&who.guild).await;
        return Err(user_error(t.cmd.only_agents_close_ticket));
    }
    let bot = ctx.data();
    let ev = close_event(ctx, &who.guild, &ticket.conversation);
    let customer_t = i18n::texts(bot.rules(&ticket.guild_id).await?.locale);
    let notice = OutboxItem::post_text(
        format!("closed:{}", ev.id),
        &ticket.dm_channel_id,
        customer_t.ticket_closed_customer,
        bot.now(),
    )
    .in_place(&ticket.guild_id, &ticket.conversation);
    let commit = Commit {
        events: vec![ev],
        require_new: true,
        outbox: vec![OutboxOp::enqueue(notice)],
        ..Commit::default()
    };
    let sent = bot.outbox.commit_and_send(commit).await?;
    bot.outbox.leave(sent.follow_ups);
    let t = bot.texts(&who.guild).await;
    ctx.send(poise::CreateReply::default().content(t.ticket_closed_staff))
        .await?;
    Ok(())
}

/// The conversation `/close` ends in a watched channel: `customer`'s in a support channel
/// (staff only), the post's in a forum post or a thread of a watched channel (staff, or the
/// post's author).
async fn watched_conversation(
    ctx: Context<'_>,
    who: &Caller,
    customer: Option<serenity::User>,
) -> Result<String, Error> {
    let setup = ctx.data().setup(&who.guild).await?;
    let t = ctx.data().texts(&who.guild).await;
    let here = ctx.channel_id();
    let here_id = here.to_string();
    if setup
        .watched
        .iter()
        .any(|w| w.channel_id == here_id && w.kind == WatchKind::Text)
    {
        let Some(c) = customer else {
            return Err(user_error(t.cmd.close_say_whose));
        };
        if !who.is_staff() {
            return Err(user_error(t.cmd.only_agents_close_someone));
        }
        return Ok(format!("{here_id}:{}", c.id));
    }
    let thread = thread_info(ctx.serenity_context(), here).await;
    let watched = thread.as_ref().and_then(|th| {
        setup
            .watched
            .iter()
            .find(|w| Some(&w.channel_id) == th.parent_id.as_ref())
            .map(|w| (w.kind, th))
    });
    let Some((kind, th)) = watched else {
        return Err(user_error(t.cmd.close_where));
    };
    let owner = th.owner_id.unwrap_or_default();
    if !(who.is_staff() || owner == ctx.author().id.get()) {
        return Err(user_error(t.cmd.only_agents_or_author));
    }
    Ok(match kind {
        WatchKind::Forum => here_id,
        WatchKind::Text => format!("{}:{owner}", th.parent_id.clone().unwrap_or_default()),
    })
}
