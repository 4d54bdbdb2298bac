//! A report's reads from the store: the stored days of its span, the pieces of its partial
//! days (per agent only where the agents' table needs them), the pending requests of its
//! windows, and the delay blocks of its percentiles.

use super::{timed, Blocks, Phases, Ranges, Reader, StoredDay, Windows};
use crate::domain::kpi::{local_day, Window};
use crate::domain::percentile::{decode_block, BlockKey};
use crate::domain::rollup::{day_key, parse_day_key, Part, Piece};
use crate::domain::Millis;
use crate::store::{DayRollup, PieceScope, Result};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

impl<'a> Reader<'a> {
    /// Reads what the report needs from the store: the stored days of its span and the pieces
    /// of its partial days (kept in the reader), and the pending requests of each window.
    pub(super) async fn read(
        &mut self,
        windows: &Windows,
        phases: &mut Phases,
    ) -> Result<Vec<u64>> {
        let w = windows.current;
        let with_figures = windows.with_figures();
        let span_from = [
            windows.previous.from,
            windows.badge.from,
            windows.series.from,
            w.from,
        ]
        .into_iter()
        .min()
        .unwrap_or(w.from);
        let span_to = w.to.max(w.now + 1);
        // Every partial day the report needs, read from the facts in one round.
        let series_days = self.series_days(windows.series).into_iter();
        let mut ranges = self.partial_ranges(
            with_figures
                .into_iter()
                .chain(series_days.map(|(_, dw)| dw)),
        );
        ranges.sort_unstable();
        ranges.dedup();
        let service_ranges = self.service_ranges(w);
        // The stored days, the partial days and the pending requests are independent reads:
        // made at once, on as many connections.
        let (
            (days, days_took),
            (pieces, pieces_took),
            (services, services_took),
            (pending, pending_took),
        ) = tokio::try_join!(
            timed(self.read_days((span_from, span_to), (w.from, w.to.min(w.now + 1)))),
            timed(self.read_pieces(&ranges, w)),
            timed(self.read_service_pieces(&service_ranges, w)),
            timed(self.pending(&with_figures))
        )?;
        self.days = days;
        self.pieces = pieces;
        self.service_pieces = services;
        phases.mark("read");
        phases.within("of which days", days_took);
        phases.within("of which partial days", pieces_took);
        phases.within("of which partial days' service levels", services_took);
        phases.within("of which pending", pending_took);
        Ok(pending)
    }

    /// The requests of each window still pending at its `now`. An agent's late answers are
    /// unanswered, never pending (see `kpi::figures`).
    async fn pending(&self, windows: &[Window]) -> Result<Vec<u64>> {
        if self.agent.is_some() {
            return Ok(vec![0; windows.len()]);
        }
        let deadline = self.rules.deadline_ms;
        let after = windows[0].now - deadline;
        // Only requests started after `now - deadline` can be pending: the range starts
        // there, so that it is scanned alone.
        let ends: Vec<(Millis, Millis)> = windows
            .iter()
            .map(|win| {
                (
                    win.from.max(after + 1),
                    win.to.min(win.now + 1).max(after + 1),
                )
            })
            .collect();
        self.store
            .kpi_pending(self.guild, &ends, after, deadline)
            .await
    }

