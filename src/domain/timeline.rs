//! The conversation clock: replays events in time order and derives conversations, requests,
//! answers and surveys exactly as docs/kpi.md defines them.
//!
//! The replay is the single source of truth for every figure. It takes the events in any order,
//! so an import in random order, a late catch-up after downtime or a replayed gateway event all
//! give the same timeline.

use super::event::{Event, EventKind, Rating};
use super::settings::GuildRules;
use super::{id_order_key, Millis};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMessage {
    pub guild_id: String,
    pub conversation: usize,
    pub at: Millis,
}

/// Who closed a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closer {
    /// The author of a `close` event: an agent, the customer, or the bot recording its own
    /// auto-close.
    Author(String),
    /// The bot's auto-close, derived from the guild's rules: a history imported without the
    /// bot's close events gives the same figures as one with them.
    AutoClose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub at: Millis,
    pub by: Closer,
}

/// How a conversation stands at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Ended by a close: resolved.
    Closed(Close),
    /// Ended because `idle` passed after its last customer or agent message.
    Lapsed { at: Millis },
    /// Not ended.
    Open,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub guild_id: String,
    pub key: String,
    /// The customer whose message opened it; the only one who may rate its surveys.
    pub customer_id: String,
    pub opened_at: Millis,
    pub opened_by: String,
    pub first_request: usize,
    /// Its last customer or agent message.
    pub last_message_at: Millis,
    /// When it lapses unless a customer or agent message or a close comes first: `idle` after
    /// its last customer or agent message.
    pub lapses_at: Millis,
    /// The close that ended it before it lapsed, if one did (a close after the lapse finds no
    /// conversation: it resolves nothing).
    pub close: Option<Close>,
    /// When the guild's auto-close will close it, while its last customer or agent message is
    /// an agent's: a customer or agent message at or before that instant comes first.
    pub auto_close_at: Option<Millis>,
}

