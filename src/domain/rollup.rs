//! What makes `/stats` fast without changing a single figure.
//!
//! Replaying a whole guild costs as much as its history. Instead, each place (a conversation
//! key) is replayed on its own when its events change, and what the replay found is kept as
//! *facts*: its conversations, customer messages, requests and surveys, with their times. Facts
//! are summed per guild, local day and agent into *parts*: counts, sums, and every delay of the
//! day, so percentiles stay exact (a percentile over a window is a selection over the delays of
//! its days, never an average of daily percentiles). A window is its whole days' parts plus, for
//! the partial days at its ends, a part summed from the facts of just that time range.
//!
//! A place's replay equals the guild's replay restricted to it when the place is *regular*: its
//! surveys follow answers sent in the same place and its ratings rate surveys sent there (what
//! the bot always writes). Anything else (a survey or a rating pointing into another place, as
//! an import may) marks the guild irregular, and its reports replay everything as before.

use super::kpi::{local_day, AgentFigures, DayPoint, Figures, Ratio, Window};
use super::percentile::{make_blocks, Blocked};
use super::settings::GuildRules;
use super::stats::{nearest_rank, DelayStats};
use super::timeline::Timeline;
use super::{Event, EventKind, Millis};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Counts, sums and delays that add up across days and time ranges.
///
/// For a guild: every request and message. For an agent: the requests that agent answered
/// (`answered` those within the deadline, the rest late), and the messages and conversations
/// of the conversations in which they answered (see `kpi::figures`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Part {
    pub messages: u64,
    pub conversations: u64,
    pub requests: u64,
    pub answered: u64,
    /// Response delays of the requests answered within the deadline.
    pub delays: Vec<Millis>,
    pub business_delays: Vec<Millis>,
    /// Delays of answered first requests.
    pub first_delays: Vec<Millis>,
    pub surveys_sent: u64,
    pub ratings: u64,
    pub rating_sum: u64,
    pub satisfied: u64,
    /// For a stored large day, each kind of delay (response, business hours, first response)
    /// whose values are in blocks (`domain::percentile`); its list above is then empty.
    pub blocked: [Option<Blocked>; 3],
}

/// 2: delays of large days in blocks (migration 0007 rebuilt the days of format 1).
const PART_FORMAT: u8 = 2;

impl Part {
    /// Adds `o` to this part. Only parts whose delays are all in their lists (pieces summed
    /// from facts) merge; a stored day with blocked delays is read through a `Gather`.
    pub fn merge(&mut self, o: &Part) {
        debug_assert!(o.blocked.iter().all(Option::is_none));
        self.messages += o.messages;
        self.conversations += o.conversations;
        self.requests += o.requests;
        self.answered += o.answered;
        self.delays.extend_from_slice(&o.delays);
        self.business_delays.extend_from_slice(&o.business_delays);
        self.first_delays.extend_from_slice(&o.first_delays);
        self.surveys_sent += o.surveys_sent;
        self.ratings += o.ratings;
        self.rating_sum += o.rating_sum;
        self.satisfied += o.satisfied;
    }

    /// The counts and sums of `o`, without its delays.
    pub fn merge_counts(&mut self, o: &Part) {
        self.messages += o.messages;
        self.conversations += o.conversations;
        self.requests += o.requests;
        self.answered += o.answered;
        self.surveys_sent += o.surveys_sent;
        self.ratings += o.ratings;
        self.rating_sum += o.rating_sum;
        self.satisfied += o.satisfied;
    }

    /// The delays of one kind: 0 response, 1 business hours, 2 first response.
    pub fn list(&self, kind: usize) -> &[Millis] {
        match kind {
            0 => &self.delays,
            1 => &self.business_delays,
            _ => &self.first_delays,
        }
    }

    fn list_mut(&mut self, kind: usize) -> &mut Vec<Millis> {
        match kind {
            0 => &mut self.delays,
            1 => &mut self.business_delays,
            _ => &mut self.first_delays,
        }
    }

