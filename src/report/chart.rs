//! The period at a glance: daily requests (bars), median response delay and CSAT (lines), as a
//! PNG; and the weekday × hour heatmap (`heatmap`). The font is compiled in, so charts render
//! the same on a server with no fonts installed.
//!
//! The daily chart shades the previous window and marks where this one starts, and draws days
//! the report covers only in part (the first and the last, usually) lighter, with the hours
//! covered: a five-request morning must not read as a collapse.

use crate::domain::kpi::{local_day, local_midnight, series_window, DayPoint, Report};
use crate::domain::HOUR;
use crate::i18n::Texts;
use chrono::Duration;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::Once;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 780;
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

mod heatmap;
pub use heatmap::render_heatmap_png;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("this report has no service levels, hence no heatmap")]
    NoHeatmap,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("encoding the PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        // The font is part of the binary; a failure here would be a build defect, and the chart
        // then simply shows no text rather than failing the report.
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::warn!("the compiled-in chart font could not be loaded");
        }
    });
}

/// Labels sit under the middle of each day's segment.
fn day_label(days: &[DayPoint], v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(i) => days
            .get((*i).max(0) as usize)
            .map(|d| d.day.format("%m-%d").to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

type Panel<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>,
>;

const BLUE_BAR: RGBColor = RGBColor(66, 133, 244);
const GREY_TEXT: RGBColor = RGBColor(90, 90, 90);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// What the daily chart marks besides the figures.
struct Marks {
    /// Per day: how many milliseconds of it the series covers, and how long the day is.
    covered: Vec<(i64, i64)>,
    /// The day in which the report's window starts, and how far into that day.
    boundary: Option<(usize, f64)>,
}

impl Marks {
    fn of(report: &Report) -> Marks {
        let tz = report.timezone;
        let series = series_window(report.window);
        let end = series.to.min(series.now);
        let bounds = |d: &DayPoint| {
            (
                local_midnight(&tz, d.day),
                local_midnight(&tz, d.day + Duration::days(1)),
            )
        };
        let covered = report
            .daily
            .iter()
            .map(|d| {
                let (a, b) = bounds(d);
                ((b.min(end) - a.max(series.from)).clamp(0, b - a), b - a)
            })
            .collect();
        let from = report.window.from;
        let boundary = report
            .daily
            .iter()
            .position(|d| d.day == local_day(&tz, from))
            .filter(|_| from > series.from)
            .map(|i| {
                let (a, b) = bounds(&report.daily[i]);
                (i, (from - a) as f64 / (b - a).max(1) as f64)
            });
        Marks { covered, boundary }
    }

    fn partial(&self, i: usize) -> bool {
        self.covered.get(i).is_some_and(|(c, len)| c < len)
    }
}

/// One of the three stacked panels: a day axis and a value axis from 0 to `max`.
fn panel<'a, 'b>(
    area: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    days: &[DayPoint],
    max: f64,
    y_labels: usize,
) -> Result<Panel<'a, 'b>, ChartError> {
    let n = days.len().max(1) as i32;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(56)
        .build_cartesian_2d((0i32..(n - 1).max(1)).into_segmented(), 0f64..max)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_labels(days.len().clamp(1, 12))
        .x_label_formatter(&|v| day_label(days, v))
        // Counts, minutes and percents read better without a decimal.
        .y_labels(y_labels)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14).into_font())
        // The labelled lines are enough to read a value; finer ones only add noise.
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

/// The pixel column `frac` of the way through day `i`.
fn x_at(chart: &Panel<'_, '_>, i: usize, frac: f64) -> i32 {
    let (x0, _) = chart.backend_coord(&(SegmentValue::Exact(i as i32), 0.0));
    let (x1, _) = chart.backend_coord(&(SegmentValue::Exact(i as i32 + 1), 0.0));
    x0 + ((x1 - x0) as f64 * frac).round() as i32
}

/// Shades the previous window and draws a dashed line where this one starts; `label` writes
/// which side is which.
fn mark_windows(
    canvas: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    chart: &Panel<'_, '_>,
    marks: &Marks,
    t: Option<&Texts>,
) -> Result<(), ChartError> {
    let Some((i, frac)) = marks.boundary else {
        return Ok(());
    };
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let x = x_at(chart, i, frac);
    canvas
        .draw(&Rectangle::new(
            [(xs.start, ys.start), (x, ys.end)],
            BLACK.mix(0.05).filled(),
        ))
        .map_err(draw_err)?;
    canvas
        .draw(&DashedPathElement::new(
            vec![(x, ys.start), (x, ys.end)],
            6,
            4,
            BLACK.mix(0.7).stroke_width(2),
        ))
        .map_err(draw_err)?;
    if let Some(t) = t {
        let style = ("sans-serif", 13).into_font().color(&GREY_TEXT);
        let left = style.pos(Pos::new(HPos::Right, VPos::Top));
        let right = style.pos(Pos::new(HPos::Left, VPos::Top));
        let y = ys.start + 2;
        let text = format!("◀ {}", t.chart_previous_window);
        canvas
            .draw(&Text::new(text, (x - 6, y), left))
            .map_err(draw_err)?;
        let text = format!("{} ▶", t.chart_current_window);
        canvas
            .draw(&Text::new(text, (x + 6, y), right))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The days that have a value, at the middle of their segment.
fn points(
    days: &[DayPoint],
    value: impl Fn(&DayPoint) -> Option<f64>,
) -> Vec<(usize, SegmentValue<i32>, f64)> {
    days.iter()
        .enumerate()
        .filter_map(|(i, d)| value(d).map(|v| (i, SegmentValue::CenterOf(i as i32), v)))
        .collect()
}

/// A line through the points; a partial day's point is hollow.
fn line(
    chart: &mut Panel<'_, '_>,
    points: &[(usize, SegmentValue<i32>, f64)],
    colour: RGBColor,
    marks: &Marks,
) -> Result<(), ChartError> {
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|(_, x, y)| (x.clone(), *y)),
            colour.stroke_width(3),
        ))
        .map_err(draw_err)?;
    chart
        .draw_series(points.iter().map(|(i, x, y)| {
            let style = match marks.partial(*i) {
                true => WHITE.filled(),
                false => colour.filled(),
            };
            Circle::new((x.clone(), *y), 4, style)
        }))
        .map_err(draw_err)?;
    chart
        .draw_series(
            points
                .iter()
                .filter(|(i, _, _)| marks.partial(*i))
                .map(|(_, x, y)| Circle::new((x.clone(), *y), 4, colour.stroke_width(2))),
        )
        .map_err(draw_err)?;
    Ok(())
}

