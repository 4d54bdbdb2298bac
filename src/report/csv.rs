//! CSV renderings: the report's figures (one row a figure, current and previous window) and the
//! request export (one row a request).

use crate::desk::ExportRow;
use crate::domain::format_time;
use crate::domain::kpi::{Figures, Ratio, Report};
use crate::domain::sla::{Attainment, ServiceFigures};

/// Quotes a CSV field when it needs it (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn rows(f: &Figures) -> Vec<(&'static str, String)> {
    let r = |x: Option<Ratio>| opt(x.map(Ratio::value));
    vec![
        ("messages_received", f.messages_received.to_string()),
        ("conversations", f.conversations.to_string()),
        ("requests", f.requests.to_string()),
        ("answered", f.answered.to_string()),
        ("unanswered", f.unanswered.to_string()),
        ("pending", f.pending.to_string()),
        ("response_rate", r(f.response_rate())),
        ("response_delay_ms_mean", opt(f.response_delay.mean)),
        ("response_delay_ms_median", opt(f.response_delay.median)),
        ("response_delay_ms_p90", opt(f.response_delay.p90)),
        (
            "business_hours_delay_ms_mean",
            opt(f.business_hours_delay.mean),
        ),
        (
            "business_hours_delay_ms_median",
            opt(f.business_hours_delay.median),
        ),
        (
            "business_hours_delay_ms_p90",
            opt(f.business_hours_delay.p90),
        ),
        ("first_response_ms_mean", opt(f.first_response.mean)),
        ("first_response_ms_median", opt(f.first_response.median)),
        ("first_response_ms_p90", opt(f.first_response.p90)),
        ("surveys_sent", f.surveys_sent.to_string()),
        ("ratings", f.ratings.to_string()),
        ("survey_response_rate", r(f.survey_response_rate())),
        ("average_rating", opt(f.average_rating())),
        ("csat", r(f.csat())),
    ]
}

fn service_rows(f: &ServiceFigures) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let kinds: [(&str, &Attainment); 3] = [
        ("first_response", &f.first_response),
        ("next_response", &f.next_response),
        ("resolution", &f.resolution),
    ];
    for (kind, a) in kinds {
        out.extend([
            (format!("sla_{kind}_target_ms"), opt(a.target_ms)),
            (format!("sla_{kind}_met"), a.met.to_string()),
            (format!("sla_{kind}_missed"), a.missed.to_string()),
            (format!("sla_{kind}_in_progress"), a.in_progress.to_string()),
            (
                format!("sla_{kind}_attainment"),
                opt(a.attainment().map(Ratio::value)),
            ),
        ]);
    }
    let t = &f.resolution_time;
    out.extend([
        ("resolved".into(), f.resolved.to_string()),
        ("lapsed".into(), f.lapsed.to_string()),
        ("open".into(), f.open.to_string()),
        ("resolution_ms_mean".into(), opt(t.mean)),
        ("resolution_ms_median".into(), opt(t.median)),
        ("resolution_ms_p90".into(), opt(t.p90)),
    ]);
    out
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One row a figure: the window's and the previous window's.
pub fn report(r: &Report) -> String {
    let mut out = String::from("figure,current,previous\n");
    for ((name, cur), (_, prev)) in rows(&r.current).into_iter().zip(rows(&r.previous)) {
        out.push_str(&format!("{name},{cur},{prev}\n"));
    }
    if let Some(s) = &r.service_levels {
        let previous = service_rows(&s.previous);
        for ((name, cur), (_, prev)) in service_rows(&s.current).into_iter().zip(previous) {
            out.push_str(&format!("{name},{cur},{prev}\n"));
        }
    }
    out.push_str(&format!("badge_awarded,{},\n", r.badge.awarded));
    out.push_str(&format!("load_alert,{},\n", r.load_alert.is_some()));
    if let Some(s) = &r.service_levels {
        let (h, p) = (&s.heatmap, &s.previous_heatmap);
        for (d, day) in WEEKDAYS.iter().enumerate() {
            for hour in 0..24 {
                let (n, before) = (h.requests[d][hour], p.requests[d][hour]);
                out.push_str(&format!("heatmap_requests_{day}_{hour:02},{n},{before}\n"));
            }
        }
        for hour in 0..24 {
            let (m, before) = (
                h.median_delay_ms_by_hour[hour],
                p.median_delay_ms_by_hour[hour],
            );
            out.push_str(&format!(
                "heatmap_median_delay_ms_{hour:02},{},{}\n",
                opt(m),
                opt(before)
            ));
        }
    }
    out
}

pub const EXPORT_HEADER: &str =
    "guild_id,conversation,customer_id,start,answer_at,delay_ms,status,agent_id,survey_id,rating\n";

pub fn export_row(r: &ExportRow) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{}\n",
        field(&r.guild_id),
        field(&r.conversation),
        field(&r.customer_id),
        format_time(r.start),
        opt(r.answer_at.map(format_time)),
        opt(r.delay_ms),
        r.status,
        field(&r.agent_id.clone().unwrap_or_default()),
        field(&r.survey_id.clone().unwrap_or_default()),
        opt(r.rating)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("plain"), "plain");
    }
}
