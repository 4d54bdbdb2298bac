//! The dashboard's settings, read once at start from the environment: where it listens, the
//! address people reach it at, and the Discord application for "Login with Discord". A
//! malformed value stops the program with a message naming the variable and an example.

use crate::settings::{Secret, SettingsError};
use std::net::SocketAddr;

#[derive(Clone, Debug, Default)]
pub struct WebSettings {
    /// `DASHBOARD_ADDR`: where the dashboard listens (`reactif run` serves it only when set).
    pub dashboard_addr: Option<SocketAddr>,
    /// `METRICS_ADDR`: `/metrics` and `/healthz` on their own address. Unset: on the dashboard's.
    pub metrics_addr: Option<SocketAddr>,
    /// `DASHBOARD_URL`: the address people open (links and OAuth2 redirects are made with it).
    pub public_url: Option<String>,
    /// `DISCORD_CLIENT_ID` and `DISCORD_CLIENT_SECRET`: "Login with Discord" (optional).
    pub oauth: Option<OAuthApp>,
    /// `DISCORD_API_URL`, as the bot reads it: where OAuth2 sends browsers and trades codes.
    pub discord_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Secret,
}

fn addr(name: &'static str, v: Option<String>) -> Result<Option<SocketAddr>, SettingsError> {
    v.map(|v| {
        v.parse().map_err(|_| SettingsError::Malformed {
            name,
            why: format!("`{v}` is not an address and port"),
            example: "127.0.0.1:8080",
        })
    })
    .transpose()
}

impl WebSettings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<WebSettings, SettingsError> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let dashboard_addr = addr("DASHBOARD_ADDR", value("DASHBOARD_ADDR"))?;
        let metrics_addr = addr("METRICS_ADDR", value("METRICS_ADDR"))?;
        let public_url = match value("DASHBOARD_URL") {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => {
                return Err(SettingsError::Malformed {
                    name: "DASHBOARD_URL",
                    why: format!("`{u}` is not an http(s) URL"),
                    example: "https://support.example.com",
                })
            }
            None => dashboard_addr.map(|a| format!("http://{a}")),
        };
        let oauth = match (value("DISCORD_CLIENT_ID"), value("DISCORD_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => {
                if id.parse::<u64>().is_err() {
                    return Err(SettingsError::Malformed {
                        name: "DISCORD_CLIENT_ID",
                        why: format!("`{id}` is not an application id (a number)"),
                        example: "1191168914227331073",
                    });
                }
                Some(OAuthApp {
                    client_id: id,
                    client_secret: Secret::new(secret),
                })
            }
            (Some(_), None) => {
                return Err(SettingsError::Missing {
                    name: "DISCORD_CLIENT_SECRET",
                    hint: "Login with Discord needs the application's client secret (Developer Portal → OAuth2)",
                    example: "kX9…",
                })
            }
            (None, Some(_)) => {
                return Err(SettingsError::Missing {
                    name: "DISCORD_CLIENT_ID",
                    hint: "Login with Discord needs the application's id (Developer Portal → OAuth2)",
                    example: "1191168914227331073",
                })
            }
            (None, None) => None,
        };
        let discord_url = value("DISCORD_API_URL").map(|u| u.trim_end_matches('/').to_string());
        Ok(WebSettings {
            dashboard_addr,
            metrics_addr,
            public_url,
            oauth,
            discord_url,
        })
    }

    pub fn from_env() -> Result<WebSettings, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Discord (or the proxy or Discord-compatible server of `DISCORD_API_URL`).
    pub fn discord_base(&self) -> &str {
        self.discord_url.as_deref().unwrap_or("https://discord.com")
    }

    /// Cookies are marked Secure when people reach the dashboard over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<WebSettings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WebSettings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn bad_dashboard_settings_name_the_variable() {
        let err = read(&[("DASHBOARD_ADDR", "8080")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DASHBOARD_ADDR is malformed"),
            "{err}"
        );
        let err = read(&[("DASHBOARD_URL", "example.com")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DASHBOARD_URL is malformed"),
            "{err}"
        );
        let err = read(&[("DISCORD_CLIENT_ID", "1191168914227331073")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("DISCORD_CLIENT_SECRET is not set"),
            "{err}"
        );
    }

    #[test]
    fn the_public_url_defaults_to_the_address_and_https_makes_cookies_secure() {
        let s = read(&[("DASHBOARD_ADDR", "127.0.0.1:8080")]).unwrap();
        assert_eq!(s.public_url.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(!s.secure_cookies());
        let s = read(&[("DASHBOARD_URL", "https://support.example.com/")]).unwrap();
        assert_eq!(s.public_url.as_deref(), Some("https://support.example.com"));
        assert!(s.secure_cookies());
        assert!(format!(
            "{:?}",
            read(&[
                ("DISCORD_CLIENT_ID", "1"),
                ("DISCORD_CLIENT_SECRET", "hush")
            ])
            .unwrap()
        )
        .find("hush")
        .is_none());
    }
}