/// Requests per day as bars: partial days lighter, with the hours they cover above them.
fn request_bars(
    canvas: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    chart: &mut Panel<'_, '_>,
    days: &[DayPoint],
    marks: &Marks,
) -> Result<(), ChartError> {
    chart
        .draw_series(days.iter().enumerate().map(|(i, d)| {
            let style = match marks.partial(i) {
                true => BLUE_BAR.mix(0.35).filled(),
                false => BLUE_BAR.filled(),
            };
            let x = i as i32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(x), 0.0),
                    (SegmentValue::Exact(x + 1), d.requests as f64),
                ],
                style,
            );
            bar.set_margin(0, 0, 2, 2);
            bar
        }))
        .map_err(draw_err)?;
    // Only where the bars are wide enough for the text.
    let wide = x_at(chart, 1, 0.0) - x_at(chart, 0, 0.0) >= 30;
    let label = ("sans-serif", 12)
        .into_font()
        .color(&GREY_TEXT)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    for (i, d) in days.iter().enumerate().filter(|(i, _)| marks.partial(*i)) {
        if !wide {
            break;
        }
        let hours = (marks.covered[i].0 as f64 / HOUR as f64).round();
        let (x, y) = chart.backend_coord(&(SegmentValue::CenterOf(i as i32), d.requests as f64));
        canvas
            .draw(&Text::new(
                format!("{hours:.0} h"),
                (x, y - 3),
                label.clone(),
            ))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The key under the panels: what the shading, the dashed line and the light bars mean.
fn legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    t: &Texts,
    marks: &Marks,
) -> Result<(), ChartError> {
    let style = ("sans-serif", 14)
        .into_font()
        .color(&GREY_TEXT)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let y = 12;
    let mut x = 70;
    if marks.boundary.is_some() {
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 22, y + 7)],
            BLACK.mix(0.08).filled(),
        ))
        .map_err(draw_err)?;
        area.draw(&Text::new(
            t.chart_previous_window,
            (x + 30, y),
            style.clone(),
        ))
        .map_err(draw_err)?;
        x += 230;
        area.draw(&DashedPathElement::new(
            vec![(x + 11, y - 9), (x + 11, y + 9)],
            4,
            3,
            BLACK.mix(0.7).stroke_width(2),
        ))
        .map_err(draw_err)?;
        area.draw(&Text::new(
            t.chart_current_window,
            (x + 30, y),
            style.clone(),
        ))
        .map_err(draw_err)?;
        x += 230;
    }
    area.draw(&Rectangle::new(
        [(x, y - 7), (x + 22, y + 7)],
        BLUE_BAR.mix(0.35).filled(),
    ))
    .map_err(draw_err)?;
    area.draw(&Circle::new((x + 40, y), 4, BLUE_BAR.stroke_width(2)))
        .map_err(draw_err)?;
    area.draw(&Text::new(t.chart_partial_day, (x + 54, y), style))
        .map_err(draw_err)?;
    Ok(())
}

/// An RGB buffer as PNG bytes.
fn encode(buffer: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(buffer)?;
    }
    Ok(png_bytes)
}

