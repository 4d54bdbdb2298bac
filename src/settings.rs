//! The bot's settings, read once at start from the environment (and `.env`). A missing or
//! malformed value stops the program with a message naming the variable and an example; the
//! token never appears in logs or `Debug`.

use crate::domain::shards::{parse_range, Shards};
use crate::store::DEFAULT_DATABASE_URL;
use std::fmt;

#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone)]
pub struct BotSettings {
    pub token: Secret,
    pub database_url: String,
    /// Base URL of an HTTP proxy in front of Discord's API, or of a Discord-compatible server.
    pub api_url: Option<String>,
    /// Register commands in this guild only (instant), instead of globally.
    pub dev_guild_id: Option<u64>,
    /// The dashboard's and the operators' endpoints (`DASHBOARD_ADDR`, `METRICS_ADDR`, ...).
    pub web: crate::web::WebSettings,
    /// The shards this process connects (`REACTIF_SHARDS`, `REACTIF_SHARD_COUNT`).
    pub shards: Shards,
}

/// Passwords in the URLs never show: `DATABASE_URL` and `DISCORD_API_URL` may carry one.
impl fmt::Debug for BotSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotSettings")
            .field("token", &self.token)
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field(
                "api_url",
                &self.api_url.as_deref().map(crate::store::redact_url),
            )
            .field("dev_guild_id", &self.dev_guild_id)
            .field("shards", &self.shards)
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{name} is not set: {hint} (example: {name}={example})")]
    Missing {
        name: &'static str,
        hint: &'static str,
        example: &'static str,
    },
    #[error("{name} is malformed: {why} (example: {name}={example})")]
    Malformed {
        name: &'static str,
        why: String,
        example: &'static str,
    },
}

const TOKEN_EXAMPLE: &str =
    "MTE5MTE2ODkxNDIyNzMzMTA3Mw.GxYz12.abcdefghijklmnopqrstuvwxyz0123456789AB";

impl BotSettings {
    /// Reads the settings through `get` (the process environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<BotSettings, SettingsError> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let token = value("DISCORD_TOKEN").ok_or(SettingsError::Missing {
            name: "DISCORD_TOKEN",
            hint: "create a bot at https://discord.com/developers/applications and copy its token",
            example: TOKEN_EXAMPLE,
        })?;
        if token.chars().any(char::is_whitespace) || token.len() < 20 {
            return Err(SettingsError::Malformed {
                name: "DISCORD_TOKEN",
                why: "a bot token is one word of 50 or more characters".into(),
                example: TOKEN_EXAMPLE,
            });
        }
        if token.contains('"') || token.contains('\'') {
            return Err(SettingsError::Malformed {
                name: "DISCORD_TOKEN",
                why: "the token contains quotes: remove them (a shell or .env file may have kept them)".into(),
                example: TOKEN_EXAMPLE,
            });
        }
        let token = token.strip_prefix("Bot ").unwrap_or(&token).to_string();
        let database_url = value("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(SettingsError::Malformed {
                name: "DATABASE_URL",
                why: "use sqlite://FILE or postgres://…".into(),
                example: "postgres://reactif:secret@127.0.0.1:5432/reactif",
            });
        }
        let api_url = match value("DISCORD_API_URL") {
            None => None,
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => {
                return Err(SettingsError::Malformed {
                    name: "DISCORD_API_URL",
                    why: format!("`{u}` is not an http(s) URL"),
                    example: "http://127.0.0.1:8080",
                })
            }
        };
        let dev_guild_id = match value("DISCORD_DEV_GUILD_ID") {
            None => None,
            Some(g) => match g.parse::<u64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    return Err(SettingsError::Malformed {
                        name: "DISCORD_DEV_GUILD_ID",
                        why: format!("`{g}` is not a guild id (a number)"),
                        example: "1191168956170371082",
                    })
                }
            },
        };
        let web = crate::web::WebSettings::from_lookup(&get)?;
        let shards = shards_from(
            value("REACTIF_SHARDS").as_deref(),
            value("REACTIF_SHARD_COUNT").as_deref(),
        )?;
        Ok(BotSettings {
            token: Secret(token),
            database_url,
            api_url,
            dev_guild_id,
            web,
            shards,
        })
    }

    pub fn from_env() -> Result<BotSettings, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// The shards of this process, from `REACTIF_SHARDS` (`--shards`, a range `A-B`) and
