//! Slash commands, one file each. Each checks who may use it on every call (not only through
//! Discord's default permissions, which a server admin can change): through a poise `check`
//! from `access` when the rule is the same everywhere, in the body when it depends on where
//! the command is used (`/close`). Then it calls the desk and replies. A command's doc comment
//! is its help text in Discord.

mod close;
mod dashboard;
mod forget_me;
mod setup;
mod stats;

use super::bot::{Bot, Context, Error};
use super::replies::user_error;
use std::sync::Arc;

pub fn all() -> Vec<poise::Command<Arc<Bot>, Error>> {
    vec![
        setup::setup(),
        stats::stats(),
        close::close(),
        dashboard::dashboard(),
        forget_me::forget_me(),
    ]
}

/// The server a guild-only command was used in.
fn guild(ctx: Context<'_>) -> Result<String, Error> {
    Ok(ctx
        .guild_id()
        .ok_or_else(|| user_error("Use this command in a server."))?
        .to_string())
}
