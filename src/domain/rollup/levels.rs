//! Service levels and the heatmap summed per day, like the other figures (`Part`).
//!
//! What depends on `now` is kept apart. A request answered has met or missed its target for
//! good; one without an answer is counted as `unanswered`, and the report tells at its `now`
//! which of them are still in progress (the few whose SLA clock has not run past the target:
//! the newest ones). A conversation is summed as it ends once every timer has run (closed,
//! auto-closed or lapsed: its *final* end, the same as `Conversation::end` at any `now` from
//! its *settling* time on); the report takes out the few not settled at its `now` (`Live`)
//! and counts them as they stand then. The figures are those of `domain::sla` over a replay,
//! which the property tests check on random histories.

use super::codec::{put_varint, Bytes};
use super::FactEnds;
use crate::domain::settings::{GuildRules, SlaClock};
use crate::domain::sla::{sla_ms, SlaStatus};
use crate::domain::Millis;
use chrono::{Datelike, Timelike};
use std::collections::BTreeMap;

/// 1: the first format (migration 0018), every list as varint steps; still read.
const SERVICE_FORMAT_STEPS: u8 = 1;
/// 2: the lists as fixed-width numbers, decoded in bulk (a 90-day report reads about a million
/// heatmap delays: as varint steps, their decoding was a sixth of its instructions).
const SERVICE_FORMAT: u8 = 2;

/// One kind of response target over some requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetCounts {
    /// Answered within the target, on the SLA clock.
    pub met: u64,
    /// Answered later.
    pub missed: u64,
    /// Not answered: missed once the SLA clock runs past the target, in progress until then.
    pub unanswered: u64,
}

/// The service-level counts and the heatmap of a day or a time range, for a guild or one
/// agent (an agent's: the requests it answered, the conversations in which it answered).
/// Nothing is counted against a target the guild does not set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServicePart {
    pub first: TargetCounts,
    pub next: TargetCounts,
    /// Conversations opened, by their final end.
    pub resolved: u64,
    pub lapsed: u64,
    /// Against the resolution target, by their final end.
    pub resolution_met: u64,
    pub resolution_missed: u64,
    /// The resolved ones' resolution times on the SLA clock, ascending.
    pub resolution_times: Vec<Millis>,
    /// Requests started, by local weekday (0 = Monday) × 24 + local hour.
    pub heat: BTreeMap<u8, u64>,
    /// Calendar delays of the requests answered within the deadline, by the local hour of
    /// their start, each list ascending.
    pub heat_delays: BTreeMap<u8, Vec<Millis>>,
}

/// How a conversation stands: closed after `resolution` of SLA clock, lapsed, or open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Resolved(Millis),
    Lapsed,
    Open,
}

/// How a conversation ends at `now` (`Conversation::end`), or, with no `now`, once every
/// timer has run.
pub fn standing(g: &GuildRules, opened: Millis, ends: &FactEnds, now: Option<Millis>) -> Standing {
    let due = |at: Millis| now.is_none_or(|n| at <= n);
    match (ends.close_at, ends.auto_close_at) {
        (Some(at), _) if due(at) => Standing::Resolved(sla_ms(g, opened, at)),
        (_, Some(at)) if due(at) => Standing::Resolved(sla_ms(g, opened, at)),
        _ if due(ends.lapses_at) => Standing::Lapsed,
        _ => Standing::Open,
    }
}

/// When a conversation's final end is its end at `now`: from this time on.
pub fn settles_at(ends: &FactEnds) -> Millis {
    ends.close_at
        .or(ends.auto_close_at)
        .unwrap_or(ends.lapses_at)
}

/// A conversation's standing against the resolution target (`sla::resolution_status`).
pub fn resolution_status(
    g: &GuildRules,
    opened: Millis,
    standing: Standing,
    now: Option<Millis>,
) -> Option<SlaStatus> {
    let target = g.sla.resolution?;
    Some(match standing {
        Standing::Resolved(t) if t <= target => SlaStatus::Met,
        Standing::Resolved(_) | Standing::Lapsed => SlaStatus::Missed,
        Standing::Open => match now {
            Some(now) if sla_ms(g, opened, now) > target => SlaStatus::Missed,
            _ => SlaStatus::InProgress,
        },
    })
}

