//! Parts (counts, sums and delays that add up across days and time ranges) and pieces (a
//! guild's part with each agent's).

use crate::domain::delay_kind::{ByKind, DelayKind};
use crate::domain::kpi::{DayPoint, Figures, Ratio, Window};
use crate::domain::percentile::{make_blocks, Blocked};
use crate::domain::stats::{nearest_rank, DelayStats};
use crate::domain::Millis;
use chrono::NaiveDate;
use std::collections::BTreeMap;

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
    /// For a stored large day, each kind of delay whose values are in blocks
    /// (`domain::percentile`); its list above is then empty.
    pub blocked: ByKind<Option<Blocked>>,
}

impl Part {
    /// Adds `o` to this part. Only parts whose delays are all in their lists (pieces summed
    /// from facts) merge; a stored day with blocked delays is read through a `Gather`.
    pub fn merge(&mut self, o: &Part) {
        debug_assert!(o.blocked.values().all(Option::is_none));
        self.merge_counts(o);
        self.delays.extend_from_slice(&o.delays);
        self.business_delays.extend_from_slice(&o.business_delays);
        self.first_delays.extend_from_slice(&o.first_delays);
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

    /// The delays of one kind.
    pub fn list(&self, kind: DelayKind) -> &[Millis] {
        match kind {
            DelayKind::Response => &self.delays,
            DelayKind::BusinessHours => &self.business_delays,
            DelayKind::FirstResponse => &self.first_delays,
        }
    }

    pub(super) fn list_mut(&mut self, kind: DelayKind) -> &mut Vec<Millis> {
        match kind {
            DelayKind::Response => &mut self.delays,
            DelayKind::BusinessHours => &mut self.business_delays,
            DelayKind::FirstResponse => &mut self.first_delays,
        }
    }

    /// Sorts the delays, so that a stored day answers its own median without a selection.
    pub fn sort(&mut self) {
        self.delays.sort_unstable();
        self.business_delays.sort_unstable();
        self.first_delays.sort_unstable();
    }

    /// The figures of a window made of these counts and the statistics of each kind of
    /// delay; `pending` counts its requests neither answered nor past the deadline at `now`
    /// (always 0 for an agent).
    pub fn figures_with(&self, w: Window, pending: u64, stats: ByKind<DelayStats>) -> Figures {
        Figures {
            window: Some(w),
            messages_received: self.messages,
            conversations: self.conversations,
            requests: self.requests,
            answered: self.answered,
            unanswered: self.requests - self.answered - pending,
            pending,
            response_delay: stats.response,
            business_hours_delay: stats.business_hours,
            first_response: stats.first_response,
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
            median_delay_ms: match &self.blocked.response {
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
    pub kind: DelayKind,
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
        for kind in DelayKind::ALL {
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
            out.extend(
                blocks
                    .into_iter()
                    .map(|(first, data)| Block { kind, first, data }),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let stats = ByKind::from_fn(|k| DelayStats::from_values(a.list(k).to_vec()));
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
