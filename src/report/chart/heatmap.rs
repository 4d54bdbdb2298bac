//! When the load comes: requests by weekday (rows) and hour (columns) in the report's time zone,
//! with the median response delay of each hour drawn underneath on the same columns, so that a
//! busy hour and a slow hour line up.
//!
//! Drawn by hand in pixels rather than with a chart builder: the two parts must share their
//! columns exactly, which two independent charts would not guarantee.

use super::{draw_err, encode, register_font, ChartError, GREY_TEXT};
use crate::domain::kpi::{local_day, Report};
use crate::domain::sla::Heatmap;
use crate::domain::{Millis, HOUR, MINUTE};
use crate::i18n::Texts;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 660;
const LEFT: i32 = 64;
const RIGHT: i32 = 24;
const GRID_TOP: i32 = 64;
const ROW: i32 = 34;
const DELAY_TOP: i32 = 400;
const DELAY_BOTTOM: i32 = 618;
const ORANGE: RGBColor = RGBColor(234, 134, 0);

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn column(hour: usize) -> (i32, i32) {
    let width = (WIDTH as i32 - LEFT - RIGHT) as f64 / 24.0;
    (
        LEFT + (hour as f64 * width).round() as i32,
        LEFT + ((hour + 1) as f64 * width).round() as i32,
    )
}

fn font(size: u32, colour: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(colour)
        .pos(Pos::new(h, v))
}

/// White for none, then from a pale to a deep blue as the count nears the busiest cell's.
fn shade(count: u64, most: u64) -> RGBColor {
    if count == 0 {
        return RGBColor(247, 247, 247);
    }
    let f = count as f64 / most.max(1) as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    RGBColor(mix(222, 8), mix(235, 69), mix(247, 148))
}

