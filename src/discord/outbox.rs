//! Messages to Discord that failed for a reason that may pass (Discord's 5xx, a 429, the
//! network) are queued in the database and retried with backoff, across restarts. They are sent
//! with plain HTTP rather than through serenity so that a 429's `retry_after` is honoured even
//! when serenity's own rate limiter is off (behind `DISCORD_API_URL`). Each try carries the
//! same nonce with `enforce_nonce`, so Discord drops a duplicate if an earlier try did arrive.

use super::Bot;
use crate::domain::{Millis, MINUTE, SECOND};
use crate::settings::BotSettings;
use crate::store::OutboxItem;

pub struct Sender {
    client: reqwest::Client,
    api: String,
    token: crate::settings::Secret,
}

pub enum Outcome {
    Sent(String),
    Retry {
        after_ms: Millis,
        error: String,
    },
    /// Discord said no (403, 404…): retrying cannot help.
    Refused {
        status: u16,
        error: String,
    },
}

/// Discord's nonce (25 characters at most) for a message: the same for every try of it.
pub fn nonce(key: &str) -> String {
    // FNV-1a: stable across runs and releases, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("rf{h:016x}")
}

/// 1 s, 2 s, 4 s … up to 5 minutes.
pub fn backoff(attempts: i32) -> Millis {
    (SECOND << attempts.clamp(0, 12)).min(5 * MINUTE)
}

impl Sender {
    pub fn new(settings: &BotSettings) -> anyhow::Result<Sender> {
        Ok(Sender {
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(std::time::Duration::from_secs(20))
                .build()?,
            api: settings
                .api_url
                .clone()
                .unwrap_or_else(|| "https://discord.com".into()),
            token: settings.token.clone(),
        })
    }

    pub async fn post(&self, item: &OutboxItem) -> Outcome {
        let mut body: serde_json::Value = match serde_json::from_str(&item.body) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Refused {
                    status: 0,
                    error: format!("stored body is not JSON: {e}"),
                }
            }
        };
        body["nonce"] = nonce(&item.dedupe_key).into();
        body["enforce_nonce"] = true.into();
        let url = format!("{}/api/v10/channels/{}/messages", self.api, item.channel_id);
        let response = self
            .client
            .post(url)
            .header("Authorization", format!("Bot {}", self.token.expose()))
            .json(&body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    after_ms: backoff(item.attempts),
                    error: format!("network: {e}"),
                }
            }
        };
        let status = response.status();
        let header_wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<f64>().ok());
        let text = response.text().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status.is_success() {
            return match json["id"].as_str() {
                Some(id) => Outcome::Sent(id.to_string()),
                None => Outcome::Sent(String::new()),
            };
        }
        if status.as_u16() == 429 {
            let wait = json["retry_after"].as_f64().or(header_wait).unwrap_or(1.0);
            return Outcome::Retry {
                after_ms: (wait * 1000.0).ceil() as Millis,
                error: format!("429: retry after {wait} s"),
            };
        }
        if status.is_server_error() {
            return Outcome::Retry {
                after_ms: backoff(item.attempts),
                error: format!("{status}: {text}"),
            };
        }
        Outcome::Refused {
            status: status.as_u16(),
            error: format!("{status}: {text}"),
        }
    }
}

/// Sends what is due; called on every tick of the bot's timers.
pub async fn deliver_due(bot: &Bot) -> anyhow::Result<()> {
    let store = bot.desk.store();
    for item in store.due_outbox(bot.now(), 20).await? {
        match bot.sender.post(&item).await {
            Outcome::Sent(id) => {
                tracing::info!(key = %item.dedupe_key, attempts = item.attempts + 1, "queued message delivered");
                store.outbox_sent(item.id, &id).await?;
            }
            Outcome::Retry { after_ms, error } => {
                tracing::warn!(key = %item.dedupe_key, attempts = item.attempts + 1, retry_in_ms = after_ms, %error, "message not delivered yet");
                store
                    .outbox_retry(item.id, bot.now() + after_ms, &error)
                    .await?;
            }
            Outcome::Refused { error, .. } => {
                tracing::error!(key = %item.dedupe_key, %error, "Discord refused a queued message; giving up");
                store.outbox_failed(item.id, &error).await?;
            }
        }
    }
    let (pending, oldest) = store.outbox_backlog().await?;
    if let Some(oldest) = oldest.filter(|o| bot.now() - o > 5 * MINUTE) {
        tracing::warn!(pending, oldest = %crate::domain::format_time(oldest), "messages to Discord are backing up");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(super::backoff(0), 1_000);
        assert_eq!(super::backoff(3), 8_000);
        assert_eq!(super::backoff(40), 300_000);
    }
}
