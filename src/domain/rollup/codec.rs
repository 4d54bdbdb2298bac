//! The byte format of parts and pieces in the rollup tables.

use super::{Part, Piece};
use crate::domain::delay_kind::{ByKind, DelayKind};
use crate::domain::percentile::Blocked;
use crate::domain::Millis;
use std::collections::BTreeMap;

/// 2: delays of large days in blocks (migration 0007 rebuilt the days of format 1).
const PART_FORMAT: u8 = 2;

impl Part {
    /// A compact binary form for the rollup tables: a format byte, the counters, then each
    /// delay list (in `DelayKind::ALL`'s order) as a length and little-endian values, or as
    /// its blocked summary.
    pub fn encode(&self) -> Vec<u8> {
        let values: usize = DelayKind::ALL.iter().map(|&k| self.list(k).len()).sum();
        let mut out = Vec::with_capacity(1 + 8 * 8 + 3 * 4 + values * 8);
        out.push(PART_FORMAT);
        for n in self.counters() {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for (kind, blocked) in self.blocked.iter() {
            match blocked {
                None => {
                    let list = self.list(kind);
                    out.push(0);
                    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
                    for v in list {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
                Some(b) => {
                    out.push(1);
                    encode_blocked(&mut out, b);
                }
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Part> {
        Part::decode_kinds(bytes, ByKind::all(true))
    }

    /// `decode`, keeping the delays (or their buckets) of the kinds in `keep` only: a report's
    /// table of agents reads thousands of agents' days for their response delays alone. The
    /// other kinds keep their count and sum.
    pub fn decode_kinds(bytes: &[u8], keep: ByKind<bool>) -> Option<Part> {
        let mut r = Bytes(bytes);
        if r.take(1)? != [PART_FORMAT] {
            return None;
        }
        let mut counters = [0u64; 8];
        for c in counters.iter_mut() {
            *c = r.u64()?;
        }
        let [messages, conversations, requests, answered, surveys_sent, ratings, rating_sum, satisfied] =
            counters;
        let mut part = Part {
            messages,
            conversations,
            requests,
            answered,
            surveys_sent,
            ratings,
            rating_sum,
            satisfied,
            ..Part::default()
        };
        for kind in DelayKind::ALL {
            match r.take(1)? {
                [0] => {
                    let n = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
                    let raw = r.take(n.checked_mul(8)?)?;
                    if keep[kind] {
                        *part.list_mut(kind) = raw
                            .chunks_exact(8)
                            .map(|c| Millis::from_le_bytes(c.try_into().unwrap_or_default()))
                            .collect();
                    }
                }
                [1] => part.blocked[kind] = Some(decode_blocked(&mut r, keep[kind])?),
                _ => return None,
            }
        }
        Some(part)
    }

    /// The counters, in their encoded order.
    fn counters(&self) -> [u64; 8] {
        [
            self.messages,
            self.conversations,
            self.requests,
            self.answered,
            self.surveys_sent,
            self.ratings,
            self.rating_sum,
            self.satisfied,
        ]
    }
}

/// A blocked kind: its count, sum and median, then its buckets, each as its distance from the
/// previous one, and every number as a varint (a day's agents' parts are mostly these).
fn encode_blocked(out: &mut Vec<u8>, b: &Blocked) {
    out.extend_from_slice(&b.count.to_le_bytes());
    out.extend_from_slice(&b.sum.to_le_bytes());
    out.extend_from_slice(&b.median.unwrap_or(Millis::MIN).to_le_bytes());
    put_varint(out, b.hist.len() as u64);
    let mut last = 0;
    for &(k, n) in &b.hist {
        put_varint(out, (k - last) as u64);
        put_varint(out, n as u64);
        last = k;
    }
    put_varint(out, b.groups.len() as u64);
    let mut last = 0;
    for &g in &b.groups {
        put_varint(out, (g - last) as u64);
        last = g;
    }
}

/// Reads what `encode_blocked` wrote; the buckets and groups only if `keep`.
fn decode_blocked(r: &mut Bytes, keep: bool) -> Option<Blocked> {
    let count = r.u64()?;
    let sum = i128::from_le_bytes(r.take(16)?.try_into().ok()?);
    let median = Millis::from_le_bytes(r.take(8)?.try_into().ok()?);
    let room = |n: u64| if keep { (n as usize).min(1 << 12) } else { 0 };
    let n = r.varint()?;
    let mut hist = Vec::with_capacity(room(n));
    let mut last: u16 = 0;
    for _ in 0..n {
        last = last.checked_add(u16::try_from(r.varint()?).ok()?)?;
        let count = u32::try_from(r.varint()?).ok()?;
        if keep {
            hist.push((last, count));
        }
    }
    let n = r.varint()?;
    let mut groups = Vec::with_capacity(room(n));
    let mut last: u16 = 0;
    for _ in 0..n {
        last = last.checked_add(u16::try_from(r.varint()?).ok()?)?;
        if keep {
            groups.push(last);
        }
    }
    Some(Blocked {
        count,
        sum,
        median: (median != Millis::MIN).then_some(median),
        hist,
        groups,
    })
}

impl Piece {
    /// The agents' parts in one blob: a count, then per agent its id and its encoded part,
    /// each after its length, so that one agent's part is found without decoding the others.
    pub fn encode_agents(&self) -> Vec<u8> {
        encode_entries(self.agents.iter().map(|(id, p)| (id.as_str(), p.encode())))
    }

    /// Each (agent id, encoded part) of a blob from `encode_agents`; `None` if it is corrupt.
    pub fn agent_entries(blob: &[u8]) -> Option<Vec<(&str, &[u8])>> {
        let mut r = Bytes(blob);
        let count = r.u32()? as usize;
        let mut out = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let n = r.u32()? as usize;
            let id = std::str::from_utf8(r.take(n)?).ok()?;
            let n = r.u32()? as usize;
            out.push((id, r.take(n)?));
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

/// Entries (an agent's id, its encoded part) in one blob: a count, then per entry its id and
/// its bytes, each after its length, so that one entry is found without decoding the others.
pub(super) fn encode_entries<'a>(
    entries: impl ExactSizeIterator<Item = (&'a str, Vec<u8>)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (id, bytes) in entries {
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// Encoded bytes, read from the front.
pub(super) struct Bytes<'b>(pub(super) &'b [u8]);

impl<'b> Bytes<'b> {
    /// The next `n` bytes, or `None` if fewer are left.
    pub(super) fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A LEB128 number: seven bits a byte, low bits first.
    pub(super) fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
}

/// LEB128: seven bits a byte, low bits first.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
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
        big.blocked.response = Some(Blocked::of(&[1, 5, 2_000, 86_400_000], vec![0, 7]));
        assert_eq!(Part::decode(&big.encode()), Some(big.clone()));
        // Decoding one kind: the others keep their counts, not their values.
        let mut mixed = p.clone();
        mixed.business_delays.clear();
        mixed.blocked.business_hours = Some(Blocked::of(&[3, 4_000, 9_000], vec![0, 2]));
        let keep = ByKind {
            response: true,
            business_hours: false,
            first_response: false,
        };
        let only_response = Part::decode_kinds(&mixed.encode(), keep).unwrap();
        assert_eq!(only_response.delays, mixed.delays);
        assert!(only_response.first_delays.is_empty());
        let b = only_response.blocked.business_hours.as_ref().unwrap();
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

    /// The byte format is stored: a part encodes to exactly these bytes, so that a change of
    /// format cannot pass unnoticed (it needs a migration of the stored days).
    #[test]
    fn the_encoded_format_stays_the_same() {
        let mut p = Part {
            messages: 1,
            requests: 2,
            delays: vec![3],
            ..Part::default()
        };
        p.blocked.first_response = Some(Blocked {
            count: 1,
            sum: 5,
            median: None,
            hist: vec![(2, 1)],
            groups: vec![2],
        });
        let mut want = vec![PART_FORMAT];
        for n in [1u64, 0, 2, 0, 0, 0, 0, 0] {
            want.extend_from_slice(&n.to_le_bytes());
        }
        want.push(0);
        want.extend_from_slice(&1u32.to_le_bytes());
        want.extend_from_slice(&3i64.to_le_bytes());
        want.push(0);
        want.extend_from_slice(&0u32.to_le_bytes());
        want.push(1);
        want.extend_from_slice(&1u64.to_le_bytes());
        want.extend_from_slice(&5i128.to_le_bytes());
        want.extend_from_slice(&Millis::MIN.to_le_bytes());
        want.extend_from_slice(&[1, 2, 1, 1, 2]);
        assert_eq!(p.encode(), want);
    }
}
