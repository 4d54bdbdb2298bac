//! The DM relay (modmail): a customer's DM goes to a thread in the guild's staff channel; agents'
//! messages in that thread go back to the customer's DM. Nothing pings anyone: every relayed
//! message is sent with no allowed mentions.

use super::{event, Bot};
use crate::desk::SurveyTarget;
use crate::domain::EventKind;
use crate::store::Ticket;
use poise::serenity_prelude as serenity;
use std::sync::Arc;

/// Discord's limit is 2,000 characters a message; relayed text is cut into pieces below it.
const PIECE: usize = 1_900;

pub fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if current.len() + ch.len_utf8() > PIECE {
            out.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

pub fn no_pings() -> serenity::CreateAllowedMentions {
    serenity::CreateAllowedMentions::new()
        .everyone(false)
        .all_users(false)
        .all_roles(false)
        .replied_user(false)
}

/// The message body as relayed: text, then attachments as links, stickers and embeds named, so
/// that a message with no text still arrives as something.
pub fn relayed_body(msg: &serenity::Message) -> String {
    let mut body = msg.content.clone();
    for a in &msg.attachments {
        body.push_str(&format!("\n📎 {} <{}>", a.filename, a.url));
    }
    for s in &msg.sticker_items {
        body.push_str(&format!("\n[sticker: {}]", s.name));
    }
    if !msg.embeds.is_empty() && msg.content.trim().is_empty() {
        body.push_str(&format!("\n[{} embed(s)]", msg.embeds.len()));
    }
    if body.trim().is_empty() {
        body = "*(empty message)*".into();
    }
    body
}

/// Relays sent late (fetched after downtime) say when the message was really written.
fn delay_mark(msg: &serenity::Message, delayed: bool) -> String {
    if delayed {
        format!(
            "⏱ <t:{}:f> (delayed) ",
            msg.id.created_at().unix_timestamp()
        )
    } else {
        String::new()
    }
}

pub fn display_name(user: &serenity::User) -> String {
    user.global_name
        .clone()
        .unwrap_or_else(|| user.name.clone())
}

/// Discord refused a message for good (403: the customer's DMs are closed; 404: the channel
/// is gone).
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub error: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Discord refused the message: {}", self.error)
    }
}

impl std::error::Error for Refusal {}

/// Sends `header` + `body` in pieces under Discord's limit. A piece that fails for a passing
/// reason (5xx, 429, the network) is queued in the outbox with the rest, under `key`, and
/// retried after the 429's `retry_after` or with backoff: then `Ok(true)`. A refusal is
/// returned for the caller to handle.
async fn send_pieces(
    bot: &Bot,
    channel: serenity::ChannelId,
    header: &str,
    body: &str,
    key: &str,
) -> Result<bool, Refusal> {
    let texts: Vec<String> = pieces(body)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            if i == 0 {
                format!("{header}{piece}")
            } else {
                piece
            }
        })
        .collect();
    let items: Vec<crate::store::OutboxItem> = texts
        .iter()
        .enumerate()
        .map(|(j, text)| crate::store::OutboxItem {
            id: 0,
            dedupe_key: format!("{key}:{j}"),
            channel_id: channel.to_string(),
            body: serde_json::json!({"content": text, "allowed_mentions": {"parse": []}})
                .to_string(),
            attempts: 0,
            next_at: bot.now(),
            created_at: bot.now(),
        })
        .collect();
    for (i, item) in items.iter().enumerate() {
        match bot.sender.post(item).await {
            super::outbox::Outcome::Sent(_) => {}
            super::outbox::Outcome::Refused { status, error } => {
                return Err(Refusal { status, error })
            }
            super::outbox::Outcome::Retry { after_ms, error } => {
                tracing::warn!(%error, %key, retry_in_ms = after_ms, "Discord did not take the message; queued for retry");
                for rest in &items[i..] {
                    let queued = crate::store::OutboxItem {
                        attempts: 1,
                        next_at: bot.now() + after_ms,
                        ..rest.clone()
                    };
                    if let Err(db) = bot.desk.store().enqueue(&queued).await {
                        tracing::error!(error = %db, %key, "cannot queue the message");
                        return Err(Refusal {
                            status: 0,
                            error: format!("{error}; and it could not be queued: {db}"),
                        });
                    }
                }
                return Ok(true);
            }
        }
    }
    Ok(false)
}

enum Route {
    Guild(String),
    Ask(Vec<(String, String)>),
    Nowhere,
}

