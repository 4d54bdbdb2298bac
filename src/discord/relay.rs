//! The DM relay (modmail): a customer's DM goes to a thread in the guild's staff channel; agents'
//! messages in that thread go back to the customer's DM. Nothing pings anyone: every relayed
//! message is sent with no allowed mentions.

use super::{event, Bot};
use crate::desk::{LivePlace, SurveyPlan, SurveyTarget};
use crate::domain::EventKind;
use crate::store::{Commit, CommitOutcome, OutboxItem, OutboxOp, Ticket, TranscriptLine};
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

/// The outbox items of one relayed message: its pieces under Discord's limit, each waiting for
/// the one before, so that they arrive in order.
pub fn relay_items(
    now: crate::domain::Millis,
    channel_id: &str,
    header: &str,
    body: &str,
    key: &str,
) -> Vec<OutboxItem> {
    let mut items: Vec<OutboxItem> = Vec::new();
    for (j, piece) in pieces(body).into_iter().enumerate() {
        let text = if j == 0 {
            format!("{header}{piece}")
        } else {
            piece
        };
        let mut item = OutboxItem::post_text(format!("{key}:{j}"), channel_id, &text, now);
        item.after_key = items.last().map(|p| p.dedupe_key.clone());
        items.push(item);
    }
    items
}

/// What a live event commits: the event, what the survey rules ask for (a withdrawn survey
/// loses its buttons), the messages it causes, and `transcript` (its text, given only when
/// the guild keeps transcripts).
fn live_commit(
    bot: &Bot,
    place: &LivePlace,
    plan: SurveyPlan,
    items: Vec<OutboxItem>,
    transcript: Option<&str>,
) -> Commit {
    let ev = &place.event;
    let mut commit = Commit {
        events: vec![ev.clone()],
        require_new: true,
        surveys: plan.surveys,
        outbox: plan.outbox,
        ..Commit::default()
    };
    if !plan.withdrawn.is_empty() {
        let t = crate::i18n::texts(place.rules.locale);
        for job in &plan.withdrawn {
            if let Some(m) = job.message_id.as_deref().filter(|m| !m.is_empty()) {
                commit
                    .outbox
                    .push(OutboxOp::enqueue(super::survey::withdraw_edit(
                        t,
                        job,
                        &job.channel_id,
                        m,
                        bot.now(),
                    )));
            }
        }
    }
    commit.outbox.extend(items.into_iter().map(|mut item| {
        if item.guild_id.is_none() {
            item.guild_id = Some(ev.guild_id.clone());
        }
        item.conversation = Some(ev.place.clone());
        OutboxOp::enqueue(item)
    }));
    if let Some(content) = transcript {
        commit.transcript.push(TranscriptLine {
            message_id: ev.id.clone(),
            guild_id: ev.guild_id.clone(),
            conversation: ev.place.clone(),
            author_id: ev.author_id.clone(),
            at: ev.at,
            content: content.to_string(),
        });
    }
    commit
}

/// Plans the surveys (with `target`, if the event can cause one), commits the live event with
/// everything it causes, and sends. When another handler moved a survey meanwhile, decides
/// again from what is stored now. Returns whether the event was stored by this call.
pub async fn commit_live(
    bot: &Bot,
    http: &serenity::Http,
    place: &LivePlace,
    target: Option<SurveyTarget>,
    items: Vec<OutboxItem>,
    transcript: Option<&str>,
) -> anyhow::Result<bool> {
    for _ in 0..5 {
        let plan = match &target {
            Some(t) => bot.desk.plan_surveys(place, bot.now(), t.clone()).await?,
            None => SurveyPlan::default(),
        };
        let commit = live_commit(bot, place, plan, items.clone(), transcript);
        match super::outbox::commit_and_send(bot, http, commit).await? {
            CommitOutcome::Committed => return Ok(true),
            CommitOutcome::Skipped => return Ok(false),
            CommitOutcome::Conflict => {
                tracing::debug!(event = %place.event.id, "a survey moved meanwhile; planning again")
            }
        }
    }
    anyhow::bail!(
        "event {}: surveys kept changing under the commit; it will be read again by the catch-up",
        place.event.id
    )
}

/// Serialises the handling of one conversation: its messages may come through different
/// channels (a DM and its staff thread, a support channel and a thread in it).
pub async fn lock_conversation(
    bot: &Bot,
    guild: &str,
    conversation: &str,
) -> tokio::sync::OwnedMutexGuard<()> {
    bot.lock_place(format!("place:{guild}:{conversation}"))
        .await
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
    let _conversation = lock_conversation(bot, &guild, &conversation).await;
    let place = bot.desk.replay_live(&ev).await?;
    if !place.new {
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
    // A thread created after this message was opened for it by an earlier try that did not
    // commit: use it rather than open a second one.
    let opened_for_it = ticket
        .thread_id
        .as_deref()
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t > msg.id.get());
    if (place.opened_conversation && !opened_for_it) || ticket.thread_id.is_none() {
        ticket.thread_id = Some(open_thread(&ctx.http, bot, &staff, &msg.author).await?);
    }
    store.save_ticket(&ticket).await?;
    let header = format!(
        "{}**{}** (`{}`): ",
        delay_mark(msg, delayed),
        display_name(&msg.author),
        customer
    );
    let body = relayed_body(msg);
    let thread = ticket.thread_id.clone().unwrap_or_default();
    let mut items = relay_items(
        bot.now(),
        &thread,
        &header,
        &body,
        &format!("relay:{}", msg.id),
    );
    for item in &mut items {
        item.guild_id = Some(guild.clone());
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
    let target = dm_target(&ticket.dm_channel_id);
    let kept = setup.transcripts.then_some(body.as_str());
    commit_live(bot, &ctx.http, &place, Some(target), items, kept).await?;
    Ok(())
}

fn dm_target(dm: &str) -> SurveyTarget {
    SurveyTarget {
        channel_id: dm.to_string(),
        reply_to: false,
    }
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
        ticket.thread_id = Some(open_thread(http, bot, &staff, &user).await?);
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

pub fn channel(id: &str) -> serenity::ChannelId {
    serenity::ChannelId::new(id.parse::<u64>().unwrap_or(1).max(1))
}

async fn open_thread(
    http: &serenity::Http,
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
            http,
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
    let _conversation = lock_conversation(bot, &ticket.guild_id, &ticket.conversation).await;
    let place = bot.desk.replay_live(&ev).await?;
    if !place.new {
        return Ok(());
    }
    let body = relayed_body(msg);
    let setup = bot.setup(&ticket.guild_id).await?;
    if is_note {
        let kept = setup.transcripts.then_some(body.as_str());
        commit_live(bot, &ctx.http, &place, None, Vec::new(), kept).await?;
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
    let kept = setup.transcripts.then_some(body.as_str());
    commit_live(bot, &ctx.http, &place, Some(target), items, kept).await?;
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