/// One request as the facts hold it.
#[derive(Debug, Clone, Copy)]
pub struct RequestRow {
    pub start: Millis,
    /// When answered, and the business-hours part of its delay.
    pub answer: Option<(Millis, Option<Millis>)>,
    pub is_first: bool,
}

/// Local weekday × 24 + hour, and the hour, of `t` in the guild's time zone.
pub fn heat_cell(g: &GuildRules, t: Millis) -> Option<(u8, u8)> {
    let local = chrono::DateTime::from_timestamp_millis(t)?.with_timezone(&g.timezone);
    let (day, hour) = (
        local.weekday().num_days_from_monday() as u8,
        local.hour() as u8,
    );
    Some((day * 24 + hour, hour))
}

impl ServicePart {
    pub fn add_request(&mut self, g: &GuildRules, r: &RequestRow) {
        self.add_request_in(g, r, heat_cell(g, r.start));
    }

    /// `add_request`, the request's `heat_cell` given (computed once for the guild and the
    /// agent: a time zone conversion per request is a good part of a refresh's summing).
    fn add_request_in(&mut self, g: &GuildRules, r: &RequestRow, cell: Option<(u8, u8)>) {
        if let Some((cell, hour)) = cell {
            *self.heat.entry(cell).or_default() += 1;
            if let Some((at, _)) = r.answer {
                let delay = at - r.start;
                if delay <= g.deadline_ms {
                    self.heat_delays.entry(hour).or_default().push(delay);
                }
            }
        }
        let (target, counts) = match r.is_first {
            true => (g.sla.first_response, &mut self.first),
            false => (g.sla.next_response, &mut self.next),
        };
        let Some(target) = target else { return };
        match r.answer {
            Some((at, business)) => {
                let sla = match (g.sla.clock, business) {
                    (SlaClock::Business, Some(b)) => b,
                    _ => sla_ms(g, r.start, at),
                };
                match sla <= target {
                    true => counts.met += 1,
                    false => counts.missed += 1,
                }
            }
            None => counts.unanswered += 1,
        }
    }

    /// Counts a conversation opened at `opened` by its final end.
    pub fn add_conversation(&mut self, g: &GuildRules, opened: Millis, ends: &FactEnds) {
        let s = standing(g, opened, ends, None);
        match s {
            Standing::Resolved(t) => {
                self.resolved += 1;
                self.resolution_times.push(t);
            }
            Standing::Lapsed => self.lapsed += 1,
            Standing::Open => {}
        }
        match resolution_status(g, opened, s, None) {
            Some(SlaStatus::Met) => self.resolution_met += 1,
            Some(SlaStatus::Missed) => self.resolution_missed += 1,
            _ => {}
        }
    }

    pub fn merge(&mut self, o: &ServicePart) {
        self.merge_counts(o);
        self.resolution_times.extend_from_slice(&o.resolution_times);
        for (&cell, &n) in &o.heat {
            *self.heat.entry(cell).or_default() += n;
        }
        for (&hour, list) in &o.heat_delays {
            self.heat_delays
                .entry(hour)
                .or_default()
                .extend_from_slice(list);
        }
    }

    /// The counters of `o`, without its lists and heatmap.
    pub fn merge_counts(&mut self, o: &ServicePart) {
        for (a, b) in [(&mut self.first, &o.first), (&mut self.next, &o.next)] {
            a.met += b.met;
            a.missed += b.missed;
            a.unanswered += b.unanswered;
        }
        self.resolved += o.resolved;
        self.lapsed += o.lapsed;
        self.resolution_met += o.resolution_met;
        self.resolution_missed += o.resolution_missed;
    }

    /// Sorts the lists, so that they encode as small steps.
    pub fn sort(&mut self) {
        self.resolution_times.sort_unstable();
        self.heat_delays
            .values_mut()
            .for_each(|l| l.sort_unstable());
    }