/// Which team a DM goes to: the only configured guild the customer is in, their earlier choice,
/// or a question when they share several.
async fn route(
    ctx: &serenity::Context,
    bot: &Bot,
    user: serenity::UserId,
) -> anyhow::Result<Route> {
    let store = bot.desk.store();
    let configured = store.guilds_with_staff_channel().await?;
    let mut shared = Vec::new();
    for g in &configured {
        let Ok(gid) = g.parse::<u64>() else { continue };
        let gid = serenity::GuildId::new(gid.max(1));
        let cached = ctx
            .cache
            .guild(gid)
            .is_some_and(|g| g.members.contains_key(&user));
        let member = cached || gid.member(&ctx.http, user).await.is_ok();
        if member {
            let name = ctx
                .cache
                .guild(gid)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| g.clone());
            shared.push((g.clone(), name));
        }
    }
    if shared.is_empty() && configured.len() == 1 {
        return Ok(Route::Guild(configured[0].clone()));
    }
    match shared.len() {
        0 => Ok(Route::Nowhere),
        1 => Ok(Route::Guild(shared[0].0.clone())),
        _ => {
            if let Some(choice) = store.dm_choice(&user.to_string()).await? {
                if shared.iter().any(|(g, _)| g == &choice) {
                    return Ok(Route::Guild(choice));
                }
            }
            Ok(Route::Ask(shared))
        }
    }
}

pub const TEAM_PREFIX: &str = "team:v1:";

/// A customer's DM: stored as a customer message of the DM conversation, relayed to the staff
/// thread (opened with the conversation), acknowledged once per conversation.
pub async fn customer_dm(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    msg: &serenity::Message,
    chosen: Option<String>,
    delayed: bool,
) -> anyhow::Result<()> {
    let customer = msg.author.id;
    let guild = match chosen {
        Some(g) => g,
        None => match route(ctx, bot, customer).await? {
            Route::Guild(g) => g,
            Route::Nowhere => {
                tracing::info!(customer = %customer, "DM from someone who shares no support guild");
                msg.channel_id
                    .send_message(
                        &ctx.http,
                        serenity::CreateMessage::new()
                            .content("This bot does not serve a support team you belong to. / Ce bot ne sert aucune équipe de support dont vous êtes membre.")
                            .allowed_mentions(no_pings()),
                    )
                    .await?;
                return Ok(());
            }
            Route::Ask(options) => {
                let menu = serenity::CreateSelectMenu::new(
                    format!("{TEAM_PREFIX}{}", msg.id),
                    serenity::CreateSelectMenuKind::String {
                        options: options
                            .iter()
                            .map(|(id, name)| {
                                serenity::CreateSelectMenuOption::new(name.clone(), id.clone())
                            })
                            .collect(),
                    },
                )
                .placeholder("Which team? / Quelle équipe ?");
                msg.channel_id
                    .send_message(
                        &ctx.http,
                        serenity::CreateMessage::new()
                            .content("Which support team do you want to reach? / Quelle équipe de support voulez-vous joindre ?")
                            .components(vec![serenity::CreateActionRow::SelectMenu(menu)])
                            .allowed_mentions(no_pings()),
                    )
                    .await?;
                return Ok(());
            }
        },
    };
    let store = bot.desk.store();
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
        customer.get(),
        EventKind::CustomerMessage,
    );
    let outcome = bot.desk.ingest_live(&ev).await?;
    if !outcome.new {
        return Ok(());
    }
    store
        .set_conversation_channel(&guild, &conversation, &staff)
        .await?;
    let mut ticket = store
        .ticket(&guild, &customer.to_string())
        .await?
        .unwrap_or(Ticket {
            guild_id: guild.clone(),
            customer_id: customer.to_string(),
            dm_channel_id: msg.channel_id.to_string(),
            thread_id: None,
            conversation: conversation.clone(),
        });
    ticket.dm_channel_id = msg.channel_id.to_string();
    ticket.conversation = conversation.clone();
    if outcome.opened_conversation || ticket.thread_id.is_none() {
        ticket.thread_id = Some(open_thread(ctx, bot, &staff, &msg.author).await?);
        store.save_ticket(&ticket).await?;
    }
    let header = format!(
        "{}**{}** (`{}`): ",
        delay_mark(msg, delayed),
        display_name(&msg.author),
        customer
    );
    let body = relayed_body(msg);
    let thread = ticket.thread_id.clone().unwrap_or_default();
    let key = format!("relay:{}", msg.id);
    let sent = send_pieces(bot, channel(&thread), &header, &body, &key).await;
    if let Err(e) = sent {
        if e.status == 404 {
            // The ticket thread was deleted: open a new one and post there.
            tracing::warn!(thread = %thread, "ticket thread gone; opening a new one");
            ticket.thread_id = Some(open_thread(ctx, bot, &staff, &msg.author).await?);
            store.save_ticket(&ticket).await?;
            send_pieces(
                bot,
                channel(ticket.thread_id.as_deref().unwrap_or_default()),
                &header,
                &body,
                &key,
            )
            .await?;
        } else {
            return Err(e.into());
        }
    }
    plan_surveys(ctx, bot, &guild, &conversation, &ticket.dm_channel_id).await?;
    if outcome.opened_conversation {
        let texts = bot.texts(&guild).await;
        let key = format!("ack:{}", msg.id);
        if let Err(e) = send_pieces(bot, msg.channel_id, "", texts.ticket_ack, &key).await {
            tracing::warn!(error = %e, "cannot acknowledge the customer's message");
        }
    }
    Ok(())
}

