//! The period's charts as SVG drawn on the server (no script, no CDN): requests, median and p90
//! response delay and CSAT per day, each against the previous period (dashed, lighter, aligned
//! by day: day 1 of this period over day 1 of the previous one); the weekday × hour heatmap and
//! the distribution of delays are in `charts/spread.rs`.
//!
//! They tell the truth: value axes start at zero, say their unit, and a period without a value
//! says so in words instead of drawing a flat line. Each chart scales with its box (`viewBox`),
//! so it reads on a phone; exact values are in each point's `<title>` and in the tables.

mod spread;

use super::texts::WebTexts;
use crate::domain::delay_charts::DelayCharts;
use crate::domain::kpi::{local_day, Report, Window};
use crate::domain::{Millis, HOUR, MINUTE};
use crate::i18n::Texts;
use chrono::NaiveDate;
use maud::{html, Markup, PreEscaped};
use std::fmt::Write;

pub use spread::{distribution, heatmap};

const W: f64 = 640.0;
const H: f64 = 200.0;
/// Room for the value labels on the left and the days below.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;
/// Room for the unit above the value axis.
const TOP: f64 = 22.0;
/// Room for the last day's label.
const RIGHT: f64 = 16.0;

pub(super) const CURRENT: &str = "#4752c4";
pub(super) const PREVIOUS: &str = "#9aa1b0";
pub(super) const MEDIAN: &str = "#d9730d";
const P90: &str = "#b3261e";
const CSAT: &str = "#1a7f37";

/// Text escaped for SVG written by hand (as maud escapes HTML).
pub(super) fn esc(s: &str) -> String {
    html! { (s) }.into_string()
}

/// This period's days and the previous period's, the same count, day `i` of one facing day `i`
/// of the other.
pub struct Aligned<T> {
    pub days: Vec<NaiveDate>,
    pub current: Vec<Option<T>>,
    pub previous: Vec<Option<T>>,
}

/// The local days a window touches (its last instant counted up to `now`).
fn days_of(w: Window, tz: &chrono_tz::Tz) -> (NaiveDate, NaiveDate) {
    let end = w.to.min(w.now.saturating_add(1)).max(w.from + 1);
    (local_day(tz, w.from), local_day(tz, end - 1))
}

/// Lines the series (`day`, value) up by day offset: this period from its first day, the
/// previous one from its first day.
pub fn align<T: Clone>(series: &[(NaiveDate, T)], w: Window, tz: &chrono_tz::Tz) -> Aligned<T> {
    let (first, last) = days_of(w, tz);
    let (prev_first, _) = days_of(w.previous(), tz);
    let at = |d: NaiveDate| {
        series
            .iter()
            .find(|(day, _)| *day == d)
            .map(|(_, v)| v.clone())
    };
    let n = (last - first).num_days().max(0) as usize + 1;
    let mut out = Aligned {
        days: Vec::with_capacity(n),
        current: Vec::with_capacity(n),
        previous: Vec::with_capacity(n),
    };
    for i in 0..n as i64 {
        let day = first + chrono::Duration::days(i);
        out.days.push(day);
        out.current.push(at(day));
        let before = prev_first + chrono::Duration::days(i);
        out.previous
            .push((before < first).then(|| at(before)).flatten());
    }
    out
}