    /// Sorts the delays, so that a stored day answers its own median without a selection.
    pub fn sort(&mut self) {
        self.delays.sort_unstable();
        self.business_delays.sort_unstable();
        self.first_delays.sort_unstable();
    }

    /// A compact binary form for the rollup tables: a format byte, the counters, then each
    /// delay list as a length and little-endian values.
    pub fn encode(&self) -> Vec<u8> {
        let lists = [&self.delays, &self.business_delays, &self.first_delays];
        let values: usize = lists.iter().map(|l| l.len()).sum();
        let mut out = Vec::with_capacity(1 + 8 * 8 + 3 * 4 + values * 8);
        out.push(PART_FORMAT);
        for n in [
            self.messages,
            self.conversations,
            self.requests,
            self.answered,
            self.surveys_sent,
            self.ratings,
            self.rating_sum,
            self.satisfied,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for (list, blocked) in lists.into_iter().zip(&self.blocked) {
            match blocked {
                None => {
                    out.push(0);
                    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
                    for v in list.iter() {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
                Some(b) => {
                    out.push(1);
                    out.extend_from_slice(&b.count.to_le_bytes());
                    out.extend_from_slice(&b.sum.to_le_bytes());
                    out.extend_from_slice(&b.median.unwrap_or(Millis::MIN).to_le_bytes());
                    // Buckets ascend: each is stored as its distance from the previous one,
                    // and every number as a varint (a day's agents' parts are mostly these).
                    put_varint(&mut out, b.hist.len() as u64);
                    let mut last = 0;
                    for &(k, n) in &b.hist {
                        put_varint(&mut out, (k - last) as u64);
                        put_varint(&mut out, n as u64);
                        last = k;
                    }
                    put_varint(&mut out, b.groups.len() as u64);
                    let mut last = 0;
                    for &g in &b.groups {
                        put_varint(&mut out, (g - last) as u64);
                        last = g;
                    }
                }
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Part> {
        Part::decode_kinds(bytes, [true; 3])
    }

    /// `decode`, keeping the delays (or their buckets) of the kinds in `keep` only: a report's
    /// table of agents reads thousands of agents' days for their response delays alone. The
    /// other kinds keep their count and sum.
    pub fn decode_kinds(bytes: &[u8], keep: [bool; 3]) -> Option<Part> {
        let mut r = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, tail) = r.split_at_checked(n)?;
            r = tail;
            Some(head)
        };
        if take(1)? != [PART_FORMAT] {
            return None;
        }
        let mut counters = [0u64; 8];
        for c in counters.iter_mut() {
            *c = u64::from_le_bytes(take(8)?.try_into().ok()?);
        }
        let mut lists: [Vec<Millis>; 3] = Default::default();
        let mut blocked: [Option<Blocked>; 3] = Default::default();
        for ((list, blocked), keep) in lists.iter_mut().zip(blocked.iter_mut()).zip(keep) {
            match take(1)? {
                [0] => {
                    let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
                    let raw = take(n.checked_mul(8)?)?;
                    if keep {
                        *list = raw
                            .chunks_exact(8)
                            .map(|c| Millis::from_le_bytes(c.try_into().unwrap_or_default()))
                            .collect();
                    }
                }
                [1] => {
                    let count = u64::from_le_bytes(take(8)?.try_into().ok()?);
                    let sum = i128::from_le_bytes(take(16)?.try_into().ok()?);
                    let median = Millis::from_le_bytes(take(8)?.try_into().ok()?);
                    let n = get_varint(&mut take)?;
                    let room = |n: u64| if keep { (n as usize).min(1 << 12) } else { 0 };
                    let mut hist = Vec::with_capacity(room(n));
                    let mut last: u16 = 0;
                    for _ in 0..n {
                        last = last.checked_add(u16::try_from(get_varint(&mut take)?).ok()?)?;
                        let count = u32::try_from(get_varint(&mut take)?).ok()?;
                        if keep {
                            hist.push((last, count));
                        }
                    }
                    let n = get_varint(&mut take)?;
                    let mut groups = Vec::with_capacity(room(n));
                    let mut last: u16 = 0;
                    for _ in 0..n {
                        last = last.checked_add(u16::try_from(get_varint(&mut take)?).ok()?)?;
                        if keep {
                            groups.push(last);
                        }
                    }
                    *blocked = Some(Blocked {
                        count,
                        sum,
                        median: (median != Millis::MIN).then_some(median),
                        hist,
                        groups,
                    });
                }
                _ => return None,
            }
        }
        let [delays, business_delays, first_delays] = lists;
        let [messages, conversations, requests, answered, surveys_sent, ratings, rating_sum, satisfied] =
            counters;
        Some(Part {
            messages,
            conversations,
            requests,
            answered,
            delays,
            business_delays,
            first_delays,
            surveys_sent,
            ratings,
            rating_sum,
            satisfied,
            blocked,
        })
    }

    /// The figures of a window made of these counts and the statistics of its three kinds of
    /// delay (response, business hours, first response); `pending` counts its requests neither
    /// answered nor past the deadline at `now` (always 0 for an agent).
    pub fn figures_with(&self, w: Window, pending: u64, stats: [DelayStats; 3]) -> Figures {
        let [response_delay, business_hours_delay, first_response] = stats;
        Figures {
            window: Some(w),
            messages_received: self.messages,
            conversations: self.conversations,
            requests: self.requests,
            answered: self.answered,
            unanswered: self.requests - self.answered - pending,
            pending,
            response_delay,
            business_hours_delay,
            first_response,
            surveys_sent: self.surveys_sent,
            ratings: self.ratings,
            rating_sum: self.rating_sum,
            satisfied: self.satisfied,
        }
    }

    /// One point of the daily series. The delays must be sorted (`sort`).
    pub fn day_point(&self, day: NaiveDate) -> DayPoint {
        DayPoint {
            day,
            messages_received: self.messages,
            requests: self.requests,
            answered: self.answered,
            median_delay_ms: match &self.blocked[0] {
                Some(b) => b.median,
                None => nearest_rank(&self.delays, 50),
            },
            surveys_sent: self.surveys_sent,
            ratings: self.ratings,
            csat: Ratio::new(self.satisfied, self.ratings).map(Ratio::value),
        }
    }
}

/// Delays of a large day of a guild, of one kind, from a first bucket on (`domain::percentile`).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: u8,
    pub first: u16,
    pub data: Vec<u8>,
}

/// A guild's part and each agent's, over one day or one time range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Piece {
    pub guild: Part,
    pub agents: BTreeMap<String, Part>,
}

impl Piece {
    pub fn merge(&mut self, o: &Piece) {
        self.guild.merge(&o.guild);
        for (id, p) in &o.agents {
            self.agents.entry(id.clone()).or_default().merge(p);
        }
    }

    pub fn sort(&mut self) {
        self.guild.sort();
        self.agents.values_mut().for_each(Part::sort);
    }

    /// Moves the delays of each kind the guild has more than `inline_max` of into blocks,
    /// tagged with the answering agent's index among `agents`; returns the blocks. The parts
    /// keep their counts per bucket. Delays must be sorted (`sort`).
    pub fn block_out(&mut self, inline_max: usize) -> Vec<Block> {
        let mut out = Vec::new();
        if self.agents.len() > u16::MAX as usize {
            return out;
        }
        for kind in 0..3 {
            let n = self.guild.list(kind).len();
            if n <= inline_max {
                continue;
            }
            // Every delay is an answered request's, so it is some agent's: if not (never
            // written so), the day keeps its delays.
            let mut tagged: Vec<(Millis, u16)> = self
                .agents
                .values()
                .enumerate()
                .flat_map(|(i, p)| p.list(kind).iter().map(move |&v| (v, i as u16)))
                .collect();
            if tagged.len() != n {
                continue;
            }
            tagged.sort_unstable();
            let (groups, blocks) = make_blocks(&tagged);
            self.guild.blocked[kind] = Some(Blocked::of(self.guild.list(kind), groups));
            self.guild.list_mut(kind).clear();
            for p in self.agents.values_mut() {
                p.blocked[kind] = Some(Blocked::of(p.list(kind), Vec::new()));
                p.list_mut(kind).clear();
            }
            out.extend(blocks.into_iter().map(|(first, data)| Block {
                kind: kind as u8,
                first,
                data,
            }));
        }
        out
    }

    /// The agents' parts in one blob: a count, then per agent its id and its encoded part,
    /// each after its length, so that one agent's part is found without decoding the others.
    pub fn encode_agents(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.agents.len() as u32).to_le_bytes());
        for (id, part) in &self.agents {
            let bytes = part.encode();
            out.extend_from_slice(&(id.len() as u32).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(&bytes);
        }
        out
    }

    /// Each (agent id, encoded part) of a blob from `encode_agents`; `None` if it is corrupt.
    pub fn agent_entries(blob: &[u8]) -> Option<Vec<(&str, &[u8])>> {
        let mut r = blob;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, tail) = r.split_at_checked(n)?;
            r = tail;
            Some(head)
        };
        let count = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let mut out = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            let id = std::str::from_utf8(take(n)?).ok()?;
            let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            out.push((id, take(n)?));
        }
        Some(out)
    }

    /// Decodes every agent's part of a blob from `encode_agents`.
    pub fn decode_agents(blob: &[u8]) -> Option<BTreeMap<String, Part>> {
        Piece::agent_entries(blob)?
            .into_iter()
            .map(|(id, bytes)| Some((id.to_string(), Part::decode(bytes)?)))
            .collect()
    }
}

