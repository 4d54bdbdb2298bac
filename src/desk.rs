//! The one ingest path. The Discord adapter, `reactif import` and `reactif demo` all hand their
//! events to `Desk`, which stores them in one transaction per batch (ingest is idempotent: an id
//! seen before changes nothing), and builds reports from what is stored.

use crate::domain::kpi::{self, Report, Rules, Scope, Window};
use crate::domain::timeline::{Answer, Request, Timeline};
use crate::domain::{Event, GuildRules};
use crate::store::{
    Commit, DynStore, Inserted, OutboxOp, Result, SurveyJob, SurveyOp, SurveyStatus,
};
use std::collections::HashMap;

mod bounded;
pub mod dashboard;
mod engagement;
mod engagement_rollup;
mod export;
mod group;
mod rollup;
pub use bounded::{Export, EXPORT_MAX_ROWS, PLACES_REPORT_MAX_EVENTS};
pub use engagement::build_engagement_report;
pub use engagement_rollup::EngagementRefresh;

mod timers;
pub use export::{export_rows, ExportRow};
pub use group::GroupStats;
pub use rollup::RefreshSummary;
pub use timers::{plan_place, DueTimer};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub new: u64,
    pub duplicates: u64,
}

impl IngestSummary {
    pub fn add(&mut self, other: IngestSummary) {
        self.new += other.new;
        self.duplicates += other.duplicates;
    }
}

#[derive(Clone)]
pub struct Desk {
    store: DynStore,
    group: Option<std::sync::Arc<group::GroupCommitter>>,
    /// Above this many delays of one kind, a day keeps them in blocks (`domain::percentile`).
    inline_max: usize,
}

impl Desk {
    pub fn new(store: DynStore) -> Desk {
        Desk {
            store,
            group: None,
            inline_max: crate::domain::percentile::INLINE_MAX,
        }
    }

    /// The same desk, storing days with more than `n` delays of a kind in blocks. Tests set
    /// it low so that small histories take the path of large ones.
    pub fn with_inline_max(self, n: usize) -> Desk {
        Desk {
            inline_max: n,
            ..self
        }
    }

    /// The same desk with group commit (see `desk::group`); needs a Tokio runtime.
    pub fn with_group_commit(self) -> Desk {
        let group = group::GroupCommitter::start(self.store.clone());
        Desk {
            group: Some(std::sync::Arc::new(group)),
            ..self
        }
    }

    /// How many transactions the group commit wrote, for how many commits.
    pub fn group_stats(&self) -> Option<(u64, u64)> {
        use std::sync::atomic::Ordering;
        self.group.as_ref().map(|g| {
            (
                g.stats.groups.load(Ordering::Relaxed),
                g.stats.commits.load(Ordering::Relaxed),
            )
        })
    }

    /// `CommitStore::commit`, grouped with the commits of other handlers when group commit is on.
    pub async fn commit(&self, c: &Commit) -> Result<crate::store::CommitOutcome> {
        let outcome = match &self.group {
            Some(group) => match group.commit(c).await {
                Some(outcome) => outcome,
                None => self.store.commit(c).await,
            },
            None => self.store.commit(c).await,
        };
        if outcome.as_ref().is_ok_and(|o| o.committed()) {
            for e in &c.events {
                crate::observe::events_ingested(e.kind.name(), 1);
            }
        }
        outcome
    }

    pub fn store(&self) -> &DynStore {
        &self.store
    }

    /// Stores a batch of events in one transaction. Nothing is counted as stored before the
    /// transaction commits: on error, the whole batch is to be retried (ids make it idempotent).
    pub async fn ingest(&self, events: &[Event]) -> Result<IngestSummary> {
        let outcome = self.store.insert_events(events).await?;
        let new = outcome.iter().filter(|o| **o == Inserted::New).count() as u64;
        for (e, o) in events.iter().zip(&outcome) {
            tracing::trace!(event = %e, outcome = ?o, "ingested");
            if *o == Inserted::New {
                crate::observe::events_ingested(e.kind.name(), 1);
            }
        }
        Ok(IngestSummary {
            new,
            duplicates: events.len() as u64 - new,
        })
    }

