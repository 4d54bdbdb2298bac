//! The service-level timers of a place (`domain::sla_timers`): planned from the replayed place
//! in the transaction of each live event, and checked again from what is stored when one is
//! due.

use super::{Desk, LivePlace};
use crate::domain::sla_timers::{due_timer, plan_timers, SlaTimer};
use crate::domain::timeline::{Conversation, Timeline};
use crate::domain::{GuildRules, Millis};
use crate::store::{Result, SlaTimerRow, TimerOp};

/// A timer that is due and still applies, with what acting on it needs to know.
#[derive(Debug, Clone)]
pub struct DueTimer {
    pub row: SlaTimerRow,
    pub timer: SlaTimer,
    pub rules: GuildRules,
    /// The conversation it acts on.
    pub conversation: Conversation,
    /// That conversation is the place's latest (the customer has not written since).
    pub latest: bool,
}

/// The timers a live place asks for now, replacing the place's pending ones.
pub fn plan_place(place: &LivePlace, now: Millis) -> TimerOp {
    let rules = &place.rules;
    let lookup = |_: &str| rules;
    let tl = Timeline::build(&place.events, None, &lookup);
    let (guild_id, conversation) = (&place.event.guild_id, &place.event.place);
    let timers = plan_timers(&tl, rules, now)
        .into_iter()
        .map(|t| SlaTimerRow {
            guild_id: guild_id.clone(),
            conversation: conversation.clone(),
            kind: t.name(),
            subject: t.subject,
            due_at: t.due_at,
            done: false,
        })
        .collect();
    TimerOp::Plan {
        guild_id: guild_id.clone(),
        conversation: conversation.clone(),
        timers,
    }
}

impl Desk {
    /// What the due timer `row` means at `now`, from the place as stored; `None` when an
    /// answer, a customer message or a close came first (the timer is then done with nothing
    /// to do).
    pub async fn check_timer(&self, row: &SlaTimerRow, now: Millis) -> Result<Option<DueTimer>> {
        let rules = self.store.guild_rules(&row.guild_id).await?;
        let events = self
            .store
            .place_events(&row.guild_id, &row.conversation)
            .await?;
        let lookup = |_: &str| &rules;
        let tl = Timeline::build(&events, None, &lookup);
        let Some((timer, index)) = due_timer(&tl, &rules, now, &row.kind, &row.subject, row.due_at)
        else {
            return Ok(None);
        };
        Ok(Some(DueTimer {
            row: row.clone(),
            timer,
            conversation: tl.conversations[index].clone(),
            latest: index + 1 == tl.conversations.len(),
            rules,
        }))
    }
}
