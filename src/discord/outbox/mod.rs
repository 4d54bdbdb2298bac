//! The outbox: every message reactif posts or edits (relays, acknowledgements, surveys, survey
//! edits, alerts, notices) is first written to the database, in the same transaction as the
//! event that causes it, then sent. What fails for a reason that may pass (Discord's 5xx, a
//! 429, the network) is retried with backoff, across restarts. Each try of a new message
//! carries the same nonce with `enforce_nonce`, so Discord returns the first copy instead of
//! posting a second when an earlier try did arrive; the message id it produced is recorded with
//! the item, which is then never sent again.
//!
//! The outbox knows items, not features: what a delivery means beyond "sent" (a survey went
//! out, a ticket thread is gone, a relayed message was refused) comes back to the caller as a
//! `FollowUp`, which the feature that queued the item performs. A caller that cannot perform a
//! follow-up leaves it to the timers (`Outbox::leave`).

mod sender;

pub use sender::Sender;

use crate::clock::Clock;
use crate::desk::Desk;
use crate::domain::shards::Shards;
use crate::domain::{Millis, MINUTE};
use crate::store::{Commit, CommitOutcome, OutboxItem, OutboxOp, SurveyOp, SurveyStatus};
use sender::Outcome;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How long a sender holds an item it is delivering before another may take it over.
const LEASE: Millis = MINUTE;

/// How long a handler or a timer's pass waits for one delivery before leaving it to finish on
/// its own: a request Discord leaves hanging (up to the sender's 20 s timeout) must not hold
/// back the rest of a ticket, other tickets, or the catch-up. The item stays leased meanwhile,
/// and the pieces that wait for it go once it is done.
const INLINE_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// A message Discord accepted, as `message_id`.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub item: OutboxItem,
    pub message_id: String,
}

impl Delivered {
    /// The outbox's own record of the delivery, to commit with what it means.
    pub fn sent_op(&self) -> OutboxOp {
        OutboxOp::Sent {
            id: self.item.id,
            message_id: self.message_id.clone(),
        }
    }
}

/// A message Discord refused for good (403, 404…).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub item: OutboxItem,
    pub status: u16,
    pub error: String,
}

/// What a delivery asks of the feature that queued the item.
#[derive(Debug, Clone)]
pub enum FollowUp {
    /// A survey went out (an item with `survey_id`): the survey feature records it, with the
    /// delivery, in one transaction; until then the item is not sent again.
    SurveyDelivered(Delivered),
    /// Discord no longer knows a ticket thread (404 on an item with `ticket_customer_id`): the
    /// relay opens a new one and moves the waiting messages to it (`Outbox::retry_now`), or
    /// gives up (`Outbox::give_up`).
    ReopenTicket(Refusal),
    /// Discord refused a message whose agents are to be told (an item with
    /// `notify_channel_id`): the relay gives up on it with its notice (`Outbox::give_up`).
    NotifyRefusal(Refusal),
}

impl FollowUp {
    pub fn item(&self) -> &OutboxItem {
        match self {
            FollowUp::SurveyDelivered(d) => &d.item,
            FollowUp::ReopenTicket(r) | FollowUp::NotifyRefusal(r) => &r.item,
        }
    }
}

/// What `Outbox::commit_and_send` did.
#[must_use = "follow-ups are performed by the caller, or left to the timers"]
pub struct Sent {
    pub outcome: CommitOutcome,
    pub follow_ups: Vec<FollowUp>,
}

/// One item's try: whether the next item may go, and what the delivery asks for.
struct Step {
    delivered: bool,
    follow_up: Option<FollowUp>,
}

impl Step {
    fn waiting() -> Step {
        Step {
            delivered: false,
            follow_up: None,
        }
    }
}