/// Renders the report's daily series as PNG bytes.
pub fn render_png(report: &Report, t: &Texts) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let canvas = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        canvas.fill(&WHITE).map_err(draw_err)?;
        let days = &report.daily;
        let marks = Marks::of(report);
        let title = format!(
            "{} · {} → {}",
            t.report_title,
            days.first().map(|d| d.day.to_string()).unwrap_or_default(),
            days.last().map(|d| d.day.to_string()).unwrap_or_default()
        );
        let root = canvas
            .titled(&title, ("sans-serif", 24).into_font())
            .map_err(draw_err)?;
        let (body, key) = root.split_vertically(root.dim_in_pixel().1 - 28);
        let panels = body.split_evenly((3, 1));

        // Requests per day, as bars.
        let most = days.iter().map(|d| d.requests).max().unwrap_or(0).max(1);
        // Whole requests only: one tick per request on quiet charts, a few on busy ones.
        let max_req = (most as f64 * 1.15).ceil().max(most as f64 + 1.0);
        let mut chart = panel(
            &panels[0],
            t.chart_requests,
            days,
            max_req,
            (max_req as usize + 1).min(6),
        )?;
        mark_windows(&canvas, &chart, &marks, Some(t))?;
        request_bars(&canvas, &mut chart, days, &marks)?;

        // Median response delay per day in minutes, and CSAT per day in percent, as lines.
        // Minutes, or hours when the slowest day is over ten hours.
        let slowest = days
            .iter()
            .filter_map(|d| d.median_delay_ms)
            .max()
            .unwrap_or(0);
        let (unit, unit_ms) = if slowest > 10 * HOUR {
            ("h", HOUR as f64)
        } else {
            ("min", 60_000.0)
        };
        let medians = points(days, |d| d.median_delay_ms.map(|m| m as f64 / unit_ms));
        let max_delay = medians.iter().map(|p| p.2).fold(1.0, f64::max) * 1.15;
        let caption = t.chart_median_delay.replace("(min)", &format!("({unit})"));
        let mut chart = panel(&panels[1], &caption, days, max_delay, 6)?;
        mark_windows(&canvas, &chart, &marks, None)?;
        line(&mut chart, &medians, RGBColor(234, 134, 0), &marks)?;
        let csat = points(days, |d| d.csat.map(|c| c * 100.0));
        let mut chart = panel(&panels[2], t.chart_csat, days, 105.0, 6)?;
        mark_windows(&canvas, &chart, &marks, None)?;
        line(&mut chart, &csat, RGBColor(52, 168, 83), &marks)?;
        legend(&key, t, &marks)?;
        canvas.present().map_err(draw_err)?;
    }
    encode(&buffer, WIDTH, HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kpi::{Scope, Window};
    use crate::domain::{parse_time, GuildRules};

    fn report(from: &str, to: &str, zone: &str) -> Report {
        let t = |s: &str| parse_time(s).unwrap();
        let rules = GuildRules {
            timezone: zone.parse().unwrap(),
            ..GuildRules::default()
        };
        let w = Window {
            from: t(from),
            to: t(to),
            now: t(to),
        };
        crate::desk::build_report(&[], &Default::default(), &rules, &Scope::default(), w)
    }

    #[test]
    fn the_first_and_last_days_are_partial_and_the_window_starts_inside_its_first_day() {
        // The window is [11-05 08:00, 11-08 12:00) UTC; the series adds the previous window of
        // the same length, from 11-02 04:00: 20 h of 11-02, full days to 11-07, 12 h of 11-08.
        let r = report("2026-11-05T08:00:00Z", "2026-11-08T12:00:00Z", "UTC");
        let marks = Marks::of(&r);
        assert_eq!(r.daily.len(), 7);
        let hours: Vec<i64> = marks.covered.iter().map(|(c, _)| c / HOUR).collect();
        assert_eq!(hours, [20, 24, 24, 24, 24, 24, 12]);
        let partial: Vec<bool> = (0..7).map(|i| marks.partial(i)).collect();
        assert_eq!(partial, [true, false, false, false, false, false, true]);
        // 11-05 is the fourth day; 08:00 is a third of it.
        assert_eq!(marks.boundary, Some((3, 8.0 / 24.0)));
    }

    #[test]
    fn a_day_is_full_by_its_own_length_on_a_dst_change() {
        // Paris falls back on 2026-10-25: that day lasts 25 h, and all of it is covered.
        let r = report(
            "2026-10-24T22:00:00Z",
            "2026-10-26T23:00:00Z",
            "Europe/Paris",
        );
        let marks = Marks::of(&r);
        let day = r
            .daily
            .iter()
            .position(|d| d.day.to_string() == "2026-10-25")
            .unwrap();
        assert_eq!(marks.covered[day], (25 * HOUR, 25 * HOUR));
        assert!(!marks.partial(day));
        // The window starts at local midnight of 10-25: the boundary is that day's start.
        assert_eq!(marks.boundary, Some((day, 0.0)));
        let png = render_png(&r, &crate::i18n::EN).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