    /// A format byte, the counters, then the length of the rest (so that `decode_counts`
    /// skips it): the resolution times, the heatmap's cells and its delays; every number a
    /// varint but the lists' values (`put_list`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![SERVICE_FORMAT];
        for n in self.counters() {
            put_varint(&mut out, n);
        }
        let mut rest = Vec::new();
        put_list(&mut rest, &self.resolution_times);
        put_varint(&mut rest, self.heat.len() as u64);
        for (&cell, &n) in &self.heat {
            rest.push(cell);
            put_varint(&mut rest, n);
        }
        put_varint(&mut rest, self.heat_delays.len() as u64);
        for (&hour, list) in &self.heat_delays {
            rest.push(hour);
            put_list(&mut rest, list);
        }
        put_varint(&mut out, rest.len() as u64);
        out.extend_from_slice(&rest);
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<ServicePart> {
        let (mut part, rest, format) = ServicePart::decode_head(bytes)?;
        let take_sorted = match format {
            SERVICE_FORMAT_STEPS => take_steps,
            _ => take_list,
        };
        let mut r = Bytes(rest);
        part.resolution_times = take_sorted(&mut r)?;
        for _ in 0..r.varint()? {
            let cell = r.take(1)?[0];
            part.heat.insert(cell, r.varint()?);
        }
        for _ in 0..r.varint()? {
            let hour = r.take(1)?[0];
            part.heat_delays.insert(hour, take_sorted(&mut r)?);
        }
        r.0.is_empty().then_some(part)
    }

    /// The counters alone (what the agents' table needs), skipping the lists.
    pub fn decode_counts(bytes: &[u8]) -> Option<ServicePart> {
        ServicePart::decode_head(bytes).map(|(p, _, _)| p)
    }

    /// The counters, the rest's bytes, and the format.
    fn decode_head(bytes: &[u8]) -> Option<(ServicePart, &[u8], u8)> {
        let mut r = Bytes(bytes);
        let format = r.take(1)?[0];
        if format != SERVICE_FORMAT && format != SERVICE_FORMAT_STEPS {
            return None;
        }
        let mut c = [0u64; 10];
        for n in c.iter_mut() {
            *n = r.varint()?;
        }
        let [fm, fx, fu, nm, nx, nu, resolved, lapsed, rm, rx] = c;
        let part = ServicePart {
            first: TargetCounts {
                met: fm,
                missed: fx,
                unanswered: fu,
            },
            next: TargetCounts {
                met: nm,
                missed: nx,
                unanswered: nu,
            },
            resolved,
            lapsed,
            resolution_met: rm,
            resolution_missed: rx,
            ..ServicePart::default()
        };
        let len = usize::try_from(r.varint()?).ok()?;
        let rest = r.take(len)?;
        r.0.is_empty().then_some((part, rest, format))
    }

    fn counters(&self) -> [u64; 10] {
        [
            self.first.met,
            self.first.missed,
            self.first.unanswered,
            self.next.met,
            self.next.missed,
            self.next.unanswered,
            self.resolved,
            self.lapsed,
            self.resolution_met,
            self.resolution_missed,
        ]
    }
}

/// A guild's service part and each agent's, over one day or one time range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServicePiece {
    pub guild: ServicePart,
    pub agents: BTreeMap<String, ServicePart>,
}

impl ServicePiece {
    /// Adds a request: to the guild, and to the agent who answered it.
    pub fn add_request(&mut self, g: &GuildRules, r: &RequestRow, agent: Option<&str>) {
        let cell = heat_cell(g, r.start);
        self.guild.add_request_in(g, r, cell);
        if let (Some(a), Some(_)) = (agent, r.answer) {
            self.agent(a).add_request_in(g, r, cell);
        }
    }