    /// The rules a report over `scope` uses for badge thresholds and the daily series: the
    /// guild's own when the report is about one guild, KPI.md's defaults otherwise.
    pub async fn report_rules(
        &self,
        scope: &Scope,
    ) -> Result<(HashMap<String, GuildRules>, GuildRules)> {
        let all = self.store.all_guild_rules().await?;
        let report = scope
            .guild_id
            .as_ref()
            .and_then(|g| all.get(g).cloned())
            .unwrap_or_default();
        Ok((all, report))
    }

    /// The full report of KPI.md over `window`: from the rollups where they can stand for the
    /// guild (see `rollup_report`), otherwise replayed from the stored events.
    pub async fn report(&self, scope: &Scope, window: Window) -> Result<Report> {
        let started = std::time::Instant::now();
        let report = match self.rollup_report(scope, window).await? {
            Some(report) => report,
            None => self.replay_report(scope, window).await?,
        };
        crate::observe::report_latency(started.elapsed().as_secs_f64());
        Ok(report)
    }

    /// The full report replayed from every stored event up to `now`: the reference the
    /// rollups are checked against.
    pub async fn replay_report(&self, scope: &Scope, window: Window) -> Result<Report> {
        let events = self
            .store
            .events_until(scope.guild_id.as_deref(), window.now)
            .await?;
        let (all, report_rules) = self.report_rules(scope).await?;
        Ok(build_report(&events, &all, &report_rules, scope, window))
    }
}

impl Desk {
    /// Anonymises every conversation whose last event is before `before` (see
    /// `PrivacyStore::anonymize_place`); returns how many. Figures are unchanged. The
    /// community's posts have their own: `purge_engagement_before`.
    pub async fn purge_before(&self, before: crate::domain::Millis) -> Result<usize> {
        let places = self.store.places_ended_before(before).await?;
        for p in &places {
            self.store
                .anonymize_place(&p.guild_id, &p.conversation)
                .await?;
        }
        Ok(places.len())
    }

    /// Takes the people's ids off the posts whose engagement window ended by `before`, and off
    /// their reactions and replies (see `EngagementStore::purge_engagement_before`); returns how
    /// many people. Figures are unchanged.
    pub async fn purge_engagement_before(&self, before: crate::domain::Millis) -> Result<u64> {
        self.store.purge_engagement_before(before).await
    }

    /// Forgets `user_id` (see `forget_customer_locked`), taking no lock: for callers with no
    /// live traffic alongside (the command line, tests).
    pub async fn forget_customer(&self, user_id: &str) -> Result<Forgetting> {
        self.forget_customer_locked(user_id, |_| std::future::ready(()))
            .await
    }

    /// Forgets `user_id`: in each place where they wrote as a customer, their rows are
    /// anonymised (the place's key too when it is theirs), holding `lock(place)` meanwhile (the
    /// live path's lock of that place, so that no message of it is being decided on then);
    /// then their tickets, team choice and anything left in their name go. Figures are
    /// unchanged, theirs and everybody else's.
    pub async fn forget_customer_locked<F, Fut, G>(
        &self,
        user_id: &str,
        lock: F,
    ) -> Result<Forgetting>
    where
        F: Fn(&crate::store::Place) -> Fut,
        Fut: std::future::Future<Output = G>,
    {
        let mut done = Forgetting::default();
        for place in self.store.places_of_customer(user_id).await? {
            let _held = lock(&place).await;
            match self.store.forget_customer_in_place(&place, user_id).await? {
                crate::store::Forgotten::TheirPlace => done.own += 1,
                crate::store::Forgotten::TheirRows => done.others += 1,
            }
        }
        self.store.forget_customer_elsewhere(user_id).await?;
        // Their posts, reactions and replies to the community's posts lose their id too.
        self.store.forget_engagement_user(user_id).await?;
        Ok(done)
    }
}

/// What forgetting a person did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgetting {
    /// Their own conversations' places, now anonymous.
    pub own: usize,
    /// Other people's places where only their rows were anonymised.
    pub others: usize,
}