/// A round step for about four ticks up to `max` (1, 2 or 5 times a power of ten).
pub(super) fn step(max: f64) -> f64 {
    let raw = (max / 4.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// A number as an axis label: no decimal unless the step needs one.
fn tick_label(v: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The frame of a day chart: the value axis from 0 to a round top above `max`, labelled with
/// `unit`, and the days below. Returns the SVG so far and the top value.
struct Frame {
    svg: String,
    top: f64,
    n: usize,
}

impl Frame {
    /// `fixed_top`: the axis' end (100 for percents), else a round value above `max`;
    /// `whole`: counts, whose ticks are whole numbers.
    fn new(
        label: &str,
        max: f64,
        unit: &str,
        days: &[NaiveDate],
        fixed_top: Option<f64>,
        whole: bool,
    ) -> Frame {
        let (top, step) = match fixed_top {
            Some(top) => (top, top / 4.0),
            None => {
                let mut step = step(max.max(1e-9));
                if whole {
                    step = step.max(1.0);
                }
                ((max / step).ceil().max(1.0) * step, step)
            }
        };
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg viewBox="0 0 {W} {}" role="img" aria-label="{}">"#,
            H + BOTTOM,
            esc(label)
        );
        let mut frame = Frame {
            svg,
            top,
            n: days.len().max(1),
        };
        let mut tick = 0.0;
        while tick <= top + 1e-9 {
            let y = frame.y(tick);
            let _ = write!(
                frame.svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e3e6ea"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                W - RIGHT,
                LEFT - 4.0,
                y + 4.0,
                tick_label(tick, step)
            );
            tick += step;
        }
        let _ = write!(
            frame.svg,
            r#"<text x="2" y="12" text-anchor="start">{}</text>"#,
            esc(unit)
        );
        // About twelve day labels; on a phone every other one is hidden (`minor`, app.css),
        // where the text is larger.
        let every = days.len().div_ceil(12).max(1);
        for (i, d) in days.iter().enumerate().filter(|(i, _)| i % every == 0) {
            let minor = if (i / every) % 2 == 1 {
                " class=\"minor\""
            } else {
                ""
            };
            let _ = write!(
                frame.svg,
                r#"<text{minor} x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                frame.x(i),
                H + 15.0,
                d.format("%m-%d")
            );
        }
        frame
    }

    fn y(&self, v: f64) -> f64 {
        H - (v / self.top).clamp(0.0, 1.0) * (H - TOP)
    }

    /// The middle of day `i`'s column.
    fn x(&self, i: usize) -> f64 {
        LEFT + (i as f64 + 0.5) * self.col()
    }

    fn col(&self) -> f64 {
        (W - LEFT - RIGHT) / self.n as f64
    }

    /// A line through the values, broken where a day has none; a dot on each value (a lone
    /// day still shows). `dashed` for the previous period.
    fn line(
        &mut self,
        values: &[Option<f64>],
        colour: &str,
        dashed: bool,
        class: &str,
        days: &[NaiveDate],
        shown: impl Fn(f64) -> String,
    ) {
        let dash = if dashed {
            r#" stroke-dasharray="5 4""#
        } else {
            ""
        };
        let width = if dashed { 1.5 } else { 2.5 };
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => run.push((self.x(i), self.y(*v))),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        for run in runs.iter().filter(|r| r.len() > 1) {
            let points: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = write!(
                self.svg,
                r#"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} points="{}"/>"#,
                points.join(" ")
            );
        }
        let r = if dashed { 2.0 } else { 3.0 };
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let day = days.get(i).map(|d| d.to_string()).unwrap_or_default();
                let _ = write!(
                    self.svg,
                    r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="{r}" fill="{colour}" data-day="{day}" data-value="{v}"><title>{day}: {}</title></circle>"#,
                    self.x(i),
                    self.y(*v),
                    esc(&shown(*v))
                );
            }
        }
    }

    fn finish(mut self) -> Markup {
        let _ = write!(
            self.svg,
            r##"<line x1="{LEFT}" y1="{H}" x2="{}" y2="{H}" stroke="#5b6672"/></svg>"##,
            W - RIGHT
        );
        PreEscaped(self.svg)
    }
}

/// The key under a chart: each series' swatch (solid or dashed) and its name.
pub(super) fn legend(entries: &[(&str, bool, String)]) -> Markup {
    html! {
        p.legend {
            @for (colour, dashed, name) in entries {
                span.key {
                    svg width="28" height="10" viewBox="0 0 28 10" aria-hidden="true" {
                        line x1="0" y1="5" x2="28" y2="5" stroke=(colour) stroke-width="3"
                            stroke-dasharray=[dashed.then_some("5 4")] {}
                    }
                    " " (name)
                }
                " "
            }
        }
    }
}

