//! The report's figures as table rows: each with its JSON name (`data-figure`, as in
//! `reactif stats --format json`), its exact value (`data-value`), its value for people, the
//! previous period's (exact in `data-previous`) and the change, coloured by whether it is better or worse.

use super::texts::WebTexts;
use crate::domain::kpi::{Figures, Report};
use crate::domain::stats::DelayStats;
use crate::i18n::Texts;
use crate::report::text::{ratio, trend_count, trend_delay, trend_points};
use crate::report::{human_delay, human_ms, percent};
use maud::{html, Markup};

/// Which way a figure should go.
#[derive(Clone, Copy)]
enum Good {
    Up,
    Down,
    /// Volumes: neither better nor worse.
    Neither,
}

pub struct Row {
    pub key: String,
    pub label: String,
    /// The exact value, as the JSON report has it (empty when it has `null`).
    pub raw: String,
    pub shown: String,
    /// The previous period's exact value, as the JSON report's `previous` has it.
    pub previous_raw: String,
    pub previous: String,
    pub trend: String,
    good: Good,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn count(key: &str, label: &str, cur: u64, prev: u64, good: Good, t: &Texts) -> Row {
    Row {
        key: key.into(),
        label: label.into(),
        raw: cur.to_string(),
        shown: cur.to_string(),
        previous_raw: prev.to_string(),
        previous: prev.to_string(),
        trend: trend_count(cur, prev, t),
        good,
    }
}

fn fraction(key: &str, label: &str, cur: Option<f64>, prev: Option<f64>) -> Row {
    Row {
        key: key.into(),
        label: label.into(),
        raw: opt(cur),
        shown: percent(cur),
        previous_raw: opt(prev),
        previous: percent(prev),
        trend: trend_points(cur, prev),
        good: Good::Up,
    }
}

fn delays(key: &str, label: &str, cur: &DelayStats, prev: &DelayStats, t: &Texts) -> Vec<Row> {
    let mean = Row {
        key: format!("{key}.mean"),
        label: format!("{label} · {}", t.mean),
        raw: opt(cur.mean),
        shown: cur
            .mean
            .map(human_delay)
            .unwrap_or_else(|| crate::report::NOT_AVAILABLE.into()),
        previous_raw: opt(prev.mean),
        previous: prev
            .mean
            .map(human_delay)
            .unwrap_or_else(|| crate::report::NOT_AVAILABLE.into()),
        trend: trend_delay(cur.mean, prev.mean),
        good: Good::Down,
    };
    let pick = |name: &str, shown_name: &str, c: Option<i64>, p: Option<i64>| Row {
        key: format!("{key}.{name}"),
        label: format!("{label} · {shown_name}"),
        raw: opt(c),
        shown: human_ms(c),
        previous_raw: opt(p),
        previous: human_ms(p),
        trend: trend_delay(c.map(|v| v as f64), p.map(|v| v as f64)),
        good: Good::Down,
    };
    vec![
        mean,
        pick("median", t.median, cur.median, prev.median),
        pick("p90", "p90", cur.p90, prev.p90),
    ]
}

impl Row {
    /// `better`, `worse` or `flat`: the colour of the change.
    pub fn class(&self) -> &'static str {
        let up = self.trend.starts_with('▲');
        let down = self.trend.starts_with('▼');
        match (self.good, up, down) {
            (Good::Up, true, _) | (Good::Down, _, true) => "better",
            (Good::Up, _, true) | (Good::Down, true, _) => "worse",
            _ => "flat",
        }
    }
}

/// Every figure of the report's current period against the previous one, in the order of the
/// text report. Long because it is a list (one entry a figure, read top to bottom like the
/// page); splitting it would only scatter the order.
pub fn rows(r: &Report, t: &Texts, web: &WebTexts) -> Vec<Row> {
    let (c, p): (&Figures, &Figures) = (&r.current, &r.previous);
    let mut rows = vec![
        count(
            "messages_received",
            t.messages_received,
            c.messages_received,
            p.messages_received,
            Good::Neither,
            t,
        ),
        count(
            "conversations",
            t.conversations,
            c.conversations,
            p.conversations,
            Good::Neither,
            t,
        ),
        count(
            "requests",
            t.requests,
            c.requests,
            p.requests,
            Good::Neither,
            t,
        ),
        count(
            "answered",
            t.answered,
            c.answered,
            p.answered,
            Good::Neither,
            t,
        ),
        count(
            "unanswered",
            t.unanswered,
            c.unanswered,
            p.unanswered,
            Good::Down,
            t,
        ),
        count("pending", t.pending, c.pending, p.pending, Good::Neither, t),
        fraction(
            "response_rate",
            t.response_rate,
            ratio(c.response_rate()),
            ratio(p.response_rate()),
        ),
    ];
    rows.extend(delays(
        "response_delay_ms",
        t.response_delay,
        &c.response_delay,
        &p.response_delay,
        t,
    ));
    rows.extend(delays(
        "first_response_ms",
        t.first_response,
        &c.first_response,
        &p.first_response,
        t,
    ));
    if r.business_hours_set {
        rows.extend(delays(
            "business_hours_delay_ms",
            t.business_hours_delay,
            &c.business_hours_delay,
            &p.business_hours_delay,
            t,
        ));
    }
    rows.push(count(
        "surveys_sent",
        t.surveys_sent,
        c.surveys_sent,
        p.surveys_sent,
        Good::Neither,
        t,
    ));
    rows.push(count(
        "ratings",
        web.ratings,
        c.ratings,
        p.ratings,
        Good::Neither,
        t,
    ));
    rows.push(fraction(
        "survey_response_rate",
        t.survey_response_rate,
        ratio(c.survey_response_rate()),
        ratio(p.survey_response_rate()),
    ));
    let avg = |v: Option<f64>| {
        v.map(|v| format!("{v:.2} / 5"))
            .unwrap_or_else(|| crate::report::NOT_AVAILABLE.into())
    };
    rows.push(Row {
        key: "average_rating".into(),
        label: t.average_rating.into(),
        raw: opt(c.average_rating()),
        shown: avg(c.average_rating()),
        previous_raw: opt(p.average_rating()),
        previous: avg(p.average_rating()),
        trend: trend_delay(c.average_rating(), p.average_rating()),
        good: Good::Up,
    });
    rows.push(fraction("csat", t.csat, ratio(c.csat()), ratio(p.csat())));
    // The report's words are written for running text ("3 answered"); a row starts with them.
    for row in &mut rows {
        row.label = capitalized(&row.label);
    }
    rows
}

/// `text` with its first letter upper-case (a label that starts a row or a column).
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The rows as a table.
pub fn table(rows: &[Row], head: [&str; 4]) -> Markup {
    html! {
        div.scroll {
            table.figures {
                thead { tr {
                    th { (head[0]) } th.num { (head[1]) } th.num { (head[2]) } th.num { (head[3]) }
                } }
                tbody {
                    @for row in rows {
                        tr data-figure=(row.key) {
                            td { (row.label) }
                            td.num.value data-value=(row.raw) { (row.shown) }
                            td.num.muted data-previous=(row.previous_raw) { (row.previous) }
                            td.num class=(row.class()) { (row.trend) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::capitalized;

    #[test]
    fn labels_start_with_a_capital_in_both_languages() {
        assert_eq!(capitalized("answered"), "Answered");
        assert_eq!(capitalized("répondues"), "Répondues");
        assert_eq!(capitalized("élevé · p90"), "Élevé · p90");
        assert_eq!(capitalized("CSAT"), "CSAT");
        assert_eq!(capitalized(""), "");
    }
}
