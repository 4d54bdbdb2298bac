//! The outbox: every message reactif posts or edits (relays, acknowledgements, surveys, survey
//! edits, alerts, notices) is first written to the database, in the same transaction as the
//! event that causes it, then sent. What fails for a reason that may pass (Discord's 5xx, a
//! 429, the network) is retried with backoff, across restarts. Items are sent with plain HTTP
//! rather than through serenity so that a 429's `retry_after` is honoured even when serenity's
//! own rate limiter is off (behind `DISCORD_API_URL`). Each try of a new message carries the
//! same nonce with `enforce_nonce`, so Discord returns the first copy instead of posting a
//! second when an earlier try did arrive; the message id it produced is recorded with the
//! item, which is then never sent again.

use super::Bot;
use crate::domain::{Event, EventKind, Millis, MINUTE, SECOND};
use crate::settings::BotSettings;
use crate::store::{
    Commit, CommitOutcome, OutboxItem, OutboxMethod, OutboxOp, SurveyOp, SurveyStatus,
};
use poise::serenity_prelude as serenity;

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
        };
        let response = request
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

/// How long a sender holds an item it is delivering before another may take it over.
const LEASE: Millis = MINUTE;

/// Commits `commit` and, once it is committed, delivers the messages it queued at once; what
/// cannot go now waits in the outbox for the timer. Nothing is sent before the commit.
pub async fn commit_and_send(
    bot: &Bot,
    http: &serenity::Http,
    commit: Commit,
) -> anyhow::Result<CommitOutcome> {
    let keys: Vec<String> = commit
        .outbox
        .iter()
        .filter_map(|op| match op {
            OutboxOp::Enqueue(item) => Some(item.dedupe_key.clone()),
            _ => None,
        })
        .collect();
    let outcome = bot.desk.commit(&commit).await?;
    if outcome.committed() && !keys.is_empty() {
        match bot.desk.store().outbox_by_keys(&keys).await {
            Ok(items) => {
                for item in items {
                    if !deliver(bot, http, item).await {
                        break;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the outbox; the timer will deliver"),
        }
    }
    Ok(outcome)
}

/// Sends what is due; called on every tick of the bot's timers.
pub async fn deliver_due(bot: &Bot, http: &serenity::Http) -> anyhow::Result<()> {
    record_unrecorded(bot).await?;
    let store = bot.desk.store();
    for item in store.due_outbox(bot.now(), 50).await? {
        deliver(bot, http, item).await;
    }
    let crate::store::OutboxBacklog { pending, oldest } = store.outbox_backlog(None).await?;
    if let Some(oldest) = oldest.filter(|o| bot.now() - o > 5 * MINUTE) {
        tracing::warn!(pending, oldest = %crate::domain::format_time(oldest), "messages to Discord are backing up");
    }
    Ok(())
}

/// Deliveries Discord confirmed but the database could not record (it went away): recorded
/// first, before anything is sent again, because Discord's nonce only guards a few minutes.
async fn record_unrecorded(bot: &Bot) -> anyhow::Result<()> {
    let waiting: Vec<(OutboxItem, String)> = bot.unrecorded().values().cloned().collect();
    for (item, message_id) in waiting {
        record_delivery(bot, &item, &message_id).await?;
        bot.unrecorded().remove(&item.id);
    }
    Ok(())
}

/// Tries one item; true when it is delivered. Errors are logged, never returned: an item whose
/// delivery could not be recorded is kept in memory until it is, and never sent again.
async fn deliver(bot: &Bot, http: &serenity::Http, item: OutboxItem) -> bool {
    if bot.unrecorded().contains_key(&item.id) {
        return false;
    }
    match try_deliver(bot, http, &item).await {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(key = %item.dedupe_key, error = %format!("{e:#}"), "delivery not recorded; will retry");
            false
        }
    }
}

async fn try_deliver(bot: &Bot, http: &serenity::Http, item: &OutboxItem) -> anyhow::Result<bool> {
    let store = bot.desk.store();
    let now = bot.now();
    if !store.claim_outbox(item.id, now, now + LEASE).await? {
        return Ok(false);
    }
    match bot.sender.send(item).await {
        Outcome::Sent(message_id) => {
            tracing::debug!(key = %item.dedupe_key, attempts = item.attempts + 1, "delivered");
            if let Err(e) = record_delivery(bot, item, &message_id).await {
                bot.unrecorded().insert(item.id, (item.clone(), message_id));
                return Err(e);
            }
            Ok(true)
        }
        Outcome::Retry { after_ms, error } => {
            tracing::warn!(key = %item.dedupe_key, attempts = item.attempts + 1, retry_in_ms = after_ms, %error, "message not delivered yet");
            store
                .outbox_retry(item.id, bot.now() + after_ms, &error)
                .await?;
            Ok(false)
        }
        Outcome::Refused { status, error } => {
            if status == 404
                && item.ticket_customer_id.is_some()
                && super::relay::reopen_ticket_thread(bot, http, item).await?
            {
                // The ticket thread was deleted; the item now points to a new one.
                store.outbox_retry(item.id, bot.now(), &error).await?;
                return Ok(false);
            }
            tracing::error!(key = %item.dedupe_key, %error, "Discord refused a message; giving up");
            let mut commit = Commit {
                outbox: vec![OutboxOp::Failed {
                    id: item.id,
                    error: error.clone(),
                }],
                ..Commit::default()
            };
            if let Some(survey_id) = &item.survey_id {
                commit.surveys.push(SurveyOp::Status {
                    survey_id: survey_id.clone(),
                    from: Vec::new(),
                    status: SurveyStatus::Cancelled,
                });
            }
            if let Some(notify) = &item.notify_channel_id {
                let t = match &item.guild_id {
                    Some(g) => bot.texts(g).await,
                    None => &crate::i18n::EN,
                };
                let text = if status == 403 {
                    t.relay_refused_dms_closed
                } else {
                    t.relay_refused
                };
                // One notice per relayed message, however many pieces it had.
                let message_key = item
                    .dedupe_key
                    .rsplit_once(':')
                    .map_or(item.dedupe_key.as_str(), |(k, _)| k);
                let mut notice =
                    OutboxItem::post_text(format!("notice:{message_key}"), notify, text, bot.now());
                notice.guild_id = item.guild_id.clone();
                notice.conversation = item.conversation.clone();
                commit.outbox.push(OutboxOp::enqueue(notice));
            }
            // The timer delivers the notice on its next tick.
            bot.desk.commit(&commit).await?;
            Ok(false)
        }
    }
}

/// Records that `item` went out as `message_id`: a survey becomes sent with its `survey_sent`
/// event, unless a newer answer cancelled it meanwhile (its buttons are then taken away) or it
/// was already recorded (a second sender got the same message back through the nonce).
async fn record_delivery(bot: &Bot, item: &OutboxItem, message_id: &str) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let sent = OutboxOp::Sent {
        id: item.id,
        message_id: message_id.to_string(),
    };
    let only_sent = || Commit {
        outbox: vec![sent.clone()],
        ..Commit::default()
    };
    let Some(survey_id) = &item.survey_id else {
        bot.desk.commit(&only_sent()).await?;
        return Ok(());
    };
    let Some(job) = store.survey(survey_id).await? else {
        bot.desk.commit(&only_sent()).await?;
        return Ok(());
    };
    let sent_at = message_id
        .parse::<u64>()
        .map(crate::domain::snowflake_time)
        .unwrap_or_else(|_| bot.now());
    let event = Event {
        id: if message_id.is_empty() {
            format!("survey-{survey_id}")
        } else {
            message_id.to_string()
        },
        guild_id: job.guild_id.clone(),
        place: job.conversation.clone(),
        author_id: bot.bot_user_id.to_string(),
        at: sent_at,
        kind: EventKind::SurveySent {
            survey_id: job.survey_id.clone(),
            answer_message_id: job.answer_message_id.clone(),
        },
    };
    let commit = Commit {
        events: vec![event],
        surveys: vec![SurveyOp::Sent {
            survey_id: survey_id.to_string(),
            message_id: message_id.to_string(),
            sent_at,
        }],
        outbox: vec![sent.clone()],
        ..Commit::default()
    };
    match bot.desk.commit(&commit).await? {
        CommitOutcome::Conflict => {}
        _ => {
            tracing::info!(survey = %survey_id, guild = %job.guild_id, "survey sent");
            return Ok(());
        }
    }
    let now_job = store.survey(survey_id).await?;
    if now_job.as_ref().is_some_and(|j| {
        j.status != SurveyStatus::Sending && j.message_id.as_deref() == Some(message_id)
    }) {
        // Already recorded by another sender.
        bot.desk.commit(&only_sent()).await?;
        return Ok(());
    }
    // A newer answer cancelled the survey while it was on its way: take its buttons away.
    let t = bot.texts(&job.guild_id).await;
    let withdraw = super::survey::withdraw_edit(t, &job, &item.channel_id, message_id, bot.now());
    bot.desk
        .commit(&Commit {
            outbox: vec![sent, OutboxOp::enqueue(withdraw)],
            ..Commit::default()
        })
        .await?;
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