/// One request, as its place's replay found it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestFact {
    pub start: Millis,
    pub start_id: String,
    pub answer_at: Option<Millis>,
    pub agent_id: Option<String>,
    pub is_first: bool,
    /// The part of the delay inside business hours (set when answered).
    pub business_ms: Option<Millis>,
}

/// One conversation: named by the id of the message that opened it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationFact {
    pub id: String,
    pub opened_at: Millis,
    /// Its customer messages' times, ascending.
    pub messages: Vec<Millis>,
    pub requests: Vec<RequestFact>,
    /// The agents who answered a request of it (at any time).
    pub agents: BTreeSet<String>,
}

impl ConversationFact {
    fn times(&self) -> impl Iterator<Item = Millis> + '_ {
        std::iter::once(self.opened_at)
            .chain(self.messages.iter().copied())
            .chain(self.requests.iter().map(|r| r.start))
    }
}

/// A survey that counts as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SurveyFact {
    pub survey_id: String,
    pub sent_at: Millis,
    pub agent_id: Option<String>,
    pub rating: Option<u8>,
}

/// Everything one place contributes to its guild's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceFacts {
    pub conversations: Vec<ConversationFact>,
    pub surveys: Vec<SurveyFact>,
}

impl PlaceFacts {
    /// Replays one place's events under its guild's rules. The flag is false when the place
    /// is not regular (see the module's documentation): its facts cannot stand for it then.
    pub fn derive(events: &[Event], rules: &GuildRules) -> (PlaceFacts, bool) {
        let lookup = |_: &str| rules;
        let tl = Timeline::build(events, None, &lookup);
        let agent_messages: HashSet<&str> = events
            .iter()
            .filter(|e| e.kind == EventKind::AgentMessage)
            .map(|e| e.id.as_str())
            .collect();
        let sent: HashSet<&str> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::SurveySent { survey_id, .. } => Some(survey_id.as_str()),
                _ => None,
            })
            .collect();
        let regular = tl
            .surveys
            .iter()
            .all(|s| agent_messages.contains(s.answer_message_id.as_str()))
            && events.iter().all(|e| match &e.kind {
                EventKind::Rating { survey_id, .. } | EventKind::Comment { survey_id, .. } => {
                    sent.contains(survey_id.as_str())
                }
                _ => true,
            });

        let mut conversations: Vec<ConversationFact> = tl
            .conversations
            .iter()
            .map(|c| ConversationFact {
                id: c.opened_by.clone(),
                opened_at: c.opened_at,
                messages: Vec::new(),
                requests: Vec::new(),
                agents: BTreeSet::new(),
            })
            .collect();
        for m in &tl.customer_messages {
            conversations[m.conversation].messages.push(m.at);
        }
        for r in &tl.requests {
            let c = &mut conversations[r.conversation];
            if let Some(a) = &r.answer {
                c.agents.insert(a.agent_id.clone());
            }
            c.requests.push(RequestFact {
                start: r.start,
                start_id: r.start_id.clone(),
                answer_at: r.answer.as_ref().map(|a| a.at),
                agent_id: r.answer.as_ref().map(|a| a.agent_id.clone()),
                is_first: r.is_first,
                business_ms: r.answer.as_ref().map(|a| {
                    rules
                        .business_hours
                        .overlap_ms(&rules.timezone, r.start, a.at)
                }),
            });
        }
        for c in &mut conversations {
            c.messages.sort_unstable();
            c.requests.sort();
        }
        conversations.sort_by(|a, b| a.id.cmp(&b.id));
        let mut surveys: Vec<SurveyFact> = tl
            .surveys
            .iter()
            .filter(|s| s.counts_as_sent())
            .map(|s| SurveyFact {
                survey_id: s.survey_id.clone(),
                sent_at: s.sent_at,
                agent_id: s.agent_id.clone(),
                rating: s.rating.map(|r| r.get()),
            })
            .collect();
        surveys.sort_by(|a, b| a.survey_id.cmp(&b.survey_id));
        (
            PlaceFacts {
                conversations,
                surveys,
            },
            regular,
        )
    }

    /// The local days whose figures differ between `old` and `new` facts of one place: every
    /// day touched by a conversation or survey that changed, before or after the change. A
    /// conversation counts whole, since a new answering agent changes that agent's counts of
    /// all its messages.
    pub fn changed_days(old: &PlaceFacts, new: &PlaceFacts, tz: &Tz) -> BTreeSet<NaiveDate> {
        let conversations = changed(&old.conversations, &new.conversations, |c| &c.id);
        let surveys = changed(&old.surveys, &new.surveys, |s| &s.survey_id);
        conversations
            .into_iter()
            .flat_map(ConversationFact::times)
            .chain(surveys.into_iter().map(|s| s.sent_at))
            .map(|t| local_day(tz, t))
            .collect()
    }
}