pub fn channel(id: &str) -> serenity::ChannelId {
    serenity::ChannelId::new(id.parse::<u64>().unwrap_or(1).max(1))
}

async fn open_thread(
    ctx: &serenity::Context,
    bot: &Bot,
    staff: &str,
    customer: &serenity::User,
) -> anyhow::Result<String> {
    let mut name = format!("{} · {}", display_name(customer), customer.id);
    if name.chars().count() > 100 {
        name = name.chars().take(100).collect();
    }
    let thread = channel(staff)
        .create_thread(
            &ctx.http,
            serenity::CreateThread::new(name)
                .kind(serenity::ChannelType::PublicThread)
                .auto_archive_duration(serenity::AutoArchiveDuration::OneWeek),
        )
        .await?;
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
    let kind = super::handler::agent_kind(&msg.content, &rules.note_prefix);
    let is_note = kind == EventKind::Note;
    let ev = event(
        msg.id.get(),
        &ticket.guild_id,
        &ticket.conversation,
        msg.author.id.get(),
        kind,
    );
    let outcome = bot.desk.ingest_live(&ev).await?;
    if !outcome.new || is_note {
        return Ok(());
    }
    let setup = bot.setup(&ticket.guild_id).await?;
    let signature = if setup.show_agent_names {
        format!("**{}:** ", display_name(&msg.author))
    } else {
        match rules.locale {
            crate::domain::Locale::Fr => "**Support :** ".to_string(),
            crate::domain::Locale::En => "**Support:** ".to_string(),
        }
    };
    let header = format!("{}{signature}", delay_mark(msg, delayed));
    if let Err(e) = send_pieces(
        bot,
        channel(&ticket.dm_channel_id),
        &header,
        &relayed_body(msg),
        &format!("relay:{}", msg.id),
    )
    .await
    {
        let why = if e.status == 403 {
            "⚠ The customer does not accept DMs from this bot: your message was not delivered."
        } else {
            "⚠ Your message could not be delivered to the customer; it is recorded. Try again later."
        };
        tracing::warn!(error = %e, customer = %ticket.customer_id, "relay to the customer failed");
        msg.channel_id
            .send_message(
                &ctx.http,
                serenity::CreateMessage::new()
                    .content(why)
                    .allowed_mentions(no_pings()),
            )
            .await?;
    }
    plan_surveys(
        ctx,
        bot,
        &ticket.guild_id,
        &ticket.conversation,
        &ticket.dm_channel_id,
    )
    .await
}

async fn plan_surveys(
    ctx: &serenity::Context,
    bot: &Bot,
    guild: &str,
    conversation: &str,
    dm: &str,
) -> anyhow::Result<()> {
    let target = SurveyTarget {
        channel_id: dm.to_string(),
        reply_to: false,
    };
    let withdrawn = bot
        .desk
        .plan_surveys(guild, conversation, bot.now(), target)
        .await?;
    super::survey::withdraw(ctx, bot, withdrawn).await;
    Ok(())
}

/// The customer picked a team in the select menu: remember it and relay the waiting message.
pub async fn on_team_choice(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    c: &serenity::ComponentInteraction,
) -> anyhow::Result<()> {
    let message_id = c
        .data
        .custom_id
        .strip_prefix(TEAM_PREFIX)
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|id| *id > 0);
    let choice = match &c.data.kind {
        serenity::ComponentInteractionDataKind::StringSelect { values } => values.first().cloned(),
        _ => None,
    };
    let (Some(message_id), Some(guild)) = (message_id, choice) else {
        return super::survey::ephemeral(ctx, c, "This menu is not recognised.").await;
    };
    let configured = bot.desk.store().guilds_with_staff_channel().await?;
    if !configured.contains(&guild) {
        return super::survey::ephemeral(ctx, c, "This team is no longer available.").await;
    }
    bot.desk
        .store()
        .set_dm_choice(&c.user.id.to_string(), &guild)
        .await?;
    c.create_response(
        &ctx.http,
        serenity::CreateInteractionResponse::UpdateMessage(
            serenity::CreateInteractionResponseMessage::new()
                .content("✓")
                .components(Vec::new()),
        ),
    )
    .await?;
    let original = c
        .channel_id
        .message(&ctx.http, serenity::MessageId::new(message_id))
        .await?;
    customer_dm(ctx, bot, &original, Some(guild), false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_below_discords_limit_without_splitting_characters() {
        let text = "é".repeat(2_500);
        let p = pieces(&text);
        assert!(p.iter().all(|s| s.len() <= PIECE));
        assert_eq!(p.concat(), text);
        assert_eq!(pieces(""), vec![String::new()]);
    }
}
