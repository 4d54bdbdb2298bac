//! When the bot acts on a conversation's service levels (docs/kpi.md, "Service levels (SLA) and
//! resolution"): the warning `sla_warning` before a target's deadline, the breach itself, and
//! the auto-close. Pure: the edge plans these timers from a replayed place after each event,
//! and checks again at the moment one is due that it still applies (an answer, a customer
//! message or a close meanwhile cancels it).

use super::settings::{GuildRules, SlaClock};
use super::sla::sla_ms;
use super::timeline::{Close, Closer, End, Timeline};
use super::{Millis, DAY};

/// What a timer does when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerAction {
    /// Warns the agents that the target will be missed soon.
    Warning,
    /// Says in the alert channel that the target was missed.
    Breach,
    /// Closes the conversation for the bot.
    AutoClose,
}

/// Which target a warning or a breach is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetKind {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl TargetKind {
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::FirstResponse => "first_response",
            TargetKind::NextResponse => "next_response",
            TargetKind::Resolution => "resolution",
        }
    }
}

/// One thing the bot will do at `due_at` unless something comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTimer {
    pub action: TimerAction,
    /// `None` for the auto-close.
    pub target: Option<TargetKind>,
    /// What it is about: the request's first message, the conversation's opening message, or
    /// (auto-close) the close instant. Together with `name()` it names the timer for good, so
    /// a timer done is never planned again.
    pub subject: String,
    pub due_at: Millis,
    /// The target's deadline: the last instant at which it is still met (warnings and breaches).
    pub deadline: Millis,
    /// The target's length (warnings and breaches).
    pub target_ms: Millis,
}

impl SlaTimer {
    /// The kind as stored: `warning:first_response`, `breach:resolution`, `auto_close`.
    pub fn name(&self) -> String {
        let action = match self.action {
            TimerAction::Warning => "warning",
            TimerAction::Breach => "breach",
            TimerAction::AutoClose => return "auto_close".to_string(),
        };
        match self.target {
            Some(t) => format!("{action}:{}", t.name()),
            None => action.to_string(),
        }
    }
}

/// How far ahead a moment on the SLA clock is looked for before giving up (business hours
/// that are never open).
const SEARCH_LIMIT: Millis = 400 * DAY;

