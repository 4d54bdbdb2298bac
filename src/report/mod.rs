//! Renderings of a `Report`: JSON (the contract of docs/kpi.md), plain text, CSV and a PNG chart.
//! The Discord embed lives with the Discord adapter and uses the same helpers.

pub mod chart;
pub mod csv;
pub mod engagement;
pub mod json;
pub mod text;

#[cfg(test)]
mod sla_tests;

use crate::domain::Millis;

/// A delay for people: `4 min 0 s`, `1 h 05 min`, `51 h`. Only units that read the same in English
/// and French (a day would be `d` in one and `j` in the other), so the function needs no locale.
pub fn human_delay(ms: f64) -> String {
    if !ms.is_finite() {
        return "-".into();
    }
    let ms = ms.max(0.0);
    let s = (ms / 1000.0).round() as i64;
    if s < 60 {
        if ms < 10_000.0 && ms.fract() != 0.0 || (ms < 1000.0) {
            return format!("{:.1} s", ms / 1000.0);
        }
        return format!("{s} s");
    }
    let m = s / 60;
    if m < 60 {
        return format!("{m} min {:02} s", s % 60);
    }
    let h = m / 60;
    if h < 48 {
        return format!("{h} h {:02} min", m % 60);
    }
    format!("{h} h")
}

/// A figure that has no value (no answered request, no rating): a dash, which reads the same in
/// every language.
pub const NOT_AVAILABLE: &str = "—";

pub fn human_ms(ms: Option<Millis>) -> String {
    ms.map(|v| human_delay(v as f64))
        .unwrap_or_else(|| NOT_AVAILABLE.into())
}

pub fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1} %", x * 100.0))
        .unwrap_or_else(|| NOT_AVAILABLE.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_read_as_people_say_them() {
        assert_eq!(human_delay(240_250.0), "4 min 00 s");
        assert_eq!(human_delay(30_000.0), "30 s");
        assert_eq!(human_delay(86_400_000.0), "24 h 00 min");
        assert_eq!(human_delay(3.0 * 86_400_000.0), "72 h");
        assert_eq!(human_delay(51.5 * 3_600_000.0), "51 h");
        assert_eq!(human_delay(500.0), "0.5 s");
        assert_eq!(percent(Some(0.75)), "75.0 %");
        assert_eq!(percent(None), NOT_AVAILABLE);
    }
}
