//! One try of one outbox item over plain HTTP: a new message with its nonce, or an edit.
//! Plain HTTP rather than serenity, so that a 429's `retry_after` is honoured even when
//! serenity's own rate limiter is off (behind `DISCORD_API_URL`).

use crate::domain::{Millis, MINUTE, SECOND};
use crate::store::{OutboxItem, OutboxMethod};

pub struct Sender {
    client: reqwest::Client,
    api: String,
    token: String,
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
    /// A sender to `api` (Discord's base URL, or the proxy's) with the bot's token.
    pub fn new(api: String, token: String) -> anyhow::Result<Sender> {
        Ok(Sender {
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(std::time::Duration::from_secs(20))
                .build()?,
            api,
            token,
        })
    }

    /// One try of an item: a new message (with its nonce) or an edit of one.
    pub async fn send(&self, item: &OutboxItem) -> Outcome {
        let mut body: serde_json::Value = match serde_json::from_str(&item.body) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Refused {
                    status: 0,
                    error: format!("stored body is not JSON: {e}"),
                }
            }
        };
        let request = match &item.method {
            OutboxMethod::Post => {
                body["nonce"] = nonce(&item.dedupe_key).into();
                body["enforce_nonce"] = true.into();
                let url = format!("{}/api/v10/channels/{}/messages", self.api, item.channel_id);
                self.client.post(url)
            }
            OutboxMethod::Patch(message) => {
                let url = format!(
                    "{}/api/v10/channels/{}/messages/{message}",
                    self.api, item.channel_id
                );
                self.client.patch(url)
            }
            OutboxMethod::Archive => {
                let url = format!("{}/api/v10/channels/{}", self.api, item.channel_id);
                self.client.patch(url)
            }
        };
        let response = request
            .header("Authorization", format!("Bot {}", self.token))
            .json(&body)
            .send()
            .await;
        match response {
            Ok(r) => {
                crate::observe::rest_call(r.status().as_u16());
                outcome(r, item.attempts).await
            }
            Err(e) => {
                crate::observe::rest_call(0);
                Outcome::Retry {
                    after_ms: backoff(item.attempts),
                    error: format!("network: {e}"),
                }
            }
        }
    }
}

/// What Discord's answer to a try means.
async fn outcome(response: reqwest::Response, attempts: i32) -> Outcome {
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
            after_ms: backoff(attempts),
            error: format!("{status}: {text}"),
        };
    }
    Outcome::Refused {
        status: status.as_u16(),
        error: format!("{status}: {text}"),
    }
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
