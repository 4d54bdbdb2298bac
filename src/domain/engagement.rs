//! The communication figures of docs/engagement.md: posts in tracked channels, the reactions and
//! replies they get inside their engagement window, and the figures per post, per window and per
//! theme. Pure like the rest of `domain`: time comes in as UTC milliseconds.
//!
//! - this file: the events and their JSON-lines import format;
//! - `themes`: the themes of a live post (forum tags and `#hashtags`);
//! - `figures`: one post's figures, and a window's (totals, themes, top posts, previous window);
//! - `rollup`: what a store keeps per post and per day so that a report stays exact and fast.

mod figures;
pub mod rollup;
mod themes;

pub use figures::{
    post_figures, report, window_figures, DayPoint, Figures, Filters, Post, PostFigures, RateSum,
    Report, ThemeFigures, WindowFigures, RATE_SCALE, TOP_POSTS,
};
pub use themes::{hashtags, normalize_themes, post_themes, UNTAGGED};

use super::{format_time, parse_time, Millis};
use serde::Deserialize;
use std::fmt;

/// What an engagement event is about. Reactions and replies name their post by id; a post is
/// known only through its own `Post` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngagementKind {
    /// A message in a tracked channel (or a forum post's starter message). `themes` are kept as
    /// given; `normalize_themes` says what they mean (duplicates once, none: `untagged`).
    Post {
        channel_id: String,
        themes: Vec<String>,
        audience: u64,
    },
    ReactionAdd {
        post_id: String,
        emoji: String,
    },
    ReactionRemove {
        post_id: String,
        emoji: String,
    },
    Reply {
        post_id: String,
    },
}

/// The import kinds of docs/engagement.md, so the import can tell these lines from KPI.md's.
pub const KINDS: [&str; 4] = ["post", "reaction_add", "reaction_remove", "reply"];

impl EngagementKind {
    pub fn name(&self) -> &'static str {
        match self {
            EngagementKind::Post { .. } => "post",
            EngagementKind::ReactionAdd { .. } => "reaction_add",
            EngagementKind::ReactionRemove { .. } => "reaction_remove",
            EngagementKind::Reply { .. } => "reply",
        }
    }

    /// The post a reaction or reply is about; `None` for a post.
    pub fn post_id(&self) -> Option<&str> {
        match self {
            EngagementKind::Post { .. } => None,
            EngagementKind::ReactionAdd { post_id, .. }
            | EngagementKind::ReactionRemove { post_id, .. }
            | EngagementKind::Reply { post_id } => Some(post_id),
        }
    }
}

