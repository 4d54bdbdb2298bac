//! Which team a DM goes to: the only configured guild the customer is in, their earlier choice,
//! or a menu when they share several. The choice is remembered, and the waiting DM relayed.

use crate::discord::access::{http_status, is_human_message};
use crate::discord::bot::Bot;
use crate::discord::custom_id::team_id;
use crate::discord::live::discord_time;
use crate::discord::replies::{ephemeral, no_pings};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

enum Route {
    Guild(String),
    Ask(Vec<(String, String)>),
    Nowhere,
}

/// The configured guilds `user` is a member of, with their names. Membership comes from the
/// cache, else from Discord; only Discord's "Unknown Member" (404) means "not a member": any
/// other failure is an error, so that a passing one is retried rather than taken for an answer.
async fn shared_guilds(
    ctx: &serenity::Context,
    configured: &[String],
    user: serenity::UserId,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut shared = Vec::new();
    for g in configured {
        let Ok(gid) = g.parse::<u64>() else { continue };
        let gid = serenity::GuildId::new(gid.max(1));
        let cached = ctx
            .cache
            .guild(gid)
            .is_some_and(|g| g.members.contains_key(&user));
        let member = cached
            || match gid.member(&ctx.http, user).await {
                Ok(_) => true,
                Err(e) if http_status(&e) == Some(404) => false,
                Err(e) => anyhow::bail!("cannot check membership of guild {g}: {e}"),
            };
        if member {
            let name = ctx
                .cache
                .guild(gid)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| g.clone());
            shared.push((g.clone(), name));
        }
    }
    Ok(shared)
}

async fn route(
    ctx: &serenity::Context,
    bot: &Bot,
    user: serenity::UserId,
) -> anyhow::Result<Route> {
    let store = bot.desk.store();
    let configured = store.guilds_with_staff_channel().await?;
    let shared = shared_guilds(ctx, &configured, user).await?;
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

/// Where a DM goes.
pub enum Team {
    Guild(String),
    /// The customer shares no team with the bot, and was told so.
    Answered,
    /// The customer was asked which team they mean.
    Asked,
}

/// The guild `msg` (a DM) goes to, or what the customer was answered instead (no team of
/// theirs, or a menu to choose one).
pub async fn guild_for(
    ctx: &serenity::Context,
    bot: &Bot,
    msg: &serenity::Message,
) -> anyhow::Result<Team> {
    let customer = msg.author.id;
    let (reply, team) = match route(ctx, bot, customer).await? {
        Route::Guild(g) => return Ok(Team::Guild(g)),
        Route::Nowhere => {
            tracing::info!(customer = %customer, "DM from someone who shares no support guild");
            let reply = serenity::CreateMessage::new()
                .content("This bot does not serve a support team you belong to. / Ce bot ne sert aucune équipe de support dont vous êtes membre.");
            (reply, Team::Answered)
        }
        Route::Ask(options) => {
            let menu = serenity::CreateSelectMenu::new(
                team_id(msg.id.get()),
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
            let reply = serenity::CreateMessage::new()
                .content("Which support team do you want to reach? Your messages wait until you choose. / Quelle équipe de support voulez-vous joindre ? Vos messages attendent votre choix.")
                .components(vec![serenity::CreateActionRow::SelectMenu(menu)]);
            (reply, Team::Asked)
        }
    };
    msg.channel_id
        .send_message(&ctx.http, reply.allowed_mentions(no_pings()))
        .await?;
    Ok(team)
}

/// The customer picked a team in the menu of their DM `message_id`: checked again (the team
/// still served, the customer still a member of it), remembered, and every DM that waited for
/// the choice relayed, in order.
pub async fn on_team_choice(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    c: &serenity::ComponentInteraction,
    message_id: u64,
) -> anyhow::Result<()> {
    let choice = match &c.data.kind {
        serenity::ComponentInteractionDataKind::StringSelect { values } => values.first().cloned(),
        _ => None,
    };
    let Some(guild) = choice else {
        return ephemeral(
            ctx,
            c,
            "This menu is not recognised. / Ce menu n'est pas reconnu.",
        )
        .await;
    };
    let configured = bot.desk.store().guilds_with_staff_channel().await?;
    if !configured.contains(&guild) {
        return ephemeral(
            ctx,
            c,
            "This team is no longer available. / Cette équipe n'est plus disponible.",
        )
        .await;
    }
    if shared_guilds(ctx, std::slice::from_ref(&guild), c.user.id)
        .await?
        .is_empty()
    {
        return ephemeral(ctx, c, "You are not a member of this team's server. / Vous n'êtes pas membre du serveur de cette équipe.").await;
    }
    // Messages of this DM wait while the choice is recorded and the waiting ones relayed.
    let _turn = bot.places.lock(format!("dm:{}", c.user.id)).await;
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
    relay_waiting(ctx, bot, c.channel_id, &guild, message_id).await
}

/// Relays, in order, the customer's DMs that waited for their team choice: those after the DM
/// channel's cursor (held before the first waiting one), else from `message_id` on.
async fn relay_waiting(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    dm: serenity::ChannelId,
    guild: &str,
    message_id: u64,
) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let channel = dm.to_string();
    let cursor = store
        .cursor(&channel)
        .await?
        .and_then(|c| u64::try_from(c).ok());
    let mut after = cursor
        .filter(|c| *c > 0)
        .unwrap_or(message_id.saturating_sub(1))
        .min(message_id.saturating_sub(1));
    loop {
        let mut page = dm
            .messages(
                &ctx.http,
                serenity::GetMessages::new()
                    .after(serenity::MessageId::new(after.max(1)))
                    .limit(100),
            )
            .await?;
        let full = page.len() >= 100;
        page.sort_by_key(|m| m.id);
        for m in page.iter().filter(|m| is_human_message(m)) {
            after = after.max(m.id.get());
            let late = bot.now() - discord_time(m.id.get()) > crate::domain::MINUTE;
            super::customer_dm(ctx, bot, m, Some(guild.to_string()), late).await?;
            let id = i64::try_from(m.id.get()).unwrap_or(i64::MAX);
            store.advance_cursor(&channel, None, id, bot.now()).await?;
        }
        if !full {
            return Ok(());
        }
    }
}
