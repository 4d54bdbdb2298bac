//! Which team a DM goes to: the only configured guild the customer is in, their earlier choice,
//! or a menu when they share several. The choice is remembered, and the waiting DM relayed.

use crate::discord::bot::Bot;
use crate::discord::custom_id::team_id;
use crate::discord::replies::{ephemeral, no_pings};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

enum Route {
    Guild(String),
    Ask(Vec<(String, String)>),
    Nowhere,
}

/// The configured guilds `user` is a member of, with their names.
async fn shared_guilds(
    ctx: &serenity::Context,
    configured: &[String],
    user: serenity::UserId,
) -> Vec<(String, String)> {
    let mut shared = Vec::new();
    for g in configured {
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
    shared
}

async fn route(
    ctx: &serenity::Context,
    bot: &Bot,
    user: serenity::UserId,
) -> anyhow::Result<Route> {
    let store = bot.desk.store();
    let configured = store.guilds_with_staff_channel().await?;
    let shared = shared_guilds(ctx, &configured, user).await;
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

/// The guild `msg` (a DM) goes to; `None` when the customer was answered instead (no team of
/// theirs, or a menu to choose one).
pub async fn guild_for(
    ctx: &serenity::Context,
    bot: &Bot,
    msg: &serenity::Message,
) -> anyhow::Result<Option<String>> {
    let customer = msg.author.id;
    let reply = match route(ctx, bot, customer).await? {
        Route::Guild(g) => return Ok(Some(g)),
        Route::Nowhere => {
            tracing::info!(customer = %customer, "DM from someone who shares no support guild");
            serenity::CreateMessage::new()
                .content("This bot does not serve a support team you belong to. / Ce bot ne sert aucune équipe de support dont vous êtes membre.")
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
            serenity::CreateMessage::new()
                .content("Which support team do you want to reach? / Quelle équipe de support voulez-vous joindre ?")
                .components(vec![serenity::CreateActionRow::SelectMenu(menu)])
        }
    };
    msg.channel_id
        .send_message(&ctx.http, reply.allowed_mentions(no_pings()))
        .await?;
    Ok(None)
}

/// The customer picked a team in the menu of their DM `message_id`: remember it and relay the
/// waiting message.
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
        return ephemeral(ctx, c, "This menu is not recognised.").await;
    };
    let configured = bot.desk.store().guilds_with_staff_channel().await?;
    if !configured.contains(&guild) {
        return ephemeral(ctx, c, "This team is no longer available.").await;
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
    super::customer_dm(ctx, bot, &original, Some(guild), false).await
}
