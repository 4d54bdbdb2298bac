//! What happened, as the ingest path sees it: one `Event` per Discord message, click or close,
//! whether it came from the live gateway, an import file or the demo generator.

use super::{parse_time, Millis};
use serde::Deserialize;
use std::fmt;

/// A satisfaction rating. Only 1 to 5 can be constructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    pub const NEUTRAL: Rating = Rating(3);

    pub fn parse(value: i64) -> Result<Rating, EventError> {
        if (1..=5).contains(&value) {
            Ok(Rating(value as u8))
        } else {
            Err(EventError::RatingOutOfRange(value))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// CSAT counts ratings of 4 and 5 as satisfied.
    pub fn is_satisfied(self) -> bool {
        self.0 >= 4
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    CustomerMessage,
    AgentMessage,
    /// An agent's internal note (starts with the note prefix): never relayed, never counted.
    Note,
    /// Bots, webhooks, system messages, our own relays and survey prompts: never counted.
    BotMessage,
    Close,
    SurveySent {
        survey_id: String,
        answer_message_id: String,
    },
    Rating {
        survey_id: String,
        rating: Rating,
    },
    /// The optional free-text comment a customer adds to a survey (an extension of KPI.md's
    /// import format; it changes no figure).
    Comment {
        survey_id: String,
        text: String,
    },
}

impl EventKind {
    /// The kinds that carry nothing but their name.
    pub fn plain(name: &str) -> Option<EventKind> {
        match name {
            "customer_message" => Some(EventKind::CustomerMessage),
            "agent_message" => Some(EventKind::AgentMessage),
            "note" => Some(EventKind::Note),
            "bot_message" => Some(EventKind::BotMessage),
            "close" => Some(EventKind::Close),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CustomerMessage => "customer_message",
            EventKind::AgentMessage => "agent_message",
            EventKind::Note => "note",
            EventKind::BotMessage => "bot_message",
            EventKind::Close => "close",
            EventKind::SurveySent { .. } => "survey_sent",
            EventKind::Rating { .. } => "rating",
            EventKind::Comment { .. } => "comment",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub guild_id: String,
    /// The place key: where the exchange happens (a DM channel, a thread, a forum post, or one
    /// customer in one support channel). A place holds one conversation after another; the
    /// import format calls this field `conversation`.
    pub place: String,
    pub author_id: String,
    pub at: Millis,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON ({0})")]
    Json(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` must not be empty")]
    Empty(&'static str),
    #[error("unknown kind `{0}` (expected customer_message, agent_message, note, bot_message, close, survey_sent, rating or comment)")]
    UnknownKind(String),
    #[error("bad time `{0}` (expected RFC 3339, e.g. 2026-11-20T09:15:02.125Z)")]
    BadTime(String),
    #[error("rating {0} is outside 1..5")]
    RatingOutOfRange(i64),
}

/// One line of the import format, before its rules are checked. Every field is optional here so
/// that a missing one gets a message naming it, not serde's generic error.
#[derive(Deserialize)]
struct RawLine {
    kind: Option<String>,
    id: Option<serde_json::Value>,
    guild_id: Option<serde_json::Value>,
    conversation: Option<serde_json::Value>,
    author_id: Option<serde_json::Value>,
    at: Option<String>,
    survey_id: Option<serde_json::Value>,
    rating: Option<serde_json::Value>,
    answer_message_id: Option<serde_json::Value>,
    text: Option<String>,
}

/// Ids are strings in the format, but a producer that writes a snowflake as a JSON number loses
/// nothing we need, so both are accepted.
fn id_field(v: Option<serde_json::Value>, name: &'static str) -> Result<String, EventError> {
    let s = match v {
        None | Some(serde_json::Value::Null) => return Err(EventError::Missing(name)),
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(other) => {
            return Err(EventError::Json(format!(
                "`{name}` must be a string, got {other}"
            )))
        }
    };
    if s.trim().is_empty() {
        return Err(EventError::Empty(name));
    }
    Ok(s)
}

impl Event {
    /// Parses one line of the JSON-lines import format (docs/kpi.md).
    pub fn parse_line(line: &str) -> Result<Event, EventError> {
        let raw: RawLine =
            serde_json::from_str(line).map_err(|e| EventError::Json(e.to_string()))?;
        let kind_name = raw.kind.ok_or(EventError::Missing("kind"))?;
        let at_text = raw.at.ok_or(EventError::Missing("at"))?;
        let at = parse_time(&at_text).ok_or(EventError::BadTime(at_text))?;
        let kind = match kind_name.as_str() {
            name if let Some(plain) = EventKind::plain(name) => plain,
            "survey_sent" => EventKind::SurveySent {
                survey_id: id_field(raw.survey_id, "survey_id")?,
                answer_message_id: id_field(raw.answer_message_id, "answer_message_id")?,
            },
            "rating" => {
                let value = match raw.rating {
                    Some(serde_json::Value::Number(n)) => match n.as_i64() {
                        Some(v) => v,
                        None => {
                            return Err(EventError::Json(format!(
                                "`rating` must be a whole number from 1 to 5, got {n}"
                            )))
                        }
                    },
                    None | Some(serde_json::Value::Null) => {
                        return Err(EventError::Missing("rating"))
                    }
                    Some(other) => {
                        return Err(EventError::Json(format!(
                            "`rating` must be a whole number from 1 to 5, got {other}"
                        )))
                    }
                };
                EventKind::Rating {
                    survey_id: id_field(raw.survey_id, "survey_id")?,
                    rating: Rating::parse(value)?,
                }
            }
            "comment" => EventKind::Comment {
                survey_id: id_field(raw.survey_id, "survey_id")?,
                text: raw.text.ok_or(EventError::Missing("text"))?,
            },
            other => return Err(EventError::UnknownKind(other.to_string())),
        };
        Ok(Event {
            id: id_field(raw.id, "id")?,
            guild_id: id_field(raw.guild_id, "guild_id")?,
            place: id_field(raw.conversation, "conversation")?,
            author_id: id_field(raw.author_id, "author_id")?,
            at,
            kind,
        })
    }

    /// The event as one line of the import format: `parse_line(to_line(e)) == e`.
    pub fn to_line(&self) -> String {
        let mut obj = serde_json::json!({
            "kind": self.kind.name(),
            "id": self.id,
            "guild_id": self.guild_id,
            "conversation": self.place,
            "author_id": self.author_id,
            "at": super::format_time(self.at),
        });
        match &self.kind {
            EventKind::SurveySent {
                survey_id,
                answer_message_id,
            } => {
                obj["survey_id"] = survey_id.clone().into();
                obj["answer_message_id"] = answer_message_id.clone().into();
            }
            EventKind::Rating { survey_id, rating } => {
                obj["survey_id"] = survey_id.clone().into();
                obj["rating"] = rating.get().into();
            }
            EventKind::Comment { survey_id, text } => {
                obj["survey_id"] = survey_id.clone().into();
                obj["text"] = text.clone().into();
            }
            _ => {}
        }
        obj.to_string()
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} in {}/{} by {} at {}",
            self.kind.name(),
            self.id,
            self.guild_id,
            self.place,
            self.author_id,
            super::format_time(self.at)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rating_outside_one_to_five_is_rejected() {
        assert_eq!(Rating::parse(0), Err(EventError::RatingOutOfRange(0)));
        assert_eq!(Rating::parse(6), Err(EventError::RatingOutOfRange(6)));
        assert_eq!(Rating::parse(5).map(Rating::get), Ok(5));
        let line = r#"{"kind":"rating","id":"7","guild_id":"1","conversation":"c","author_id":"5","at":"2026-11-02T09:06:00.000Z","survey_id":"s1","rating":9}"#;
        assert_eq!(
            Event::parse_line(line),
            Err(EventError::RatingOutOfRange(9))
        );
    }

    #[test]
    fn an_unknown_kind_and_a_bad_time_are_named() {
        let line = r#"{"kind":"wave","id":"7","guild_id":"1","conversation":"c","author_id":"5","at":"2026-11-02T09:06:00.000Z"}"#;
        assert!(matches!(Event::parse_line(line), Err(EventError::UnknownKind(k)) if k == "wave"));
        let line = r#"{"kind":"note","id":"7","guild_id":"1","conversation":"c","author_id":"5","at":"yesterday"}"#;
        assert!(matches!(
            Event::parse_line(line),
            Err(EventError::BadTime(_))
        ));
        let line = r#"{"kind":"note","id":"7","conversation":"c","author_id":"5","at":"2026-11-02T09:06:00Z"}"#;
        assert_eq!(
            Event::parse_line(line),
            Err(EventError::Missing("guild_id"))
        );
    }

    #[test]
    fn a_line_round_trips_through_the_import_format() {
        let line = r#"{"kind": "survey_sent", "id": "1566739896729600006", "guild_id": "1000000000000000001", "conversation": "dm-100", "author_id": "1100000000000000001", "at": "2026-11-02T09:05:00.000Z", "survey_id": "s1", "answer_message_id": "1566739646119936005"}"#;
        let e = Event::parse_line(line).unwrap();
        assert_eq!(Event::parse_line(&e.to_line()).unwrap(), e);
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        fn any_json() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)),
                ".{0,12}".prop_map(serde_json::Value::from),
                prop_oneof![
                    Just("customer_message"),
                    Just("agent_message"),
                    Just("rating"),
                    Just("survey_sent"),
                    Just("2026-11-02T09:00:00.000Z"),
                    Just("s1"),
                    Just("123")
                ]
                .prop_map(serde_json::Value::from),
            ];
            leaf.prop_recursive(2, 16, 4, |inner| {
                proptest::collection::vec(inner, 0..4).prop_map(serde_json::Value::from)
            })
        }

        proptest! {
            #[test]
            fn any_text_line_is_parsed_or_refused_without_panicking(line in ".{0,200}") {
                let _ = Event::parse_line(&line);
            }

            #[test]
            fn any_json_object_with_import_fields_is_parsed_or_refused(
                fields in proptest::collection::btree_map(
                    prop_oneof![Just("kind"), Just("id"), Just("guild_id"), Just("conversation"), Just("author_id"), Just("at"), Just("survey_id"), Just("rating"), Just("answer_message_id"), Just("text"), Just("extra")],
                    any_json(),
                    0..10,
                )
            ) {
                let obj: serde_json::Map<String, serde_json::Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                if let Ok(e) = Event::parse_line(&serde_json::Value::Object(obj).to_string()) {
                    // Whatever is accepted is a valid event that survives a round trip.
                    prop_assert_eq!(Event::parse_line(&e.to_line()).ok(), Some(e));
                }
            }
        }
    }
}