/// `REACTIF_SHARD_COUNT` (`--shard-count`, the bot's total): neither is one process with the
/// whole bot on one shard, as Discord asks of a bot in fewer than 2,500 guilds; a count alone
/// is all of its shards in this process.
pub fn shards_from(range: Option<&str>, count: Option<&str>) -> Result<Shards, SettingsError> {
    let count = match count.map(str::trim) {
        None => None,
        Some(c) => match c.parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(SettingsError::Malformed {
                    name: "REACTIF_SHARD_COUNT",
                    why: format!(
                        "`{c}` is not a number of shards (1 or more; --shard-count on the command line)"
                    ),
                    example: "16",
                })
            }
        },
    };
    let Some(range) = range.map(str::trim) else {
        return Ok(count.map_or(Shards::ALL, Shards::whole));
    };
    let Some((first, last)) = parse_range(range) else {
        return Err(SettingsError::Malformed {
            name: "REACTIF_SHARDS",
            why: format!(
                "it must look like 0-3, the first and last shard this process connects (--shards on the command line), not `{range}`"
            ),
            example: "0-3",
        });
    };
    let Some(count) = count else {
        return Err(SettingsError::Missing {
            name: "REACTIF_SHARD_COUNT",
            hint:
                "REACTIF_SHARDS needs the bot's total number of shards, the same in every process",
            example: "16",
        });
    };
    Shards::new(first, last, count).ok_or_else(|| SettingsError::Malformed {
        name: "REACTIF_SHARDS",
        why: format!(
            "shards {first}-{last} are not all among the {count} shards of REACTIF_SHARD_COUNT={count} (numbered 0 to {})",
            count - 1
        ),
        example: "0-3",
    })
}

/// What the Discord edge needs of the settings: it reads nothing else of them.
impl From<BotSettings> for crate::discord::DiscordConfig {
    fn from(s: BotSettings) -> Self {
        crate::discord::DiscordConfig {
            token: s.token.0,
            api_url: s.api_url,
            dev_guild_id: s.dev_guild_id,
            dashboard_url: s.web.public_url,
            shards: s.shards,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<BotSettings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BotSettings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_missing_token_names_the_variable_and_an_example() {
        let err = read(&[]).unwrap_err().to_string();
        assert!(err.contains("DISCORD_TOKEN is not set"), "{err}");
        assert!(err.contains("example: DISCORD_TOKEN="), "{err}");
    }

    #[test]
    fn malformed_settings_name_the_variable() {
        let ok = ("DISCORD_TOKEN", TOKEN_EXAMPLE);
        let err = read(&[ok, ("DISCORD_API_URL", "127.0.0.1:8080")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DISCORD_API_URL is malformed"),
            "{err}"
        );
        let err = read(&[ok, ("DISCORD_DEV_GUILD_ID", "my-guild")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("DISCORD_DEV_GUILD_ID is malformed"),
            "{err}"
        );
        let err = read(&[ok, ("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DATABASE_URL is malformed"),
            "{err}"
        );
        let err = read(&[("DISCORD_TOKEN", "short")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DISCORD_TOKEN is malformed"),
            "{err}"
        );
        let quoted = format!("\"{TOKEN_EXAMPLE}\"");
        let err = read(&[("DISCORD_TOKEN", quoted.as_str())]).unwrap_err();
        assert!(err.to_string().contains("contains quotes"), "{err}");
    }

    #[test]
    fn shard_settings_name_the_setting_and_stay_within_the_count() {
        assert_eq!(shards_from(None, None), Ok(Shards::ALL));
        assert_eq!(shards_from(None, Some("4")), Ok(Shards::whole(4)));
        assert_eq!(
            shards_from(Some("2-3"), Some("4")),
            Ok(Shards::new(2, 3, 4).unwrap())
        );
        let err = shards_from(Some("two"), Some("4")).unwrap_err().to_string();
        assert!(
            err.starts_with("REACTIF_SHARDS is malformed: it must look like 0-3"),
            "{err}"
        );
        assert!(err.contains("example: REACTIF_SHARDS=0-3"), "{err}");
        let err = shards_from(Some("2-4"), Some("4")).unwrap_err().to_string();
        assert!(err.contains("numbered 0 to 3"), "{err}");
        let err = shards_from(Some("0-1"), None).unwrap_err().to_string();
        assert!(err.starts_with("REACTIF_SHARD_COUNT is not set"), "{err}");
        let err = shards_from(None, Some("0")).unwrap_err().to_string();
        assert!(err.starts_with("REACTIF_SHARD_COUNT is malformed"), "{err}");
        let ok = ("DISCORD_TOKEN", TOKEN_EXAMPLE);
        let s = read(&[ok, ("REACTIF_SHARDS", "1-1"), ("REACTIF_SHARD_COUNT", "2")]).unwrap();
        assert_eq!(s.shards, Shards::new(1, 1, 2).unwrap());
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let s = read(&[
            ("DISCORD_TOKEN", TOKEN_EXAMPLE),
            ("DISCORD_API_URL", "http://127.0.0.1:9/"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains(TOKEN_EXAMPLE), "{debug}");
        assert_eq!(s.api_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        let s = read(&[
            ("DISCORD_TOKEN", TOKEN_EXAMPLE),
            (
                "DATABASE_URL",
                "postgres://bot:hunter2@db/r?password=hunter3",
            ),
            ("DISCORD_API_URL", "http://proxy:hunter4@127.0.0.1:9"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        for secret in ["hunter2", "hunter3", "hunter4"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("postgres://bot:***@db/r"), "{debug}");
    }
}