/// The items of `old` and of `new` that are not the same, by `key`, on either side: those
/// changed (both versions), removed and added.
fn changed<'a, T: PartialEq>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> &String,
) -> Vec<&'a T> {
    let index = |list: &'a [T]| -> HashMap<&'a String, &'a T> {
        list.iter().map(|x| (key(x), x)).collect()
    };
    let (a, b) = (index(old), index(new));
    let differs = |from: &HashMap<&'a String, &'a T>, to: &HashMap<&'a String, &'a T>| {
        from.iter()
            .filter(|(k, x)| to.get(*k) != Some(*x))
            .map(|(_, x)| *x)
            .collect::<Vec<_>>()
    };
    let mut out = differs(&a, &b);
    out.extend(differs(&b, &a));
    out
}

/// The per-agent figures of a window from each agent's part: the agents with an answer
/// within the deadline or a survey in it, sorted like `kpi::agents`.
/// The per-agent table: each agent's counts with the statistics of their response delays.
pub fn agent_figures(parts: BTreeMap<String, (Part, DelayStats)>) -> Vec<AgentFigures> {
    let mut out: Vec<AgentFigures> = parts
        .into_iter()
        .filter(|(_, (p, _))| p.answered > 0 || p.surveys_sent > 0)
        .map(|(agent_id, (p, response_delay))| AgentFigures {
            agent_id,
            answered: p.answered,
            response_delay,
            surveys_sent: p.surveys_sent,
            ratings: p.ratings,
            rating_sum: p.rating_sum,
            satisfied: p.satisfied,
        })
        .collect();
    out.sort_by(|a, b| {
        b.answered
            .cmp(&a.answered)
            .then_with(|| super::cmp_ids(&a.agent_id, &b.agent_id))
    });
    out
}

