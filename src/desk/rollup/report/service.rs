//! The service levels and heatmap of a report from the rollups: each window's days' service
//! parts and its partial days' (summed from the facts), corrected at the report's `now` for
//! the few requests and conversations that `now` decides (`domain::rollup::levels`).

use super::{Ranges, Reader, Segment};
use crate::domain::kpi::Window;
use crate::domain::rollup::levels::{resolution_status, standing, Standing};
use crate::domain::rollup::{Piece, ServicePart, ServicePiece};
use crate::domain::sla::{
    sla_ms, AgentService, Attainment, Heatmap, ServiceFigures, ServiceLevels, SlaStatus,
};
use crate::domain::stats::DelayStats;
use crate::domain::Millis;
use crate::store::{LiveConversation, Result};
use std::collections::{BTreeMap, HashMap};

/// The unanswered requests read per round at first; each round doubles it.
const FIRST_PAGE: i64 = 256;
const LARGEST_PAGE: i64 = 8192;

/// Unanswered requests still in progress at `now`, per kind (first, next).
#[derive(Debug, Clone, Copy, Default)]
struct InProgress {
    first: u64,
    next: u64,
}

impl Reader<'_> {
    /// The partial days (time ranges) of `w` and of the window before it.
    pub(super) fn service_ranges(&self, w: Window) -> Ranges {
        self.partial_ranges([w, w.previous()])
    }

    /// The service pieces of `ranges` (`read_split`: of the guild's report, each agent's only
    /// on the ranges of `w`, the agents' table's window).
    pub(super) async fn read_service_pieces(
        &self,
        ranges: &[(Millis, Millis)],
        w: Window,
    ) -> Result<HashMap<(Millis, Millis), ServicePiece>> {
        let (store, guild, rules) = (self.store, self.guild, self.rules);
        let read = move |ranges: Ranges, scope| async move {
            store
                .report_service_pieces(guild, &ranges, rules, scope)
                .await
        };
        Ok(self
            .read_split(ranges, w, read)
            .await?
            .into_iter()
            .collect())
    }

    /// The service levels of `w` and the window before it.
    pub(super) async fn service_levels(&self, w: Window) -> Result<ServiceLevels> {
        let previous = w.previous();
        let range = (previous.from, w.to.min(w.now.saturating_add(1)));
        let (progress, live) = tokio::try_join!(
            self.in_progress([w, previous]),
            self.store
                .live_conversations(self.guild, range, w.now, self.agent)
        )?;
        let current_part = self.service_part(w);
        let previous_part = self.service_part(previous);
        Ok(ServiceLevels {
            clock: Some(self.rules.sla.clock),
            current: self.figures(w, &current_part, progress[0], &live),
            previous: self.figures(previous, &previous_part, progress[1], &live),
            agents: self.agents_service(w)?,
            heatmap: self.heatmap(current_part),
            previous_heatmap: self.heatmap(previous_part),
        })
    }

    /// Agent `a`'s service part in a day's encoded agents' parts (empty if absent).
    pub(super) fn agent_service(&self, blob: &[u8], a: &str, day: &str) -> Result<ServicePart> {
        let corrupt = || self.corrupt("agents' service levels", day);
        let entries = Piece::agent_entries(blob).ok_or_else(corrupt)?;
        match entries.into_iter().find(|(id, _)| *id == a) {
            Some((_, bytes)) => ServicePart::decode(bytes).ok_or_else(corrupt),
            None => Ok(ServicePart::default()),
        }
    }

    /// The report's own service part (the guild's or its agent's) summed over `w`.
    fn service_part(&self, w: Window) -> ServicePart {
        let mut out = ServicePart::default();
        for s in self.segments(w) {
            let part = match s {
                Segment::Day(d) => self.days.get(&d).map(|day| &day.service),
                Segment::Range(a, b) => {
                    self.service_pieces
                        .get(&(a, b))
                        .and_then(|p| match self.agent {
                            None => Some(&p.guild),
                            Some(a) => p.agents.get(a),
                        })
                }
            };
            if let Some(p) = part {
                out.merge(p);
            }
        }
        out
    }

    /// The figures of `w` from its summed part: unanswered requests missed but those still
    /// in progress, and the conversations `live` at `now` counted as they stand then instead
    /// of by their final end.
    fn figures(
        &self,
        w: Window,
        part: &ServicePart,
        progress: InProgress,
        live: &[LiveConversation],
    ) -> ServiceFigures {
        let sla = &self.rules.sla;
        let response =
            |target, c: &crate::domain::rollup::levels::TargetCounts, p: u64| Attainment {
                target_ms: target,
                met: c.met,
                missed: c.missed + c.unanswered - p,
                in_progress: p,
            };
        let mut f = ServiceFigures {
            first_response: response(sla.first_response, &part.first, progress.first),
            next_response: response(sla.next_response, &part.next, progress.next),
            resolution: Attainment {
                target_ms: sla.resolution,
                met: part.resolution_met,
                missed: part.resolution_missed,
                in_progress: 0,
            },
            resolved: part.resolved,
            lapsed: part.lapsed,
            open: 0,
            resolution_time: DelayStats::default(),
        };
        let mut times = part.resolution_times.clone();
        let mut removed: HashMap<Millis, usize> = HashMap::new();
        let g = self.rules;
        for c in live.iter().filter(|c| w.contains(c.opened_at)) {
            let finally = standing(g, c.opened_at, &c.ends, None);
            match finally {
                Standing::Resolved(t) => {
                    f.resolved -= 1;
                    *removed.entry(t).or_default() += 1;
                }
                Standing::Lapsed => f.lapsed -= 1,
                Standing::Open => {}
            }
            match resolution_status(g, c.opened_at, finally, None) {
                Some(SlaStatus::Met) => f.resolution.met -= 1,
                Some(SlaStatus::Missed) => f.resolution.missed -= 1,
                _ => {}
            }
            let at_now = standing(g, c.opened_at, &c.ends, Some(w.now));
            match at_now {
                Standing::Resolved(t) => {
                    f.resolved += 1;
                    times.push(t);
                }
                Standing::Lapsed => f.lapsed += 1,
                Standing::Open => f.open += 1,
            }
            match resolution_status(g, c.opened_at, at_now, Some(w.now)) {
                Some(SlaStatus::Met) => f.resolution.met += 1,
                Some(SlaStatus::Missed) => f.resolution.missed += 1,
                Some(SlaStatus::InProgress) => f.resolution.in_progress += 1,
                None => {}
            }
        }
        if !removed.is_empty() {
            times.retain(|t| match removed.get_mut(t) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            });
        }
        f.resolution_time = DelayStats::from_values(times);
        f
    }

    /// Each agent's met and missed answers over `w`: the agents credited with one.
    fn agents_service(&self, w: Window) -> Result<BTreeMap<String, AgentService>> {
        let mut sums: BTreeMap<String, ServicePart> = BTreeMap::new();
        match self.agent {
            Some(a) => {
                sums.insert(a.to_string(), self.service_part(w));
            }
            None => {
                for s in self.segments(w) {
                    match s {
                        Segment::Day(d) => {
                            let Some(day) = self.days.get(&d) else {
                                continue;
                            };
                            let entries = Piece::agent_entries(&day.service_agents)
                                .ok_or_else(|| self.corrupt("agents' service levels", d))?;
                            for (id, bytes) in entries {
                                let p = ServicePart::decode_counts(bytes)
                                    .ok_or_else(|| self.corrupt("agents' service levels", d))?;
                                sums.entry(id.to_string()).or_default().merge_counts(&p);
                            }
                        }
                        Segment::Range(a, b) => {
                            if let Some(piece) = self.service_pieces.get(&(a, b)) {
                                for (id, p) in &piece.agents {
                                    sums.entry(id.clone()).or_default().merge_counts(p);
                                }
                            }
                        }
                    }
                }
            }
        }
        let counts = |met, missed| Attainment {
            target_ms: None,
            met,
            missed,
            in_progress: 0,
        };
        Ok(sums
            .into_iter()
            .filter(|(_, p)| p.first.met + p.first.missed + p.next.met + p.next.missed > 0)
            .map(|(id, p)| {
                let s = AgentService {
                    first_response: counts(p.first.met, p.first.missed),
                    next_response: counts(p.next.met, p.next.missed),
                };
                (id, s)
            })
            .collect())
    }

    fn heatmap(&self, mut part: ServicePart) -> Heatmap {
        let mut requests = [[0u64; 24]; 7];
        for (&cell, &n) in &part.heat {
            let (day, hour) = (cell as usize / 24, cell as usize % 24);
            if let Some(slot) = requests.get_mut(day).and_then(|d| d.get_mut(hour)) {
                *slot += n;
            }
        }
        let mut median_delay_ms_by_hour = [None; 24];
        for (&hour, delays) in &mut part.heat_delays {
            if let Some(slot) = median_delay_ms_by_hour.get_mut(hour as usize) {
                *slot = DelayStats::median_of(delays);
            }
        }
        Heatmap {
            timezone: self.rules.timezone,
            requests,
            median_delay_ms_by_hour,
        }
    }

    /// Per window, its unanswered requests still within their target at its `now` (all the
    /// windows share it). The SLA clock of an unanswered request only grows as its start goes
    /// back in time, so they are read newest first until one has run past every target.
    async fn in_progress(&self, windows: [Window; 2]) -> Result<[InProgress; 2]> {
        let mut out = [InProgress::default(); 2];
        let sla = &self.rules.sla;
        let longest = [sla.first_response, sla.next_response]
            .into_iter()
            .flatten()
            .max();
        let (Some(longest), None) = (longest, self.agent) else {
            // No response target; or one agent's report, whose requests are all answered.
            return Ok(out);
        };
        let now = windows[0].now;
        let from = windows.iter().map(|w| w.from).min().unwrap_or(now);
        let mut before = windows
            .iter()
            .map(|w| w.to.min(now.saturating_add(1)))
            .max()
            .unwrap_or(now);
        let mut limit = FIRST_PAGE;
        loop {
            let page = self
                .store
                .unanswered_requests(self.guild, from, before, limit)
                .await?;
            let full = page.len() as i64 == limit;
            // A full page may end inside a run of equal starts: those are read again, whole,
            // by the next round (or, when the whole page is one run, by a larger page).
            let cut = page.last().map(|r| r.0).filter(|_| full);
            if full && page.first().map(|r| r.0) == cut {
                limit = (limit * 2).min(i64::MAX / 2);
                continue;
            }
            for &(start, is_first) in &page {
                if Some(start) == cut {
                    break;
                }
                let spent = sla_ms(self.rules, start, now);
                if spent > longest {
                    return Ok(out);
                }
                let target = match is_first {
                    true => sla.first_response,
                    false => sla.next_response,
                };
                if target.is_some_and(|t| spent <= t) {
                    for (i, w) in windows.iter().enumerate() {
                        if w.contains(start) {
                            match is_first {
                                true => out[i].first += 1,
                                false => out[i].next += 1,
                            }
                        }
                    }
                }
            }
            match cut {
                Some(c) => before = c + 1,
                None => return Ok(out),
            }
            limit = (limit * 2).min(LARGEST_PAGE.max(limit));
        }
    }
}