    /// Adds a conversation: to the guild, and to each agent who answered in it.
    pub fn add_conversation<'a>(
        &mut self,
        g: &GuildRules,
        opened: Millis,
        ends: &FactEnds,
        agents: impl IntoIterator<Item = &'a str>,
    ) {
        self.guild.add_conversation(g, opened, ends);
        for a in agents {
            self.agent(a).add_conversation(g, opened, ends);
        }
    }

    fn agent(&mut self, id: &str) -> &mut ServicePart {
        if !self.agents.contains_key(id) {
            self.agents.insert(id.to_string(), ServicePart::default());
        }
        self.agents.get_mut(id).expect("inserted above")
    }

    pub fn sort(&mut self) {
        self.guild.sort();
        self.agents.values_mut().for_each(ServicePart::sort);
    }

    /// The agents' parts in one blob, in the layout of `Piece::encode_agents` (read back with
    /// `Piece::agent_entries`).
    pub fn encode_agents(&self) -> Vec<u8> {
        super::codec::encode_entries(self.agents.iter().map(|(id, p)| (id.as_str(), p.encode())))
    }
}

/// Zigzag, so that a (never expected) negative value still encodes.
#[cfg(test)]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A list: its length, the width of its values (4 bytes when they all fit, else 8), then the
/// values, little-endian.
fn put_list(out: &mut Vec<u8>, list: &[Millis]) {
    put_varint(out, list.len() as u64);
    if list.iter().all(|&v| i32::try_from(v).is_ok()) {
        out.push(4);
        for &v in list {
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
    } else {
        out.push(8);
        for &v in list {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

fn take_list(r: &mut Bytes) -> Option<Vec<Millis>> {
    let n = usize::try_from(r.varint()?).ok()?;
    let width = r.take(1)?[0];
    let bytes = r.take(n.checked_mul(usize::from(width))?)?;
    match width {
        4 => Some(
            bytes
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as Millis)
                .collect(),
        ),
        8 => Some(
            bytes
                .chunks_exact(8)
                .map(|c| Millis::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        _ => None,
    }
}

/// A sorted list of format 1: its length, then each value's step from the one before (from 0).
#[cfg(test)]
fn put_sorted(out: &mut Vec<u8>, list: &[Millis]) {
    put_varint(out, list.len() as u64);
    let mut last = 0i64;
    for &v in list {
        put_varint(out, zigzag(v.wrapping_sub(last)));
        last = v;
    }
}

fn take_steps(r: &mut Bytes) -> Option<Vec<Millis>> {
    let n = usize::try_from(r.varint()?).ok()?;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    let mut last = 0i64;
    for _ in 0..n {
        last = last.wrapping_add(unzigzag(r.varint()?));
        out.push(last);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::SlaRules;

    const MIN: Millis = 60_000;

    fn rules() -> GuildRules {
        GuildRules {
            sla: SlaRules {
                first_response: Some(5 * MIN),
                next_response: Some(30 * MIN),
                resolution: Some(60 * MIN),
                ..SlaRules::default()
            },
            ..GuildRules::default()
        }
    }

    #[test]
    fn a_part_survives_encoding_and_its_counts_decode_alone() {
        let g = rules();
        let mut p = ServicePart::default();
        // Monday 2026-11-30 10:00 UTC.
        let t = 1_796_032_800_000;
        p.add_request(
            &g,
            &RequestRow {
                start: t,
                answer: Some((t + 2 * MIN, None)),
                is_first: true,
            },
        );
        p.add_request(
            &g,
            &RequestRow {
                start: t + MIN,
                answer: Some((t + 45 * MIN, None)),
                is_first: false,
            },
        );
        p.add_request(
            &g,
            &RequestRow {
                start: t + 2 * MIN,
                answer: None,
                is_first: false,
            },
        );
        let ends = FactEnds {
            close_at: Some(t + 50 * MIN),
            auto_close_at: None,
            lapses_at: t + 1_000 * MIN,
        };
        p.add_conversation(&g, t, &ends);
        p.sort();
        assert_eq!(
            (p.first.met, p.next.missed, p.next.unanswered),
            (1, 1, 1),
            "5 min target met in 2, 30 min missed in 44, one unanswered"
        );
        assert_eq!(p.resolution_times, vec![50 * MIN]);
        assert_eq!((p.resolved, p.resolution_met), (1, 1));
        assert_eq!(
            p.heat.get(&10),
            Some(&3),
            "Monday, 10 h: weekday 0 x 24 + 10"
        );
        assert_eq!(p.heat_delays.get(&10), Some(&vec![2 * MIN, 44 * MIN]));
        let bytes = p.encode();
        assert_eq!(ServicePart::decode(&bytes), Some(p.clone()));
        let counts = ServicePart::decode_counts(&bytes).unwrap();
        assert_eq!(counts.counters(), p.counters());
        assert!(counts.heat.is_empty() && counts.resolution_times.is_empty());
        assert_eq!(ServicePart::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(ServicePart::decode(&[]), None);
    }

    #[test]
    fn a_conversation_stands_as_its_first_due_end() {
        let g = rules();
        let ends = FactEnds {
            close_at: None,
            auto_close_at: Some(100 * MIN),
            lapses_at: 90 * MIN,
        };
        assert_eq!(standing(&g, 0, &ends, Some(80 * MIN)), Standing::Open);
        // Lapsed before the auto-close is due, then closed by it.
        assert_eq!(standing(&g, 0, &ends, Some(95 * MIN)), Standing::Lapsed);
        assert_eq!(
            standing(&g, 0, &ends, None),
            Standing::Resolved(100 * MIN),
            "finally auto-closed"
        );
        assert_eq!(settles_at(&ends), 100 * MIN);
        assert_eq!(
            resolution_status(&g, 0, Standing::Open, Some(61 * MIN)),
            Some(SlaStatus::Missed)
        );
        assert_eq!(
            resolution_status(&g, 0, Standing::Open, Some(60 * MIN)),
            Some(SlaStatus::InProgress),
            "within means <="
        );
    }

    #[test]
    fn negative_steps_and_values_survive() {
        let mut out = Vec::new();
        put_sorted(&mut out, &[-5, 0, 7, i64::MAX]);
        assert_eq!(take_steps(&mut Bytes(&out)), Some(vec![-5, 0, 7, i64::MAX]));
        for list in [
            vec![-5, 0, 7, i64::MAX],
            vec![i32::MIN as i64, 0, i32::MAX as i64],
            vec![],
        ] {
            let mut out = Vec::new();
            put_list(&mut out, &list);
            let mut r = Bytes(&out);
            assert_eq!(take_list(&mut r), Some(list.clone()));
            assert!(r.0.is_empty());
            assert_eq!(
                take_list(&mut Bytes(&out[..out.len().saturating_sub(1)])),
                None
            );
        }
    }

    #[test]
    fn a_part_of_the_first_format_still_decodes() {
        // Format 1 written by hand: ten counters, then the rest as varint steps.
        let mut rest = Vec::new();
        put_sorted(&mut rest, &[50 * MIN]);
        put_varint(&mut rest, 1);
        rest.push(10);
        put_varint(&mut rest, 3);
        put_varint(&mut rest, 1);
        rest.push(10);
        put_sorted(&mut rest, &[2 * MIN, 44 * MIN]);
        let mut bytes = vec![SERVICE_FORMAT_STEPS];
        for n in [1, 0, 0, 0, 1, 1, 1, 0, 1, 0] {
            put_varint(&mut bytes, n);
        }
        put_varint(&mut bytes, rest.len() as u64);
        bytes.extend_from_slice(&rest);
        let p = ServicePart::decode(&bytes).unwrap();
        assert_eq!((p.first.met, p.next.missed, p.next.unanswered), (1, 1, 1));
        assert_eq!(p.resolution_times, vec![50 * MIN]);
        assert_eq!(p.heat.get(&10), Some(&3));
        assert_eq!(p.heat_delays.get(&10), Some(&vec![2 * MIN, 44 * MIN]));
        // Written again, it takes the current format and reads back the same.
        assert_eq!(p.encode()[0], SERVICE_FORMAT);
        assert_eq!(ServicePart::decode(&p.encode()), Some(p));
    }
}
