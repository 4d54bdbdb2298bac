//! The period a page shows, from its query: a preset (`?period=7d`: today, 7d, 30d, 90d, ending
//! now) or dates (`?from=2026-11-01&to=2026-11-07`, days in the guild's time zone, both
//! included, as people read a date range). Seven days by default, like `/stats`.

use super::texts::{Lang, Problem};
use super::WebError;
use crate::domain::kpi::{local_midnight, Window};
use crate::domain::{Millis, DAY};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

pub const PRESETS: &[&str] = &["today", "7d", "30d", "90d"];

#[derive(Debug, Default, Deserialize, Clone)]
pub struct PeriodQuery {
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub lang: Option<String>,
    /// The agents table's order: `csat`, `rating`, `delay` or `answered` (the default).
    pub sort: Option<String>,
}

fn date(from: bool, s: &str) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        WebError::BadRequest(Problem::NotADate {
            from,
            value: s.to_string(),
        })
    })
}

impl PeriodQuery {
    fn dates(&self) -> Option<(&str, Option<&str>)> {
        let from = self.from.as_deref().filter(|s| !s.trim().is_empty())?;
        Some((from, self.to.as_deref().filter(|s| !s.trim().is_empty())))
    }

    /// The preset shown as chosen (none when dates are given).
    pub fn preset(&self) -> Option<&str> {
        if self.dates().is_some() {
            return None;
        }
        Some(self.period.as_deref().unwrap_or("7d"))
    }

    pub fn window(&self, tz: &Tz, now: Millis) -> Result<Window, WebError> {
        let (from, to) = match self.dates() {
            Some((from, to)) => {
                let from = local_midnight(tz, date(true, from)?);
                let to = match to {
                    Some(to) => {
                        let day = date(false, to)?;
                        let next = day.succ_opt().ok_or_else(|| {
                            WebError::BadRequest(Problem::TooFar(day.to_string()))
                        })?;
                        local_midnight(tz, next)
                    }
                    None => now,
                };
                (from, to)
            }
            None => {
                let days = match self.preset() {
                    Some("today") => {
                        let today = crate::domain::kpi::local_day(tz, now);
                        return Ok(Window {
                            from: local_midnight(tz, today),
                            to: now,
                            now,
                        });
                    }
                    Some("30d") => 30,
                    Some("90d") => 90,
                    Some("7d") | None => 7,
                    Some(other) => {
                        return Err(WebError::BadRequest(Problem::BadPeriod(other.to_string())))
                    }
                };
                (now - days * DAY, now)
            }
        };
        if from >= to {
            return Err(WebError::BadRequest(Problem::EmptyPeriod));
        }
        Ok(Window { from, to, now })
    }

    /// The language the visitor chose (`?lang=`), kept by links; none when the page is in the
    /// guild's language.
    pub fn lang(&self) -> Option<Lang> {
        Lang::parse(self.lang.as_deref())
    }

    /// The query that shows the same period in the same language (for links to other pages and
    /// files).
    pub fn query_string(&self) -> String {
        let period = match (self.dates(), self.preset()) {
            (Some((from, to)), _) => match to {
                Some(to) => format!("from={from}&to={to}"),
                None => format!("from={from}"),
            },
            (None, Some(p)) => format!("period={p}"),
            (None, None) => String::new(),
        };
        match self.lang() {
            Some(l) if period.is_empty() => format!("lang={}", l.code()),
            Some(l) => format!("{period}&lang={}", l.code()),
            None => period,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_time;

    #[test]
    fn dates_are_whole_days_in_the_guild_time_zone_both_included() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let q = PeriodQuery {
            from: Some("2026-11-01".into()),
            to: Some("2026-11-07".into()),
            ..PeriodQuery::default()
        };
        let now = parse_time("2026-12-01T00:00:00Z").unwrap();
        let w = q.window(&paris, now).unwrap();
        assert_eq!(w.from, parse_time("2026-10-31T23:00:00Z").unwrap());
        assert_eq!(w.to, parse_time("2026-11-07T23:00:00Z").unwrap());
        assert_eq!(q.query_string(), "from=2026-11-01&to=2026-11-07");
    }

    #[test]
    fn links_keep_the_language_the_visitor_chose_and_only_ours() {
        let q = |lang: Option<&str>| PeriodQuery {
            period: Some("30d".into()),
            lang: lang.map(Into::into),
            ..PeriodQuery::default()
        };
        assert_eq!(q(Some("fr")).query_string(), "period=30d&lang=fr");
        assert_eq!(q(None).query_string(), "period=30d");
        assert_eq!(q(Some("fr&sort=x")).query_string(), "period=30d");
    }

    /// The values named by the message of a period not known: the code of the message but the
    /// echoed value.
    fn named(t: &super::super::texts::WebTexts) -> Vec<String> {
        let said = Problem::BadPeriod("1y".into()).say(t).into_string();
        let mut out = Vec::new();
        for part in said.split("<code>").skip(1) {
            out.push(part.split("</code>").next().unwrap().to_string());
        }
        assert_eq!(out.first().map(String::as_str), Some("1y"), "{said}");
        out.split_off(1)
    }

    #[test]
    fn a_period_not_known_is_answered_with_the_values_the_address_takes_in_both_languages() {
        let now = parse_time("2026-12-01T12:00:00Z").unwrap();
        for t in [super::super::texts::EN, super::super::texts::FR] {
            assert_eq!(named(t), PRESETS, "{:?}", t.lang);
            for p in named(t) {
                let q = PeriodQuery {
                    period: Some(p.clone()),
                    ..PeriodQuery::default()
                };
                assert!(q.window(&Tz::UTC, now).is_ok(), "{p}");
            }
        }
    }

    #[test]
    fn presets_end_now_and_bad_input_says_what_to_write() {
        let now = parse_time("2026-12-01T12:00:00Z").unwrap();
        let q = PeriodQuery {
            period: Some("30d".into()),
            ..PeriodQuery::default()
        };
        let w = q.window(&Tz::UTC, now).unwrap();
        assert_eq!((w.from, w.to), (now - 30 * DAY, now));
        let bad = PeriodQuery {
            from: Some("1st of May".into()),
            ..PeriodQuery::default()
        };
        let Err(WebError::BadRequest(why)) = bad.window(&Tz::UTC, now) else {
            panic!("accepted a bad date")
        };
        assert!(
            why.say(super::super::texts::EN)
                .into_string()
                .contains("2026-11-01"),
            "{why:?}"
        );
        let backwards = PeriodQuery {
            from: Some("2026-11-07".into()),
            to: Some("2026-11-01".into()),
            ..PeriodQuery::default()
        };
        assert!(backwards.window(&Tz::UTC, now).is_err());
    }
}