/// "this period (11-01 → 11-07)" and "previous period (10-25 → 10-31)".
fn period_names(w: Window, tz: &chrono_tz::Tz, t: &WebTexts) -> (String, String) {
    let name = |label: &str, win: Window| {
        let (a, b) = days_of(win, tz);
        format!("{label} ({} → {})", a.format("%m-%d"), b.format("%m-%d"))
    };
    (
        name(t.this_period, w),
        name(t.previous_period, w.previous()),
    )
}

fn no_data(t: &WebTexts) -> Markup {
    html! { p.muted.no-data { (t.no_data) } }
}

/// Minutes, or hours when the slowest value is over ten hours.
pub(super) fn delay_unit(slowest: Millis) -> (&'static str, f64) {
    if slowest > 10 * HOUR {
        ("h", HOUR as f64)
    } else {
        ("min", MINUTE as f64)
    }
}

/// Requests per day: this period as bars, the previous one as a dashed line.
pub fn requests(r: &Report, t: &WebTexts) -> Markup {
    let series: Vec<(NaiveDate, f64)> =
        r.daily.iter().map(|d| (d.day, d.requests as f64)).collect();
    let a = align(&series, r.window, &r.timezone);
    let any = |v: &[Option<f64>]| v.iter().flatten().any(|x| *x > 0.0);
    if !any(&a.current) && !any(&a.previous) {
        return no_data(t);
    }
    let max = a
        .current
        .iter()
        .chain(&a.previous)
        .flatten()
        .fold(1.0, |m: f64, v| m.max(*v));
    let mut f = Frame::new(t.daily_requests, max, t.unit_requests, &a.days, None, true);
    let col = f.col();
    for (i, v) in a.current.iter().enumerate() {
        let v = v.unwrap_or(0.0);
        let y = f.y(v);
        let _ = write!(
            f.svg,
            r#"<rect class="bar current" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{CURRENT}" data-day="{}" data-value="{v}"><title>{}: {v}</title></rect>"#,
            f.x(i) - col * 0.35,
            col * 0.7,
            H - y,
            a.days[i],
            a.days[i]
        );
    }
    f.line(&a.previous, PREVIOUS, true, "previous", &a.days, |v| {
        format!("{v}")
    });
    let (cur, prev) = period_names(r.window, &r.timezone, t);
    html! {
        (f.finish())
        (legend(&[(CURRENT, false, cur), (PREVIOUS, true, prev)]))
    }
}

/// Median and p90 response delay per day, this period solid, the previous one dashed.
pub fn delays(r: &Report, dc: &DelayCharts, t: &WebTexts) -> Markup {
    let median: Vec<(NaiveDate, Option<Millis>)> =
        dc.daily.iter().map(|d| (d.day, d.median)).collect();
    let p90: Vec<(NaiveDate, Option<Millis>)> = dc.daily.iter().map(|d| (d.day, d.p90)).collect();
    let (m, p) = (
        align(&median, r.window, &r.timezone),
        align(&p90, r.window, &r.timezone),
    );
    let flat = |v: &[Option<Option<Millis>>]| -> Vec<Option<Millis>> {
        v.iter().map(|x| x.flatten()).collect()
    };
    let (mc, mp, pc, pp) = (
        flat(&m.current),
        flat(&m.previous),
        flat(&p.current),
        flat(&p.previous),
    );
    if mc.iter().chain(&mp).all(Option::is_none) {
        return no_data(t);
    }
    let slowest = pc
        .iter()
        .chain(&pp)
        .chain(&mc)
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
    let (unit, unit_ms) = delay_unit(slowest);
    let scaled = |v: &[Option<Millis>]| -> Vec<Option<f64>> {
        v.iter().map(|x| x.map(|ms| ms as f64 / unit_ms)).collect()
    };
    let shown = |v: f64| crate::report::human_delay(v * unit_ms);
    let mut f = Frame::new(
        t.delay_chart,
        slowest as f64 / unit_ms,
        unit,
        &m.days,
        None,
        false,
    );
    f.line(&scaled(&pp), P90, true, "previous p90", &m.days, shown);
    f.line(
        &scaled(&mp),
        MEDIAN,
        true,
        "previous median",
        &m.days,
        shown,
    );
    f.line(&scaled(&pc), P90, false, "current p90", &m.days, shown);
    f.line(
        &scaled(&mc),
        MEDIAN,
        false,
        "current median",
        &m.days,
        shown,
    );
    let (cur, prev) = period_names(r.window, &r.timezone, t);
    html! {
        (f.finish())
        (legend(&[
            (MEDIAN, false, format!("{} · {cur}", t.median)),
            (P90, false, format!("p90 · {cur}")),
            (MEDIAN, true, format!("{} · {prev}", t.median)),
            (P90, true, format!("p90 · {prev}")),
        ]))
    }
}