pub struct Outbox {
    desk: Desk,
    clock: Arc<dyn Clock>,
    sender: Sender,
    /// Deliveries Discord confirmed while the database could not record them, by item id.
    unrecorded: Mutex<HashMap<i64, Delivered>>,
    /// Follow-ups left to the timers, by item id: their items are not sent again meanwhile.
    left: Mutex<HashMap<i64, FollowUp>>,
    /// The shards of this process: it sends the items of their guilds only, so that two
    /// processes never send one item (`OutboxStore`).
    shards: Shards,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Outbox {
    pub fn new(desk: Desk, clock: Arc<dyn Clock>, sender: Sender) -> Outbox {
        Outbox {
            desk,
            clock,
            sender,
            unrecorded: Default::default(),
            left: Default::default(),
            shards: Shards::ALL,
        }
    }

    /// The outbox of a process that connects `shards` only.
    pub fn owning(self, shards: Shards) -> Outbox {
        Outbox { shards, ..self }
    }

    fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Commits `commit` and, once it is committed, delivers the messages it queued at once; what
    /// cannot go now waits in the outbox for the timer. Nothing is sent before the commit.
    pub async fn commit_and_send(self: &Arc<Self>, commit: Commit) -> anyhow::Result<Sent> {
        let keys: Vec<String> = commit
            .outbox
            .iter()
            .filter_map(|op| match op {
                OutboxOp::Enqueue(item) => Some(item.dedupe_key.clone()),
                _ => None,
            })
            .collect();
        let outcome = self.desk.commit(&commit).await?;
        let mut follow_ups = Vec::new();
        if outcome.committed() && !keys.is_empty() {
            match self.desk.store().outbox_by_keys(&keys, &self.shards).await {
                Ok(items) => {
                    for item in items {
                        let step = self.deliver_within_budget(item).await;
                        follow_ups.extend(step.follow_up);
                        if !step.delivered {
                            break;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the outbox; the timer will deliver")
                }
            }
        }
        Ok(Sent {
            outcome,
            follow_ups,
        })
    }

    /// Sends what is due (the timers' part); returns the follow-ups of what was delivered.
    pub async fn deliver_due(self: &Arc<Self>) -> anyhow::Result<Vec<FollowUp>> {
        let store = self.desk.store();
        let mut follow_ups = Vec::new();
        for item in store.due_outbox(self.now(), 50, &self.shards).await? {
            follow_ups.extend(self.deliver_within_budget(item).await.follow_up);
        }
        let crate::store::OutboxBacklog { pending, oldest } = store.outbox_backlog(None).await?;
        if let Some(oldest) = oldest.filter(|o| self.now() - o > 5 * MINUTE) {
            tracing::warn!(pending, oldest = %crate::domain::format_time(oldest), "messages to Discord are backing up");
        }
        Ok(follow_ups)
    }

    /// Deliveries Discord confirmed but the database could not record (it went away): recorded
    /// first, before anything is sent again, because Discord's nonce only guards a few minutes.
    pub async fn record_unrecorded(&self) -> anyhow::Result<()> {
        let waiting: Vec<Delivered> = guard(&self.unrecorded).values().cloned().collect();
        for d in waiting {
            self.record(&d).await?;
            guard(&self.unrecorded).remove(&d.item.id);
        }
        Ok(())
    }

    /// Leaves follow-ups to the timers, which perform them on their next tick.
    pub fn leave(&self, follow_ups: Vec<FollowUp>) {
        let mut left = guard(&self.left);
        for f in follow_ups {
            left.insert(f.item().id, f);
        }
    }

    /// One follow-up left to the timers, taken off the list.
    pub fn take_left(&self) -> Option<FollowUp> {
        let mut left = guard(&self.left);
        let id = *left.keys().next()?;
        left.remove(&id)
    }

    /// Tries one item, waiting at most `INLINE_BUDGET`; a delivery still hanging then goes on
    /// by itself, and its follow-up is left to the timers.
    async fn deliver_within_budget(self: &Arc<Self>, item: OutboxItem) -> Step {
        let this = Arc::clone(self);
        let key = item.dedupe_key.clone();
        let mut task = tokio::spawn(async move { this.deliver(item).await });
        match tokio::time::timeout(INLINE_BUDGET, &mut task).await {
            Ok(Ok(step)) => step,
            Ok(Err(e)) => {
                tracing::error!(key = %key, error = %e, "a delivery failed; will retry");
                Step::waiting()
            }
            Err(_) => {
                tracing::warn!(key = %key, "Discord is slow to answer; the delivery goes on in the background");
                let this = Arc::clone(self);
                tokio::spawn(async move {
                    if let Ok(step) = task.await {
                        this.leave(step.follow_up.into_iter().collect());
                    }
                });
                Step::waiting()
            }
        }
    }

    /// Tries one item. Errors are logged, never returned: an item whose delivery could not be
    /// recorded is kept in memory until it is, and never sent again.
    async fn deliver(&self, item: OutboxItem) -> Step {
        if guard(&self.unrecorded).contains_key(&item.id)
            || guard(&self.left).contains_key(&item.id)
        {
            return Step::waiting();
        }
        match self.try_deliver(&item).await {
            Ok(step) => step,
            Err(e) => {
                tracing::warn!(key = %item.dedupe_key, error = %format!("{e:#}"), "delivery not recorded; will retry");
                Step::waiting()
            }
        }
    }

    async fn try_deliver(&self, item: &OutboxItem) -> anyhow::Result<Step> {
        let store = self.desk.store();
        let now = self.now();
        if !store
            .claim_outbox(item.id, now, now + LEASE, &self.shards)
            .await?
        {
            return Ok(Step::waiting());
        }
        match self.sender.send(item).await {
            Outcome::Sent(message_id) => {
                tracing::debug!(key = %item.dedupe_key, attempts = item.attempts + 1, "delivered");
                let d = Delivered {
                    item: item.clone(),
                    message_id,
                };
                if item.survey_id.is_some() {
                    return Ok(Step {
                        delivered: true,
                        follow_up: Some(FollowUp::SurveyDelivered(d)),
                    });
                }
                if let Err(e) = self.record(&d).await {
                    guard(&self.unrecorded).insert(item.id, d);
                    return Err(e);
                }
                Ok(Step {
                    delivered: true,
                    follow_up: None,
                })
            }
            Outcome::Retry { after_ms, error } => {
                tracing::warn!(key = %item.dedupe_key, attempts = item.attempts + 1, retry_in_ms = after_ms, %error, "message not delivered yet");
                store
                    .outbox_retry(item.id, self.now() + after_ms, &error)
                    .await?;
                Ok(Step::waiting())
            }
            Outcome::Refused { status, error } => {
                let refusal = Refusal {
                    item: item.clone(),
                    status,
                    error,
                };
                let follow_up = if status == 404 && item.ticket_customer_id.is_some() {
                    FollowUp::ReopenTicket(refusal)
                } else if item.notify_channel_id.is_some() {
                    FollowUp::NotifyRefusal(refusal)
                } else {
                    self.give_up(&refusal, None).await?;
                    return Ok(Step::waiting());
                };
                Ok(Step {
                    delivered: false,
                    follow_up: Some(follow_up),
                })
            }
        }
    }

    /// Records a plain delivery (one that asks for no follow-up).
    async fn record(&self, d: &Delivered) -> anyhow::Result<()> {
        self.desk
            .commit(&Commit {
                outbox: vec![d.sent_op()],
                ..Commit::default()
            })
            .await?;
        Ok(())
    }

    /// A refused item whose cause is mended (a new ticket thread): it is tried again now.
    pub async fn retry_now(&self, r: &Refusal) -> anyhow::Result<()> {
        self.desk
            .store()
            .outbox_retry(r.item.id, self.now(), &r.error)
            .await?;
        Ok(())
    }

    /// Gives up on a refused item, with `notice` (telling someone) in the same transaction; a
    /// survey that could not be sent is cancelled. The timer delivers the notice.
    pub async fn give_up(&self, r: &Refusal, notice: Option<OutboxItem>) -> anyhow::Result<()> {
        let item = &r.item;
        tracing::error!(key = %item.dedupe_key, error = %r.error, "Discord refused a message; giving up");
        let mut commit = Commit {
            outbox: vec![OutboxOp::Failed {
                id: item.id,
                error: r.error.clone(),
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
        commit.outbox.extend(notice.map(OutboxOp::enqueue));
        self.desk.commit(&commit).await?;
        Ok(())
    }
}
