//! What the Discord edge needs to connect: the token, where Discord's API is, and where to
//! register the commands. The binary builds it from its settings (`settings::BotSettings`).

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_never_shows_in_debug_output() {
        let config = super::DiscordConfig {
            token: "secret-token-0123456789".into(),
            api_url: Some("http://127.0.0.1:9".into()),
            dev_guild_id: None,
            dashboard_url: None,
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