impl Conversation {
    /// How it stands at `now`, for a timeline replayed up to `now` (or further: an end after
    /// `now` is not one yet).
    pub fn end(&self, now: Millis) -> End {
        if let Some(close) = self.close.as_ref().filter(|c| c.at <= now) {
            return End::Closed(close.clone());
        }
        if let Some(at) = self.auto_close_at.filter(|at| *at <= now) {
            return End::Closed(Close {
                at,
                by: Closer::AutoClose,
            });
        }
        if self.lapses_at <= now {
            return End::Lapsed { at: self.lapses_at };
        }
        End::Open
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub at: Millis,
    pub message_id: String,
    pub agent_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub guild_id: String,
    pub conversation: usize,
    pub start: Millis,
    pub start_id: String,
    pub customer_id: String,
    /// The first agent message after the start, in the same conversation, whatever its delay.
    pub answer: Option<Answer>,
    pub is_first: bool,
}

impl Request {
    pub fn delay(&self) -> Option<Millis> {
        self.answer.as_ref().map(|a| a.at - self.start)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub survey_id: String,
    pub event_id: String,
    pub guild_id: String,
    pub key: String,
    pub sent_at: Millis,
    pub answer_message_id: String,
    /// The author of the answer message: the agent credited with this survey.
    pub agent_id: Option<String>,
    /// The customer of the answered request's conversation: the only one whose clicks count.
    pub customer_id: Option<String>,
    pub request: Option<usize>,
    /// A new answer came before any rating: the survey no longer counts as sent.
    pub withdrawn_at: Option<Millis>,
    pub rating: Option<Rating>,
    pub rated_at: Option<Millis>,
    pub comment: Option<String>,
    pub closes_at: Millis,
}

impl Survey {
    pub fn counts_as_sent(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// A guild and a conversation key.
type Place = (String, String);
/// An answer's replay position, time and message id.
type AnswerAt = (usize, Millis, String);
/// Per survey id, the clicks and comments in replay order: (position, time, author, what).
type Clicks<'e> = Vec<(usize, Millis, &'e str, &'e EventKind)>;

/// What the replay knows about one agent message, to credit a survey that names it.
#[derive(Debug, Clone)]
struct AgentMessageInfo {
    agent_id: String,
    key: (String, String),
    customer_id: Option<String>,
    request: Option<usize>,
}

/// Where a place stands while replaying: its open conversation and its waiting request.
#[derive(Debug, Default)]
struct PlaceState {
    open: Option<usize>,
    waiting: Option<usize>,
}

#[derive(Debug, Default)]
pub struct Timeline {
    /// Every guild with an event replayed (up to `now`): the guilds a report is about.
    pub guilds: BTreeSet<String>,
    pub customer_messages: Vec<CustomerMessage>,
    pub conversations: Vec<Conversation>,
    pub requests: Vec<Request>,
    pub surveys: Vec<Survey>,
}

impl Timeline {
    /// Replays `events` (any order, duplicates by id ignored) seen at `now`: events after `now`
    /// are ignored, an event exactly at `now` counts. `rules` gives each guild's rules.
    pub fn build<'r>(
        events: &[Event],
        now: Option<Millis>,
        rules: &dyn Fn(&str) -> &'r GuildRules,
    ) -> Timeline {
        let order = in_replay_order(events, now);
        let mut replay = Replay {
            rules,
            tl: Timeline::default(),
            places: HashMap::new(),
            agent_messages: HashMap::new(),
            answers: HashMap::new(),
            sent: Vec::new(),
            survey_index: HashMap::new(),
            clicks: HashMap::new(),
        };
        for (pos, e) in order.iter().enumerate() {
            if !replay.tl.guilds.contains(&e.guild_id) {
                replay.tl.guilds.insert(e.guild_id.clone());
            }
            replay.event(pos, e);
        }
        replay.settle_surveys();
        replay.tl
    }
}

/// The events up to `now`, each id once, in KPI.md's order: by time, then by id.
fn in_replay_order(events: &[Event], now: Option<Millis>) -> Vec<&Event> {
    let mut order: Vec<&Event> = events
        .iter()
        .filter(|e| now.is_none_or(|now| e.at <= now))
        .collect();
    let mut seen = std::collections::HashSet::new();
    order.retain(|e| seen.insert(e.id.as_str()));
    order.sort_by(|a, b| (a.at, id_order_key(&a.id)).cmp(&(b.at, id_order_key(&b.id))));
    order
}

/// The replay in progress: the timeline so far, and what later events need to know.
struct Replay<'e, 'r> {
    rules: &'e dyn Fn(&str) -> &'r GuildRules,
    tl: Timeline,
    places: HashMap<Place, PlaceState>,
    agent_messages: HashMap<&'e str, AgentMessageInfo>,
    /// Per place, the answers in replay order.
    answers: HashMap<Place, Vec<AnswerAt>>,
    /// Each survey's replay position.
    sent: Vec<usize>,
    survey_index: HashMap<&'e str, usize>,
    clicks: HashMap<&'e str, Clicks<'e>>,
}

impl<'e> Replay<'e, '_> {
    fn event(&mut self, pos: usize, e: &'e Event) {
        let r = (self.rules)(&e.guild_id);
        let key = (e.guild_id.clone(), e.place.clone());
        match &e.kind {
            EventKind::CustomerMessage => self.customer_message(e, key, r),
            EventKind::AgentMessage => self.agent_message(pos, e, key, r),
            EventKind::Close => {
                let st = self.places.entry(key).or_default();
                settle(&mut self.tl, st, e.at);
                // A close at exactly the auto-close instant is taken as that auto-close (the
                // bot's record of it; an author does not say it is the bot): the derived
                // auto-close decides, so a customer message at the same instant still cancels it.
                let at_auto_close = st
                    .open
                    .is_some_and(|c| self.tl.conversations[c].auto_close_at == Some(e.at));
                if at_auto_close {
                    return;
                }
                if let Some(conv) = st.open.take() {
                    let c = &mut self.tl.conversations[conv];
                    c.close = Some(Close {
                        at: e.at,
                        by: Closer::Author(e.author_id.clone()),
                    });
                    c.auto_close_at = None;
                    st.waiting = None;
                }
            }
            EventKind::Note | EventKind::BotMessage => {}
            EventKind::SurveySent {
                survey_id,
                answer_message_id,
            } => {
                if self.survey_index.contains_key(survey_id.as_str()) {
                    return;
                }
                self.survey_index.insert(survey_id, self.tl.surveys.len());
                self.sent.push(pos);
                self.tl.surveys.push(Survey {
                    survey_id: survey_id.clone(),
                    event_id: e.id.clone(),
                    guild_id: e.guild_id.clone(),
                    key: e.place.clone(),
                    sent_at: e.at,
                    answer_message_id: answer_message_id.clone(),
                    agent_id: None,
                    customer_id: None,
                    request: None,
                    withdrawn_at: None,
                    rating: None,
                    rated_at: None,
                    comment: None,
                    closes_at: e.at + r.survey_close_ms,
                });
            }
            EventKind::Rating { survey_id, .. } | EventKind::Comment { survey_id, .. } => {
                self.clicks.entry(survey_id.as_str()).or_default().push((
                    pos,
                    e.at,
                    e.author_id.as_str(),
                    &e.kind,
                ));
            }
        }
    }

    /// Joins the open conversation (or opens one) and its waiting request (or starts one).
    fn customer_message(&mut self, e: &Event, key: Place, r: &GuildRules) {
        let st = self.places.entry(key).or_default();
        settle(&mut self.tl, st, e.at);
        let tl = &mut self.tl;
        let conv = *st.open.get_or_insert_with(|| {
            tl.conversations.push(Conversation {
                guild_id: e.guild_id.clone(),
                key: e.place.clone(),
                customer_id: e.author_id.clone(),
                opened_at: e.at,
                opened_by: e.id.clone(),
                first_request: tl.requests.len(),
                last_message_at: e.at,
                lapses_at: e.at + r.idle_ms,
                close: None,
                auto_close_at: None,
            });
            tl.conversations.len() - 1
        });
        if st.waiting.is_none() {
            let is_first = tl.conversations[conv].first_request == tl.requests.len();
            st.waiting = Some(tl.requests.len());
            tl.requests.push(Request {
                guild_id: e.guild_id.clone(),
                conversation: conv,
                start: e.at,
                start_id: e.id.clone(),
                customer_id: e.author_id.clone(),
                answer: None,
                is_first,
            });
        }
        let c = &mut tl.conversations[conv];
        c.last_message_at = e.at;
        c.lapses_at = e.at + r.idle_ms;
        c.auto_close_at = None;
        tl.customer_messages.push(CustomerMessage {
            guild_id: e.guild_id.clone(),
            conversation: conv,
            at: e.at,
        });
    }