fn grid(area: &Area<'_>, h: &Heatmap, t: &Texts) -> Result<(), ChartError> {
    let most = h.requests.iter().flatten().copied().max().unwrap_or(0);
    for (day, hours) in h.requests.iter().enumerate() {
        let y = GRID_TOP + day as i32 * ROW;
        area.draw(&Text::new(
            t.weekdays[day],
            (LEFT - 10, y + ROW / 2),
            font(15, &BLACK, HPos::Right, VPos::Center),
        ))
        .map_err(draw_err)?;
        for (hour, &count) in hours.iter().enumerate() {
            let (x0, x1) = column(hour);
            let fill = shade(count, most);
            area.draw(&Rectangle::new(
                [(x0, y), (x1 - 1, y + ROW - 1)],
                fill.filled(),
            ))
            .map_err(draw_err)?;
            if count > 0 {
                let ink = match count as f64 / most.max(1) as f64 > 0.5 {
                    true => WHITE.to_rgba(),
                    false => BLACK.to_rgba(),
                };
                let ink = RGBColor(ink.0, ink.1, ink.2);
                area.draw(&Text::new(
                    count.to_string(),
                    ((x0 + x1) / 2, y + ROW / 2),
                    font(13, &ink, HPos::Center, VPos::Center),
                ))
                .map_err(draw_err)?;
            }
        }
    }
    let below = GRID_TOP + 7 * ROW + 6;
    hour_labels(area, below)?;
    // The key: the scale's two ends.
    let y = below + 30;
    let note = format!("{} · {}: 0 … {most}", h.timezone.name(), t.heatmap_requests);
    area.draw(&Text::new(
        note,
        (LEFT, y),
        font(14, &GREY_TEXT, HPos::Left, VPos::Center),
    ))
    .map_err(draw_err)?;
    let steps = 10;
    for i in 0..steps {
        let x = WIDTH as i32 - RIGHT - 200 + i * 20;
        let count = (most as f64 * (i + 1) as f64 / steps as f64).ceil() as u64;
        area.draw(&Rectangle::new(
            [(x, y - 8), (x + 19, y + 8)],
            shade(count.max(1), most.max(1)).filled(),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

fn hour_labels(area: &Area<'_>, y: i32) -> Result<(), ChartError> {
    for hour in 0..24 {
        let (x0, x1) = column(hour);
        area.draw(&Text::new(
            format!("{hour:02}"),
            ((x0 + x1) / 2, y),
            font(13, &GREY_TEXT, HPos::Center, VPos::Top),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// A round step for about four ticks up to `max`.
fn step(max: f64) -> f64 {
    let raw = (max / 4.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn delays(area: &Area<'_>, h: &Heatmap, t: &Texts) -> Result<(), ChartError> {
    let slowest = h.median_delay_ms_by_hour.iter().flatten().max().copied();
    let (unit, unit_ms): (&str, Millis) = match slowest {
        Some(ms) if ms > 10 * HOUR => ("h", HOUR),
        _ => ("min", MINUTE),
    };
    let caption = t
        .heatmap_median_delay
        .replace("(min)", &format!("({unit})"));
    area.draw(&Text::new(
        caption,
        (WIDTH as i32 / 2, DELAY_TOP - 30),
        font(18, &BLACK, HPos::Center, VPos::Center),
    ))
    .map_err(draw_err)?;
    let max = slowest
        .map_or(1.0, |ms| ms as f64 / unit_ms as f64)
        .max(1.0);
    let step = step(max);
    let top = (max / step).ceil() * step;
    let y_of = |v: f64| DELAY_BOTTOM - ((v / top) * (DELAY_BOTTOM - DELAY_TOP) as f64) as i32;
    let mut tick = 0.0;
    while tick <= top + 1e-9 {
        let y = y_of(tick);
        area.draw(&PathElement::new(
            vec![(LEFT, y), (WIDTH as i32 - RIGHT, y)],
            RGBColor(225, 225, 225),
        ))
        .map_err(draw_err)?;
        area.draw(&Text::new(
            format!("{tick}"),
            (LEFT - 10, y),
            font(13, &GREY_TEXT, HPos::Right, VPos::Center),
        ))
        .map_err(draw_err)?;
        tick += step;
    }
    for (hour, median) in h.median_delay_ms_by_hour.iter().enumerate() {
        let (x0, x1) = column(hour);
        let Some(ms) = median else {
            area.draw(&Text::new(
                "–",
                ((x0 + x1) / 2, DELAY_BOTTOM - 2),
                font(13, &GREY_TEXT, HPos::Center, VPos::Bottom),
            ))
            .map_err(draw_err)?;
            continue;
        };
        let value = *ms as f64 / unit_ms as f64;
        let y = y_of(value);
        area.draw(&Rectangle::new(
            [(x0 + 4, y), (x1 - 4, DELAY_BOTTOM)],
            ORANGE.filled(),
        ))
        .map_err(draw_err)?;
        let label = match value < 10.0 {
            true => format!("{value:.1}"),
            false => format!("{value:.0}"),
        };
        area.draw(&Text::new(
            label,
            ((x0 + x1) / 2, y - 2),
            font(11, &GREY_TEXT, HPos::Center, VPos::Bottom),
        ))
        .map_err(draw_err)?;
    }
    hour_labels(area, DELAY_BOTTOM + 6)
}

/// The report's heatmap as PNG bytes; `ChartError::NoHeatmap` for a report without one.
pub fn render_heatmap_png(report: &Report, t: &Texts) -> Result<Vec<u8>, ChartError> {
    let Some(levels) = &report.service_levels else {
        return Err(ChartError::NoHeatmap);
    };
    let h = &levels.heatmap;
    register_font();
    let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        area.fill(&WHITE).map_err(draw_err)?;
        let w = report.window;
        let title = format!(
            "{} · {} → {}",
            t.heatmap_title,
            local_day(&h.timezone, w.from),
            local_day(&h.timezone, w.to.min(w.now + 1) - 1)
        );
        area.draw(&Text::new(
            title,
            (WIDTH as i32 / 2, 24),
            font(22, &BLACK, HPos::Center, VPos::Center),
        ))
        .map_err(draw_err)?;
        grid(&area, h, t)?;
        delays(&area, h, t)?;
        area.present().map_err(draw_err)?;
    }
    encode(&buffer, WIDTH, HEIGHT)
}
