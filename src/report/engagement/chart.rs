//! The engagement report at a glance, as a PNG: engagements per day of posting (this window and
//! the previous one), and the engagement rate of each theme against the previous window.

use crate::domain::engagement::{Report, ThemeFigures};
use crate::domain::kpi::{local_day, Ratio};
use crate::i18n::EngagementTexts;
use crate::report::chart::{draw_err, register_font, ChartError};
use plotters::coord::Shift;
use plotters::prelude::*;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 860;
/// More themes than this would make bars too thin to read; the table and CSV list them all.
const MAX_THEMES: usize = 10;
const CURRENT: RGBColor = RGBColor(66, 133, 244);
const PREVIOUS: RGBColor = RGBColor(189, 189, 189);

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Engagements per local day of posting, this window's days in colour, the previous one's grey.
fn engagements_per_day(area: &Area, r: &Report, t: &EngagementTexts) -> Result<(), ChartError> {
    let days = &r.daily;
    let n = days.len().max(1) as i32;
    let most = days.iter().map(|d| d.engagements).max().unwrap_or(0).max(1);
    // Whole engagements only: one tick per engagement on quiet charts, ten ticks on busy ones.
    let max_y = (most as f64 * 1.15).ceil().max(most as f64 + 1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(t.chart_engagements, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d((0i32..(n - 1).max(1)).into_segmented(), 0f64..max_y)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(days.len().clamp(1, 15))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => days
                .get((*i).max(0) as usize)
                .map(|d| d.day.format("%m-%d").to_string())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_labels((max_y as usize + 1).min(11))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14).into_font())
        .draw()
        .map_err(draw_err)?;
    let first_current = local_day(&r.timezone, r.window.from);
    let bar = |i: usize, value: u64, colour: RGBColor| {
        let i = i as i32;
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), value as f64),
            ],
            colour.filled(),
        );
        bar.set_margin(0, 0, 2, 2);
        bar
    };
    for (current, colour, label) in [
        (false, PREVIOUS, t.chart_previous),
        (true, CURRENT, t.chart_current),
    ] {
        chart
            .draw_series(
                days.iter()
                    .enumerate()
                    .filter(|(_, d)| (d.day >= first_current) == current)
                    .map(|(i, d)| bar(i, d.engagements, colour)),
            )
            .map_err(draw_err)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(draw_err)?;
    Ok(())
}

fn rate_of(themes: &[ThemeFigures], name: &str) -> Option<f64> {
    themes
        .iter()
        .find(|t| t.theme == name)
        .and_then(|t| t.figures.engagement_rate())
        .map(Ratio::value)
}

/// Each theme's engagement rate (the window's most engaged themes, top down), with the previous
/// window's rate of the same theme as a grey bar under it.
fn theme_rates(area: &Area, r: &Report, t: &EngagementTexts) -> Result<(), ChartError> {
    let themes: Vec<&ThemeFigures> = r.current.themes.iter().take(MAX_THEMES).collect();
    let m = themes.len().max(1) as i32;
    let rates: Vec<(Option<f64>, Option<f64>)> = themes
        .iter()
        .map(|th| {
            let cur = th.figures.engagement_rate().map(|x| x.value() * 100.0);
            let prev = rate_of(&r.previous.themes, &th.theme).map(|x| x * 100.0);
            (cur, prev)
        })
        .collect();
    let top = rates
        .iter()
        .flat_map(|(c, p)| [*c, *p])
        .flatten()
        .fold(0.0, f64::max);
    let max_x = if top > 0.0 { top * 1.2 } else { 1.0 };
    // Theme i is drawn at row m - 1 - i, so the most engaged theme is at the top.
    let row_theme = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(row) => themes
            .get((m - 1 - row).max(0) as usize)
            .filter(|_| *row < m)
            .map(|th| super::text::clip(t.theme_name(&th.theme), 22))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(t.chart_theme_rates, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(190)
        .build_cartesian_2d(0f64..max_x, (0i32..(m - 1).max(1)).into_segmented())
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(themes.len().max(1))
        .y_label_formatter(&row_theme)
        .x_labels(8)
        .x_label_formatter(&|x| format!("{x:.1} %"))
        .label_style(("sans-serif", 14).into_font())
        .draw()
        .map_err(draw_err)?;
    let (_, height) = chart.plotting_area().dim_in_pixel();
    let segment = height as f64 / ((m - 1).max(1) + 1) as f64;
    let (outer, split) = ((segment * 0.12) as u32, (segment * 0.5) as u32);
    for (i, (cur, prev)) in rates.iter().enumerate() {
        let row = m - 1 - i as i32;
        let span = |v: f64| {
            [
                (0.0, SegmentValue::Exact(row + 1)),
                (v, SegmentValue::Exact(row)),
            ]
        };
        // The window's bar in the upper half of the theme's row, the previous one's under it,
        // each with its value at its end.
        for (value, colour, top, bottom, dy) in [
            (cur, CURRENT, outer, split, -((segment * 0.19) as i32) - 7),
            (prev, PREVIOUS, split, outer, (segment * 0.19) as i32 - 7),
        ] {
            let Some(v) = value else { continue };
            let mut bar = Rectangle::new(span(*v), colour.filled());
            bar.set_margin(top, bottom, 0, 0);
            chart.draw_series([bar]).map_err(draw_err)?;
            let label = EmptyElement::at((*v, SegmentValue::CenterOf(row)))
                + Text::new(
                    super::text::rate_percent(Some(v / 100.0)),
                    (6, dy),
                    ("sans-serif", 13).into_font().color(&RGBColor(60, 60, 60)),
                );
            chart.draw_series([label]).map_err(draw_err)?;
        }
    }
    Ok(())
}

/// Renders the report's chart as PNG bytes.
pub fn render_png(r: &Report, t: &EngagementTexts) -> Result<Vec<u8>, ChartError> {
    register_font();
    let mut buffer = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let days = &r.daily;
        let title = format!(
            "{} · {} → {}",
            t.title,
            days.first().map(|d| d.day.to_string()).unwrap_or_default(),
            days.last().map(|d| d.day.to_string()).unwrap_or_default()
        );
        let root = root
            .titled(&title, ("sans-serif", 24).into_font())
            .map_err(draw_err)?;
        let (body, footer) = root.split_vertically(HEIGHT - 60);
        let (upper, lower) = body.split_vertically((HEIGHT - 60) * 9 / 20);
        engagements_per_day(&upper, r, t)?;
        theme_rates(&lower, r, t)?;
        footer
            .draw(&Text::new(
                t.chart_note,
                (12, 8),
                ("sans-serif", 14).into_font().color(&RGBColor(90, 90, 90)),
            ))
            .map_err(draw_err)?;
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
