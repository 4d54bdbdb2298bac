//! When the load comes and how long it waits: the weekday × hour heatmap of the requests (with
//! the median delay by hour under it, on the same columns), and the distribution of response
//! delays over stated buckets, this period beside the previous one.

use super::{delay_unit, esc, legend, no_data, step, CURRENT, MEDIAN, PREVIOUS};
use crate::domain::delay_charts::{DelayCharts, EDGES};
use crate::domain::kpi::Report;
use crate::domain::Millis;
use crate::i18n::Texts;
use crate::web::texts::WebTexts;
use maud::{html, Markup, PreEscaped};
use std::fmt::Write;

const W: f64 = 640.0;
const LEFT: f64 = 40.0;
const ROW: f64 = 22.0;

/// A pale to a deep blue as the count nears the busiest cell's; near white for none.
fn shade(count: u64, most: u64) -> String {
    if count == 0 {
        return "#f4f5f7".into();
    }
    let f = count as f64 / most.max(1) as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(222.0, 8.0),
        mix(235.0, 69.0),
        mix(247.0, 148.0)
    )
}

/// Requests by local weekday (rows, Monday first) and hour (columns), and each hour's median
/// response delay as bars under the same columns.
pub fn heatmap(r: &Report, t: &WebTexts, rt: &Texts) -> Markup {
    let Some(levels) = &r.service_levels else {
        return no_data(t);
    };
    let h = &levels.heatmap;
    let most = h.requests.iter().flatten().copied().max().unwrap_or(0);
    if most == 0 {
        return no_data(t);
    }
    let col = (W - LEFT) / 24.0;
    let grid_h = 7.0 * ROW;
    let delay_top = grid_h + 30.0;
    let delay_h = 60.0;
    let total_h = delay_top + delay_h + 18.0;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {W} {total_h}" role="img" aria-label="{}">"#,
        esc(rt.heatmap_title)
    );
    for (day, hours) in h.requests.iter().enumerate() {
        let y = day as f64 * ROW;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 4.0,
            y + ROW * 0.65,
            esc(rt.weekdays[day])
        );
        for (hour, &count) in hours.iter().enumerate() {
            let x = LEFT + hour as f64 * col;
            let _ = write!(
                svg,
                r#"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}" data-weekday="{day}" data-hour="{hour}" data-value="{count}"><title>{} {hour:02}:00: {count}</title></rect>"#,
                col - 1.0,
                ROW - 1.0,
                shade(count, most),
                esc(rt.weekdays[day])
            );
            if count > 0 {
                let ink = if count * 2 > most { "#fff" } else { "#1d232b" };
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" style="fill:{ink};font-size:9px">{count}</text>"#,
                    x + col / 2.0,
                    y + ROW * 0.65
                );
            }
        }
    }
    for hour in (0..24).step_by(3) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{hour:02}</text>"#,
            LEFT + (hour as f64 + 0.5) * col,
            grid_h + 14.0
        );
    }
    // The median delay of each hour, on the same columns, from zero.
    let slowest = h
        .median_delay_ms_by_hour
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
    let (unit, unit_ms) = delay_unit(slowest);
    let top = {
        let max = (slowest as f64 / unit_ms).max(1e-9);
        let s = step(max);
        (max / s).ceil().max(1.0) * s
    };
    let _ = write!(
        svg,
        r#"<text x="2" y="{:.1}" text-anchor="start">{} ({unit}, 0 … {top})</text>"#,
        delay_top - 6.0,
        esc(t.median_by_hour)
    );
    for (hour, median) in h.median_delay_ms_by_hour.iter().enumerate() {
        let Some(ms) = median else { continue };
        let v = *ms as f64 / unit_ms;
        let bh = (v / top).clamp(0.0, 1.0) * delay_h;
        let _ = write!(
            svg,
            r#"<rect class="hour-delay" x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{MEDIAN}" data-hour="{hour}" data-value="{ms}"><title>{hour:02}:00: {}</title></rect>"#,
            LEFT + hour as f64 * col + 2.0,
            delay_top + delay_h - bh,
            col - 4.0,
            crate::report::human_delay(*ms as f64)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{0:.1}" x2="{W}" y2="{0:.1}" stroke="#5b6672"/></svg>"##,
        delay_top + delay_h
    );
    html! {
        (PreEscaped(svg))
        p.muted { (h.timezone.name()) " · " (rt.heatmap_requests) ": 0 … " (most) }
    }
}