/// A live event's place, replayed with the event in it, before anything is written: what the
/// event means is decided first, and written with everything it causes in one transaction.
#[derive(Debug, Clone)]
pub struct LivePlace {
    pub event: Event,
    /// False when the event was already stored (a replayed gateway event).
    pub new: bool,
    /// This customer message opens a conversation.
    pub opened_conversation: bool,
    pub rules: GuildRules,
    /// The place's events, the new one included.
    events: Vec<Event>,
}

/// Where a survey is posted: a DM channel, or the conversation's channel or thread.
#[derive(Debug, Clone)]
pub struct SurveyTarget {
    pub channel_id: String,
    /// Reply to the customer's request message (in a busy text channel, so they see it is theirs).
    pub reply_to: bool,
}

/// What the survey rules ask for after a live event, to be committed with it.
#[derive(Debug, Clone, Default)]
pub struct SurveyPlan {
    pub surveys: Vec<SurveyOp>,
    pub outbox: Vec<OutboxOp>,
    /// Sent surveys that lose their buttons (the caller queues the edit).
    pub withdrawn: Vec<SurveyJob>,
}

impl Desk {
    /// Replays `e`'s place with `e` in it. Callers hold the place's lock until they commit, so
    /// the replay stays true.
    pub async fn replay_live(&self, e: &Event) -> Result<LivePlace> {
        let rules = self.store.guild_rules(&e.guild_id).await?;
        let mut events = self.open_conversation_events(e, &rules).await?;
        let new = !events.iter().any(|x| x.id == e.id);
        if new {
            events.push(e.clone());
        }
        let lookup = |_: &str| &rules;
        let tl = Timeline::build(&events, None, &lookup);
        let opened_conversation = new && tl.conversations.iter().any(|c| c.opened_by == e.id);
        Ok(LivePlace {
            event: e.clone(),
            new,
            opened_conversation,
            rules,
            events,
        })
    }

    /// The events of `e`'s conversation (see `domain::open_conversation`): read back from `e`
    /// a little further each time until a boundary shows, so that the cost of a live message
    /// follows its conversation, not the place's whole history. A conversation kept going for
    /// months without a break is read whole in the end.
    async fn open_conversation_events(&self, e: &Event, rules: &GuildRules) -> Result<Vec<Event>> {
        use crate::domain::open_conversation::since_last_boundary;
        let idle = rules.idle_ms.max(crate::domain::MINUTE);
        let mut lookback = 2 * idle;
        for _ in 0..4 {
            let since = e.at.saturating_sub(lookback);
            let events = self
                .store
                .place_events_since(&e.guild_id, &e.place, since)
                .await?;
            if let Some(events) = since_last_boundary(events, e, since, idle) {
                return Ok(events);
            }
            lookback = lookback.saturating_mul(4);
        }
        self.store.place_events(&e.guild_id, &e.place).await
    }

    /// Stores one live event that causes nothing else; true if it was new.
    pub async fn ingest_live(&self, e: &Event) -> Result<bool> {
        self.commit(&Commit {
            events: vec![e.clone()],
            require_new: true,
            ..Commit::default()
        })
        .await
        .map(|o| o.committed())
    }

    /// The survey rules of docs/kpi.md (Satisfaction), derived from the replayed place so that
    /// the order in which events arrive does not matter: the place's latest answer gets a
    /// survey, due once its agent has been silent `survey_delay`; it replaces a survey not yet
    /// sent and withdraws an unrated open one.
    pub async fn plan_surveys(
        &self,
        place: &LivePlace,
        now: crate::domain::Millis,
        target: SurveyTarget,
    ) -> Result<SurveyPlan> {
        let mut plan = SurveyPlan::default();
        let (rules, events) = (&place.rules, &place.events);
        let lookup = |_: &str| rules;
        let tl = Timeline::build(events, None, &lookup);
        let Some((request, answer)) = latest_answer(&tl) else {
            return Ok(plan);
        };
        // An answer whose survey could no longer be rated is history, not a reason to ask.
        if answer.at + rules.survey_close_ms < now {
            return Ok(plan);
        }
        let due = survey_due(events, answer, rules);
        if let Some(existing) = self.store.survey(&answer.message_id).await? {
            if existing.status == SurveyStatus::Scheduled && existing.due_at < due {
                plan.surveys.push(SurveyOp::Postpone {
                    survey_id: existing.survey_id,
                    due_at: due,
                });
            }
            return Ok(plan);
        }
        self.replace_surveys(place, answer.at, &mut plan).await?;
        let reply_to = target.reply_to.then(|| request.start_id.clone());
        plan.surveys.push(SurveyOp::Schedule(SurveyJob {
            // One survey per answer: the answer's id names it.
            survey_id: answer.message_id.clone(),
            guild_id: place.event.guild_id.clone(),
            conversation: place.event.place.clone(),
            customer_id: tl.conversations[request.conversation].customer_id.clone(),
            agent_id: answer.agent_id.clone(),
            answer_message_id: answer.message_id.clone(),
            channel_id: target.channel_id,
            reply_to,
            due_at: due,
            status: SurveyStatus::Scheduled,
            message_id: None,
            sent_at: None,
            rating: None,
        }));
        Ok(plan)
    }