/// CSAT per day in percent (0 to 100), this period solid, the previous one dashed.
pub fn csat(r: &Report, t: &WebTexts, rt: &Texts) -> Markup {
    let series: Vec<(NaiveDate, Option<f64>)> = r
        .daily
        .iter()
        .map(|d| (d.day, d.csat.map(|c| c * 100.0)))
        .collect();
    let a = align(&series, r.window, &r.timezone);
    let (cur_v, prev_v): (Vec<Option<f64>>, Vec<Option<f64>>) = (
        a.current.iter().map(|x| x.flatten()).collect(),
        a.previous.iter().map(|x| x.flatten()).collect(),
    );
    if cur_v.iter().chain(&prev_v).all(Option::is_none) {
        return no_data(t);
    }
    let mut f = Frame::new(rt.csat, 100.0, "%", &a.days, Some(100.0), false);
    let shown = |v: f64| format!("{v:.1} %");
    f.line(&prev_v, PREVIOUS, true, "previous", &a.days, shown);
    f.line(&cur_v, CSAT, false, "current", &a.days, shown);
    let (cur, prev) = period_names(r.window, &r.timezone, t);
    html! {
        (f.finish())
        (legend(&[(CSAT, false, cur), (PREVIOUS, true, prev)]))
    }
}

/// Every chart of a report, each in its section, for the overview and an agent's page.
pub fn sections(r: &Report, dc: &DelayCharts, t: &WebTexts, rt: &Texts) -> Markup {
    html! {
        section.chart id="requests-chart" { h2 { (t.daily_requests) } (requests(r, t)) }
        section.chart id="delay-chart" { h2 { (t.delay_chart) } (delays(r, dc, t)) }
        section.chart id="csat-chart" { h2 { (t.csat_chart) } (csat(r, t, rt)) }
        section.chart id="heatmap" { h2 { (rt.heatmap_title) } (heatmap(r, t, rt)) }
        section.chart id="distribution" { h2 { (t.distribution) } (distribution(dc, t)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_time;

    #[test]
    fn the_previous_period_lines_up_by_day_offset() {
        // Dates 11-08 to 11-10 (three whole days) face 11-05 to 11-07.
        let tz = chrono_tz::UTC;
        let w = Window {
            from: parse_time("2026-11-08T00:00:00Z").unwrap(),
            to: parse_time("2026-11-11T00:00:00Z").unwrap(),
            now: parse_time("2026-12-01T00:00:00Z").unwrap(),
        };
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let series: Vec<(NaiveDate, u32)> = (5..=10).map(|d| (day(d), d)).collect();
        let a = align(&series, w, &tz);
        assert_eq!(a.days, [day(8), day(9), day(10)]);
        assert_eq!(a.current, [Some(8), Some(9), Some(10)]);
        assert_eq!(a.previous, [Some(5), Some(6), Some(7)]);
    }

    #[test]
    fn axes_end_on_a_round_value_above_the_largest() {
        assert_eq!(step(7.0), 2.0);
        assert_eq!(step(100.0), 50.0);
        assert_eq!(step(0.3), 0.1);
        let f = Frame::new("x", 7.0, "u", &[], None, false);
        assert_eq!(f.top, 8.0);
        // Counts tick by whole numbers: one request is the top, not 1.0 over 0.25 steps.
        let f = Frame::new("x", 1.0, "u", &[], None, true);
        assert_eq!(f.top, 1.0);
        assert!(!f.svg.contains(">0.5<"), "{}", f.svg);
        assert_eq!(f.y(0.0), H);
    }
}
