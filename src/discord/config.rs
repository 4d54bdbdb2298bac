//! What the Discord edge needs to connect: the token, where Discord's API is, and where to
//! register the commands. The binary builds it from its settings (`settings::BotSettings`).

use crate::domain::shards::Shards;
use poise::serenity_prelude as serenity;

/// How the bot reaches Discord. `Debug` never shows the token.
#[derive(Clone)]
pub struct DiscordConfig {
    /// The bot token, without the `Bot ` prefix.
    pub token: String,
    /// Base URL of an HTTP proxy in front of Discord's API, or of a Discord-compatible server.
    pub api_url: Option<String>,
    /// Register commands in this guild only (instant), instead of globally.
    pub dev_guild_id: Option<u64>,
    /// Where people open the dashboard (`DASHBOARD_URL`): `/dashboard` links there.
    pub dashboard_url: Option<String>,
    /// The shards this process connects (`REACTIF_SHARDS` of `REACTIF_SHARD_COUNT`); by
    /// default the whole bot, one shard.
    pub shards: Shards,
}

impl std::fmt::Debug for DiscordConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("token", &"***")
            .field(
                "api_url",
                &self.api_url.as_deref().map(crate::store::redact_url),
            )
            .field("dev_guild_id", &self.dev_guild_id)
            .field("shards", &self.shards)
            .finish()
    }
}

impl DiscordConfig {
    /// Where Discord's REST API is: the proxy when one is set.
    pub fn api_base(&self) -> String {
        self.api_url
            .clone()
            .unwrap_or_else(|| "https://discord.com".into())
    }

    /// Serenity's HTTP client: straight to Discord, or through the proxy.
    pub fn http_client(&self) -> anyhow::Result<serenity::Http> {
        // A call that hangs must not hold a handler (or the timers) forever.
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
        let mut builder = serenity::HttpBuilder::new(&self.token).client(client);
        if let Some(url) = &self.api_url {
            // Serenity's own rate limiter sends requests to discord.com directly, ignoring the
            // proxy, so it is off when a proxy is set; the proxy is then in charge of rate limits.
            builder = builder.proxy(url.clone()).ratelimiter_disabled(true);
        }
        Ok(builder.build())
    }
}

/// SQLite is one process's database: a process connecting part of the shards would leave
/// the others' guilds to processes that cannot share the file.
pub fn one_process_on_sqlite(backend: &str, shards: &Shards) -> anyhow::Result<()> {
    if backend == "sqlite" && !shards.is_whole() {
        anyhow::bail!(
            "REACTIF_SHARDS={}-{} of REACTIF_SHARD_COUNT={} asks for part of the bot, but SQLite is a single-process database: \
             run all shards in one process (leave REACTIF_SHARDS unset), or use PostgreSQL for several processes \
             (DATABASE_URL=postgres://reactif:secret@127.0.0.1:5432/reactif)",
            shards.first,
            shards.last,
            shards.count
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::shards::Shards;

    #[test]
    fn sqlite_refuses_part_of_the_shards_and_takes_them_all() {
        let part = Shards::new(2, 3, 4).unwrap();
        let err = super::one_process_on_sqlite("sqlite", &part)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("REACTIF_SHARDS=2-3 of REACTIF_SHARD_COUNT=4"),
            "{err}"
        );
        assert!(
            err.contains("single-process") && err.contains("postgres://"),
            "{err}"
        );
        assert!(super::one_process_on_sqlite("sqlite", &Shards::whole(4)).is_ok());
        assert!(super::one_process_on_sqlite("postgres", &part).is_ok());
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let config = super::DiscordConfig {
            token: "secret-token-0123456789".into(),
            api_url: Some("http://127.0.0.1:9".into()),
            dev_guild_id: None,
            dashboard_url: None,
            shards: Shards::ALL,
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("secret-token"), "{debug}");
        assert!(debug.contains("127.0.0.1:9"), "{debug}");
        let config = super::DiscordConfig {
            api_url: Some("http://proxy:hunter2@127.0.0.1:9".into()),
            ..config
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