/// A bucket edge as people read it, rounded to the second.
fn edge(ms: Millis) -> String {
    crate::report::human_delay(ms as f64)
}

/// The buckets' names: `< 59 s`, `59 s – 4 min 55 s`, …, `≥ 24 h 28 min`.
pub fn bucket_names() -> Vec<String> {
    let mut out = vec![format!("< {}", edge(EDGES[0]))];
    for pair in EDGES.windows(2) {
        out.push(format!("{} – {}", edge(pair[0]), edge(pair[1])));
    }
    out.push(format!("≥ {}", edge(EDGES[EDGES.len() - 1])));
    out
}

fn share(n: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| n as f64 / total as f64)
}

/// The response delays of the period by bucket, as a share of its answered requests (so that
/// a busy and a quiet period compare), the previous period's beside each; a table with the
/// counts under it.
pub fn distribution(dc: &DelayCharts, t: &WebTexts) -> Markup {
    let (cur_total, prev_total): (u64, u64) = (dc.current.iter().sum(), dc.previous.iter().sum());
    if cur_total == 0 && prev_total == 0 {
        return no_data(t);
    }
    let names = bucket_names();
    let n = names.len();
    let (h, bottom) = (180.0, 18.0);
    let most = dc
        .current
        .iter()
        .zip(&dc.previous)
        .flat_map(|(c, p)| [share(*c, cur_total), share(*p, prev_total)])
        .flatten()
        .fold(0.0, f64::max)
        * 100.0;
    let s = step(most.max(1e-9));
    let top = (most / s).ceil().max(1.0) * s;
    let col = (W - LEFT) / n as f64;
    let y = |pct: f64| h - (pct / top).clamp(0.0, 1.0) * (h - 10.0);
    let mut svg = format!(
        r#"<svg viewBox="0 0 {W} {}" role="img" aria-label="{}">"#,
        h + bottom,
        esc(t.distribution)
    );
    let mut tick = 0.0;
    while tick <= top + 1e-9 {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{W}" y2="{0:.1}" stroke="#e3e6ea"/><text x="{1}" y="{2:.1}" text-anchor="end">{tick:.0} %</text>"##,
            y(tick),
            LEFT - 4.0,
            y(tick) + 4.0
        );
        tick += s;
    }
    for i in 0..n {
        let x = LEFT + i as f64 * col;
        for (k, (counts, total, colour, class)) in [
            (&dc.previous, prev_total, PREVIOUS, "previous"),
            (&dc.current, cur_total, CURRENT, "current"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(v) = share(counts[i], total) else {
                continue;
            };
            let pct = v * 100.0;
            let _ = write!(
                svg,
                r#"<rect class="bar {class}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}" data-bucket="{i}" data-value="{}"><title>{}: {} ({pct:.1} %)</title></rect>"#,
                x + col * (0.1 + 0.4 * k as f64),
                y(pct),
                col * 0.38,
                h - y(pct),
                counts[i],
                esc(&names[i]),
                counts[i]
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x + col / 2.0,
            h + 13.0,
            i + 1
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{h}" x2="{W}" y2="{h}" stroke="#5b6672"/></svg>"##
    );
    let pct = |n: u64, total: u64| crate::report::percent(share(n, total));
    html! {
        (PreEscaped(svg))
        (legend(&[(CURRENT, false, t.this_period.to_string()), (PREVIOUS, false, t.previous_period.to_string())]))
        div.scroll { table.distribution {
            thead { tr { th { "#" } th { (t.delay) } th.num { (t.this_period) } th.num { "%" } th.num { (t.previous_period) } th.num { "%" } } }
            tbody {
                @for (i, name) in names.iter().enumerate() {
                    tr data-bucket=(i) {
                        td { (i + 1) } td { (name) }
                        td.num.value data-value=(dc.current[i]) { (dc.current[i]) }
                        td.num { (pct(dc.current[i], cur_total)) }
                        td.num.muted { (dc.previous[i]) }
                        td.num.muted { (pct(dc.previous[i], prev_total)) }
                    }
                }
            }
        } }
        p.muted { (t.distribution_note) }
        @if cur_total == 0 { p.muted.no-data { (t.no_data) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_state_the_exact_edges() {
        let names = bucket_names();
        assert_eq!(names.len(), EDGES.len() + 1);
        assert_eq!(names[0], "< 59 s");
        assert_eq!(names[1], "59 s – 4 min 55 s");
        assert_eq!(names[6], "≥ 24 h 28 min");
    }
}