/// The rules a guild's facts and day parts depend on: changing any of them rebuilds both.
pub fn rules_affect_rollups(a: &GuildRules, b: &GuildRules) -> bool {
    a.idle_ms != b.idle_ms
        || a.deadline_ms != b.deadline_ms
        || a.survey_close_ms != b.survey_close_ms
        || a.timezone != b.timezone
        || a.business_hours != b.business_hours
}

/// LEB128: seven bits a byte, low bits first.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint<'b>(take: &mut impl FnMut(usize) -> Option<&'b [u8]>) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = take(1)?[0];
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// A day as stored in the rollup tables: `YYYY-MM-DD`, which sorts like the days.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub fn parse_day_key(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(key, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_survives_encoding() {
        let p = Part {
            messages: 7,
            conversations: 2,
            requests: 5,
            answered: 3,
            delays: vec![1, 5, 86_400_000],
            business_delays: vec![0, 5, 3_600_000],
            first_delays: vec![5],
            surveys_sent: 3,
            ratings: 2,
            rating_sum: 9,
            satisfied: 2,
            blocked: Default::default(),
        };
        assert_eq!(Part::decode(&p.encode()), Some(p.clone()));
        let mut big = p.clone();
        big.delays.clear();
        big.blocked[0] = Some(Blocked::of(&[1, 5, 2_000, 86_400_000], vec![0, 7]));
        assert_eq!(Part::decode(&big.encode()), Some(big.clone()));
        // Decoding one kind: the others keep their counts, not their values.
        let mut mixed = p.clone();
        mixed.business_delays.clear();
        mixed.blocked[1] = Some(Blocked::of(&[3, 4_000, 9_000], vec![0, 2]));
        let only_response = Part::decode_kinds(&mixed.encode(), [true, false, false]).unwrap();
        assert_eq!(only_response.delays, mixed.delays);
        assert!(only_response.first_delays.is_empty());
        let b = only_response.blocked[1].as_ref().unwrap();
        assert_eq!(
            (b.count, b.sum, b.hist.len(), b.groups.len()),
            (3, 13_003, 0, 0)
        );
        assert_eq!(
            (only_response.messages, only_response.satisfied),
            (mixed.messages, mixed.satisfied)
        );
        let piece = Piece {
            guild: p.clone(),
            agents: [
                ("a1".to_string(), p.clone()),
                ("b".to_string(), Part::default()),
            ]
            .into(),
        };
        assert_eq!(
            Piece::decode_agents(&piece.encode_agents()),
            Some(piece.agents)
        );
        assert_eq!(Piece::decode_agents(&[1, 0, 0, 0, 9]), None);
        assert_eq!(Part::decode(&p.encode()[..20]), None);
        assert_eq!(Part::decode(&[]), None);
    }

    #[test]
    fn merged_parts_add_up() {
        let mut a = Part {
            requests: 2,
            answered: 1,
            delays: vec![10],
            ..Part::default()
        };
        a.merge(&Part {
            requests: 3,
            answered: 2,
            delays: vec![30, 20],
            ..Part::default()
        });
        let stats = [0, 1, 2].map(|k| DelayStats::from_values(a.list(k).to_vec()));
        let f = a.figures_with(
            Window {
                from: 0,
                to: 1,
                now: 1,
            },
            1,
            stats,
        );
        assert_eq!(
            (f.requests, f.answered, f.unanswered, f.pending),
            (5, 3, 1, 1)
        );
        assert_eq!(f.response_delay.median, Some(20));
        assert_eq!(f.response_delay.sum, 60);
    }
}