/// One event of the communication half: a post, a reaction added or removed, or a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementEvent {
    /// A snowflake for posts and replies; a unique string of digits for reaction events.
    pub id: String,
    pub guild_id: String,
    /// Who posted, reacted or replied.
    pub author_id: String,
    pub at: Millis,
    pub kind: EngagementKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngagementError {
    #[error("not valid JSON ({0})")]
    Json(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` must not be empty")]
    Empty(&'static str),
    #[error("unknown kind `{0}` (expected post, reaction_add, reaction_remove or reply)")]
    UnknownKind(String),
    #[error("bad time `{0}` (expected RFC 3339, e.g. 2026-11-20T09:15:02.125Z)")]
    BadTime(String),
    #[error("`audience` must be an integer >= 0 (the members who can see the channel, e.g. 1200), got {0}")]
    BadAudience(String),
    #[error("`themes` must be an array of non-empty strings (e.g. [\"release\", \"events\"], or [] for none), got {0}")]
    BadThemes(String),
}

/// One line of the import format, before its rules are checked. Every field is optional here so
/// that a missing one gets a message naming it, not serde's generic error.
#[derive(Deserialize)]
struct RawLine {
    kind: Option<String>,
    id: Option<serde_json::Value>,
    guild_id: Option<serde_json::Value>,
    channel_id: Option<serde_json::Value>,
    author_id: Option<serde_json::Value>,
    at: Option<String>,
    themes: Option<serde_json::Value>,
    audience: Option<serde_json::Value>,
    post_id: Option<serde_json::Value>,
    emoji: Option<serde_json::Value>,
}

/// Ids are strings in the format, but a producer that writes a snowflake as a JSON number loses
/// nothing we need, so both are accepted (as in KPI.md's import).
fn text_field(v: Option<serde_json::Value>, name: &'static str) -> Result<String, EngagementError> {
    let s = match v {
        None | Some(serde_json::Value::Null) => return Err(EngagementError::Missing(name)),
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(other) => {
            return Err(EngagementError::Json(format!(
                "`{name}` must be a string, got {other}"
            )))
        }
    };
    if s.trim().is_empty() {
        return Err(EngagementError::Empty(name));
    }
    Ok(s)
}

fn audience_field(v: Option<serde_json::Value>) -> Result<u64, EngagementError> {
    match v {
        None | Some(serde_json::Value::Null) => Err(EngagementError::Missing("audience")),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| EngagementError::BadAudience(n.to_string())),
        Some(other) => Err(EngagementError::BadAudience(other.to_string())),
    }
}

/// An empty string is refused: it could be neither shown nor filtered on.
fn themes_field(v: Option<serde_json::Value>) -> Result<Vec<String>, EngagementError> {
    match v {
        None | Some(serde_json::Value::Null) => Err(EngagementError::Missing("themes")),
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(s) if !s.is_empty() => Ok(s),
                other => Err(EngagementError::BadThemes(format!("an element {other}"))),
            })
            .collect(),
        Some(other) => Err(EngagementError::BadThemes(other.to_string())),
    }
}

impl EngagementEvent {
    /// Parses one line of the JSON-lines import format (docs/engagement.md).
    pub fn parse_line(line: &str) -> Result<EngagementEvent, EngagementError> {
        let raw: RawLine =
            serde_json::from_str(line).map_err(|e| EngagementError::Json(e.to_string()))?;
        let kind_name = raw.kind.ok_or(EngagementError::Missing("kind"))?;
        let at_text = raw.at.ok_or(EngagementError::Missing("at"))?;
        let at = parse_time(&at_text).ok_or(EngagementError::BadTime(at_text))?;
        let kind = match kind_name.as_str() {
            "post" => EngagementKind::Post {
                channel_id: text_field(raw.channel_id, "channel_id")?,
                themes: themes_field(raw.themes)?,
                audience: audience_field(raw.audience)?,
            },
            "reaction_add" => EngagementKind::ReactionAdd {
                post_id: text_field(raw.post_id, "post_id")?,
                emoji: text_field(raw.emoji, "emoji")?,
            },
            "reaction_remove" => EngagementKind::ReactionRemove {
                post_id: text_field(raw.post_id, "post_id")?,
                emoji: text_field(raw.emoji, "emoji")?,
            },
            "reply" => EngagementKind::Reply {
                post_id: text_field(raw.post_id, "post_id")?,
            },
            other => return Err(EngagementError::UnknownKind(other.to_string())),
        };
        Ok(EngagementEvent {
            id: text_field(raw.id, "id")?,
            guild_id: text_field(raw.guild_id, "guild_id")?,
            author_id: text_field(raw.author_id, "author_id")?,
            at,
            kind,
        })
    }

    /// The event as one line of the import format: `parse_line(to_line(e)) == e`.
    pub fn to_line(&self) -> String {
        let mut obj = serde_json::json!({
            "kind": self.kind.name(),
            "id": self.id,
            "at": format_time(self.at),
            "guild_id": self.guild_id,
        });
        match &self.kind {
            EngagementKind::Post {
                channel_id,
                themes,
                audience,
            } => {
                obj["channel_id"] = channel_id.clone().into();
                obj["themes"] = themes.clone().into();
                obj["audience"] = (*audience).into();
            }
            EngagementKind::ReactionAdd { post_id, emoji }
            | EngagementKind::ReactionRemove { post_id, emoji } => {
                obj["post_id"] = post_id.clone().into();
                obj["emoji"] = emoji.clone().into();
            }
            EngagementKind::Reply { post_id } => obj["post_id"] = post_id.clone().into(),
        }
        obj["author_id"] = self.author_id.clone().into();
        obj.to_string()
    }
}

impl fmt::Display for EngagementEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} in {} by {} at {}",
            self.kind.name(),
            self.id,
            self.guild_id,
            self.author_id,
            format_time(self.at)
        )?;
        match self.kind.post_id() {
            Some(post) => write!(f, " on post {post}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod rules_tests;

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &str = r#"{"kind":"post","id":"1567","at":"2026-11-09T09:00:00.000Z","guild_id":"1","channel_id":"2","author_id":"3","themes":["release","Events"],"audience":120}"#;

    fn with(line: &str, field: &str, value: serde_json::Value) -> String {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        match value {
            serde_json::Value::Null => {
                v.as_object_mut().unwrap().remove(field);
            }
            value => v[field] = value,
        }
        v.to_string()
    }

    #[test]
    fn every_kind_round_trips_through_the_import_format() {
        let lines = [
            POST,
            r#"{"kind":"post","id":"1568","at":"2026-11-09T09:00:00Z","guild_id":"1","channel_id":"2","author_id":"3","themes":[],"audience":0}"#,
            r#"{"kind":"reaction_add","id":"77","at":"2026-11-09T09:05:00.250Z","guild_id":"1","post_id":"1567","author_id":"4","emoji":"👍"}"#,
            r#"{"kind":"reaction_remove","id":"78","at":"2026-11-09T09:06:00+01:00","guild_id":"1","post_id":"1567","author_id":"4","emoji":"party:123"}"#,
            r#"{"kind":"reply","id":"1570","at":"2026-11-09T10:00:00Z","guild_id":"1","post_id":"1567","author_id":"5"}"#,
        ];
        for line in lines {
            let e = EngagementEvent::parse_line(line).unwrap();
            assert_eq!(EngagementEvent::parse_line(&e.to_line()).unwrap(), e);
        }
        let e = EngagementEvent::parse_line(POST).unwrap();
        assert_eq!(
            e.kind,
            EngagementKind::Post {
                channel_id: "2".into(),
                themes: vec!["release".into(), "Events".into()],
                audience: 120
            }
        );
        assert_eq!(e.at, parse_time("2026-11-09T09:00:00Z").unwrap());
    }

    #[test]
    fn a_missing_field_is_named() {
        for field in ["kind", "at", "id", "guild_id", "channel_id", "author_id"] {
            let line = with(POST, field, serde_json::Value::Null);
            assert_eq!(
                EngagementEvent::parse_line(&line),
                Err(EngagementError::Missing(field)),
                "{field}"
            );
        }
        assert_eq!(
            EngagementEvent::parse_line(&with(POST, "themes", serde_json::Value::Null)),
            Err(EngagementError::Missing("themes"))
        );
        let reply = r#"{"kind":"reply","id":"9","at":"2026-11-09T10:00:00Z","guild_id":"1","author_id":"5"}"#;
        assert_eq!(
            EngagementEvent::parse_line(reply),
            Err(EngagementError::Missing("post_id"))
        );
        let reaction = r#"{"kind":"reaction_add","id":"9","at":"2026-11-09T10:00:00Z","guild_id":"1","post_id":"1567","author_id":"5"}"#;
        assert_eq!(
            EngagementEvent::parse_line(reaction),
            Err(EngagementError::Missing("emoji"))
        );
        let empty = with(reaction, "emoji", "".into());
        assert_eq!(
            EngagementEvent::parse_line(&empty),
            Err(EngagementError::Empty("emoji"))
        );
    }

    #[test]
    fn the_audience_must_be_an_integer_of_at_least_zero() {
        for bad in [
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!("120"),
            serde_json::json!(true),
        ] {
            let err = EngagementEvent::parse_line(&with(POST, "audience", bad.clone()));
            assert_eq!(err, Err(EngagementError::BadAudience(bad.to_string())));
        }
        let missing = with(POST, "audience", serde_json::Value::Null);
        assert_eq!(
            EngagementEvent::parse_line(&missing),
            Err(EngagementError::Missing("audience"))
        );
        let msg = EngagementError::BadAudience("-1".into()).to_string();
        assert!(
            msg.contains("integer >= 0") && msg.contains("e.g. 1200"),
            "{msg}"
        );
    }

    #[test]
    fn themes_must_be_an_array_of_names() {
        for bad in [
            serde_json::json!("release"),
            serde_json::json!([1]),
            serde_json::json!([""]),
            serde_json::json!({"a": 1}),
        ] {
            let err = EngagementEvent::parse_line(&with(POST, "themes", bad));
            assert!(matches!(err, Err(EngagementError::BadThemes(_))), "{err:?}");
        }
    }

    #[test]
    fn an_unknown_kind_and_a_bad_time_are_named() {
        let line = with(POST, "kind", "customer_message".into());
        assert_eq!(
            EngagementEvent::parse_line(&line),
            Err(EngagementError::UnknownKind("customer_message".into()))
        );
        let line = with(POST, "at", "last tuesday".into());
        assert_eq!(
            EngagementEvent::parse_line(&line),
            Err(EngagementError::BadTime("last tuesday".into()))
        );
        assert!(matches!(
            EngagementEvent::parse_line("{not json"),
            Err(EngagementError::Json(_))
        ));
        let kinds_named = EngagementError::UnknownKind("x".into()).to_string();
        assert!(
            KINDS.iter().all(|k| kinds_named.contains(k)),
            "{kinds_named}"
        );
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
                    Just("post"),
                    Just("reaction_add"),
                    Just("reaction_remove"),
                    Just("reply"),
                    Just("2026-11-02T09:00:00.000Z"),
                    Just("👍"),
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
                let _ = EngagementEvent::parse_line(&line);
            }

            #[test]
            fn any_json_object_with_import_fields_is_parsed_or_refused(
                fields in proptest::collection::btree_map(
                    prop_oneof![Just("kind"), Just("id"), Just("guild_id"), Just("channel_id"), Just("author_id"), Just("at"), Just("themes"), Just("audience"), Just("post_id"), Just("emoji"), Just("extra")],
                    any_json(),
                    0..11,
                )
            ) {
                let obj: serde_json::Map<String, serde_json::Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                if let Ok(e) = EngagementEvent::parse_line(&serde_json::Value::Object(obj).to_string()) {
                    // Whatever is accepted is a valid event that survives a round trip.
                    prop_assert_eq!(EngagementEvent::parse_line(&e.to_line()).ok(), Some(e));
                }
            }
        }
    }
}
