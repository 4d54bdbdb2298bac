//! Waits on what the bot records: its gateway sessions, its progress in each channel, its
//! outbox, the pages its catch-up read. Each fails the test after its timeout.

use super::WAIT;
use fake_discord::*;
use reactif::store::DynStore;
use std::future::Future;
use std::time::Duration;

/// How often a wait on the database reads it again.
const POLL: Duration = Duration::from_millis(20);

/// Waits until a bot (re)started after `sessions_before` identifications has identified.
pub async fn wait_ready(fake: &FakeDiscord, sessions_before: usize) {
    assert!(
        fake.wait_for_gateway(|s| s.identifies > sessions_before, WAIT)
            .await,
        "the (re)started bot identified"
    );
}

/// Reads the bot's database with `check` until it returns something; fails the test with
/// `what` after `timeout`. (The database tells nobody when it changes: it is read again every
/// few milliseconds; the condition is what the bot wrote, not the time that passed.)
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {timeout:?} for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the bot has handled the newest message a person posted in `channel` (of those
/// the fake knows): the bot records its progress in each channel (its cursor, which the
/// catch-up resumes from) as the last step of handling a message, after the message's commit
/// and the deliveries it made at once. What the message causes later is then in the outbox.
pub async fn wait_handled(fake: &FakeDiscord, store: &DynStore, channel: u64) {
    let newest = fake
        .messages_in(channel)
        .iter()
        .filter(|m| m["author"]["bot"] != true && m["webhook_id"].is_null())
        .filter_map(|m| id_of(&m["id"]))
        .max()
        .unwrap_or_else(|| panic!("no message by a person in channel {channel}"));
    let key = &channel.to_string();
    eventually(
        &format!("the bot to handle message {newest} of channel {channel}"),
        WAIT,
        move || async move {
            let cursor = store.cursor(key).await.unwrap();
            cursor.filter(|c| u64::try_from(*c).is_ok_and(|c| c >= newest))
        },
    )
    .await;
}

/// Waits until every message the bot queued for Discord has gone (delivered, or refused for
/// good): nothing the bot committed so far can reach Discord any more.
pub async fn wait_outbox_empty(store: &DynStore, timeout: Duration) {
    eventually("the outbox to empty", timeout, move || async move {
        (store.outbox_backlog(None).await.unwrap().pending == 0).then_some(())
    })
    .await;
}

/// Waits until the fake has recorded, at or after request `since`, a catch-up's read of the
/// history of each of `channels` (`GET /channels/{id}/messages?after=..`); returns them.
pub async fn wait_catch_up_reads(
    fake: &FakeDiscord,
    since: usize,
    channels: &[u64],
) -> Vec<RecordedRequest> {
    let read = |channel: u64| {
        move |r: &RecordedRequest| {
            r.seq >= since
                && r.is("GET", &format!("/channels/{channel}/messages"))
                && r.query_param("after").is_some()
        }
    };
    let mut reads = Vec::new();
    for &channel in channels {
        let found = fake.wait_for_request(read(channel), WAIT).await;
        reads.push(found.unwrap_or_else(|| panic!("the catch-up did not read channel {channel}")));
    }
    reads
}

/// The messages by a person in a history page the fake answered.
pub fn people_messages(page: &RecordedRequest) -> Vec<String> {
    page.response
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["author"]["bot"] != true && m["webhook_id"].is_null())
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect()
}