    /// Answers the waiting request, if any; outside a conversation it answers nothing.
    fn agent_message(&mut self, pos: usize, e: &'e Event, key: Place, r: &GuildRules) {
        let st = self.places.entry(key.clone()).or_default();
        settle(&mut self.tl, st, e.at);
        let mut info = AgentMessageInfo {
            agent_id: e.author_id.clone(),
            key: key.clone(),
            customer_id: None,
            request: None,
        };
        if let Some(conv) = st.open {
            info.customer_id = Some(self.tl.conversations[conv].customer_id.clone());
            if let Some(req) = st.waiting.take() {
                self.tl.requests[req].answer = Some(Answer {
                    at: e.at,
                    message_id: e.id.clone(),
                    agent_id: e.author_id.clone(),
                });
                info.request = Some(req);
                self.answers
                    .entry(key)
                    .or_default()
                    .push((pos, e.at, e.id.clone()));
            }
            let c = &mut self.tl.conversations[conv];
            c.last_message_at = e.at;
            c.lapses_at = e.at + r.idle_ms;
            // An auto-close that would come after the lapse never happens.
            c.auto_close_at = r
                .sla
                .auto_close
                .filter(|a| *a < r.idle_ms)
                .map(|a| e.at + a);
        }
        self.agent_messages.entry(e.id.as_str()).or_insert(info);
    }

    /// Credits each survey, applies its clicks while it is open, and withdraws it when a new
    /// answer came before any rating.
    fn settle_surveys(&mut self) {
        let no_answers = Vec::new();
        let no_clicks = Vec::new();
        for (survey, &sent_pos) in self.tl.surveys.iter_mut().zip(&self.sent) {
            let mut place = (survey.guild_id.clone(), survey.key.clone());
            // An unknown answer message leaves the survey counted as sent but belonging to no
            // conversation: no agent is credited and nobody can rate it.
            if let Some(info) = self.agent_messages.get(survey.answer_message_id.as_str()) {
                survey.agent_id = Some(info.agent_id.clone());
                survey.customer_id = info.customer_id.clone();
                survey.request = info.request;
                place = info.key.clone();
            }
            // Any answer in the place after the survey went out, while it is open, is new.
            let first_new_answer = self
                .answers
                .get(&place)
                .unwrap_or(&no_answers)
                .iter()
                .find(|(pos, at, _)| *pos > sent_pos && *at <= survey.closes_at)
                .map(|(pos, at, _)| (*pos, *at));
            let clicks = self
                .clicks
                .get(survey.survey_id.as_str())
                .unwrap_or(&no_clicks);
            apply_clicks(survey, sent_pos, first_new_answer, clicks);
        }
    }
}

/// Ends the place's open conversation if it ended in silence before `at`: by the guild's
/// auto-close, strictly before (a message at the very instant comes first), or by lapsing (a
/// message `idle` or more after the last one finds it over).
fn settle(tl: &mut Timeline, st: &mut PlaceState, at: Millis) {
    let Some(conv) = st.open else {
        return;
    };
    let c = &mut tl.conversations[conv];
    if let Some(auto) = c.auto_close_at.filter(|t| *t < at) {
        c.close = Some(Close {
            at: auto,
            by: Closer::AutoClose,
        });
        c.auto_close_at = None;
    } else if at < c.lapses_at {
        return;
    }
    st.open = None;
    st.waiting = None;
}

/// Clicks count while the survey is open and only the customer's; a new answer before any
/// rating withdraws the survey, and clicks after the withdrawal change nothing.
fn apply_clicks(
    survey: &mut Survey,
    sent_pos: usize,
    first_new_answer: Option<(usize, Millis)>,
    clicks: &Clicks<'_>,
) {
    let mut rated_before_new_answer = false;
    for &(pos, at, author, kind) in clicks {
        if pos < sent_pos || at > survey.closes_at {
            continue;
        }
        if survey.customer_id.as_deref() != Some(author) {
            continue;
        }
        let after_new_answer = first_new_answer.is_some_and(|(answer_pos, _)| pos > answer_pos);
        if after_new_answer && !rated_before_new_answer {
            break;
        }
        match kind {
            EventKind::Rating { rating, .. } => {
                survey.rating = Some(*rating);
                survey.rated_at = Some(at);
                rated_before_new_answer |= !after_new_answer;
            }
            EventKind::Comment { text, .. } => survey.comment = Some(text.clone()),
            _ => {}
        }
    }
    if let Some((_, answer_at)) = first_new_answer {
        if !rated_before_new_answer {
            survey.withdrawn_at = Some(answer_at);
            survey.rating = None;
            survey.rated_at = None;
        }
    }
}