    /// What a new survey for an answer given at `answered` replaces in its place: surveys not
    /// sent yet are cancelled (one being sent loses its outbox item), and a sent, unrated one
    /// still open at the answer is withdrawn.
    async fn replace_surveys(
        &self,
        place: &LivePlace,
        answered: crate::domain::Millis,
        plan: &mut SurveyPlan,
    ) -> Result<()> {
        let (guild_id, conversation) = (&place.event.guild_id, &place.event.place);
        for status in [SurveyStatus::Scheduled, SurveyStatus::Sending] {
            for job in self
                .store
                .surveys_in_place(guild_id, conversation, status)
                .await?
            {
                if status == SurveyStatus::Sending {
                    plan.outbox.push(OutboxOp::CancelSurvey {
                        survey_id: job.survey_id.clone(),
                    });
                }
                plan.surveys.push(SurveyOp::Status {
                    survey_id: job.survey_id,
                    from: vec![status],
                    status: SurveyStatus::Cancelled,
                });
            }
        }
        let close_ms = place.rules.survey_close_ms;
        for job in self
            .store
            .surveys_in_place(guild_id, conversation, SurveyStatus::Sent)
            .await?
        {
            let open = job
                .sent_at
                .is_some_and(|sent| sent < answered && answered <= sent + close_ms);
            if open && job.rating.is_none() {
                plan.surveys.push(SurveyOp::Status {
                    survey_id: job.survey_id.clone(),
                    from: vec![SurveyStatus::Sent],
                    status: SurveyStatus::Withdrawn,
                });
                plan.withdrawn.push(job);
            }
        }
        Ok(())
    }
}

/// The place's latest answer (by time, then id) and its request.
fn latest_answer(tl: &Timeline) -> Option<(&Request, &Answer)> {
    tl.requests
        .iter()
        .filter_map(|r| r.answer.as_ref().map(|a| (r, a)))
        .max_by(|x, y| {
            (x.1.at, crate::domain::id_order_key(&x.1.message_id))
                .cmp(&(y.1.at, crate::domain::id_order_key(&y.1.message_id)))
        })
}

/// When the answer's survey is due: `survey_delay` after the agent's last message following
/// the answer (the agent is silent by then).
fn survey_due(events: &[Event], answer: &Answer, rules: &GuildRules) -> crate::domain::Millis {
    let last_word = events
        .iter()
        .filter(|e| {
            e.kind == crate::domain::EventKind::AgentMessage
                && e.author_id == answer.agent_id
                && e.at >= answer.at
        })
        .map(|e| e.at)
        .max()
        .unwrap_or(answer.at);
    last_word + rules.survey_delay_ms
}

/// The pure part of `Desk::report`, shared with tests and benchmarks.
pub fn build_report(
    events: &[Event],
    all: &HashMap<String, GuildRules>,
    report_rules: &GuildRules,
    scope: &Scope,
    window: Window,
) -> Report {
    let defaults = GuildRules::default();
    let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
    let timeline = Timeline::build(events, Some(window.now), &lookup);
    let rules = Rules {
        lookup: &lookup,
        report: report_rules,
    };
    kpi::report(&timeline, &rules, scope, window)
}
