//! The JSON report of docs/kpi.md: field names are a contract (more may be added, none renamed).

use crate::domain::format_time;
use crate::domain::kpi::{AgentFigures, Badge, BadgeFailure, Figures, Ratio, Report, Window};
use crate::domain::sla::{AgentService, Attainment, Heatmap, ServiceFigures, ServiceLevels};
use crate::domain::stats::DelayStats;
use serde_json::{json, Map, Value};

fn ratio(r: Option<Ratio>) -> Value {
    r.map(|r| json!(r.value())).unwrap_or(Value::Null)
}

fn stats(s: &DelayStats) -> Value {
    json!({ "mean": s.mean, "median": s.median, "p90": s.p90 })
}

fn window(w: &Window) -> Value {
    json!({ "from": format_time(w.from), "to": format_time(w.to), "now": format_time(w.now) })
}

pub fn figures(f: &Figures) -> Value {
    json!({
        "window": f.window.as_ref().map(window),
        "messages_received": f.messages_received,
        "conversations": f.conversations,
        "requests": f.requests,
        "answered": f.answered,
        "unanswered": f.unanswered,
        "pending": f.pending,
        "response_rate": ratio(f.response_rate()),
        "response_delay_ms": stats(&f.response_delay),
        "business_hours_delay_ms": stats(&f.business_hours_delay),
        "first_response_ms": stats(&f.first_response),
        "surveys_sent": f.surveys_sent,
        "ratings": f.ratings,
        "survey_response_rate": ratio(f.survey_response_rate()),
        "average_rating": f.average_rating(),
        "csat": ratio(f.csat()),
    })
}

fn failure(f: &BadgeFailure) -> Value {
    match f {
        BadgeFailure::ResponseRate {
            actual,
            required,
            short_by,
        } => json!({
            "condition": f.code(), "actual": actual, "required": required, "short_by": short_by,
        }),
        BadgeFailure::Delay {
            actual_ms,
            limit_ms,
            over_by_ms,
        } => json!({
            "condition": f.code(), "actual_ms": actual_ms, "limit_ms": limit_ms, "over_by_ms": over_by_ms,
        }),
        BadgeFailure::NoResponseRate | BadgeFailure::NoDelay => json!({ "condition": f.code() }),
    }
}

pub fn badge(b: &Badge) -> Value {
    json!({
        "awarded": b.awarded,
        "window": window(&b.window),
        "response_rate": ratio(b.response_rate),
        "delay_ms": b.delay_ms,
        "statistic": b.statistic.name(),
        "thresholds": {
            "min_response_rate": b.rule.min_rate_bp as f64 / 10_000.0,
            "max_delay_ms": b.rule.max_delay_ms,
        },
        "failing": b.failing.iter().map(failure).collect::<Vec<_>>(),
    })
}

fn attainment(a: &Attainment) -> Value {
    json!({
        "target_ms": a.target_ms,
        "met": a.met,
        "missed": a.missed,
        "in_progress": a.in_progress,
        "attainment": ratio(a.attainment()),
    })
}

fn agent_attainment(a: &Attainment) -> Value {
    json!({ "met": a.met, "missed": a.missed, "attainment": ratio(a.attainment()) })
}

/// The service-level figures of one window, as fields of that window's object.
pub fn service(f: &ServiceFigures, s: &ServiceLevels) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "sla".into(),
        json!({
            "clock": s.clock.map(|c| c.name()),
            "first_response": attainment(&f.first_response),
            "next_response": attainment(&f.next_response),
            "resolution": attainment(&f.resolution),
        }),
    );
    out.insert("resolved".into(), json!(f.resolved));
    out.insert("lapsed".into(), json!(f.lapsed));
    out.insert("open".into(), json!(f.open));
    out.insert("resolution_ms".into(), stats(&f.resolution_time));
    out
}

pub fn heatmap(h: &Heatmap) -> Value {
    json!({
        "timezone": h.timezone.name(),
        "requests": h.requests,
        "median_delay_ms_by_hour": h.median_delay_ms_by_hour,
    })
}

fn agent_service(a: &AgentService) -> Value {
    json!({
        "first_response": agent_attainment(&a.first_response),
        "next_response": agent_attainment(&a.next_response),
    })
}

pub fn agent(a: &AgentFigures) -> Value {
    json!({
        "agent_id": a.agent_id,
        "answered": a.answered,
        "response_delay_ms": stats(&a.response_delay),
        "surveys_sent": a.surveys_sent,
        "ratings": a.ratings,
        "average_rating": a.average_rating(),
        "csat": ratio(a.csat()),
    })
}

pub fn report(r: &Report) -> Value {
    let mut v = figures(&r.current);
    let obj = v.as_object_mut().expect("figures are an object");
    obj.insert("window".into(), window(&r.window));
    obj.insert("guild_id".into(), json!(r.scope.guild_id));
    obj.insert("agent_id".into(), json!(r.scope.agent_id));
    obj.insert("badge".into(), badge(&r.badge));
    obj.insert("previous".into(), figures(&r.previous));
    obj.insert("load_alert".into(), json!(r.load_alert.is_some()));
    obj.insert(
        "load_alert_detail".into(),
        r.load_alert.as_ref().map_or(Value::Null, |a| {
            json!({
                "message": "load is rising while responsiveness falls: add agents",
                "requests_growth": a.requests_growth,
                "response_rate_drop_points": a.rate_drop_points,
                "mean_delay_growth": a.mean_growth,
            })
        }),
    );
    let agents = r.agents.iter().map(|a| {
        let mut v = agent(a);
        if let Some(s) = &r.service_levels {
            let figures = s.agents.get(&a.agent_id).copied().unwrap_or_default();
            v["sla"] = agent_service(&figures);
        }
        v
    });
    obj.insert("agents".into(), Value::Array(agents.collect()));
    // Absent, not null, from a report that does not carry them (one built from the rollups).
    if let Some(s) = &r.service_levels {
        obj.extend(service(&s.current, s));
        if let Some(previous) = obj.get_mut("previous").and_then(Value::as_object_mut) {
            previous.extend(service(&s.previous, s));
            previous.insert("heatmap".into(), heatmap(&s.previous_heatmap));
        }
        obj.insert("heatmap".into(), heatmap(&s.heatmap));
    }
    obj.insert("timezone".into(), json!(r.timezone.name()));
    obj.insert(
        "daily".into(),
        Value::Array(
            r.daily
                .iter()
                .map(|d| {
                    json!({
                        "day": d.day.to_string(),
                        "messages_received": d.messages_received,
                        "requests": d.requests,
                        "answered": d.answered,
                        "median_delay_ms": d.median_delay_ms,
                        "surveys_sent": d.surveys_sent,
                        "ratings": d.ratings,
                        "csat": d.csat,
                    })
                })
                .collect(),
        ),
    );
    v
}
