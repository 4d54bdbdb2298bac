//! `/forget-me`: a customer erases their personal data, and nobody else's.

use crate::discord::bot::{Context, Error};
use crate::discord::live::{conversation_lock, discord_time};
use crate::discord::replies::say;
use crate::domain::HOUR;
use crate::i18n::both;

/// Erase your personal data from this bot's records (in a DM with the bot).
#[poise::command(slash_command, rename = "forget-me", dm_only)]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    let bot = ctx.data();
    let user = ctx.author().id;
    // Once an hour: the erasure walks every place the person wrote in.
    let asked = discord_time(ctx.id());
    if let Err(wait) = bot.limits.take("forget-me", user.get(), asked, 1, HOUR) {
        let wait = crate::report::human_ms(Some(wait));
        return say(ctx, both(|t| t.forget_me_too_soon).replace("{wait}", &wait)).await;
    }
    // The live path's locks: their DMs wait, and each place is changed while no message of
    // it is being decided on.
    let _their_dms = bot.places.lock(format!("dm:{user}")).await;
    let forgotten = bot
        .desk
        .forget_customer_locked(&user.to_string(), |p| {
            bot.places
                .lock(conversation_lock(&p.guild_id, &p.conversation))
        })
        .await;
    let done = match forgotten {
        Ok(done) => done,
        Err(e) => {
            bot.limits.give_back("forget-me", user.get());
            return Err(e.into());
        }
    };
    say(
        ctx,
        both(|t| t.forget_me_done)
            .replace("{own}", &done.own.to_string())
            .replace("{others}", &done.others.to_string()),
    )
    .await
}