/// The first instant `t >= from` at which the SLA-clock time from `from` to `t` reaches `ms`;
/// `None` when the business hours never give that much time (within 400 days). On the business
/// clock such an instant is always inside (or at the end of) business hours.
pub fn sla_instant(g: &GuildRules, from: Millis, ms: Millis) -> Option<Millis> {
    if ms <= 0 {
        return Some(from);
    }
    if g.sla.clock == SlaClock::Calendar || g.business_hours.is_always() {
        return Some(from + ms);
    }
    // The SLA-clock time grows with `t` and never faster than calendar time: search between
    // `from + ms` and a doubling bound, then halve down to the millisecond.
    let mut lo = from + ms - 1;
    let mut hi = from + ms;
    while sla_ms(g, from, hi) < ms {
        lo = hi;
        hi = from + (hi - from) * 2;
        if hi - from > SEARCH_LIMIT {
            return None;
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if sla_ms(g, from, mid) >= ms {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The warning and the breach of a target of `target_ms` running from `start`: the warning
/// when `target - sla_warning` of SLA-clock time has passed (at least 1 ms, so that on the
/// business clock it falls in business hours), the breach 1 ms of SLA-clock time after the
/// deadline (KPI.md: missed once the time is *greater* than the target).
fn target_timers(
    g: &GuildRules,
    target: TargetKind,
    subject: &str,
    start: Millis,
    target_ms: Millis,
) -> Vec<SlaTimer> {
    let Some(deadline) = sla_instant(g, start, target_ms) else {
        return Vec::new();
    };
    let timer = |action, due_at| SlaTimer {
        action,
        target: Some(target),
        subject: subject.to_string(),
        due_at,
        deadline,
        target_ms,
    };
    let mut out = Vec::new();
    if let Some(before) = g.sla.warning.before(target_ms) {
        if let Some(at) = sla_instant(g, start, (target_ms - before).max(1)) {
            out.push(timer(TimerAction::Warning, at));
        }
    }
    if let Some(at) = sla_instant(g, start, target_ms + 1) {
        out.push(timer(TimerAction::Breach, at));
    }
    out
}

/// The timers a place's replayed timeline asks for at `now`: for its latest conversation when
/// it is still open, the warning and breach of its waiting request (first or next response)
/// and of its resolution target, and its auto-close. Timers already past are included: the
/// caller decides what a late one still means.
pub fn plan_timers(tl: &Timeline, g: &GuildRules, now: Millis) -> Vec<SlaTimer> {
    let Some((index, c)) = tl.conversations.iter().enumerate().next_back() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(at) = c.auto_close_at.filter(|_| c.close.is_none()) {
        out.push(auto_close_timer(g, at));
    }
    // The conversation before, ended by the auto-close while the bot was away (the customer's
    // message read back after it opened this one): its close is still to be recorded.
    let before = index.checked_sub(1).map(|i| &tl.conversations[i]);
    if let Some(Close {
        at,
        by: Closer::AutoClose,
    }) = before.and_then(|b| b.close.as_ref())
    {
        out.push(auto_close_timer(g, *at));
    }
    if c.end(now) != End::Open {
        return out;
    }
    let waiting = tl
        .requests
        .iter()
        .rev()
        .find(|r| r.conversation == index)
        .filter(|r| r.answer.is_none());
    if let Some(r) = waiting {
        let (kind, target) = if r.is_first {
            (TargetKind::FirstResponse, g.sla.first_response)
        } else {
            (TargetKind::NextResponse, g.sla.next_response)
        };
        if let Some(t) = target {
            out.extend(target_timers(g, kind, &r.start_id, r.start, t));
        }
    }
    if let Some(t) = g.sla.resolution {
        out.extend(target_timers(
            g,
            TargetKind::Resolution,
            &c.opened_by,
            c.opened_at,
            t,
        ));
    }
    out
}

/// The timer named `name` about `subject`, due at `due_at`, if it still applies at `now`,
/// from the place's timeline replayed with everything stored; with the index of the
/// conversation it acts on. A warning or breach applies while its request is unanswered (or its
/// conversation unresolved) and the conversation open, a warning only until its deadline (a
/// late one says nothing the breach line will not); an auto-close while it is still due, even
/// when the customer wrote after its moment (read back after downtime: the replay ends the old
/// conversation there and the message opened a new one; the close is still to be recorded).
pub fn due_timer(
    tl: &Timeline,
    g: &GuildRules,
    now: Millis,
    name: &str,
    subject: &str,
    due_at: Millis,
) -> Option<(SlaTimer, usize)> {
    if due_at > now {
        return None;
    }
    if name == "auto_close" {
        let index = tl
            .conversations
            .iter()
            .position(|c| c.close.is_none() && c.auto_close_at == Some(due_at))
            .or_else(|| auto_closed(tl, due_at))?;
        return Some((auto_close_timer(g, due_at), index));
    }
    let latest = tl.conversations.len().checked_sub(1)?;
    let planned = plan_timers(tl, g, now)
        .into_iter()
        .find(|t| t.name() == name && t.subject == subject && t.due_at <= now)?;
    match planned.action {
        TimerAction::Warning => (planned.deadline >= now).then_some((planned, latest)),
        _ => Some((planned, latest)),
    }
}

fn auto_close_timer(g: &GuildRules, at: Millis) -> SlaTimer {
    SlaTimer {
        action: TimerAction::AutoClose,
        target: None,
        subject: at.to_string(),
        due_at: at,
        deadline: at,
        target_ms: g.sla.auto_close.unwrap_or_default(),
    }
}

/// Whether a planned timer still applies at `now` (see `due_timer`).
pub fn still_due(tl: &Timeline, g: &GuildRules, now: Millis, timer: &SlaTimer) -> bool {
    due_timer(tl, g, now, &timer.name(), &timer.subject, timer.due_at).is_some()
}

/// The conversation that the replay ends by the auto-close at `at` and that has no recorded
/// close yet.
fn auto_closed(tl: &Timeline, at: Millis) -> Option<usize> {
    let derived = Close {
        at,
        by: Closer::AutoClose,
    };
    tl.conversations
        .iter()
        .position(|c| c.close.as_ref() == Some(&derived))
}

#[cfg(test)]
#[path = "sla_timers_tests.rs"]
mod tests;
