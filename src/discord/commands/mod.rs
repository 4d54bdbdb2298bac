//! Slash commands, one file each. Each checks who may use it on every call (not only through
//! Discord's default permissions, which a server admin can change): through a poise `check`
//! from `access` when the rule is the same everywhere, in the body when it depends on where
//! the command is used (`/close`). Then it calls the desk and replies. A command's doc comment
//! is its help text in Discord.

mod close;
mod dashboard;
mod engagement;
mod forget_me;
mod setup;
mod setup_engagement;
mod sla;
mod stats;

use super::bot::{Bot, Context, Error};
use super::live::discord_time;
use super::replies::{user_error, user_texts};
use crate::domain::{Millis, SECOND};
use std::sync::Arc;

/// Commands one person may use in a row, in `COMMAND_PERIOD`, before being asked to wait: a
/// person using the bot never meets it; a script that floods it does.
pub const COMMAND_BURST: u32 = 5;
pub const COMMAND_PERIOD: Millis = 10 * SECOND;

pub fn all() -> Vec<poise::Command<Arc<Bot>, Error>> {
    vec![
        setup::setup(),
        sla::sla(),
        stats::stats(),
        engagement::engagement(),
        close::close(),
        dashboard::dashboard(),
        forget_me::forget_me(),
    ]
}

/// The server a guild-only command was used in.
fn guild(ctx: Context<'_>) -> Result<String, Error> {
    Ok(ctx
        .guild_id()
        .ok_or_else(|| user_error(user_texts(ctx).cmd.use_in_server))?
        .to_string())
}

/// Every command's first check: the per-person cooldown (`COMMAND_BURST` commands in
/// `COMMAND_PERIOD`), told in an ephemeral message.
pub async fn cooldown(ctx: Context<'_>) -> Result<bool, Error> {
    let bot = ctx.data();
    let now = discord_time(ctx.id());
    let Err(wait) = bot.limits.take(
        "command",
        ctx.author().id.get(),
        now,
        COMMAND_BURST,
        COMMAND_PERIOD,
    ) else {
        return Ok(true);
    };
    let wait = crate::report::human_ms(Some(wait));
    let text = match ctx.guild_id() {
        Some(g) => {
            let locale = bot.rules(&g.to_string()).await?.locale;
            crate::i18n::limit_texts(locale)
                .command_cooldown
                .to_string()
        }
        None => crate::i18n::both(|t| t.command_cooldown),
    };
    Err(user_error(text.replace("{wait}", &wait)))
}
