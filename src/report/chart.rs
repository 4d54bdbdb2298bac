//! The period at a glance: daily requests (bars), median response delay and CSAT (lines), as a
//! PNG. The font is compiled in, so charts render the same on a server with no fonts installed.

use crate::domain::kpi::{DayPoint, Report};
use crate::i18n::Texts;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use std::sync::Once;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 780;
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
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
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

/// The days that have a value, at the middle of their segment.
fn points(
    days: &[DayPoint],
    value: impl Fn(&DayPoint) -> Option<f64>,
) -> Vec<(SegmentValue<i32>, f64)> {
    days.iter()
        .enumerate()
        .filter_map(|(i, d)| value(d).map(|v| (SegmentValue::CenterOf(i as i32), v)))
        .collect()
}

fn line(
    chart: &mut Panel<'_, '_>,
    points: &[(SegmentValue<i32>, f64)],
    colour: RGBColor,
) -> Result<(), ChartError> {
    chart
        .draw_series(LineSeries::new(
            points.iter().cloned(),
            colour.stroke_width(3),
        ))
        .map_err(draw_err)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|p| Circle::new(p.clone(), 3, colour.filled())),
        )
        .map_err(draw_err)?;
    Ok(())
}

/// Renders the report's daily series as PNG bytes.
pub fn render_png(report: &Report, t: &Texts) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let days = &report.daily;
        let title = format!(
            "{} · {} → {}",
            t.report_title,
            days.first().map(|d| d.day.to_string()).unwrap_or_default(),
            days.last().map(|d| d.day.to_string()).unwrap_or_default()
        );
        let root = root
            .titled(&title, ("sans-serif", 24).into_font())
            .map_err(draw_err)?;
        let panels = root.split_evenly((3, 1));

        // Requests per day, as bars.
        let most = days.iter().map(|d| d.requests).max().unwrap_or(0).max(1);
        // Whole requests only: one tick per request on quiet charts, ten ticks on busy ones.
        let max_req = (most as f64 * 1.15).ceil().max(most as f64 + 1.0);
        let mut chart = panel(
            &panels[0],
            t.chart_requests,
            days,
            max_req,
            (max_req as usize + 1).min(11),
        )?;
        chart
            .draw_series(days.iter().enumerate().map(|(i, d)| {
                let i = i as i32;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), d.requests as f64),
                    ],
                    RGBColor(66, 133, 244).filled(),
                );
                bar.set_margin(0, 0, 2, 2);
                bar
            }))
            .map_err(draw_err)?;

        // Median response delay per day in minutes, and CSAT per day in percent, as lines.
        // Minutes, or hours when the slowest day is over ten hours.
        let slowest = days
            .iter()
            .filter_map(|d| d.median_delay_ms)
            .max()
            .unwrap_or(0);
        let (unit, unit_ms) = if slowest > 10 * 3_600_000 {
            ("h", 3_600_000.0)
        } else {
            ("min", 60_000.0)
        };
        let medians = points(days, |d| d.median_delay_ms.map(|m| m as f64 / unit_ms));
        let max_delay = medians.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
        let caption = t.chart_median_delay.replace("(min)", &format!("({unit})"));
        let mut chart = panel(&panels[1], &caption, days, max_delay, 6)?;
        line(&mut chart, &medians, RGBColor(234, 134, 0))?;
        let csat = points(days, |d| d.csat.map(|c| c * 100.0));
        let mut chart = panel(&panels[2], t.chart_csat, days, 105.0, 11)?;
        line(&mut chart, &csat, RGBColor(52, 168, 83))?;
        root.present().map_err(draw_err)?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&buffer)?;
    }
    Ok(png_bytes)
}