    /// The stored days of `span`, with every agent's part on those of `agents_span` (an
    /// agent's report needs its own on every day; a guild report, the agents' table, only on
    /// the days of its window).
    async fn read_days(
        &self,
        span: (Millis, Millis),
        agents_span: (Millis, Millis),
    ) -> Result<BTreeMap<NaiveDate, StoredDay>> {
        let mut out = BTreeMap::new();
        let tz = &self.rules.timezone;
        let days = |(from, to): (Millis, Millis)| (local_day(tz, from), local_day(tz, to - 1));
        let (first, last) = match self.agent {
            Some(_) => days(span),
            None => days(agents_span),
        };
        // Two halves read at once, on two connections: the days of a long window are most of
        // a report's reading. A guild report reads the rest of its span without the agents.
        let middle = first + Duration::days((last - first).num_days() / 2);
        let store = self.store;
        let keys = [first, middle, middle + Duration::days(1), last].map(day_key);
        let (whole_first, whole_last) = days(span);
        let whole = [whole_first, whole_last].map(day_key);
        let (early, late, rest) = tokio::try_join!(
            store.stored_days(self.guild, &keys[0], &keys[1], true),
            store.stored_days(self.guild, &keys[2], &keys[3], true),
            async {
                match self.agent {
                    Some(_) => Ok(Vec::new()),
                    None => {
                        store
                            .stored_days(self.guild, &whole[0], &whole[1], false)
                            .await
                    }
                }
            },
        )?;
        // The days with their agents come last, to replace the same days read without.
        for day_rollup in rest.into_iter().chain(early).chain(late) {
            let DayRollup {
                day,
                guild,
                agents,
                service,
                service_agents,
            } = day_rollup;
            let Some(d) = parse_day_key(&day) else {
                continue;
            };
            let agent = match self.agent {
                None => None,
                Some(a) => {
                    let entries = Piece::agent_entries(&agents)
                        .ok_or_else(|| self.corrupt("agents' rollup", &day))?;
                    match entries
                        .into_iter()
                        .enumerate()
                        .find(|(_, (id, _))| *id == a)
                    {
                        Some((i, (_, bytes))) => Some((
                            Part::decode(bytes)
                                .ok_or_else(|| self.corrupt("agents' rollup", &day))?,
                            u16::try_from(i).ok(),
                        )),
                        None => Some((Part::default(), None)),
                    }
                }
            };
            let service = match self.agent {
                None => service,
                Some(a) => self.agent_service(&service_agents, a, &day)?,
            };
            out.insert(
                d,
                StoredDay {
                    guild,
                    agent,
                    agents,
                    service,
                    service_agents,
                },
            );
        }
        Ok(out)
    }

    /// The report's scope for the pieces of its own window.
    fn scope(&self) -> PieceScope<'a> {
        self.agent.map_or(PieceScope::Guild, PieceScope::Agent)
    }

    /// `ranges` split into those that need each agent's part (of the guild's report, those
    /// of `w`, the agents' table's window; of an agent's, all) and the others.
    fn split_ranges(&self, ranges: &[(Millis, Millis)], w: Window) -> (Ranges, Ranges) {
        if self.agent.is_some() {
            return (ranges.to_vec(), Vec::new());
        }
        let own: BTreeSet<(Millis, Millis)> = self.partial_ranges([w]).into_iter().collect();
        ranges.iter().partition(|r| own.contains(r))
    }

    /// What `read` gives for `ranges`, each with its range: in the report's own scope where
    /// `split_ranges` says each agent's part is needed, `GuildOnly` elsewhere (grouping by
    /// agent is most of a partial day's cost); both reads at once.
    pub(super) async fn read_split<T, F, Fut>(
        &self,
        ranges: &[(Millis, Millis)],
        w: Window,
        read: F,
    ) -> Result<Vec<((Millis, Millis), T)>>
    where
        F: Fn(Ranges, PieceScope<'a>) -> Fut,
        Fut: Future<Output = Result<Vec<T>>>,
    {
        let (own, rest) = self.split_ranges(ranges, w);
        let (own_out, rest_out) = tokio::try_join!(read(own.clone(), self.scope()), async {
            match rest.is_empty() {
                true => Ok(Vec::new()),
                false => read(rest.clone(), PieceScope::GuildOnly).await,
            }
        })?;
        Ok(own
            .into_iter()
            .zip(own_out)
            .chain(rest.into_iter().zip(rest_out))
            .collect())
    }

    /// The pieces of `ranges` (`read_split`), their lists sorted.
    async fn read_pieces(
        &self,
        ranges: &[(Millis, Millis)],
        w: Window,
    ) -> Result<HashMap<(Millis, Millis), Piece>> {
        let (store, guild, deadline) = (self.store, self.guild, self.rules.deadline_ms);
        let read = move |ranges: Ranges, scope| async move {
            store.kpi_pieces(guild, &ranges, deadline, scope).await
        };
        let mut out = HashMap::with_capacity(ranges.len());
        for (range, mut p) in self.read_split(ranges, w, read).await? {
            p.sort();
            out.insert(range, p);
        }
        Ok(out)
    }

    /// The delay blocks asked for, decoded.
    pub(super) async fn blocks(&self, keys: &BTreeSet<BlockKey>) -> Result<Blocks> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let asked: Vec<BlockKey> = keys.iter().copied().collect();
        let mut out = HashMap::with_capacity(keys.len());
        // In two halves read at once, as the days.
        let (early, late) = asked.split_at(asked.len() / 2);
        let (early, late) = tokio::try_join!(
            self.store.kpi_blocks(self.guild, early),
            self.store.kpi_blocks(self.guild, late)
        )?;
        for (key, data) in early.into_iter().chain(late) {
            let values = decode_block(&data).ok_or_else(|| self.corrupt("delay block", key.day))?;
            out.insert(key, values);
        }
        Ok(out)
    }
}
