//! Ticket threads: one per customer and guild, in the staff channel, opened with the customer's
//! first message and opened again when Discord no longer knows it.

use super::text::title_name;
use crate::discord::access::http_status;
use crate::discord::bot::Bot;
use crate::discord::channels::channel;
use crate::store::OutboxItem;
use poise::serenity_prelude as serenity;

/// Discord refused for good to open a thread in the guild's staff channel (it was deleted,
/// or the bot lost access): retrying cannot help until someone acts.
#[derive(Debug, thiserror::Error)]
#[error("Discord refused ({status}) to open a ticket thread in staff channel {channel}")]
pub struct StaffChannelLost {
    pub channel: String,
    pub status: u16,
}

/// Opens a ticket thread for `customer` in the guild's staff channel; returns its id. A
/// refusal for good is a `StaffChannelLost`, recorded for `/setup` and logged once.
pub async fn open_thread(
    http: &serenity::Http,
    bot: &Bot,
    guild: &str,
    staff: &str,
    customer: &serenity::User,
) -> anyhow::Result<String> {
    let mut name = format!("{} · {}", title_name(customer), customer.id);
    if name.chars().count() > 100 {
        name = name.chars().take(100).collect();
    }
    let created = channel(staff)
        .create_thread(
            http,
            serenity::CreateThread::new(name)
                .kind(serenity::ChannelType::PublicThread)
                .auto_archive_duration(serenity::AutoArchiveDuration::OneWeek),
        )
        .await;
    let thread = match created {
        Ok(thread) => thread,
        Err(e) => match http_status(&e).filter(|s| matches!(s, 403 | 404)) {
            Some(status) => {
                bot.lost_staff.lost(guild, staff, status);
                return Err(StaffChannelLost {
                    channel: staff.to_string(),
                    status,
                }
                .into());
            }
            None => return Err(e.into()),
        },
    };
    bot.lost_staff.found(guild);
    // Catch-up after downtime reads the thread from its creation on.
    let created = i64::try_from(thread.id.get()).unwrap_or(i64::MAX);
    bot.desk
        .store()
        .advance_cursor(
            &thread.id.to_string(),
            Some(thread.guild_id.to_string().as_str()),
            created,
            bot.now(),
        )
        .await?;
    Ok(thread.id.to_string())
}

/// Opens a new ticket thread for the customer of `item`, whose thread was deleted, and moves
/// the messages waiting for the old thread to it. False when there is nothing to reopen (the
/// ticket was forgotten, the staff channel unset): the item then fails for good.
pub async fn reopen_ticket_thread(
    bot: &Bot,
    http: &serenity::Http,
    item: &OutboxItem,
) -> anyhow::Result<bool> {
    let (Some(guild), Some(customer)) = (&item.guild_id, &item.ticket_customer_id) else {
        return Ok(false);
    };
    let store = bot.desk.store();
    let Some(mut ticket) = store.ticket(guild, customer).await? else {
        return Ok(false);
    };
    let Some(staff) = bot.setup(guild).await?.staff_channel_id else {
        return Ok(false);
    };
    if ticket.thread_id.as_deref() == Some(item.channel_id.as_str()) {
        let user_id = serenity::UserId::new(customer.parse::<u64>().unwrap_or(1).max(1));
        let user = http.get_user(user_id).await?;
        tracing::warn!(thread = %item.channel_id, "ticket thread gone; opening a new one");
        match open_thread(http, bot, guild, &staff, &user).await {
            Ok(thread) => ticket.thread_id = Some(thread),
            // Nowhere to reopen it: the message is given up, and the customer told.
            Err(e) if e.is::<StaffChannelLost>() => return Ok(false),
            Err(e) => return Err(e),
        }
        store.save_ticket(&ticket).await?;
    }
    match &ticket.thread_id {
        Some(new) if new != &item.channel_id => {
            store.retarget_outbox(&item.channel_id, new).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
