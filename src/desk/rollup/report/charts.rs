//! The dashboard's delay charts (`domain::delay_charts`) from the rollups: the same reads as a
//! report's, each day's median and p90 from the same percentile machinery, the histograms from
//! the stored days' bucket counts. Apart from `report` so that `/stats` pays nothing for them.

use super::{Blocks, Phases, Reader, Windows};
use crate::desk::Desk;
use crate::domain::delay_charts::{self, DayDelays, DelayCharts, EDGES};
use crate::domain::kpi::{self, Report, Scope, Window};
use crate::domain::percentile::{BlockKey, Gather};
use crate::domain::timeline::Timeline;
use crate::store::Result;
use chrono::NaiveDate;
use std::collections::BTreeSet;

impl Desk {
    /// Each day's median and p90 response delay over the report's series window, and the
    /// delays' histograms of `w` and of the window before; from the rollups where they stand
    /// for the scope, else replayed (equal either way: `tests/rollup_property.rs`).
    pub async fn delay_charts(&self, scope: &Scope, w: Window) -> Result<DelayCharts> {
        match self.rollup_delay_charts(scope, w).await? {
            Some(charts) => Ok(charts),
            None => self.replay_delay_charts(scope, w).await,
        }
    }

    /// The report and the delay charts of one page, from one read of the rollups where they
    /// stand for the scope (the stored days, partial days and delay blocks read once for
    /// both), else both replayed.
    pub async fn report_with_delay_charts(
        &self,
        scope: &Scope,
        w: Window,
    ) -> Result<(Report, DelayCharts)> {
        let started = std::time::Instant::now();
        let mut phases = Phases::start();
        let Some((guild, rules)) = self.rollup_guild(scope, w, &mut phases).await? else {
            return tokio::try_join!(
                self.replay_report(scope, w),
                self.replay_delay_charts(scope, w)
            );
        };
        let mut r = Reader::new(&*self.store, guild, scope, &rules);
        let windows = Windows::of(&rules, w);
        let pending = r.read(&windows, &mut phases).await?;
        let days = r.chart_days(&windows);
        let extra: BTreeSet<BlockKey> = days.iter().flat_map(|(_, g)| g.blocks_needed()).collect();
        let (report, blocks) = r
            .report(scope, &windows, &pending, &extra, &mut phases)
            .await?;
        let charts = r.delay_charts(&windows, &days, &blocks)?;
        crate::observe::report_latency(started.elapsed().as_secs_f64());
        Ok((report, charts))
    }

    /// The delay charts replayed from every stored event up to `now`: the reference.
    pub async fn replay_delay_charts(&self, scope: &Scope, w: Window) -> Result<DelayCharts> {
        let events = self
            .store
            .events_until(scope.guild_id.as_deref(), w.now)
            .await?;
        let (all, report_rules) = self.report_rules(scope).await?;
        let defaults = crate::domain::GuildRules::default();
        let lookup = |g: &str| all.get(g).unwrap_or(&defaults);
        let tl = Timeline::build(&events, Some(w.now), &lookup);
        let rules = kpi::Rules {
            lookup: &lookup,
            report: &report_rules,
        };
        Ok(delay_charts::delay_charts(&tl, &rules, scope, w))
    }

    /// The delay charts from the rollups, or `None` where they cannot stand for the scope
    /// (as `rollup_report`).
    pub async fn rollup_delay_charts(
        &self,
        scope: &Scope,
        w: Window,
    ) -> Result<Option<DelayCharts>> {
        let mut phases = Phases::start();
        let Some((guild, rules)) = self.rollup_guild(scope, w, &mut phases).await? else {
            return Ok(None);
        };
        let mut r = Reader::new(&*self.store, guild, scope, &rules);
        let windows = Windows::of(&rules, w);
        r.read(&windows, &mut phases).await?;
        let days = r.chart_days(&windows);
        let needed: BTreeSet<BlockKey> = days.iter().flat_map(|(_, g)| g.blocks_needed()).collect();
        let blocks = r.blocks(&needed).await?;
        Ok(Some(r.delay_charts(&windows, &days, &blocks)?))
    }
}

impl Reader<'_> {
    /// Each day of the series window with its response delays, gathered.
    fn chart_days(&self, windows: &Windows) -> Vec<(NaiveDate, Gather<'_>)> {
        self.series_days(windows.series)
            .into_iter()
            .map(|(day, dw)| (day, self.gather(dw).1.response))
            .collect()
    }

    /// The charts from the series' days (`chart_days`), given the blocks they need.
    fn delay_charts(
        &self,
        windows: &Windows,
        days: &[(NaiveDate, Gather<'_>)],
        blocks: &Blocks,
    ) -> Result<DelayCharts> {
        let mut daily = Vec::with_capacity(days.len());
        for (day, g) in days {
            let s = self.stats(g, blocks)?;
            daily.push(DayDelays {
                day: *day,
                count: s.count,
                median: s.median,
                p90: s.p90,
            });
        }
        let histogram = |g: &Gather<'_>| g.histogram(delay_charts::slot, EDGES.len() + 1);
        Ok(DelayCharts {
            daily,
            current: histogram(&self.gather(windows.current).1.response),
            previous: histogram(&self.gather(windows.previous).1.response),
        })
    }
}
