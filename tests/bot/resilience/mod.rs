//! What goes wrong around the bot: Discord's gateway, the bot's own process, the database.
//! Nothing is lost and nothing is sent twice.

mod database;
mod gateway;
mod process;
