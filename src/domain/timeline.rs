//! The conversation clock: replays events in time order and derives conversations, requests,
//! answers and surveys exactly as docs/kpi.md defines them.
//!
//! The replay is the single source of truth for every figure. It takes the events in any order,
//! so an import in random order, a late catch-up after downtime or a replayed gateway event all
//! give the same timeline.

use super::event::{Event, EventKind, Rating};
use super::settings::GuildRules;
use super::{id_order_key, Millis};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMessage {
    pub guild_id: String,
    pub conversation: usize,
    pub at: Millis,
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
    /// When it ended by a close, if it did (an idle end has no event of its own).
    pub closed_at: Option<Millis>,
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

/// What the replay knows about one agent message, to credit a survey that names it.
#[derive(Debug, Clone)]
struct AgentMessageInfo {
    agent_id: String,
    key: (String, String),
    customer_id: Option<String>,
    request: Option<usize>,
}

#[derive(Debug, Default)]
struct PlaceState {
    open: Option<usize>,
    last_message_at: Millis,
    waiting: Option<usize>,
}

#[derive(Debug, Default)]
pub struct Timeline {
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
        let mut order: Vec<&Event> = events
            .iter()
            .filter(|e| now.is_none_or(|now| e.at <= now))
            .collect();
        let mut seen = std::collections::HashSet::new();
        order.retain(|e| seen.insert(e.id.as_str()));
        order.sort_by(|a, b| (a.at, id_order_key(&a.id)).cmp(&(b.at, id_order_key(&b.id))));

        let mut tl = Timeline::default();
        // Where each place stands while replaying: its open conversation and waiting request.
        let mut places: HashMap<Place, PlaceState> = HashMap::new();
        let mut agent_messages: HashMap<&str, AgentMessageInfo> = HashMap::new();
        // Per place, the answers in replay order: (position, time, message id).
        let mut answers: HashMap<Place, Vec<AnswerAt>> = HashMap::new();
        // Each survey's replay position.
        let mut sent: Vec<usize> = Vec::new();
        let mut survey_index: HashMap<String, usize> = HashMap::new();
        // Per survey id, the clicks and comments in replay order: (position, time, author, what).
        type Clicks<'a> = Vec<(usize, Millis, &'a str, &'a EventKind)>;
        let mut clicks: HashMap<&str, Clicks> = HashMap::new();

        for (pos, e) in order.iter().enumerate() {
            let r = rules(&e.guild_id);
            let key = (e.guild_id.clone(), e.place.clone());
            match &e.kind {
                EventKind::CustomerMessage => {
                    let st = places.entry(key).or_default();
                    if st.open.is_some() && e.at - st.last_message_at >= r.idle_ms {
                        st.open = None;
                        st.waiting = None;
                    }
                    let conv = match st.open {
                        Some(c) => c,
                        None => {
                            let c = tl.conversations.len();
                            tl.conversations.push(Conversation {
                                guild_id: e.guild_id.clone(),
                                key: e.place.clone(),
                                customer_id: e.author_id.clone(),
                                opened_at: e.at,
                                opened_by: e.id.clone(),
                                first_request: tl.requests.len(),
                                closed_at: None,
                            });
                            st.open = Some(c);
                            c
                        }
                    };
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
                    st.last_message_at = e.at;
                    tl.customer_messages.push(CustomerMessage {
                        guild_id: e.guild_id.clone(),
                        conversation: conv,
                        at: e.at,
                    });
                }
                EventKind::AgentMessage => {
                    let st = places.entry(key.clone()).or_default();
                    if st.open.is_some() && e.at - st.last_message_at >= r.idle_ms {
                        st.open = None;
                        st.waiting = None;
                    }
                    let mut info = AgentMessageInfo {
                        agent_id: e.author_id.clone(),
                        key: key.clone(),
                        customer_id: None,
                        request: None,
                    };
                    if let Some(conv) = st.open {
                        info.customer_id = Some(tl.conversations[conv].customer_id.clone());
                        if let Some(req) = st.waiting.take() {
                            tl.requests[req].answer = Some(Answer {
                                at: e.at,
                                message_id: e.id.clone(),
                                agent_id: e.author_id.clone(),
                            });
                            info.request = Some(req);
                            answers
                                .entry(key)
                                .or_default()
                                .push((pos, e.at, e.id.clone()));
                        }
                        st.last_message_at = e.at;
                    }
                    agent_messages.entry(e.id.as_str()).or_insert(info);
                }
                EventKind::Close => {
                    let st = places.entry(key).or_default();
                    if let Some(conv) = st.open.take() {
                        tl.conversations[conv].closed_at = Some(e.at);
                        st.waiting = None;
                    }
                }
                EventKind::Note | EventKind::BotMessage => {}
                EventKind::SurveySent {
                    survey_id,
                    answer_message_id,
                } => {
                    if survey_index.contains_key(survey_id) {
                        continue;
                    }
                    survey_index.insert(survey_id.clone(), tl.surveys.len());
                    sent.push(pos);
                    tl.surveys.push(Survey {
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
                    clicks.entry(survey_id.as_str()).or_default().push((
                        pos,
                        e.at,
                        e.author_id.as_str(),
                        &e.kind,
                    ));
                }
            }
        }

        let no_answers = Vec::new();
        for (survey, sent_pos) in tl.surveys.iter_mut().zip(sent) {
            let mut place = (survey.guild_id.clone(), survey.key.clone());
            // An unknown answer message leaves the survey counted as sent but belonging to no
            // conversation: no agent is credited and nobody can rate it.
            if let Some(info) = agent_messages.get(survey.answer_message_id.as_str()) {
                survey.agent_id = Some(info.agent_id.clone());
                survey.customer_id = info.customer_id.clone();
                survey.request = info.request;
                place = info.key.clone();
            }
            // Any answer in the place after the survey went out, while it is open, is new.
            let later_answers = answers
                .get(&place)
                .unwrap_or(&no_answers)
                .iter()
                .filter(|(pos, at, _)| *pos > sent_pos && *at <= survey.closes_at);
            let first_new_answer = later_answers.map(|(pos, at, _)| (*pos, *at)).next();
            // Clicks count while the survey is open; a new answer before any rating withdraws it.
            let mut rated_before_new_answer = false;
            for &(pos, at, author, kind) in
                clicks.get(survey.survey_id.as_str()).unwrap_or(&Vec::new())
            {
                if pos < sent_pos || at > survey.closes_at {
                    continue;
                }
                if survey.customer_id.as_deref() != Some(author) {
                    continue;
                }
                let after_new_answer =
                    first_new_answer.is_some_and(|(answer_pos, _)| pos > answer_pos);
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
        tl
    }
}
